"""torch's selection functions: ``gather``, ``scatter``, ``scatter_reduce``, ``index_select``,
``masked_fill``, ``sort``, ``argsort``, ``topk``.

Each is ``torch.<name>`` and ``Tensor.<name>``; indices are checked as torch checks them (JAX
would clamp an out-of-range index silently). Where torch's result depends on its kernel's
internals, fdiff.torch refuses instead of guessing: ``scatter`` onto one position twice, and
ties that ``sort`` (without ``stable=True``, past the 16 elements torch sorts by insertion) or
``topk`` order by their kernel's internal order.

>>> import fdiff.torch as torch
>>> torch.tensor([[1.0, 2.0], [3.0, 4.0]]).gather(1, torch.tensor([[1], [0]]))
tensor([[2.],
        [3.]])
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np

from fdiff.torch import _ops_more as more_ops
from fdiff.torch import _return_types as return_types
from fdiff.torch._args import checked_dim
from fdiff.torch._dispatch import apply
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._errors import refusing_unknown_keywords as torch_function
from fdiff.torch._grad_mode import is_grad_enabled
from fdiff.torch._tensor_base import TensorBase as Tensor

INSERTION_SORT_LIMIT = 16
"""torch's CPU sort (``std::sort``) orders up to this many elements by insertion: stably."""


def _indices(index: Any, function: str) -> np.ndarray:
    if not isinstance(index, Tensor) or index.dtype.name not in ("int32", "int64"):
        raise RuntimeError(f"{function}(): Expected dtype int32/int64 for index")
    return np.asarray(index._value)


def _check_index(input: Tensor, dim: int, index: Tensor, function: str) -> np.ndarray:
    """``index``'s values, after torch's checks for ``gather``/``scatter`` along ``dim``."""
    values = _indices(index, function)
    if function != "gather" and {index.dim(), input.dim()} == {0, 1}:
        raise UnsupportedError(f"torch.{function} (a 0-d input or index with a 1-d other)")
    if max(index.dim(), 1) != max(input.dim(), 1):  # torch counts a 0-d tensor as 1-d here
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for d, (n, limit) in enumerate(zip(index.shape, input.shape, strict=False)):
        if d != dim and n > limit:
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {list(index.shape)} to be "
                f"no larger than self {list(input.shape)} apart from dimension {dim}"
            )
    size = input.shape[dim] if input.dim() else 1
    outside = values[(values < 0) | (values >= size)]
    if outside.size:
        raise RuntimeError(
            f"index {outside.flat[0]} is out of bounds for dimension {dim} with size {size}"
        )
    return values


@torch_function
def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j] = input[i][index[i][j]]`` for ``dim=1``; the gradient scatters back."""
    dim = checked_dim(input, dim) % max(input.dim(), 1)
    _check_index(input, dim, index, "gather")
    return apply(more_ops.gather, input, index, dim=dim)


def _scatter_source(input: Tensor, index: Tensor, src: Any, dim: int, function: str) -> None:
    """torch's checks of ``src``; a ``src`` larger than ``index`` that requires grad is refused:
    torch's backward then fails ("returned an invalid gradient"), fdiff.torch's would not."""
    if isinstance(src, Tensor):
        if src.requires_grad and is_grad_enabled() and src.shape != index.shape:
            raise UnsupportedError(f"torch.{function} (a src larger than index, with autograd)")
        if src.dtype != input.dtype:
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
        if any(n > m for n, m in zip(index.shape, src.shape, strict=True)):
            raise RuntimeError(
                f"Size does not match at dimension {dim} expected index {list(index.shape)} to "
                f"be no larger than src {list(src.shape)}"
            )


@torch_function
def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, value: Any = None) -> Tensor:
    """A copy of ``input`` with ``src`` (a tensor, or the number ``value``) written at
    ``index`` along ``dim``. Two writes to one position are refused: torch keeps the last one
    but still sends a gradient to both."""
    if (src is None) == (value is None):
        raise TypeError("scatter() expects either a tensor `src` or a number `value`")
    dim = checked_dim(input, dim) % max(input.dim(), 1)
    values = _check_index(input, dim, index, "scatter")
    written = np.sort(values, axis=dim)
    if (np.diff(written, axis=dim) == 0).any():
        raise UnsupportedError("torch.scatter (two writes to one position)")
    source = src if src is not None else value
    if isinstance(source, Tensor):
        _scatter_source(input, index, source, dim, "scatter")
        return apply(more_ops.scatter, input, index, source, dim=dim)
    return apply(more_ops.scatter_value, input, index, source, dim=dim)


@torch_function
def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeats add up)."""
    dim = checked_dim(input, dim) % max(input.dim(), 1)
    _check_index(input, dim, index, "scatter")
    _scatter_source(input, index, src, dim, "scatter_add")
    return apply(more_ops.scatter_add, input, index, src, dim=dim)


_SCATTER_REDUCTIONS = MappingProxyType({
    "sum": more_ops.scatter_reduce_sum, "prod": more_ops.scatter_reduce_prod,
    "mean": more_ops.scatter_reduce_mean, "amax": more_ops.scatter_reduce_amax,
    "amin": more_ops.scatter_reduce_amin,
})  # fmt: skip


