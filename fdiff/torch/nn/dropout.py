"""``nn.Dropout``: active in training mode only; its mask comes from torch's generator.

>>> import fdiff.torch as torch
>>> layer = Dropout(0.25).eval()
>>> layer(torch.ones(2))
tensor([1., 1.])
"""

from __future__ import annotations

from fdiff.torch._tensor import Tensor
from fdiff.torch.nn import functional as F
from fdiff.torch.nn.modules import Module


class Dropout(Module):
    """Zero each element with probability ``p`` while training; scale the rest by
    ``1 / (1 - p)``."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
