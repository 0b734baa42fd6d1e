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
from collections.abc import Callable
from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np

from fdiff.torch import _shape_ops as shape_ops
from fdiff.torch import _strides
from fdiff.torch._errors import (
    NO_GRAD_VIEW_BASE_MODIFIED,
    UnsupportedError,
    multi_output_view_message,
)
from fdiff.torch._opspec import OpSpec, op
from fdiff.torch._saving import counter_of
from fdiff.torch._tensor_base import Cell, TensorBase


def views_of(cell: Cell) -> list[Any]:
    """The live views registered on ``cell``."""
    registered = getattr(cell, "views", None)
    return list(registered) if registered else []  # an empty WeakSet costs 1 us to iterate


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
        shape_ops.squeeze_dims,
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
    result._strides = _view_layout(result, source, spec, static)
    if getattr(cell, "views", None) is None:
        cell.views = weakref.WeakSet()
    cell.views.add(result)
    return result


def detached_twin(tensor: Any, twin: Any) -> Any:
    """Make ``twin`` (sharing ``tensor``'s cell) share its version counter and, for a view,
    write through to the same base outside the graph (``detach()``)."""
    twin._counter = counter_of(tensor)
    twin._strides = tensor._strides
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


# --- strides ---------------------------------------------------------------------------------
# A tensor's strides live in ``_strides``: None for row-major (contiguous), a tuple otherwise,
# or a string naming the op whose output layout fdiff.torch cannot tell (see
# :func:`record_layout`). A view's are derived from its source's when it is made, as torch does.


def _shape(tensor: Any) -> tuple[int, ...]:
    return tuple(tensor._storage[0].shape)


def strides(tensor: Any) -> tuple[int, ...]:
    """``tensor.stride()``; :class:`UnsupportedError` where the layout is not known."""
    known = tensor._strides
    if known is None:
        return _strides.contiguous_strides(_shape(tensor))
    if isinstance(known, str):
        raise UnsupportedError(
            f"memory layout (stride, is_contiguous, view) of torch.{known}'s result"
            + ("" if known == "einsum" else " on a non-contiguous input")
        )
    return known


def is_contiguous(tensor: Any) -> bool:
    """``tensor.is_contiguous()``: row-major strides, dims of size 1 ignored."""
    return tensor._strides is None or _strides.is_contiguous(_shape(tensor), strides(tensor))


def _layout_of(shape: tuple[int, ...], result: tuple[int, ...]) -> tuple[int, ...] | None:
    """What ``_strides`` holds for these strides: None when they are row-major."""
    return None if result == _strides.contiguous_strides(shape) else result


def _removed(values: tuple[int, ...], *dims: int) -> tuple[int, ...]:
    return tuple(v for d, v in enumerate(values) if d not in dims)


def _view_op_strides(spec: OpSpec, static: dict, shape: tuple, old: tuple, new_shape: tuple):
    """The strides of view op ``spec``'s result on a source of this shape and strides."""
    if spec is shape_ops.view:
        return _strides.view_strides(shape, old, new_shape)
    if spec is shape_ops.t:
        return old[::-1]
    if spec is shape_ops.transpose and old:
        swapped = list(old)
        swapped[static["dim0"]], swapped[static["dim1"]] = old[static["dim1"]], old[static["dim0"]]
        return tuple(swapped)
    if spec is shape_ops.permute:
        return tuple(old[d] for d in static["dims"])
    if spec is shape_ops.unsqueeze:
        return _strides.unsqueeze_strides(shape, old, static["dim"] % (len(shape) + 1))
    if spec in (shape_ops.squeeze, shape_ops.squeeze_dim, shape_ops.squeeze_dims):
        dims = static.get("dim", tuple(range(len(shape))))
        dims = dims if isinstance(dims, tuple) else (dims,)
        return _removed(old, *(d % len(shape) for d in dims if shape and shape[d] == 1))
    if spec is shape_ops.expand:
        return _strides.expand_strides(shape, old, new_shape)
    if spec in (shape_ops.view_select, shape_ops.view_unbind):
        return _removed(old, static["dim"])
    if spec is shape_ops.view_diagonal:
        dim1, dim2 = static["dim1"], static["dim2"]
        return (*_removed(old, dim1, dim2), old[dim1] + old[dim2])
    if "key" in static:  # a basic index
        return _strides.index_strides(shape, old, static["key"])
    return old  # narrow, split: the same strides from a later start


