"""More of torch's shape functions: ``flip``, ``roll``, ``tile``, ``broadcast_to``, ``meshgrid``,
``vstack``, ``movedim``, ``diag``, ``trace``, ``take``, ``rot90``, ``block_diag``...

Where torch builds a function from other ops (``vstack`` is ``cat`` of ``atleast_2d``'s,
``movedim`` a ``permute``, ``meshgrid`` a ``view`` and an ``expand`` per tensor), it is composed
here from the same ops, so the grad_fns, views and strides are torch's; the others are op-table
entries (:mod:`~fdiff.torch._shape_ops`) with torch's grad_fn names.

>>> import fdiff.torch as torch
>>> torch.vstack([torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])])
tensor([[1., 2.],
        [3., 4.]])
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from fdiff.torch import _creation, _dtypes, _views
from fdiff.torch import _shape_ops as shape_ops
from fdiff.torch._args import checked_dim, shape_args
from fdiff.torch._dispatch import apply
from fdiff.torch._errors import refusing_unknown_keywords as torch_function
from fdiff.torch._select_ops import gather, index_select
from fdiff.torch._shape import (
    cat,
    clone,
    expand,
    flatten,
    permute,
    reshape,
    stack,
    to,
    transpose,
    unsqueeze,
    view,
)
from fdiff.torch._tensor_base import TensorBase as Tensor

# --- flips, rolls, repeats -------------------------------------------------------------------


def _distinct_dims(input: Tensor, dims: Any) -> tuple[int, ...]:
    """``dims`` checked and made non-negative; torch refuses a dim listed twice."""
    dims = checked_dim(input, tuple(dims) if isinstance(dims, Sequence) else (dims,))
    positive = tuple(d % max(input.dim(), 1) for d in dims)
    for d in positive:
        if positive.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return positive


@torch_function
def flip(input: Tensor, *args: Any, dims: Any = None) -> Tensor:
    """The entries of ``dims`` in reverse order (a copy, ``FlipBackward0``).

    >>> import fdiff.torch as torch
    >>> torch.flip(torch.tensor([1.0, 2.0, 3.0]), [0])
    tensor([3., 2., 1.])
    """
    dims = shape_args(args) if dims is None else shape_args((dims,))
    return apply(shape_ops.flip, input, dims=_distinct_dims(input, dims))


@torch_function
def fliplr(input: Tensor) -> Tensor:
    """``flip(input, [1])``, for a tensor of at least 2 dims."""
    if input.dim() < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


@torch_function
def flipud(input: Tensor) -> Tensor:
    """``flip(input, [0])``, for a tensor of at least 1 dim."""
    if input.dim() < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


@torch_function
def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Entries shifted cyclically along ``dims`` (the flattened tensor when ``dims`` is None).

    >>> import fdiff.torch as torch
    >>> torch.roll(torch.tensor([1.0, 2.0, 3.0]), 1)
    tensor([3., 1., 2.])
    """
    shifts = tuple(shifts) if isinstance(shifts, Sequence) else (shifts,)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return apply(shape_ops.roll, input, shifts=int(shifts[0]), dims=None)
    dims = tuple(dims) if isinstance(dims, Sequence) else (dims,)
    if not shifts:
        raise RuntimeError("`shifts` required")
    if len(shifts) != len(dims):
        raise RuntimeError(
            f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}"
        )
    dims = tuple(d % max(input.dim(), 1) for d in checked_dim(input, dims))
    return apply(shape_ops.roll, input, shifts=tuple(int(s) for s in shifts), dims=dims)


def repeat(input: Tensor, *repeats: Any) -> Tensor:
    """``Tensor.repeat``: ``input`` tiled ``repeats`` times along each dim (``RepeatBackward0``).

    >>> import fdiff.torch as torch
    >>> torch.tensor([1.0, 2.0]).repeat(2)
    tensor([1., 2., 1., 2.])
    """
    repeats = shape_args(repeats)
    if len(repeats) < input.dim():
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor"
        )
    padded = (1,) * (len(repeats) - input.dim()) + tuple(input.shape)
    sizes = [n * r for n, r in zip(padded, repeats, strict=True)]
    if any(r < 0 for r in repeats):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(sizes)}: {sizes}")
    return apply(shape_ops.repeat, input, repeats=repeats)


