"""torch's ``index_add``, ``index_copy`` and ``index_fill`` (and their in-place methods in
:mod:`~fdiff.torch._math_more`): slices along a dim, picked by an index vector.

Indices are checked as torch checks them, with its messages (each function words them its
own way). ``index_copy`` to one slice twice is refused: torch's result then depends on its
kernel's order, while both sources would get a gradient.

>>> import fdiff.torch as torch
>>> torch.zeros(2, 3).index_add(1, torch.tensor([0, 2]), torch.ones(2, 2))
tensor([[1., 0., 1.],
        [1., 0., 1.]])
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from fdiff.torch import _dtypes, _interop
from fdiff.torch import _ops_more as more_ops
from fdiff.torch._args import checked_dim
from fdiff.torch._dispatch import apply
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._errors import refusing_unknown_keywords as torch_function
from fdiff.torch._tensor_base import TensorBase as Tensor
from fdiff.torch._tensor_base import new_tensor


def _name(tensor: Tensor) -> str:
    return _dtypes.SCALAR_TYPE_NAMES.get(tensor.dtype.name, tensor.dtype.name)


def _slice_size(input: Tensor, dim: int) -> int:
    return input.shape[dim] if input.dim() else 1


def _add_checks(input: Tensor, dim: int, index: Tensor, source: Tensor) -> None:
    """torch's checks of ``index_add``'s arguments."""
    if index.dtype.name not in ("int32", "int64"):
        raise RuntimeError(
            f"index_add_(): Expected dtype int32/int64 for index but got: {_name(index)}"
        )
    if index.dim() > 1:
        raise IndexError(
            f"index_add_(): Index is supposed to be a vector, but got dim: {index.dim()} with "
            f"type: {_name(index)} and size: {list(index.shape)}"
        )
    count = source.shape[dim] if source.dim() else 1
    if index.numel() != count:
        raise RuntimeError(
            f"index_add_(): Number of indices ({index.numel()}) should be equal to "
            f"source.size(dim): ({count}), for dim: {dim}"
        )
    if input.dtype != source.dtype:
        raise RuntimeError(
            f"index_add_(): self ({_name(input)}) and source ({_name(source)}) must have the "
            "same scalar type"
        )
    _check_slices(input, dim, source, "source tensor shape must match self tensor shape, "
                  "excluding the specified dimension.")  # fmt: skip
    _in_range(index, _slice_size(input, dim), dim, RuntimeError, "")


def _check_slices(input: Tensor, dim: int, source: Tensor, message: str) -> None:
    """torch's check that ``source`` is ``input`` but along ``dim``."""
    rest = [n for d, n in enumerate(input.shape) if d != dim]
    if source.dim() and [n for d, n in enumerate(source.shape) if d != dim] != rest:
        raise RuntimeError(
            f"{message} Got self.shape = {list(input.shape)} source.shape = {list(source.shape)}"
        )


def _in_range(index: Tensor, size: int, dim: int, error: type, prefix: str, low: int = 0):
    """``index``'s values, each in ``[low, size)``, else torch's ``error``."""
    values = np.asarray(_interop.concrete(index, "an index's values")).reshape(-1)
    outside = values[(values < low) | (values >= size)]
    if outside.size:
        raise error(
            f"{prefix}index {outside[0]} is out of bounds for dimension {dim} with size {size}"
        )
    return values


@torch_function
def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """``input`` with ``alpha * source`` added at the slices ``index`` along ``dim`` (repeats
    add up; grad_fn ``IndexAddBackward0``)."""
    dim = checked_dim(input, dim) % max(input.dim(), 1)
    _add_checks(input, dim, index, source)
    return apply(more_ops.index_add, input, index, source, dim=dim, alpha=alpha)


@torch_function
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """``input`` with the slices ``index`` along ``dim`` replaced by ``source``'s."""
    dim = checked_dim(input, dim) % max(input.dim(), 1)
    if index.dtype.name != "int64":
        raise RuntimeError(
            f"index_copy_(): Expected a long tensor for index, but got {_name(index)}"
        )
    if index.dim() > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {index.dim()})")
    count = source.shape[dim] if source.dim() else 1
    if index.numel() != count:
        raise IndexError(
            f"index_copy_(): Number of indices ({index.numel()}) should be equal to "
            f"source.size(dim) ({count})"
        )
    if input.dtype != source.dtype:
        raise RuntimeError(
            "index_copy_(): self and source expected to have the same dtype, but got (self) "
            f"{_name(input)} and (source) {_name(source)}"
        )
    _check_slices(input, dim, source, "index_copy_(): Source/destination tensor must have same "
                  "slice shapes.")  # fmt: skip
    values = _in_range(index, _slice_size(input, dim), dim, IndexError, "index_copy_(): ")
    if np.unique(values).size != values.size:
        raise UnsupportedError("torch.index_copy (two copies to one slice)")
    return apply(more_ops.index_copy, input, index, source, dim=dim)


@torch_function
def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    """``input`` with the slices ``index`` along ``dim`` (negatives count from the end) set to
    ``value``, a number or a 0-d tensor."""
    dim = checked_dim(input, dim) % max(input.dim(), 1)
    if index.dtype.name != "int64":
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if index.dim() > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    size = _slice_size(input, dim)
    values = _in_range(index, size, dim, IndexError, "", low=-size)
    wrapped = new_tensor(jnp.asarray(values % max(size, 1), index._value.dtype))
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(
                "index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.dim()} dimension(s)."
            )
        return apply(more_ops.index_fill_tensor, input, wrapped, value, dim=dim)
    return apply(more_ops.index_fill, input, wrapped, dim=dim, value=value)


__all__ = ["index_add", "index_copy", "index_fill"]
