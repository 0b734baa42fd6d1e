"""Views: tensors that share their base's storage, as torch's view ops return them.

JAX arrays are immutable, so a view is a description: its base (the tensor that owns the
storage) and the chain of view ops (op spec and static arguments) that turns the base's value
into the view's. :func:`record_view` attaches it to the result of every op in :data:`VIEW_OPS`
(the dispatcher calls it), shares the base's version counter and registers the view in the
base's storage cell, so that an in-place write through any sharer can write into the base and
refresh every other view (see :mod:`~fdiff.torch._inplace`). Two ops of the table replay a
chain: :data:`view_of_base` (a view regenerated after its base changed, torch's
``AsStridedBackward0``) and :data:`copy_slices` (a write through a view into its base, torch's
``CopySlices``). Strides are derived from the chain, so ``stride()``, ``is_contiguous()`` and
``view``'s legality follow torch's.

>>> import fdiff.torch as torch
>>> x = torch.zeros(2, 3)
>>> v = x.t()
>>> v._view.base is x, strides(v), is_contiguous(v)
(True, (1, 3), False)
"""

from __future__ import annotations

import math
import weakref
from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np

from fdiff.torch import _shape_ops as shape_ops
from fdiff.torch._errors import NO_GRAD_VIEW_BASE_MODIFIED, multi_output_view_message
from fdiff.torch._opspec import OpSpec, op
from fdiff.torch._saving import counter_of
from fdiff.torch._tensor_base import Cell


def views_of(cell: Cell) -> list[Any]:
    """The live views registered on ``cell``."""
    registered = getattr(cell, "views", None)
    return [] if registered is None else list(registered)


class ViewInfo(NamedTuple):
    """What makes a tensor a view: its ``base`` (owner of the storage), the ``chain`` of
    ``(op spec, static items)`` from the base's value to its own, and how it was made:
    ``detached`` (``detach()`` of a view: shares the storage, outside the graph), ``no_grad``
    (made under ``no_grad``) and ``multi`` (``("Unbind", i)`` for output ``i`` of an op that
    returns several views); ``base_modified``: such an output whose base was then changed in
    place, which torch refuses to use in the graph (:func:`check_usable`)."""

    base: Any
    chain: tuple
    detached: bool = False
    no_grad: bool = False
    multi: tuple[str, int] | None = None
    base_modified: bool = False


def check_usable(tensor: Any) -> None:
    """Raise torch's error for a view made under ``no_grad`` or by ``unbind``/``split`` whose
    base was then modified in place: torch cannot give it a grad_fn."""
    view = tensor._view
    if view is not None and view.base_modified:
        if view.multi is not None:
            raise RuntimeError(multi_output_view_message(*view.multi, modified="base"))
        raise RuntimeError(NO_GRAD_VIEW_BASE_MODIFIED)


VIEW_OPS: frozenset[OpSpec] = frozenset(
    {
        shape_ops.view,
        shape_ops.t,
        shape_ops.transpose,
        shape_ops.permute,
        shape_ops.unsqueeze,
        shape_ops.squeeze,
        shape_ops.squeeze_dim,
        shape_ops.expand,
        shape_ops.select,
        shape_ops.slice_,
        shape_ops.index_unsqueeze,
        shape_ops.alias,
        shape_ops.view_select,
        shape_ops.view_unbind,
        shape_ops.view_narrow,
        shape_ops.view_split,
        shape_ops.view_split_sizes,
        shape_ops.view_diagonal,
    }
)
"""The ops whose result is a view of their first input (torch's view ops)."""


def record_view(
    result: Any, source: Any, spec: OpSpec, static: tuple, grad_mode: bool, multi: Any = None
) -> Any:
    """Make ``result`` (of ``spec`` applied to ``source``) a view of ``source``'s base."""
    info = source._view
    step = ((spec, static),)
    if info is None:
        view = ViewInfo(source, step, no_grad=not grad_mode, multi=multi)
        cell = source._storage
    else:
        view = ViewInfo(info.base, info.chain + step, info.detached, not grad_mode, multi)
        cell = info.base._storage
    result._view = view
    result._counter = counter_of(source)
    if getattr(cell, "views", None) is None:
        cell.views = weakref.WeakSet()
    cell.views.add(result)
    return result


