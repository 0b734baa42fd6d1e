"""torch's shape functions (``x.view(2, 2)``, ``torch.cat``, ``x.T``...) and dtype conversions.

As in :mod:`~fdiff.torch._math`, each function serves as ``torch.<name>`` and as the method
``Tensor.<name>``; torch's ``*shape`` varargs are normalised here and checked with torch's
messages; the op table does the computing.

>>> import fdiff.torch as torch
>>> view(torch.zeros(6), 2, -1).shape
torch.Size([2, 3])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fdiff.torch import _dtypes, _views
from fdiff.torch import _ops as ops
from fdiff.torch import _shape_ops as shape_ops
from fdiff.torch._args import check_device, checked_dim, shape_args
from fdiff.torch._dispatch import apply
from fdiff.torch._errors import VIEW_SIZE_INCOMPATIBLE, F, refusing_unknown_keywords
from fdiff.torch._errors import refusing_unknown_keywords as torch_function
from fdiff.torch._graph import MultiOutputNode
from fdiff.torch._tensor_base import TensorBase as Tensor

# --- shape ------------------------------------------------------------------------------------


def _resolved_shape(input: Tensor, shape: tuple) -> tuple[int, ...]:
    target = shape_args(shape)
    known = int(np.prod([s for s in target if s != -1], dtype=np.int64))
    if (
        target.count(-1) > 1
        or (-1 not in target and known != input.numel())
        or (-1 in target and (known == 0 or input.numel() % known))
    ):
        raise RuntimeError(f"shape '{list(target)}' is invalid for input of size {input.numel()}")
    return target


@torch_function
def view(input: Tensor, *shape: Any) -> Tensor:
    target = _resolved_shape(input, shape)
    if not _views.viewable(input, target):
        raise RuntimeError(VIEW_SIZE_INCOMPATIBLE)
    return apply(shape_ops.view, input, shape=target)


@torch_function
def reshape(input: Tensor, *shape: Any) -> Tensor:
    """A view when the strides allow one, else a copy (torch's ``UnsafeViewBackward0``)."""
    target = _resolved_shape(input, shape)
    if _views.viewable(input, target):
        return apply(shape_ops.view, input, shape=target)
    return apply(_views.reshape_copy, input, shape=target)


@torch_function
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim``; a flatten that merges nothing returns ``input`` itself,
    as torch (no new node)."""
    if input.dim() == 0:
        return reshape(input, 1)
    dims = list(input.shape)
    start, end = (checked_dim(input, d) % len(dims) for d in (start_dim, end_dim))
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    merged = int(np.prod(dims[start : end + 1], dtype=np.int64))
    return reshape(input, *dims[:start], merged, *dims[end + 1 :])


@torch_function
def t(input: Tensor) -> Tensor:
    if input.dim() > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.dim()}D")
    return apply(shape_ops.t, input)


@torch_function
def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    dim0, dim1 = checked_dim(input, dim0), checked_dim(input, dim1)
    return apply(shape_ops.transpose, input, dim0=dim0, dim1=dim1)


@torch_function
def permute(input: Tensor, *dims: Any) -> Tensor:
    return apply(shape_ops.permute, input, dims=shape_args(dims))


@torch_function
def unsqueeze(input: Tensor, dim: int) -> Tensor:
    return apply(shape_ops.unsqueeze, input, dim=checked_dim(input, dim, new_axis=True))


@torch_function
def squeeze(input: Tensor, dim: int | None = None) -> Tensor:
    if dim is None:
        return apply(shape_ops.squeeze, input)
    dim = checked_dim(input, dim)
    return apply(shape_ops.squeeze_dims if isinstance(dim, tuple) else shape_ops.squeeze_dim,
                 input, dim=dim)  # fmt: skip


@torch_function
def expand(input: Tensor, *sizes: Any) -> Tensor:
    target = list(shape_args(sizes))
    offset = len(target) - input.dim()
    if offset < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(target)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({input.dim()})"
        )
    for i, size in enumerate(input.shape):
        if target[offset + i] == -1:
            target[offset + i] = size
        elif size != 1 and target[offset + i] != size:
            raise RuntimeError(
                f"The expanded size of the tensor ({target[offset + i]}) must match the existing "
                f"size ({size}) at non-singleton dimension {offset + i}.  Target sizes: "
                f"{target}.  Tensor sizes: {list(input.shape)}"
            )
    return apply(shape_ops.expand, input, shape=tuple(target))


@torch_function
def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """A view of ``length`` entries of ``dim`` from ``start`` on (torch's ``SliceBackward0``)."""
    dim = checked_dim(input, dim) % input.dim()
    size = input.shape[dim]
    if isinstance(start, Tensor):
        if start.dim() != 0 or start.dtype.is_floating_point or start.dtype.name == "bool":
            raise RuntimeError("start must be an 0-dim integral Tensor.")
        start = int(start.item())
    start = start + size if start < 0 else start
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return apply(shape_ops.view_narrow, input, dim=dim, start=start, length=length)


@torch_function
def select(input: Tensor, dim: int, index: int) -> Tensor:
    dim = checked_dim(input, dim) % input.dim()
    size = input.shape[dim]
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
            f"dimension {dim}"
        )
    return apply(shape_ops.view_select, input, dim=dim, index=index % size)


def _outputs(input: Tensor, spec: Any, function: str, pieces: list[dict]) -> tuple[Tensor, ...]:
    """The views of an op that returns several (``unbind``, ``split``): torch forbids writing
    into any of them in place while their base requires grad."""
    outputs = tuple(apply(spec, input, **piece) for piece in pieces)
    for i, out in enumerate(outputs):
        out._view = out._view._replace(multi=(function, i))
    nodes = tuple(out._node for out in outputs if out._node is not None)
    if nodes:  # torch: one grad_fn for all of them
        MultiOutputNode(nodes)
    return outputs


@torch_function
def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    dim = checked_dim(input, dim) % input.dim()
    pieces = [{"dim": dim, "index": i} for i in range(input.shape[dim])]
    return _outputs(input, shape_ops.view_unbind, "Unbind", pieces)


@torch_function
def split(input: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Views of consecutive pieces of ``dim``: of one size (the last may be smaller), or of the
    listed sizes."""
    dim = checked_dim(input, dim) % input.dim()
    size = input.shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        sizes = [min(step, size - start) for start in range(0, size, step)] if step else [0]
        spec, function = shape_ops.view_split, "Split"
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != size:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's "
                f"size at dimension {dim}), but got split_sizes={sizes}"
            )
        spec, function = shape_ops.view_split_sizes, "SplitWithSizes"
    starts = np.cumsum([0, *sizes[:-1]])
    pieces = [
        {"dim": dim, "start": int(s), "length": n} for s, n in zip(starts, sizes, strict=True)
    ]
    return _outputs(input, spec, function, pieces)


@torch_function
def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    size = input.shape[checked_dim(input, dim)]
    return split(input, -(-size // chunks), dim)


@torch_function
def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    dim1, dim2 = (checked_dim(input, d) % input.dim() for d in (dim1, dim2))
    return apply(shape_ops.view_diagonal, input, offset=offset, dim1=dim1, dim2=dim2)


@torch_function
def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    first = tensors[0]
    if first.dim() == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    dim = checked_dim(first, dim)
    for i, other in enumerate(tensors[1:], start=1):
        if other.dim() != first.dim():
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {first.dim()} and {other.dim()}"
            )
        for d, (a, b) in enumerate(zip(first.shape, other.shape, strict=True)):
            if a != b and d != dim % first.dim():
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim % first.dim()}. "
                    f"Expected size {a} but got size {b} for tensor number {i} in the list."
                )
    return apply(shape_ops.cat, *tensors, dim=dim)


@torch_function
def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    for i, other in enumerate(tensors[1:], start=1):
        if other.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} "
                f"at entry 0 and {list(other.shape)} at entry {i}"
            )
    return apply(shape_ops.stack, *tensors, dim=checked_dim(tensors[0], dim, new_axis=True))


@torch_function
def clone(input: Tensor) -> Tensor:
    return apply(ops.clone, input)


def _tensor_method(function: F) -> F:
    """A ``Tensor`` method with no ``torch.`` function twin (``x.to``, ``x.contiguous``)."""
    return refusing_unknown_keywords(function, f"Tensor.{function.__name__}")


@_tensor_method
def to(
    input: Tensor,
    *args: Any,
    dtype: _dtypes.dtype | None = None,
    device: Any = None,
    non_blocking: bool = False,
    copy: bool = False,
) -> Tensor:
    """``tensor.to(dtype)``; devices other than the CPU are not available."""
    for arg in (*args, *([] if device is None else [device])):
        if isinstance(arg, _dtypes.dtype):
            dtype = arg
        else:
            check_device(arg, "Tensor.to")
    if dtype is None or dtype is input.dtype:
        return clone(input) if copy else input
    if not dtype.is_floating_point:  # torch: an integer or bool result is outside the graph
        input = input.detach()
    return apply(ops.to_dtype, input, dtype=dtype.storage())


@_tensor_method
def contiguous(input: Tensor) -> Tensor:
    """``input`` itself when its strides are row-major, else a contiguous copy."""
    return input if _views.is_contiguous(input) else _views.contiguous_layout(clone(input))


def _converter(target: _dtypes.dtype):
    def convert(input: Tensor) -> Tensor:
        return to(input, target)

    convert.__doc__ = f"``tensor.to({target!r})``."
    return convert


def T(input: Tensor) -> Tensor:
    """``x.T``: the dimensions reversed."""
    return permute(input, *reversed(range(input.dim())))


to_float = _converter(_dtypes.float32)
to_double = _converter(_dtypes.float64)
to_long = _converter(_dtypes.int64)
to_int = _converter(_dtypes.int32)
to_bool = _converter(_dtypes.bool_)

__all__ = [
    "cat", "chunk", "clone", "diagonal", "expand", "flatten", "narrow", "permute", "reshape",
    "select", "split", "squeeze", "stack", "t", "transpose", "unbind", "unsqueeze", "view",
]  # fmt: skip
