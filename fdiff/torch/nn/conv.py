"""``nn.Conv2d`` (NCHW) with torch's initialisation and repr.

>>> Conv2d(1, 2, 3, padding=1)
Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
"""

from __future__ import annotations

from typing import Any

from fdiff.torch._creation import zeros
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._tensor import Tensor
from fdiff.torch.nn import functional as F
from fdiff.torch.nn._arguments import pair
from fdiff.torch.nn.linear import reset_weight_and_bias
from fdiff.torch.nn.modules import Module
from fdiff.torch.nn.parameter import Parameter


class Conv2d(Module):
    """2-D convolution (NCHW) with torch's initialisation; seed 000.4 replaces its weights."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: Any = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
    ) -> None:
        super().__init__()
        if padding_mode != "zeros":
            raise UnsupportedError(f"torch.nn.Conv2d(padding_mode={padding_mode!r})")
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        kernel = pair(kernel_size, "kernel_size")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel
        self.stride, self.dilation = pair(stride, "stride"), pair(dilation, "dilation")
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding")
        self.groups, self.padding_mode = groups, padding_mode
        self.weight = Parameter(zeros(out_channels, in_channels // groups, *kernel))
        self.register_parameter("bias", Parameter(zeros(out_channels)) if bias else None)
        reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.conv2d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