@torch_function
def scatter_reduce(
    input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """A copy of ``input`` with ``src`` reduced into it at ``index`` along ``dim`` (``"sum"``,
    ``"prod"``, ``"mean"``, ``"amax"``, ``"amin"``; ``include_self=False`` leaves ``input``'s
    value out where ``index`` scatters). ``amax``/``amin`` split the gradient evenly among the
    elements equal to the result, as torch does; ``"prod"`` with autograd raises
    :class:`~fdiff.torch.UnsupportedError` (torch's gradient takes zeros apart its own way).

    >>> import fdiff.torch as torch
    >>> torch.zeros(3).scatter_reduce(0, torch.tensor([0, 0, 2]), torch.ones(3), "sum")
    tensor([2., 0., 1.])
    """
    spec = _SCATTER_REDUCTIONS.get(reduce)
    if spec is None:
        raise UnsupportedError(f"torch.scatter_reduce(reduce={reduce!r})")
    dim = checked_dim(input, dim) % max(input.dim(), 1)
    _check_index(input, dim, index, "scatter_reduce")
    _scatter_source(input, index, src, dim, "scatter_reduce")
    if not spec.differentiable and is_grad_enabled() and (input.requires_grad or src.requires_grad):
        raise UnsupportedError("torch.scatter_reduce(reduce='prod') with autograd")
    return apply(spec, input, index, src, dim=dim, include_self=include_self)


@torch_function
def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices ``index`` (a vector) of ``input`` along ``dim``."""
    dim = checked_dim(input, dim) % max(input.dim(), 1)
    if not isinstance(index, Tensor) or index.dtype.name not in ("int32", "int64"):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index.dim() > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    values = np.asarray(index._value)
    size = input.shape[dim] if input.dim() else 1
    if input.dim() == 0 and values.size != 1:
        raise RuntimeError(
            f"index_select(): Index to scalar can have only 1 value, got {values.size} value(s)"
        )
    if ((values < 0) | (values >= size)).any():
        raise IndexError("index out of range in self")
    return apply(more_ops.index_select, input, index, dim=dim)


_C_TYPE_NAMES = MappingProxyType(
    {"float32": "float", "float64": "double", "int64": "long", "int32": "int"}
)


@torch_function
def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """``value`` where ``mask`` (a bool tensor) is True, else ``input``."""
    if mask.dtype.name != "bool":
        kind = _C_TYPE_NAMES.get(mask.dtype.name, mask.dtype.name)
        raise RuntimeError(
            f"masked_fill_ only supports boolean masks, but got mask with dtype {kind}"
        )
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.dim()} dimension(s)."
            )
        return apply(more_ops.masked_fill_tensor, input, mask, value)
    return apply(more_ops.masked_fill, input, mask, value)


def _check_ties(input: Tensor, dim: int, count: int, largest_first: bool, op: str) -> None:
    """Refuse (``UnsupportedError`` naming ``op``) equal values among the first ``count`` of
    each slice along ``dim`` in sorted order (NaN largest, NaN ties NaN, -0.0 ties 0.0): their
    order is torch's kernel's own."""
    ordered = np.sort(np.moveaxis(np.asarray(input._value), dim, -1), axis=-1)  # NaN last
    leading = (ordered[..., ::-1] if largest_first else ordered)[..., :count]
    same = leading[..., 1:] == leading[..., :-1]
    if leading.dtype.kind == "f":
        same |= np.isnan(leading[..., 1:]) & np.isnan(leading[..., :-1])
    if same.any():
        raise UnsupportedError(op)


def sort(
    input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False
) -> return_types.sort:
    """``(values, indices)`` sorted along ``dim``; NaN counts as the largest value. Ties keep
    their order (torch's for ``stable=True`` and for up to 16 elements; other ties raise
    :class:`~fdiff.torch.UnsupportedError`, their order being torch's kernel's own).

    >>> import fdiff.torch as torch
    >>> torch.sort(torch.tensor([3.0, 1.0, 2.0]), descending=True)
    torch.return_types.sort(
    values=tensor([3., 2., 1.]),
    indices=tensor([0, 2, 1]))
    """
    dim = checked_dim(input, dim) % max(input.dim(), 1)
    if input.dim() and not stable and input.shape[dim] > INSERTION_SORT_LIMIT:
        _check_ties(input, dim, input.shape[dim], False, "torch.sort (ties without stable=True)")
    values = apply(more_ops.sort_values, input, dim=dim, descending=descending)
    return return_types.sort(
        values, apply(more_ops.sort_indices, input, dim=dim, descending=descending)
    )


@torch_function
def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """The indices of :func:`sort`."""
    return sort(input, dim, descending, stable=stable).indices


@torch_function
def topk(
    input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
) -> return_types.topk:
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, largest first.
    Ties among them, or at the ``k``-th place, raise :class:`~fdiff.torch.UnsupportedError`
    (torch's order for them is its kernel's own), as does ``sorted=False`` for ``k > 1``."""
    dim = checked_dim(input, dim) % max(input.dim(), 1)
    size = input.shape[dim] if input.dim() else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    if not sorted and k > 1:
        raise UnsupportedError("torch.topk(sorted=False)")
    if input.dim():
        _check_ties(input, dim, min(k + 1, size), largest, "torch.topk (ties)")
    values = apply(more_ops.topk_values, input, k=k, dim=dim, largest=largest)
    return return_types.topk(
        values, apply(more_ops.topk_indices, input, k=k, dim=dim, largest=largest)
    )


sort = torch_function(sort)

__all__ = [
    "argsort", "gather", "index_select", "masked_fill", "scatter", "scatter_add", "scatter_reduce",
    "sort", "topk",
]  # fmt: skip
