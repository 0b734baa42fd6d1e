"""``nn.ZeroPad2d``, ``nn.ConstantPad1d/2d``, ``nn.ReflectionPad1d/2d`` and
``nn.ReplicationPad2d``: ``F.pad`` with a fixed padding (an int pads every side).

>>> ZeroPad2d(1), ConstantPad1d((1, 2), 0.5)
(ZeroPad2d((1, 1, 1, 1)), ConstantPad1d(padding=(1, 2), value=0.5))
"""

from __future__ import annotations

from typing import Any

from fdiff.torch._tensor import Tensor
from fdiff.torch.nn import functional as F
from fdiff.torch.nn.modules import Module


class _PadNd(Module):
    dims: int  # how many trailing dims it pads
    mode: str

    def __init__(self, padding: Any, value: float = 0.0) -> None:
        super().__init__()
        sides = 2 * self.dims
        self.padding = (padding,) * sides if isinstance(padding, int) else tuple(padding)
        if self.mode == "constant":
            self.value = value

    def forward(self, input: Tensor) -> Tensor:
        if self.mode == "constant":
            return F.pad(input, self.padding, "constant", self.value)
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    mode = "constant"

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding, value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    dims = 1


class ConstantPad2d(_ConstantPadNd):
    dims = 2


class ZeroPad2d(_ConstantPadNd):
    dims = 2

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    dims, mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    dims, mode = 2, "reflect"


class ReplicationPad2d(_PadNd):
    dims, mode = 2, "replicate"
