"""torch's default floating dtype: float32 in fdiff.torch, as in a fresh torch process.

``torch.set_default_dtype(torch.float64)`` makes every later float tensor float64 in torch; the
creation functions here do not follow another default, so any dtype but float32 is refused by
name rather than ignored.

>>> import fdiff.torch as torch
>>> torch.get_default_dtype(), torch.is_floating_point(torch.ones(1))
(torch.float32, True)
"""

from __future__ import annotations

from typing import Any

from fdiff.torch import _dtypes
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._tensor_base import TensorBase

__all__ = ["get_default_dtype", "is_floating_point", "set_default_dtype"]


def get_default_dtype() -> _dtypes.dtype:
    """The dtype of float tensors made without one: ``torch.float32``."""
    return _dtypes.float32


def set_default_dtype(d: Any) -> None:
    """torch's ``set_default_dtype``: float32 (already the default) is accepted; torch's
    ``TypeError`` for a dtype that is not floating point; another float dtype is unsupported."""
    if not isinstance(d, _dtypes.dtype):
        raise TypeError(
            "invalid dtype object: only floating-point types are supported as the default type"
        )
    if not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    if d is not _dtypes.float32:
        raise UnsupportedError(f"torch.set_default_dtype({d})")


def is_floating_point(input: TensorBase) -> bool:
    """Whether ``input`` holds floating-point values (torch's ``TypeError`` for a non-tensor)."""
    if not isinstance(input, TensorBase):
        raise TypeError(
            "is_floating_point(): argument 'input' (position 1) must be Tensor, "
            f"not {type(input).__name__}"
        )
    return input.is_floating_point()
