"""Stride arithmetic as torch does it: the strides of a view op's result, of an elementwise op's
output (TensorIterator's rule) and of ``empty_like``'s (``clone``, ``to``, ``*_like``).

Everything here works on ``(shape, strides)`` tuples in elements; :mod:`~fdiff.torch._views`
applies it to tensors. An elementwise op keeps the memory layout of its inputs: on a transposed
input its output is transposed too, so ``(x.t() * 2).view(-1)`` fails in torch as ``x.t()
.view(-1)`` does.

>>> elementwise_strides((4, 3), [((4, 3), (1, 4))])
(1, 4)
>>> elementwise_strides((4, 3), [((4, 3), (3, 1)), ((4, 3), (1, 4))])
(3, 1)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Shape = tuple[int, ...]
Strides = tuple[int, ...]


def contiguous_strides(shape: Shape) -> Strides:
    """The strides of a row-major (contiguous) tensor of ``shape``."""
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


def is_contiguous(shape: Shape, strides: Strides) -> bool:
    """torch's ``is_contiguous()``: row-major strides, dims of size 1 ignored."""
    if math.prod(shape) == 0:
        return True
    expected = contiguous_strides(shape)
    return all(s == e for n, s, e in zip(shape, strides, expected, strict=True) if n != 1)


def is_channels_last(shape: Shape, strides: Strides) -> bool:
    """torch's ``is_contiguous(memory_format=torch.channels_last)`` for a 4-d tensor."""
    if len(shape) != 4:
        return False
    if math.prod(shape) == 0:
        return True
    expected = channels_last_strides(shape)
    return all(s == e for n, s, e in zip(shape, strides, expected, strict=True) if n != 1)


def channels_last_strides(shape: Shape) -> Strides:
    """The strides of an NCHW tensor stored as NHWC."""
    _, c, h, w = (max(size, 1) for size in shape)
    return (h * w * c, 1, w * c, c)


def is_dense(shape: Shape, strides: Strides) -> bool:
    """torch's ``is_non_overlapping_and_dense``: the elements fill a block of memory exactly."""
    if len(shape) == 1:
        return shape[0] < 2 or strides[0] == 1
    order = sorted((d for d in range(len(shape)) if shape[d] >= 2), key=lambda d: strides[d])
    required = 1
    for d in order:
        if strides[d] != required:
            return False
        required *= shape[d]
    return True