@torch_function
def tile(input: Tensor, *dims: Any) -> Tensor:
    """``input.repeat(dims)``, with ``dims`` padded with leading 1s to ``input``'s dims."""
    dims = shape_args(dims)
    return repeat(input, (1,) * (input.dim() - len(dims)) + dims)


@torch_function
def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None) -> Tensor:
    """Each entry repeated ``repeats`` times along ``dim`` (of the flattened tensor when ``dim``
    is None); ``repeat_interleave(counts)`` of an integer vector alone gives the indices.

    >>> import fdiff.torch as torch
    >>> torch.repeat_interleave(torch.tensor([1.0, 2.0]), 2)
    tensor([1., 1., 2., 2.])
    """
    if repeats is None:
        return _repeated_indices(input)
    if dim is None:
        input, dim = flatten(input), 0
    dim = checked_dim(input, dim) % max(input.dim(), 1)
    if isinstance(repeats, Tensor):
        if repeats.dim() == 0 or repeats.numel() == 1:  # torch: the one count for every entry
            repeats = expand(reshape(repeats, 1), input.shape[dim])
        if repeats.numel() != input.shape[dim]:
            raise RuntimeError("repeats must have the same size as input along dim")
        return index_select(input, dim, _repeated_indices(repeats))
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    wide = list(input.shape)
    wide.insert(dim + 1, repeats)
    spread = clone(expand(unsqueeze(input, dim + 1), wide))
    return flatten(spread, dim, dim + 1)


def _repeated_indices(counts: Tensor) -> Tensor:
    """``torch.repeat_interleave(counts)``: index ``i`` repeated ``counts[i]`` times (int64)."""
    if counts.dim() != 1 or counts.dtype.name not in ("int32", "int64"):
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    values = np.asarray(counts._value)
    if (values < 0).any():
        raise RuntimeError("repeats can not be negative")
    return _creation.tensor(np.repeat(np.arange(values.size), values).astype(counts.dtype.name))


@torch_function
def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """``input`` rotated by ``k`` quarter turns from ``dims[0]`` towards ``dims[1]``
    (``Rot90Backward0``; strides as torch's: see :func:`~fdiff.torch._views.rotated_layout`).

    >>> import fdiff.torch as torch
    >>> torch.rot90(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([[2., 4.],
            [1., 3.]])
    """
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.dim() < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.dim()}")
    dim0, dim1 = (d % input.dim() for d in checked_dim(input, tuple(dims)))
    if dim0 == dim1:
        raise RuntimeError(
            f"expected rotation dims to be different, but got dim0 = {dim0} and dim1 = {dim1}"
        )
    result = apply(shape_ops.rot90, input, k=k % 4, dims=(dim0, dim1))
    return _views.rotated_layout(result, input, k % 4, (dim0, dim1))


# --- broadcasting ------------------------------------------------------------------------------


@torch_function
def broadcast_to(input: Tensor, size: Sequence[int]) -> Tensor:
    """``input.expand(size)``: a view (``ExpandBackward0``)."""
    return expand(input, *shape_args((size,)))


def _broadcast_shape(shapes: Sequence[tuple[int, ...]]) -> tuple[int, ...]:
    """The shape the tensors broadcast to, with torch's error."""
    ndim = max((len(s) for s in shapes), default=0)
    result = [1] * ndim
    for shape in shapes:
        for i, size in enumerate(shape, start=ndim - len(shape)):
            if size != 1 and result[i] not in (1, size):
                raise RuntimeError(
                    f"The size of tensor a ({result[i]}) must match the size of tensor b "
                    f"({size}) at non-singleton dimension {i}"
                )
            result[i] = size if size != 1 else result[i]
    return tuple(result)


@torch_function
def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors expanded to their common shape; one already of that shape is returned as it
    is, as torch returns it."""
    shape = _broadcast_shape([tuple(t.shape) for t in tensors])
    return tuple(t if tuple(t.shape) == shape else expand(t, shape) for t in tensors)


MESHGRID_WARNING = (
    "torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument."
)
"""torch's warning for ``meshgrid`` without ``indexing`` (its C++ source location left out)."""