def _view_layout(result: Any, source: Any, spec: OpSpec, static: tuple) -> Any:
    """What the view ``result`` of ``spec`` on ``source`` holds in ``_strides``."""
    known = source._strides
    if isinstance(known, str):
        return known
    shape, new_shape = _shape(source), _shape(result)
    old = _strides.contiguous_strides(shape) if known is None else known
    if spec is shape_ops.view and known is None:
        return None
    computed = _view_op_strides(spec, dict(static), shape, old, new_shape)
    return _layout_of(new_shape, computed)


ELEMENTWISE: frozenset[str] = frozenset({
    "abs", "add", "bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor", "ceil", "clamp",
    "cos", "div", "eq", "exp", "expm1", "floor", "ge", "gelu", "gt", "huber_loss", "isclose",
    "le", "leaky_relu", "log", "log10", "log1p", "log2", "logical_and", "logical_not",
    "logical_or", "lt", "maximum", "minimum", "mse_loss", "mul", "ne", "neg", "pow_scalar",
    "pow_tensor", "pow_zero", "rdiv", "relu", "round", "rsqrt", "rsub", "sigmoid", "sign",
    "silu", "sin", "smooth_l1_loss", "softplus", "sqrt", "square", "sub", "tanh", "where",
    "bernoulli_fill", "exponential_fill", "uniform_draw", "normal_draw", "fill", "zero",
    "leaky_relu_in_place", "elu", "hardtanh", "hardswish", "hardsigmoid", "logsigmoid", "mish",
    "prelu", "binary_cross_entropy", "tan", "erf", "reciprocal", "deg2rad", "trunc", "frac",
    "logit", "nan_to_num", "remainder", "remainder_scalar", "fmod", "fmod_scalar", "atan2",
    "hypot", "clamp_min", "clamp_max", "clamp_min_tensor", "clamp_max_tensor", "lerp",
    "lerp_scalar", "addcmul", "addcdiv", "isnan", "isinf", "isfinite", "heaviside",
    "xlogy", "xlogy_of_number", "xlogy_by_number"
})  # fmt: skip
"""Ops computed by torch's TensorIterator: the output keeps its inputs' memory layout."""

LIKE_INPUT: frozenset[str] = frozenset(
    {"clone", "to_dtype", "sort_values", "sort_indices", "backward_hook_function", "flip", "rot90"}
)
"""Ops whose output is ``empty_like(input)``: the input's layout, made dense."""

CONTIGUOUS: frozenset[str] = frozenset({
    "adaptive_avg_pool2d", "addmm", "all", "amax", "amin", "aminmax_max", "aminmax_min", "any",
    "argmax", "argmin", "avg_pool2d", "batch_norm", "binary_cross_entropy_with_logits",
    "block_diag", "bmm", "cat", "cdist", "constant_pad", "conv2d", "copy", "cumprod", "cumsum",
    "diag_embed", "diagonal_copy", "dist", "dot", "embedding", "gather", "glu", "index",
    "index_add", "index_copy", "index_fill", "index_fill_tensor", "index_select", "layer_norm",
    "linear", "log_softmax", "logsumexp", "masked_fill", "masked_fill_tensor", "masked_select",
    "matmul", "max", "max_dim", "max_pool2d", "mean", "mean_dim", "median", "median_dim",
    "median_indices", "min", "min_dim", "nll_loss", "norm", "outer", "prod", "prod_dim",
    "reflection_pad1d", "reflection_pad2d", "repeat", "replication_pad1d", "replication_pad2d",
    "reshape_copy", "roll", "rpow", "scatter", "scatter_add", "scatter_reduce_amax",
    "scatter_reduce_amin", "scatter_reduce_mean", "scatter_reduce_prod", "scatter_reduce_sum",
    "scatter_value", "searchsorted", "softmax", "stack", "std", "std_mean_mean",
    "std_mean_spread", "sum", "sum_dim", "take", "topk_indices", "topk_values", "trace", "tril",
    "triu", "var", "var_mean_mean", "var_mean_spread"
})  # fmt: skip
"""Ops whose output torch allocates row-major whatever their inputs' layout."""


EINSUM: frozenset[str] = frozenset({"einsum_mul", "einsum_permute", "einsum_sum", "einsum_view"})