def detached_twin(tensor: Any, twin: Any) -> Any:
    """Make ``twin`` (sharing ``tensor``'s cell) share its version counter and, for a view,
    write through to the same base outside the graph (``detach()``)."""
    twin._counter = counter_of(tensor)
    if tensor._view is not None:
        twin._view = tensor._view._replace(detached=True, multi=None)
        tensor._view.base._storage.views.add(twin)
    return twin


def replay_chain(value: Any, chain: tuple) -> Any:
    """The view's value: the chain of view ops applied to its base's ``value``."""
    for spec, static in chain:
        value = spec.impl(value, **dict(static))
    return value


@op("AsStridedBackward0", saves=False)
def view_of_base(base, *, chain):
    """A view regenerated from its base after an in-place change (torch's AsStridedBackward0)."""
    return replay_chain(base, chain)


@op("torch::autograd::CopySlices")
def copy_slices(base, src, *, chain):
    """``base`` with the elements the view ``chain`` selects replaced by ``src``.

    torch's CopySlices keeps the in-place op's node, which a backward without
    ``retain_graph`` releases (so it counts as saving), but no tensor of its own."""
    positions = replay_chain(jnp.arange(base.size).reshape(base.shape), chain)
    written = jnp.broadcast_to(src, positions.shape).astype(base.dtype)
    return base.reshape(-1).at[positions.reshape(-1)].set(written.reshape(-1)).reshape(base.shape)


@op("UnsafeViewBackward0", saves=False)
def reshape_copy(a, *, shape):
    """``reshape`` where no view exists: a copy in the new shape (not a view)."""
    return jnp.reshape(a, shape)


# --- strides ----------------------------------------------------------------------------------


def contiguous_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The strides of a row-major (contiguous) tensor of ``shape``."""
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


def _positions(tensor: Any) -> np.ndarray:
    """For each element of the view, its position in the base's storage."""
    base = tensor._view.base
    flat = np.arange(math.prod(base.shape)).reshape(tuple(base.shape))
    return np.asarray(replay_chain(flat, tensor._view.chain))


def strides(tensor: Any) -> tuple[int, ...]:
    """``tensor.stride()``: contiguous for a tensor that owns its storage, derived from the
    chain for a view (a dim of size 1 gets the stride of the dims after it, as ``unsqueeze``
    gives it)."""
    shape = tuple(tensor.shape)
    if tensor._view is None or math.prod(shape) == 0:
        return contiguous_strides(shape)
    positions = _positions(tensor)
    result, after = [0] * len(shape), 1
    for d in reversed(range(len(shape))):
        if shape[d] > 1:
            step = [0] * len(shape)
            step[d] = 1
            result[d] = int(positions[tuple(step)] - positions[(0,) * len(shape)])
        else:
            result[d] = after
        after = result[d] * shape[d] if shape[d] > 1 else after
    return tuple(result)


def is_contiguous(tensor: Any) -> bool:
    """``tensor.is_contiguous()``: row-major strides, dims of size 1 ignored."""
    shape = tuple(tensor.shape)
    expected = contiguous_strides(shape)
    actual = strides(tensor)
    return all(s == e for n, s, e in zip(shape, actual, expected, strict=True) if n != 1)


def overlaps(tensor: Any) -> bool:
    """Whether two elements of the view share one storage element (an ``expand``)."""
    if tensor._view is None or all(spec is not shape_ops.expand for spec, _ in tensor._view.chain):
        return False
    positions = _positions(tensor).reshape(-1)
    return len(np.unique(positions)) != positions.size


def view_strides(
    old_shape: tuple[int, ...], old_strides: tuple[int, ...], new_shape: tuple[int, ...]
) -> tuple[int, ...] | None:
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


def viewable(tensor: Any, shape: tuple[int, ...]) -> bool:
    """Whether ``tensor.view(shape)`` exists (a tensor that owns its storage always has one)."""
    if tensor._view is None:
        return True
    return view_strides(tuple(tensor.shape), strides(tensor), shape) is not None
