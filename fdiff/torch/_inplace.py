"""torch's in-place methods: ``zero_``, ``fill_``, ``copy_``, ``add_``, ``x[i] = v``...

An in-place op computes its result like the out-of-place op, then :func:`assign` makes the
tensor hold it: the same storage (so ``detach()`` twins see the change) and, when recorded, the
new node as its grad_fn. A leaf that requires grad refuses, as in torch, unless grad mode is off.

>>> import fdiff.torch as torch
>>> x = torch.zeros(3)
>>> x[1] = 5.0
>>> x.add_(1)
tensor([1., 6., 1.])
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fdiff.torch import _caches, _dtypes, _indexing, _math
from fdiff.torch import _ops as ops
from fdiff.torch import _shape_ops as shape_ops
from fdiff.torch._dispatch import apply, run
from fdiff.torch._errors import (
    LEAF_IN_PLACE,
    NO_GRAD_VIEW_IN_PLACE,
    OVERLAPPING_WRITE,
    VIEW_OF_LEAF_IN_PLACE,
    describe_failure,
    multi_output_view_message,
)
from fdiff.torch._grad_mode import is_grad_enabled, no_grad
from fdiff.torch._graph import Node
from fdiff.torch._opspec import OpSpec
from fdiff.torch._saving import SavedTensor, bump_version
from fdiff.torch._tensor_base import TensorBase
from fdiff.torch._views import ViewInfo, copy_slices, overlaps, view_of_base, views_of


def assign(self: Any, result: Any) -> Any:
    """Make ``self`` hold ``result`` in place (torch's in-place op semantics); returns ``self``.

    A write through a view writes into its base: recorded, the base's grad_fn becomes torch's
    ``CopySlices``. Either way the version counter they share is bumped and every other view of
    the base is refreshed (recorded, as torch's ``AsStridedBackward0``).
    """
    _check_writable(self)
    value, dtype = result._storage[0], self._storage[0].dtype
    value = value if value.dtype == dtype else result._value.astype(dtype)
    view = self._view
    if view is None:
        self._storage[0] = value
        if value.__class__ is Node and value.trace is not None:  # pending in a capture trace
            value.trace.hold(self._storage, value)
        if result._node is not None:
            self._node = result._node
        base = self
    else:
        base = view.base
        if value.__class__ is Node and result._node is None:  # captured: written through now
            value = result._value
        _write_into_base(base, view, result, value)
    bump_version(self)
    if result._node is not None:
        _save_in_place(result._node, self)
    refresh_views(base)
    return self


def _save_in_place(node: Any, self: Any) -> None:
    """An in-place op's node saves ``self``'s old value as a copy (torch's ``original_self``),
    and its output is ``self`` itself, at the version the op left it."""
    if node.saved:
        kept = tuple(s for s in node.saved if s.index != 0 and s.output_of is None)
        for output in (s for s in node.saved if s.output_of is not None):
            kept += (SavedTensor(self, output_of=node, packed=output),)
        node.saved = kept


def overwrite(tensor: Any, value: Any) -> None:
    """Give ``tensor`` a new value outside the graph, as an in-place op under ``no_grad`` does
    (an optimizer's update): its version counter is bumped and its views see the new value.

    >>> import fdiff.torch as torch
    >>> w = torch.zeros(2)
    >>> overwrite(w, torch.ones(2)._value)
    >>> w, w._version
    (tensor([1., 1.]), 1)
    """
    if tensor._view is not None:
        _write_into_base(tensor._view.base, tensor._view._replace(detached=True), tensor, value)
        tensor = tensor._view.base
    else:
        tensor._storage[0] = value
    bump_version(tensor)
    refresh_views(tensor)


def _check_writable(self: Any) -> None:
    """torch's errors for an in-place op on this tensor, before anything changes."""
    view = self._view
    if view is not None and overlaps(self):
        raise RuntimeError(OVERLAPPING_WRITE)
    if not is_grad_enabled():
        return
    if view is None or view.detached:
        if self._node is None and self._requires_grad:
            raise RuntimeError(LEAF_IN_PLACE)
        return
    base = view.base
    if not (base._node is not None or base._requires_grad):
        return
    if view.multi is not None:
        raise RuntimeError(multi_output_view_message(*view.multi, modified="itself"))
    if view.no_grad:
        raise RuntimeError(NO_GRAD_VIEW_IN_PLACE)
    if base._node is None:
        raise RuntimeError(VIEW_OF_LEAF_IN_PLACE)


def _write_into_base(base: Any, view: ViewInfo, result: Any, value: Any) -> None:
    """Write the view's new ``value`` into ``base``: recorded as ``CopySlices`` when ``result``
    is recorded (the base's history rewritten), else as a plain change of its value."""
    if result._node is not None and not view.detached:
        written = apply(copy_slices, base, result, chain=view.chain)
        base._storage[0] = written._storage[0]
        base._node = written._node
        return
    base._storage[0] = run(copy_slices, [base._value, value], {"chain": view.chain})


def refresh_views(base: Any) -> None:
    """Recompute every view of ``base``'s storage after an in-place change: in grad mode a view
    that tracks gradients gets a new grad_fn reading the base (torch's ``AsStridedBackward0``)."""
    for other in views_of(base._storage):
        view = other._view
        tracked = not view.detached and (base._node is not None or base._requires_grad)
        if tracked and (view.multi is not None or view.no_grad):
            other._view = view._replace(base_modified=True)
            other._storage[0] = run(view_of_base, [base._value], {"chain": view.chain})
        elif tracked and is_grad_enabled():
            fresh = apply(view_of_base, base, chain=view.chain)
            other._storage[0] = fresh._storage[0]
            other._node = fresh._node
        else:
            other._storage[0] = run(view_of_base, [base._value], {"chain": view.chain})


@_caches.lru_cache(maxsize=256)
def _zeros(shape: tuple[int, ...], dtype: np.dtype) -> jax.Array:
    return jnp.zeros(shape, dtype)  # jax arrays are immutable: one per shape and dtype is enough


def zero_(self: Any) -> Any:
    """Fill with zeros in place (e.g. ``x.grad.zero_()``)."""
    if self._node is None and not self._requires_grad:  # outside every graph: no op to run
        overwrite(self, _zeros(tuple(self.shape), self._storage[0].dtype))
        return self
    return assign(self, apply(ops.zero, self))


def fill_(self: Any, value: Any) -> Any:
    return assign(self, apply(ops.fill, self, value))


def copy_(self: Any, src: Any) -> Any:
    _check_broadcasts_into(self, src)
    return assign(self, apply(ops.copy, self, src))


def _check_broadcasts_into(self: Any, *operands: Any) -> None:
    """torch's error where an in-place result would not have ``self``'s shape: operands that
    broadcast to a larger shape, or that do not broadcast with ``self`` at all."""
    arrays = [self, *(o for o in operands if hasattr(o, "shape"))]
    shapes = [tuple(a.shape) for a in arrays]
    if all(shape == shapes[0] for shape in shapes):  # the usual case (``p -= lr * p.grad``)
        return
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError as error:
        raise RuntimeError(describe_failure(ops.copy.name, arrays, error)) from None
    if shape != shapes[0]:
        raise RuntimeError(
            f"output with shape {list(shapes[0])} doesn't match the broadcast shape {list(shape)}"
        )


def _arithmetic(spec: OpSpec, self: Any, other: Any, **static: Any) -> Any:
    """``self`` after ``self.<op>_(other)``: the result keeps ``self``'s dtype, so an operand
    that promotes further (float64 into float32) is cast first, inside the recorded op; a result
    of a higher category (a float into a long) is refused, as torch does."""
    _check_broadcasts_into(self, other)
    own = self._storage[0].dtype
    operand = other._storage[0] if isinstance(other, TensorBase) else other
    result = _dtypes.promotion([self._storage[0], operand], spec.promotes.to_float)
    if result is not None and result != own:
        _check_castable(result, own, _dtypes.SCALAR_TYPE_NAMES)
        static["promote_to"] = own
    return assign(self, apply(spec, self, other, **static))


def _check_castable(result: np.dtype, own: np.dtype, own_names: dict[str, str]) -> None:
    """torch's error where an in-place result of a higher category (a float into a long, an
    int into a bool) would be cast to ``self``'s dtype; ``own_names`` spells ``self``'s dtype
    as the op's message does (``add_``: "Long", ``clamp_``: "long int")."""
    if "bif".index(result.kind) > "bif".index(own.kind):
        result_name = _dtypes.SCALAR_TYPE_NAMES[_dtypes.from_storage(result).name]
        own_name = own_names[_dtypes.from_storage(own).name]
        raise RuntimeError(
            f"result type {result_name} can't be cast to the desired output type {own_name}"
        )


def add_(self: Any, other: Any, alpha: float = 1) -> Any:
    return _arithmetic(ops.add, self, other, alpha=alpha)


def sub_(self: Any, other: Any, alpha: float = 1) -> Any:
    return _arithmetic(ops.sub, self, other, alpha=alpha)


def mul_(self: Any, other: Any) -> Any:
    return _arithmetic(ops.mul, self, other)


def div_(self: Any, other: Any) -> Any:
    return _arithmetic(ops.div, self, other)


def clamp_(self: Any, min: Any = None, max: Any = None) -> Any:
    own = self._storage[0].dtype
    bounds = [
        b._storage[0] if isinstance(b, TensorBase) else b for b in (min, max) if b is not None
    ]
    result = _dtypes.promotion([self._storage[0], *bounds])
    if result is not None and result != own:
        _check_castable(result, own, _dtypes.C_TYPE_NAMES)
    return assign(self, _math.clamp(self, min, max))


def setitem(self: Any, key: Any, value: Any) -> None:
    """``self[key] = value``: recorded as torch's CopySlices or IndexPutBackward0."""
    static_key, indices = _indexing.encode(key, self.shape)
    try:
        result = apply(shape_ops.index_put, self, value, *indices, key=static_key)
    except RuntimeError:
        value = _value_fitting(self, key, value, advanced=bool(indices))
        result = apply(shape_ops.index_put, self, value, *indices, key=static_key)
    assign(self, result)


def _value_fitting(self: Any, key: Any, value: Any, advanced: bool) -> Any:
    """``value`` for ``self[key] = value`` where it does not broadcast to ``self[key]`` as it is:
    without its leading size-1 dims if that makes it fit (torch drops them), else torch's error.
    """
    with no_grad():
        target = tuple(self[key].shape)
    shape = tuple(value.shape)
    while len(shape) > len(target) and shape[0] == 1:
        shape = shape[1:]
    if advanced:
        if _broadcasts(shape, target):
            return value.reshape(shape)
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(value.shape)} cannot be broadcast to "
            f"indexing result of shape {list(target)}"
        )
    if len(shape) > len(target):
        name = _dtypes.SCALAR_TYPE_NAMES[value.dtype.name]
        raise RuntimeError(
            f"expand(torch.{name}Tensor{{{list(shape)}}}, size={list(target)}): the number of "
            f"sizes provided ({len(target)}) must be greater or equal to the number of dimensions "
            f"in the tensor ({len(shape)})"
        )
    for dim in range(1, len(shape) + 1):
        if shape[-dim] not in (1, target[-dim]):
            raise RuntimeError(
                f"The expanded size of the tensor ({target[-dim]}) must match the existing size "
                f"({shape[-dim]}) at non-singleton dimension {len(target) - dim}.  "
                f"Target sizes: {list(target)}.  Tensor sizes: {list(shape)}"
            )
    return value.reshape(shape)


def _broadcasts(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False
