"""Which inputs of a JAX function each output depends on, through floating-point values.

A ``create_graph=True`` gradient records edges only to the inputs it depends on, as torch's
does: torch's double-backward graph holds the tensors a backward formula used, and a gradient
that used none of them (``(3 * x).sum()``) does not require grad. The dependence is read off
the function's jaxpr: data flows from inputs to outputs through its equations, and a value of
an integer or boolean dtype carries none (a comparison's result never requires grad in torch,
so a mask such as ``clamp``'s or ``max``'s leaves the gradient independent of ``x``).

>>> import jax.numpy as jnp
>>> def grads(x, scale, y):
...     return 3 * jnp.ones(2), x * y, jnp.where(x > 0, 1.0, 0.0)
>>> float_dependence(grads, 1.0, None, 2.0)
(frozenset(), frozenset({0, 2}), frozenset())
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax.extend.core import ClosedJaxpr, Jaxpr, Literal

_INNER_JAXPRS = ("jaxpr", "call_jaxpr")  # jit (pjit), closed_call


def float_dependence(fn: Callable[..., Any], *args: Any) -> tuple[frozenset[int], ...]:
    """Per output leaf of ``fn(*args)``, the positions in ``args`` it depends on through
    floating-point (or complex) values. Each argument is an array, a number, a
    ``jax.ShapeDtypeStruct`` or ``None`` (passed on as ``None``)."""
    closed = jax.make_jaxpr(fn)(*args)
    positions = [i for i, arg in enumerate(args) if arg is not None]
    inputs = [frozenset({i}) for i in positions]
    return tuple(_outputs(closed.jaxpr, inputs))


def _outputs(jaxpr: Jaxpr, inputs: Sequence[frozenset[int]]) -> list[frozenset[int]]:
    """Forward data flow through ``jaxpr``: the input positions behind each output."""
    depends: dict[Any, frozenset[int]] = dict(zip(jaxpr.invars, inputs, strict=True))

    def read(var: Any) -> frozenset[int]:
        return frozenset() if isinstance(var, Literal) else depends.get(var, frozenset())

    for eqn in jaxpr.eqns:
        ins = [read(var) for var in eqn.invars]
        inner = _inner_jaxpr(eqn)
        if inner is not None and len(inner.invars) == len(ins):
            outs = _outputs(inner, ins)
        elif eqn.primitive.name == "stop_gradient":  # never requires grad (once_differentiable)
            outs = [frozenset()] * len(eqn.outvars)
        else:  # a primitive, a custom-JVP function, a loop: every output, every input
            outs = [frozenset().union(*ins)] * len(eqn.outvars)
        for var, dep in zip(eqn.outvars, outs, strict=True):
            depends[var] = dep if _is_float(var.aval) else frozenset()
    return [read(var) for var in jaxpr.outvars]


def _inner_jaxpr(eqn: Any) -> Jaxpr | None:
    """The jaxpr a call (``jit``, ``closed_call``) runs; ``None`` for a custom-JVP or VJP
    function, one op as a torch op is (``_torch_kinks.positive``), and for primitives."""
    if eqn.primitive.name.startswith("custom_"):
        return None
    for name in _INNER_JAXPRS:
        inner = eqn.params.get(name)
        if isinstance(inner, ClosedJaxpr):
            inner = inner.jaxpr
        if isinstance(inner, Jaxpr) and len(inner.outvars) == len(eqn.outvars):
            return inner
    return None


def _is_float(aval: Any) -> bool:
    dtype = getattr(aval, "dtype", None)
    return dtype is not None and jnp.issubdtype(dtype, jnp.inexact)


def fused_reads(
    nodes: Sequence[Any],
    edges_of: Callable[[Any], Sequence[Any]],
    name_of: Callable[[Any], str],
    fused: Any,
) -> dict[int, frozenset[int]]:
    """torch's structural rule for a ``create_graph`` gradient through an op whose backward is
    one call (``fused``: op name -> the input positions that call reads): the gradient reads
    those inputs, so it depends on every leaf below them whatever its value does.

    ``nodes`` are in topological order; ``edges_of(node)`` gives per input a leaf slot (int),
    an earlier node, or ``None``. Returns, per id of a node or per leaf slot, the leaf slots a
    gradient flowing to it reads through fused ops above it.

    >>> x_leaf, w_leaf = 0, 1
    >>> conv = ("conv2d", (x_leaf, w_leaf))
    >>> reads = fused_reads([conv], lambda n: n[1], lambda n: n[0], {"conv2d": (0, 1)})
    >>> sorted(reads[x_leaf]), sorted(reads[w_leaf])
    ([0, 1], [0, 1])
    """
    below: dict[int, frozenset[int]] = {}

    def leaves_under(edge: Any) -> frozenset[int]:
        if isinstance(edge, int):
            return frozenset({edge})
        return below.get(id(edge), frozenset()) if edge is not None else frozenset()

    for node in nodes:
        below[id(node)] = frozenset().union(*(leaves_under(e) for e in edges_of(node)))
    reads: dict[Any, frozenset[int]] = {}
    for node in reversed(nodes):  # from the roots down: what flows in, plus this op's reads
        inherited = reads.get(id(node), frozenset())
        positions = fused.get(name_of(node))
        edges = edges_of(node)
        if positions is not None:
            read = (leaves_under(edges[i]) for i in positions if i < len(edges))
            inherited = inherited.union(*read)
        for edge in edges:
            key = edge if isinstance(edge, int) else id(edge) if edge is not None else None
            if key is not None and inherited:
                reads[key] = reads.get(key, frozenset()) | inherited
    return reads
