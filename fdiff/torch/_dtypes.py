"""torch dtypes (``torch.float32``, ``torch.long``, ...) and their JAX storage types.

JAX stores 64-bit types only with ``jax_enable_x64``. Without it, ``torch.int64`` tensors are
stored as int32 (torch's integer semantics otherwise hold; values beyond 2**31 are out of
range), and asking for ``torch.float64`` raises instead of silently computing in float32.
"""

from __future__ import annotations

import jax
import numpy as np


class dtype:
    """A torch dtype: ``repr`` is torch's (``torch.float32``)."""

    __slots__ = ("is_floating_point", "itemsize", "name", "numpy")

    def __init__(self, name: str, numpy_type: type) -> None:
        self.name = name
        self.numpy = np.dtype(numpy_type)
        self.is_floating_point = self.numpy.kind == "f"
        self.itemsize = self.numpy.itemsize

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def storage(self) -> np.dtype:
        """The dtype JAX stores this torch dtype as (see the module docstring)."""
        if self.itemsize == 8 and not jax.config.jax_enable_x64:
            if self.is_floating_point:
                raise TypeError(
                    f"{self!r} needs JAX's 64-bit mode; call "
                    "jax.config.update('jax_enable_x64', True) before creating tensors, "
                    "or use torch.float32"
                )
            return np.dtype(np.int32)
        return self.numpy


float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
int32 = dtype("int32", np.int32)
int64 = dtype("int64", np.int64)
bool_ = dtype("bool", np.bool_)
float = float32
double = float64
long = int64
int = int32

_BY_STORAGE = {d.numpy: d for d in (float32, float64, int32)}


def from_storage(storage: np.dtype) -> dtype:
    """The torch dtype a JAX array of this dtype represents."""
    storage = np.dtype(storage)
    if storage == np.bool_:
        return bool_
    if storage == np.int64 or (storage == np.int32 and not jax.config.jax_enable_x64):
        return int64
    try:
        return _BY_STORAGE[storage]
    except KeyError:
        raise TypeError(f"fdiff.torch has no dtype for JAX arrays of type {storage}") from None


def resolve(value: dtype | None, default: dtype) -> dtype:
    """``value`` if given (a torch dtype), else ``default``; rejects anything else clearly."""
    if value is None:
        return default
    if not isinstance(value, dtype):
        raise TypeError(f"dtype must be a torch dtype such as torch.float32, got {value!r}")
    return value
