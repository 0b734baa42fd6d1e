"""Tensors made from a tensor, and conversions: ``x.new_zeros``, ``x.type``, ``x.cpu``...

``new_*`` make leaves with ``self``'s dtype unless ``dtype=`` says otherwise; ``type`` and
``type_as`` convert with ``to``; the legacy constructors ``torch.FloatTensor``,
``torch.LongTensor``... take data or sizes, as torch's do.

>>> import fdiff.torch as torch
>>> torch.ones(2, dtype=torch.int64).new_zeros(3)
tensor([0, 0, 0])
>>> torch.ones(1).type()
'torch.FloatTensor'
"""

from __future__ import annotations

import builtins
import warnings
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import numpy as np

from fdiff.torch import _creation, _dtypes
from fdiff.torch._args import check_device, shape_args
from fdiff.torch._errors import refusing_unknown_keywords
from fdiff.torch._shape import to
from fdiff.torch._tensor_base import TensorBase as Tensor

TYPE_NAMES = MappingProxyType(
    {
        _dtypes.float32: "torch.FloatTensor",
        _dtypes.float64: "torch.DoubleTensor",
        _dtypes.int64: "torch.LongTensor",
        _dtypes.int32: "torch.IntTensor",
        _dtypes.bool_: "torch.BoolTensor",
    }
)
"""The legacy tensor type of each dtype, as ``x.type()`` names it."""

COPY_CONSTRUCT = (
    "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
    "sourceTensor.detach().clone().requires_grad_(True), rather than tensor.new_tensor("
    "sourceTensor)."
)


def _method(function: Callable[..., Any]) -> Callable[..., Any]:
    return refusing_unknown_keywords(function, f"Tensor.{function.__name__}")


def _filled(self: Tensor, fill: float, size: tuple, dtype: Any, device: Any,
            requires_grad: bool) -> Tensor:  # fmt: skip
    check_device(device, "Tensor.new_full")
    resolved = dtype or self.dtype
    values = np.full(shape_args(size), fill)
    return _creation.tensor(values, resolved, requires_grad=requires_grad)


@_method
def new_zeros(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Zeros of ``size``, with ``self``'s dtype by default."""
    return _filled(self, 0, size, dtype, device, requires_grad)


@_method
def new_ones(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Ones of ``size``, with ``self``'s dtype by default."""
    return _filled(self, 1, size, dtype, device, requires_grad)


new_empty = _method(new_zeros.__wrapped__)  # torch leaves it uninitialised: zeros are one content
new_empty.__name__ = "new_empty"


@_method
def new_full(self: Tensor, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    """``fill_value`` everywhere, with ``self``'s dtype by default (an int dtype truncates)."""
    return _filled(self, fill_value, (size,), dtype, device, requires_grad)


@_method
def new_tensor(self: Tensor, data: Any, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:  # fmt: skip
    """A leaf copy of ``data``, with ``self``'s dtype by default."""
    check_device(device, "Tensor.new_tensor")
    if isinstance(data, Tensor):
        warnings.warn(COPY_CONSTRUCT, UserWarning, stacklevel=2)
    return _creation.tensor(data, dtype or self.dtype, requires_grad=requires_grad)


def _dtype_of_type(name: Any) -> _dtypes.dtype:
    if isinstance(name, _dtypes.dtype):
        return name
    for dtype, type_name in TYPE_NAMES.items():
        if name == type_name:
            return dtype
    raise ValueError(f"invalid type: '{name}'")


@_method
def type(self: Tensor, dtype: Any = None, non_blocking: bool = False) -> Any:
    """Without ``dtype``, the legacy type name (``'torch.FloatTensor'``); with a dtype (or a
    type name or constructor), ``self.to(dtype)``."""
    if dtype is None:
        return TYPE_NAMES[self.dtype]
    if callable(dtype) and not isinstance(dtype, _dtypes.dtype):
        dtype = f"torch.{dtype.__name__}"
    return to(self, _dtype_of_type(dtype))


@_method
def type_as(self: Tensor, other: Tensor) -> Tensor:
    """``self.to(other.dtype)``."""
    return to(self, other.dtype)


@_method
def cpu(self: Tensor) -> Tensor:
    """``self``: fdiff.torch tensors are on the CPU."""
    return self


@_method
def cuda(self: Tensor, device: Any = None, non_blocking: bool = False) -> Tensor:
    """Refused: fdiff.torch has no CUDA device."""
    check_device("cuda", "Tensor.cuda")
    return self  # unreachable: check_device raises for CUDA


def nelement(self: Tensor) -> builtins.int:
    """``self.numel()``."""
    return self.numel()


def _legacy_constructor(dtype: _dtypes.dtype) -> Callable[..., Tensor]:
    name = TYPE_NAMES[dtype].removeprefix("torch.")

    def construct(*args: Any, device: Any = None) -> Tensor:
        check_device(device, f"torch.{name}")
        if all(isinstance(a, builtins.int) and not isinstance(a, builtins.bool) for a in args):
            return _creation.zeros(*args, dtype=dtype) if args else _creation.zeros(0, dtype=dtype)
        if len(args) != 1:
            raise TypeError(f"{name}(): expected sizes (ints) or one sequence of data")
        data = args[0]
        if isinstance(data, Tensor):
            data = np.asarray(data._value)
        return _creation.tensor(np.asarray(data).astype(dtype.storage()), dtype)

    construct.__name__ = construct.__qualname__ = name
    construct.__doc__ = (
        f"``torch.{name}(data)`` or ``torch.{name}(*sizes)`` (zeros: torch leaves them "
        "uninitialised)."
    )
    return refusing_unknown_keywords(construct, f"torch.{name}")


LEGACY_CONSTRUCTORS = MappingProxyType(
    {name: _legacy_constructor(dtype) for dtype, name in TYPE_NAMES.items()}
)
FloatTensor = LEGACY_CONSTRUCTORS["torch.FloatTensor"]
DoubleTensor = LEGACY_CONSTRUCTORS["torch.DoubleTensor"]
LongTensor = LEGACY_CONSTRUCTORS["torch.LongTensor"]
IntTensor = LEGACY_CONSTRUCTORS["torch.IntTensor"]
BoolTensor = LEGACY_CONSTRUCTORS["torch.BoolTensor"]

__all__ = ["BoolTensor", "DoubleTensor", "FloatTensor", "IntTensor", "LongTensor"]
