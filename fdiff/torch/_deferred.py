"""The output shape and dtype of a recorded op, without running it: what a deferred result holds.

A recorded op's value is only needed when something reads it (printing, ``item()``, an op outside
the graph) or by backward, which replays the whole recorded forward inside one jitted VJP anyway.
So :func:`~fdiff.torch._tensor.apply` records the node without running the op; the tensor's
storage holds the node until :func:`~fdiff.torch._graph.materialize` computes it. What the op
would return (shape, dtype, weak type) comes from ``jax.eval_shape``, cached per op, static
arguments and input types, so a loop pays for the tracing once. Shape errors still raise at the
op, as eager execution would.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
from jax.core import ShapedArray

from fdiff.torch._graph import Node
from fdiff.torch._ops import OpSpec

_AVALS: dict[tuple, ShapedArray] = {}
_INT32 = range(-(2**31), 2**31)


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


def output_aval(spec: OpSpec, static_items: tuple, static: dict, values: list) -> Any:
    """The abstract output of ``spec`` on these inputs (deferred ones as nodes), or ``None`` when
    it cannot be cached (an unhashable argument): the caller then runs the op.

    Raises the op's ``RuntimeError`` (see ``_describe_failure``) when the inputs do not fit.
    """
    try:
        key = (spec.name, static_items, tuple(_kind(v) for v in values))
        aval = _AVALS.get(key)
    except TypeError:
        return None
    if aval is None:
        from fdiff.torch._tensor import _describe_failure

        args = [
            jax.ShapeDtypeStruct(v.shape, v.dtype, weak_type=v.aval.weak_type)
            if isinstance(v, Node)
            else v
            for v in values
        ]
        try:
            out = jax.eval_shape(functools.partial(spec.impl, **static), *args)
        except (TypeError, ValueError) as error:
            raise RuntimeError(_describe_failure(spec, values, error)) from error
        aval = _AVALS[key] = ShapedArray(out.shape, out.dtype, weak_type=out.weak_type)
    return aval