def record_layout(result: Any, spec: OpSpec, args: tuple) -> None:
    """Give the result of op ``spec`` (not a view op) the strides torch's has: an elementwise
    op keeps its inputs' layout, ``clone``-like ops the input's, others are row-major; an op
    not known here makes the layout unknown (a string), for which :func:`strides` raises."""
    name = spec.name
    if name in EINSUM:  # its layout follows torch's contraction path, even on row-major inputs
        result._strides = "einsum"
        return
    for a in args:  # this runs for every op: the row-major case returns at once
        if isinstance(a, TensorBase) and a._strides is not None:
            break
    else:
        return
    if name in CONTIGUOUS:
        return
    if name not in ELEMENTWISE and name not in LIKE_INPUT:
        result._strides = name
        return
    inputs = [a for a in args if isinstance(a, TensorBase)]
    unknown = [a._strides for a in inputs if isinstance(a._strides, str)]
    if unknown:
        result._strides = unknown[0]
        return
    shape = _shape(result)
    if name in LIKE_INPUT:
        computed = _strides.like_strides(shape, strides(inputs[0]))
    else:
        computed = _strides.elementwise_strides(shape, [(_shape(a), strides(a)) for a in inputs])
    result._strides = _layout_of(shape, computed)


def contiguous_layout(tensor: Any) -> Any:
    """``tensor`` marked row-major (``contiguous()``'s copy)."""
    tensor._strides = None
    return tensor


def _like_layout(tensor: Any) -> tuple[int, ...] | None:
    """The layout ``empty_like(tensor)`` has (None: row-major)."""
    if tensor._strides is None:
        return None
    shape = _shape(tensor)
    return _layout_of(shape, _strides.like_strides(shape, strides(tensor)))


def drawn_in_order(draw: Callable[[tuple[int, ...]], Any], tensor: Any, like: bool) -> Any:
    """``draw(shape)``'s values (an array) placed as torch's random fill places them in
    ``tensor`` (``like``: in ``empty_like(tensor)``): in memory order, so a fill of a
    transposed tensor is the transpose of a fill of a row-major one.

    >>> import fdiff.torch as torch
    >>> drawn_in_order(lambda shape: np.arange(6).reshape(shape), torch.zeros(3, 2).t(), False)
    array([[0, 2, 4],
           [1, 3, 5]])
    """
    layout = _like_layout(tensor) if like else tensor._strides and strides(tensor)
    shape = _shape(tensor)
    if layout is None:
        return draw(shape)
    order = _strides.memory_order(layout)
    values = draw(tuple(shape[d] for d in order))
    return np.transpose(np.asarray(values), np.argsort(order))


def like_layout(result: Any, input: Any) -> Any:
    """``result`` (a new tensor of ``input``'s shape) given ``empty_like(input)``'s layout, as
    torch's ``*_like`` functions give it."""
    result._strides = _like_layout(input)
    return result


def rotated_layout(result: Any, input: Any, k: int, dims: tuple[int, int]) -> Any:
    """``result`` (``rot90(input, k, dims)``, ``0 <= k < 4``) given torch's layout: no turn is
    a contiguous clone, two turns a ``flip`` (``empty_like(input)``'s layout), one or three a
    ``flip`` then a transpose of ``dims``."""
    if isinstance(input._strides, str) or k == 2:
        return result
    if k == 0:
        return contiguous_layout(result)
    swapped = list(_strides.like_strides(_shape(input), strides(input)))
    swapped[dims[0]], swapped[dims[1]] = swapped[dims[1]], swapped[dims[0]]
    result._strides = _layout_of(_shape(result), tuple(swapped))
    return result


def viewable(tensor: Any, shape: tuple[int, ...]) -> bool:
    """Whether ``tensor.view(shape)`` exists."""
    if tensor._strides is None:
        return True
    return _strides.view_strides(_shape(tensor), strides(tensor), shape) is not None


def overlaps(tensor: Any) -> bool:
    """Whether two elements of the view share one storage element (an ``expand``)."""
    if tensor._view is None or all(spec is not shape_ops.expand for spec, _ in tensor._view.chain):
        return False
    base = tensor._view.base
    flat = np.arange(math.prod(base.shape)).reshape(tuple(base.shape))
    positions = np.asarray(replay_chain(flat, tensor._view.chain)).reshape(-1)
    return len(np.unique(positions)) != positions.size