@torch_function
def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids: output ``i`` is tensor ``i`` viewed along its own dim and expanded
    (``indexing='xy'`` swaps the first two dims). Without ``indexing``, torch's warning, then
    ``'ij'``.

    >>> import fdiff.torch as torch
    >>> [g.tolist() for g in torch.meshgrid(torch.tensor([1, 2]), torch.tensor([3]), indexing="ij")]
    [[[1], [2]], [[3], [3]]]
    """
    if len(tensors) == 1 and isinstance(tensors[0], Sequence):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(MESHGRID_WARNING, UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}'
        )
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors[1:]:
        if t.dtype is not tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    for t in tensors:
        if t.dim() > 1:
            raise RuntimeError(
                f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}"
            )
    positions = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        positions[0], positions[1] = 1, 0
    shape = [0] * len(tensors)
    for t, p in zip(tensors, positions, strict=True):
        shape[p] = t.numel()
    grids = []
    for t, p in zip(tensors, positions, strict=True):
        along = [1] * len(tensors)
        along[p] = -1
        grids.append(expand(view(t, along), shape))
    return tuple(grids)


@torch_function
def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every combination of the vectors' entries, one per row (one vector: itself)."""
    for t in tensors:
        if t.dim() != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    return stack([flatten(g) for g in meshgrid(*tensors, indexing="ij")], 1)


# --- at least n dims, stacks -----------------------------------------------------------------


def _atleast(ndim: int):
    def function(*tensors: Any) -> Any:
        if len(tensors) == 1 and isinstance(tensors[0], Sequence):
            return tuple(_at_least(t, ndim) for t in tensors[0])
        if len(tensors) == 1:
            return _at_least(tensors[0], ndim)
        return tuple(_at_least(t, ndim) for t in tensors)

    function.__name__ = function.__qualname__ = f"atleast_{ndim}d"
    function.__doc__ = (
        f"``torch.atleast_{ndim}d``: a tensor with fewer than {ndim} dims reshaped to have "
        f"{ndim}, as torch does; the others returned as they are (several: a tuple)."
    )
    return torch_function(function)


def _at_least(input: Tensor, ndim: int) -> Tensor:
    """torch's rules: a 0-d tensor is reshaped; a 1-d one gains a leading dim (and, for 3 dims,
    a trailing one); a 2-d one, for 3 dims, a trailing one."""
    if input.dim() >= ndim:
        return input
    if input.dim() == 0:
        return reshape(input, (1,) * ndim)
    if input.dim() == 1:
        input = unsqueeze(input, 0)
    return input if input.dim() >= ndim else unsqueeze(input, -1)


atleast_1d = _atleast(1)
atleast_2d = _atleast(2)
atleast_3d = _atleast(3)


def _nonempty(tensors: Sequence[Tensor], function: str) -> list[Tensor]:
    if not tensors:
        raise RuntimeError(f"{function} expects a non-empty TensorList")
    return list(tensors)


@torch_function
def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """``cat`` of the ``atleast_2d`` tensors along dim 0."""
    return cat(atleast_2d(_nonempty(tensors, "vstack")), 0)


row_stack = torch_function(lambda tensors: vstack(tensors), "torch.row_stack")
row_stack.__doc__ = "torch's other name of :func:`vstack`."


@torch_function
def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """``cat`` of the ``atleast_1d`` tensors along dim 1 (dim 0 for vectors)."""
    tensors = atleast_1d(_nonempty(tensors, "hstack"))
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1)


@torch_function
def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """``cat`` of the ``atleast_3d`` tensors along dim 2."""
    return cat(atleast_3d(_nonempty(tensors, "dstack")), 2)


@torch_function
def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """``cat`` along dim 1 of the tensors, vectors and scalars made columns."""
    columns = [
        reshape(t, t.numel(), 1) if t.dim() <= 1 else t for t in _nonempty(tensors, "column_stack")
    ]
    return cat(columns, 1)


# --- dims moved, split -------------------------------------------------------------------------


