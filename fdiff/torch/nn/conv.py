"""``nn.Conv1d`` (NCL) and ``nn.Conv2d`` (NCHW) with torch's initialisation and repr.

>>> Conv2d(1, 2, 3, padding=1)
Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
>>> Conv1d(1, 2, 3, padding="same")
Conv1d(1, 2, kernel_size=(3,), stride=(1,), padding=same)
"""

from __future__ import annotations

from typing import Any

from fdiff.torch._creation import zeros
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._tensor import Tensor
from fdiff.torch.nn import functional as F
from fdiff.torch.nn._arguments import module_tuple
from fdiff.torch.nn.linear import reset_weight_and_bias
from fdiff.torch.nn.modules import Module
from fdiff.torch.nn.parameter import Parameter


class _ConvNd(Module):
    """Convolution over ``dims`` spatial dims with torch's initialisation."""

    dims: int

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: Any = 0,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
    ) -> None:
        super().__init__()
        if padding_mode != "zeros":
            raise UnsupportedError(f"torch.nn.{type(self).__name__}(padding_mode={padding_mode!r})")
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        kernel = module_tuple(kernel_size, self.dims)
        _check_kernel(out_channels, in_channels // groups, kernel)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel
        self.stride = module_tuple(stride, self.dims)
        self.dilation = module_tuple(dilation, self.dims)
        self.padding = padding if isinstance(padding, str) else module_tuple(padding, self.dims)
        self.groups, self.padding_mode = groups, padding_mode
        self.weight = Parameter(zeros(out_channels, in_channels // groups, *kernel))
        self.register_parameter("bias", Parameter(zeros(out_channels)) if bias else None)
        reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        conv = F.conv1d if self.dims == 1 else F.conv2d
        return conv(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * len(self.padding):
            text += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv1d(_ConvNd):
    """1-D convolution (NCL)."""

    dims = 1


class Conv2d(_ConvNd):
    """2-D convolution (NCHW); seed 000.4 replaces its weights."""

    dims = 2


def _check_kernel(out_channels: int, in_channels: int, kernel: tuple) -> None:
    """torch's errors for a kernel size its weight cannot have (raised making the weight)."""
    size = [out_channels, in_channels, *kernel]
    for position, value in enumerate(kernel, start=2):
        if not isinstance(value, int):  # a bool is an int here
            raise TypeError(
                f"empty(): argument 'size' failed to unpack the object at pos {position + 1} with "
                f'error "type must be tuple of ints,but got {type(value).__name__}"'
            )
    for value in size:
        if value < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {value}: {size}")