def _permutation(shape: Shape, operands: Sequence[Strides], tie_by_size: bool = True) -> list[int]:
    """The dims from fastest to slowest as TensorIterator orders them: by the first operand
    with an opinion (a strictly smaller stride goes first; a 0 stride has none), ties broken
    by size, else row-major."""
    ndim = len(shape)
    perm = list(reversed(range(ndim)))

    def should_swap(dim0: int, dim1: int) -> int:
        for strides in operands:
            s0, s1 = strides[dim0], strides[dim1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 != s1:
                return -1 if s0 < s1 else 1
            if tie_by_size and shape[dim0] > shape[dim1]:
                return 1
        return 0

    for i in range(1, ndim):
        dim1 = i
        for dim0 in range(i - 1, -1, -1):
            comparison = should_swap(perm[dim0], perm[dim1])
            if comparison > 0:
                perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
                dim1 = dim0
            elif comparison < 0:
                break
    return perm


def elementwise_strides(shape: Shape, inputs: Sequence[tuple[Shape, Strides]]) -> Strides:
    """The strides of an elementwise op's output of ``shape`` (the broadcast shape) from its
    tensor inputs' ``(shape, strides)`` (TensorIterator: same strides when every input is dense
    with the same shape and strides, else the dims ordered by the inputs' strides)."""
    if not inputs or len(shape) == 0:
        return contiguous_strides(shape)
    if all(s == shape for s, _ in inputs):
        if all(is_contiguous(s, st) for s, st in inputs):
            return contiguous_strides(shape)
        if all(is_channels_last(s, st) for s, st in inputs):
            return channels_last_strides(shape)
        if all(is_dense(s, st) for s, st in inputs) and len({st for _, st in inputs}) == 1:
            return inputs[0][1]
    operands = [_broadcast_strides(shape, s, st) for s, st in inputs]
    if len(shape) == 1:
        return contiguous_strides(shape)
    perm = _permutation(shape, operands)
    if perm == list(reversed(range(len(shape)))):
        return contiguous_strides(shape)
    result, step = [0] * len(shape), 1
    for d in perm:
        result[d] = step
        step *= shape[d]
    return tuple(result)


def _broadcast_strides(shape: Shape, own_shape: Shape, strides: Strides) -> Strides:
    """An input's strides over the output's dims: 0 where it is broadcast."""
    offset = len(shape) - len(own_shape)
    padded = [0] * offset
    for i, (size, stride) in enumerate(zip(own_shape, strides, strict=True)):
        padded.append(0 if size == 1 and shape[offset + i] != 1 else stride)
    return tuple(padded)


def like_strides(shape: Shape, strides: Strides) -> Strides:
    """The strides ``empty_like`` gives (``clone``, ``to``, ``rand_like``...): the same when
    dense, else dense strides in the same order (torch's ``infer_dense_strides``)."""
    if is_dense(shape, strides):
        return strides
    result, step = [0] * len(shape), 1
    for d in _permutation(shape, [strides]):
        result[d] = step
        step *= shape[d] if shape[d] > 1 else 1
    return tuple(result)


def memory_order(strides: Strides) -> tuple[int, ...]:
    """The dims from slowest to fastest in memory: the order a dense tensor's elements are
    stored in, so the order torch's random fills draw them in."""
    return tuple(reversed(_permutation(tuple(1 for _ in strides), [strides], tie_by_size=False)))


# --- view ops ---------------------------------------------------------------------------------


def view_strides(old_shape: Shape, old_strides: Strides, new_shape: Shape) -> Strides | None:
    """The strides of ``view(new_shape)`` on a tensor with these shape and strides, or None
    when no strides give that view (torch's ``computeStride``)."""
    if math.prod(old_shape) == 0 or not old_shape:
        return contiguous_strides(new_shape)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base_stride = old_strides[-1]
    tensor_numel = view_numel = 1
    for tensor_d in reversed(range(len(old_shape))):
        tensor_numel *= old_shape[tensor_d]
        if tensor_d == 0 or (
            old_shape[tensor_d - 1] != 1
            and old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride
        ):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old_strides[tensor_d - 1]
                tensor_numel = view_numel = 1
    return tuple(new_strides) if view_d == -1 else None


def unsqueeze_strides(shape: Shape, strides: Strides, dim: int) -> Strides:
    """``unsqueeze(dim)``: the new dim's stride spans the dim it is put before."""
    new = strides[dim] * shape[dim] if dim < len(shape) else 1
    return (*strides[:dim], new, *strides[dim:])


def expand_strides(shape: Shape, strides: Strides, target: Shape) -> Strides:
    """``expand(target)``: a new or expanded dim has stride 0."""
    offset = len(target) - len(shape)
    result = [0] * offset
    for i, (size, stride) in enumerate(zip(shape, strides, strict=True)):
        result.append(0 if size == 1 and target[offset + i] != 1 else stride)
    return tuple(result)


def index_strides(shape: Shape, strides: Strides, key: tuple) -> Strides:
    """A basic index (ints, slices as ``("slice", start, stop, step)``, ``None``, ``...``),
    applied item by item as torch does."""
    consumed = sum(1 for item in key if item is not None and item is not Ellipsis)
    skipped = len(shape) - consumed  # the dims ``...`` stands for
    shape, strides = list(shape), list(strides)
    dim = 0
    for item in key:
        if item is Ellipsis:
            dim += skipped
            continue
        if item is None:
            strides.insert(dim, unsqueeze_strides(tuple(shape), tuple(strides), dim)[dim])
            shape.insert(dim, 1)
            dim += 1
        elif isinstance(item, tuple):
            strides[dim] *= item[3] or 1
            dim += 1
        else:
            del shape[dim], strides[dim]
    return tuple(strides)