def _dim_list(input: Tensor, dims: Any, name: str) -> list[int]:
    dims = list(dims) if isinstance(dims, Sequence) else [dims]
    positive = [d % max(input.dim(), 1) for d in checked_dim(input, tuple(dims))]
    if len(set(positive)) != len(positive):
        raise RuntimeError(f"movedim: repeated dim in `{name}` ({dims})")
    return positive


@torch_function
def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    """``input`` with dims ``source`` moved to ``destination``: a ``permute`` view.

    >>> import fdiff.torch as torch
    >>> torch.movedim(torch.zeros(2, 3, 4), 0, -1).shape
    torch.Size([3, 4, 2])
    """
    count = (len(d) if isinstance(d, Sequence) else 1 for d in (source, destination))
    if len(set(count)) != 1:
        raise RuntimeError(
            "movedim: Invalid source or destination dims: source ("
            f"{list(source) if isinstance(source, Sequence) else [source]} dims) should contain "
            "the same number of dims as destination ("
            f"{list(destination) if isinstance(destination, Sequence) else [destination]} dims)"
        )
    source = _dim_list(input, source, "source")
    destination = _dim_list(input, destination, "destination")
    order = [d for d in range(input.dim()) if d not in source]
    for dest, src in sorted(zip(destination, source, strict=True)):
        order.insert(dest, src)
    return permute(input, order)


moveaxis = torch_function(lambda input, source, destination: movedim(input, source, destination),
                          "torch.moveaxis")  # fmt: skip
moveaxis.__doc__ = "NumPy's name of :func:`movedim`."


@torch_function
def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """``transpose(input, axis0, axis1)`` (NumPy's name)."""
    return transpose(input, axis0, axis1)


@torch_function
def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """``transpose(input, dim0, dim1)``."""
    return transpose(input, dim0, dim1)


@torch_function
def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Dim ``dim`` split into ``sizes`` (one may be -1): a view.

    >>> import fdiff.torch as torch
    >>> torch.zeros(2, 6).unflatten(1, (3, -1)).shape
    torch.Size([2, 3, 2])
    """
    dim = checked_dim(input, dim) % max(input.dim(), 1)
    sizes = list(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    size = input.shape[dim]
    known = int(np.prod([s for s in sizes if s != -1], dtype=np.int64))
    if sizes.count(-1) == 1 and known and size % known == 0:
        sizes[sizes.index(-1)] = size // known
    elif -1 in sizes or known != size:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim "
            f"{dim} ({size}) in the input tensor"
        )
    return view(input, *input.shape[:dim], *sizes, *input.shape[dim + 1 :])


# --- diagonals, trace, take ----------------------------------------------------------------------


@torch_function
def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A vector's diagonal matrix, or a copy of a matrix's diagonal (offset ``diagonal``).

    >>> import fdiff.torch as torch
    >>> torch.diag(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([1., 4.])
    """
    if input.dim() == 1:
        return apply(shape_ops.diag_embed, input, offset=diagonal)
    if input.dim() == 2:
        return apply(shape_ops.diagonal_copy, input, offset=diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.dim()}D")


@torch_function
def trace(input: Tensor) -> Tensor:
    """The sum of a matrix's diagonal (integers summed in int64, as torch)."""
    if input.dim() != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.dim()}")
    if input.dtype is _dtypes.bool_:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    if not input.dtype.is_floating_point:
        input = to(input, _dtypes.int64)
    return apply(shape_ops.trace, input)


@torch_function
def take(input: Tensor, index: Tensor) -> Tensor:
    """``input.flatten()[index]``, of ``index``'s shape (``TakeBackward0``)."""
    if index.dtype is not _dtypes.int64:
        raise RuntimeError(
            "take(): Expected a long tensor for index, but got "
            + _dtypes.SCALAR_TYPE_NAMES[index.dtype.name]
        )
    values = np.asarray(index._value)
    numel = input.numel()
    outside = values[(values < -numel) | (values >= numel)]
    if outside.size:
        raise IndexError(
            f"out of range: tried to access index {outside.flat[0]} on a tensor of {numel} "
            "elements."
        )
    return apply(shape_ops.take, input, index)


