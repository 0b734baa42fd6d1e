"""torch's argument conventions, normalised: ``*shape`` varargs and checked ``dim`` values.

>>> shape_args(([2, 3],)), shape_args((2, 3))
((2, 3), (2, 3))
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from fdiff.torch._errors import UnsupportedError
from fdiff.torch._tensor_base import TensorBase

_OPERANDS = (TensorBase, float, int, complex, np.generic, jax.Array)


def binary_operator(method: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """A ``Tensor`` operator (``__add__``...) that refuses an operand torch refuses (``None``, a
    list, a string) by returning ``NotImplemented``, so Python raises torch's ``TypeError``:
    "unsupported operand type(s) for +: 'NoneType' and 'Tensor'". A NumPy array is declined too,
    as torch's tensors decline it: NumPy then computes ``x + np.ones(2)`` itself, with its own
    promotion, and ``Tensor.__array_wrap__`` makes the result a tensor. A NumPy scalar is a
    Python number (``x * np.float64(2)`` keeps ``x``'s dtype)."""

    @functools.wraps(method)
    def operator(self: Any, other: Any) -> Any:
        if not isinstance(other, _OPERANDS):
            return NotImplemented
        if isinstance(other, np.generic):
            other = other.item()
        return method(self, other)

    return operator


def shape_args(shape: tuple) -> tuple[int, ...]:
    """torch accepts ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])``."""
    if len(shape) == 1 and isinstance(shape[0], Sequence):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def checked_dim(input: Any, dim: Any, new_axis: bool = False) -> Any:
    """``dim`` (an int, a tuple of ints or None), after torch's range check for ``input``.

    ``new_axis`` counts the axis that ``unsqueeze``/``stack`` insert.
    """
    dim = tuple(dim) if isinstance(dim, list | tuple) else dim
    n = max(input.dim() + new_axis, 1)
    for d in dim if isinstance(dim, tuple) else () if dim is None else (dim,):
        if not -n <= d < n:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})"
            )
    return dim


def reduced_dims(input: Any, dim: Any) -> Any:
    """Checked reduction dims; a 0-d tensor reduces over no axis (torch accepts dim 0 or -1)."""
    dims = checked_dim(input, dim)
    return () if input.dim() == 0 else dims


def check_device(device: Any, function: str) -> None:
    """Accept torch's ``device=`` when it names the CPU (``None``, ``"cpu"``, ``"cpu:0"``,
    ``torch.device("cpu")``): JAX places arrays on its default device itself. Any other device
    raises :class:`UnsupportedError` (``torch.cuda`` for a CUDA device), never ignored.

    >>> check_device("cpu", "torch.ones")
    >>> check_device("cuda", "torch.ones")
    Traceback (most recent call last):
    ...
    fdiff.torch._errors.UnsupportedError: fdiff.torch does not support `torch.cuda` (yet); ...
    """
    if device is None or str(device).partition(":")[0] == "cpu":
        return
    kind = str(device).partition(":")[0]
    raise UnsupportedError("torch.cuda" if kind == "cuda" else f"{function}(device={kind!r})")
