"""The output shape and dtype of a recorded op, without running it: what a deferred result holds.

A recorded op's value is only needed when something reads it (printing, ``item()``, an op outside
the graph) or by backward, which replays the whole recorded forward inside one jitted VJP anyway.
So :func:`~fdiff.torch._dispatch.apply` records the node without running the op; the tensor's
storage holds the node until :func:`~fdiff.torch._graph.materialize` computes it. What the op
would return (shape, dtype, weak type) comes from ``jax.eval_shape``, cached (LRU, bounded) per
op, static arguments and input kinds, so a loop pays for the tracing once. Shape errors still
raise at the op, as eager execution would.

>>> import jax.numpy as jnp
>>> from fdiff.torch import _ops as ops
>>> output_aval(ops.add, (), [jnp.ones((2, 1)), jnp.ones(3)])
ShapedArray(float32[2,3])
"""

from __future__ import annotations

import functools
from typing import Any

import jax
from jax.core import ShapedArray

from fdiff.torch import _caches
from fdiff.torch._errors import op_failure
from fdiff.torch._graph import Node
from fdiff.torch._opspec import OpSpec

_INT32 = range(-(2**31), 2**31)
_EXAMPLE_SCALARS = {bool: True, float: 1.5, complex: 1.5j}


def _kind(value: Any) -> Any:
    """What the output type may depend on: an array's aval, a Python scalar's type (and, for an
    int, whether it fits int32, which decides whether JAX accepts it), anything else itself."""
    if isinstance(value, jax.Array | Node):
        return value.aval
    if isinstance(value, bool | float | complex):
        return type(value)
    if isinstance(value, int):
        return int, value in _INT32
    return value


def _example(kind: Any) -> Any:
    """An argument of this kind for ``jax.eval_shape``."""
    if isinstance(kind, ShapedArray):
        return jax.ShapeDtypeStruct(kind.shape, kind.dtype, weak_type=kind.weak_type)
    if kind in _EXAMPLE_SCALARS:
        return _EXAMPLE_SCALARS[kind]
    if isinstance(kind, tuple) and kind and kind[0] is int:
        return 1 if kind[1] else 2**31
    return kind


def output_aval(spec: OpSpec, static_items: tuple, values: list) -> ShapedArray | None:
    """The abstract output of ``spec`` on these inputs (deferred ones as nodes), or ``None`` when
    it cannot be cached (an unhashable argument): the caller then runs the op.

    Raises the op's ``RuntimeError`` (see ``op_failure``) when the inputs do not fit; when an
    input is not an operand, returns ``None`` so that running the op raises torch's TypeError.
    """
    try:
        return _cached_aval(spec, static_items, tuple(_kind(v) for v in values))
    except TypeError:  # unhashable: eval_shape's own TypeErrors become RuntimeErrors
        return None


@_caches.lru_cache(maxsize=4096)
def _cached_aval(spec: OpSpec, static_items: tuple, kinds: tuple) -> ShapedArray:
    args = [_example(kind) for kind in kinds]
    try:
        out = jax.eval_shape(functools.partial(spec.impl, **dict(static_items)), *args)
    except (TypeError, ValueError) as error:
        raise op_failure(spec.name, args, error, spec.promotes is not None) from error
    return ShapedArray(out.shape, out.dtype, weak_type=out.weak_type)