@torch_function
def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """``gather`` along ``dim`` after broadcasting ``input`` and ``indices`` over the other
    dims; without ``dim``, ``gather`` of both flattened (by ``view``, as torch)."""
    if dim is None:
        return gather(view(input, -1), 0, view(indices, -1))
    dim = checked_dim(input, dim) % max(input.dim(), 1)
    if indices.dim() != input.dim():
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {input.dim()} dimensions for input, and {indices.dim()} "
            "dimensions for indices"
        )
    others = [[*t.shape[:dim], 1, *t.shape[dim + 1 :]] for t in (input, indices)]
    input_shape, index_shape = (list(_broadcast_shape(others)) for _ in range(2))
    input_shape[dim], index_shape[dim] = input.shape[dim], indices.shape[dim]
    return gather(
        expand(input, input_shape), dim, expand(_wrapped(indices, input.shape[dim]), index_shape)
    )


def _wrapped(indices: Tensor, size: int) -> Tensor:
    """``indices`` with a negative one counted from the end, as ``take_along_dim`` counts it
    (``gather`` itself refuses them)."""
    values = np.asarray(indices._value)
    if not (values < 0).any():
        return indices
    return _creation.tensor(np.where(values < 0, values + size, values))


@torch_function
def block_diag(*tensors: Tensor) -> Tensor:
    """The tensors (matrices; a vector is one row, a scalar a 1x1 block) on a block diagonal,
    in their promoted dtype (``BlockDiagBackward0``)."""
    for i, t in enumerate(tensors):
        if t.dim() > 2:
            raise RuntimeError(
                "torch.block_diag: Input tensors must have 2 or fewer dimensions. Input "
                f"{i} has {t.dim()} dimensions"
            )
    if not tensors:
        return _creation.zeros(1, 0)
    return apply(shape_ops.block_diag, *tensors)


# --- new tensors ----------------------------------------------------------------------------------


@torch_function
def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:  # fmt: skip
    """A tensor of ``input``'s shape, dtype and layout, filled with ``fill_value``."""
    filled = _creation.full(tuple(input.shape), fill_value, dtype=dtype or input.dtype,
                            device=device, requires_grad=requires_grad)  # fmt: skip
    return _views.like_layout(filled, input)


@torch_function
def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:  # fmt: skip
    """``zeros_like``: torch's ``empty_like`` leaves its values unspecified, and zeros are one
    valid content (as ``torch.empty`` here)."""
    return _creation.zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad)


def _triangle_indices(lower: bool):
    def function(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: Any = None) -> Tensor:  # fmt: skip
        rows, cols = (np.tril_indices if lower else np.triu_indices)(row, offset, col)
        resolved = _dtypes.resolve(dtype, _dtypes.int64)
        if resolved.is_floating_point or resolved is _dtypes.bool_:
            type_name = _dtypes.SCALAR_TYPE_NAMES[resolved.name]
            raise NotImplementedError(f"\"{name}\" not implemented for '{type_name}'")
        return _creation.tensor(np.stack([rows, cols]), dtype=resolved, device=device)

    name = "tril_indices" if lower else "triu_indices"
    function.__name__ = function.__qualname__ = name
    function.__doc__ = (
        f"``torch.{name}``: the row and column indices of a ``row`` x ``col`` matrix's "
        f"{'lower' if lower else 'upper'} triangle (from diagonal ``offset``), row by row."
    )
    return torch_function(function)


tril_indices = _triangle_indices(lower=True)
triu_indices = _triangle_indices(lower=False)

__all__ = [
    "atleast_1d", "atleast_2d", "atleast_3d", "block_diag", "broadcast_tensors",
    "broadcast_to", "cartesian_prod", "column_stack", "diag", "dstack", "empty_like", "flip",
    "fliplr", "flipud", "full_like", "hstack", "meshgrid", "moveaxis", "movedim",
    "repeat_interleave", "roll", "rot90", "row_stack", "swapaxes", "swapdims", "take",
    "take_along_dim", "tile", "trace", "tril_indices", "triu_indices", "unflatten", "vstack",
]  # fmt: skip
