"""``nn.Identity`` and ``nn.Linear`` (torch's initialisation: Kaiming-uniform weight with
``a = sqrt(5)``, uniform bias in ``±1/sqrt(fan_in)``).

>>> import fdiff.torch as torch
>>> Linear(3, 2)
Linear(in_features=3, out_features=2, bias=True)
"""

from __future__ import annotations

import math
from typing import Any

from fdiff.torch._creation import zeros
from fdiff.torch._tensor import Tensor
from fdiff.torch.nn import functional as F
from fdiff.torch.nn import init
from fdiff.torch.nn.modules import Module
from fdiff.torch.nn.parameter import Parameter


class Identity(Module):
    """Returns its input (any constructor arguments are ignored, as in torch)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


def reset_weight_and_bias(weight: Parameter, bias: Parameter | None) -> None:
    """torch's ``reset_parameters`` of Linear and the convolutions."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init.fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


class Linear(Module):
    """``y = x @ weight.T + bias`` with torch's initialisation."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(zeros(out_features, in_features))
        self.register_parameter("bias", Parameter(zeros(out_features)) if bias else None)
        reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
