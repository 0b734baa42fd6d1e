"""Torch-style ``grad_fn`` names read off a jaxpr: the graph inspection of `fdiff.functional`.

A pure function has no ``grad_fn``; what a torch user would see is recovered from the jaxpr
that ``jax.make_jaxpr`` records. The jaxpr is flattened (nested ``jit`` / ``custom_jvp_call`` /
``custom_vjp_call`` / ``remat`` calls are inlined unless their name is in ``_CALL_NAMES``), two
dependency passes keep only the equations that lie on a differentiable path from the
differentiated inputs to the outputs, two small fusions undo jnp's lowering (``reduce_sum`` then
division by the element count is ``mean``; ``slice`` then ``squeeze`` is ``select``), and every
remaining equation is named through one table, ``_PRIMITIVE_NAMES``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core as jcore

_Namer = Callable[[jcore.JaxprEqn], str | None]


def _shape(atom: Any) -> tuple[int, ...]:
    return tuple(atom.aval.shape)


def _is_literal(atom: Any) -> bool:
    return isinstance(atom, jcore.Literal)


def _sub(eqn: jcore.JaxprEqn) -> str:
    # torch: `1 - x` is RsubBackward1, `x - 1` and `x - y` are SubBackward0.
    return "RsubBackward1" if _is_literal(eqn.invars[0]) else "SubBackward0"


def _pow(eqn: jcore.JaxprEqn) -> str:
    # torch: x ** 2.0 -> PowBackward0, x ** y -> PowBackward1, 2.0 ** x -> PowBackward2.
    if _is_literal(eqn.invars[1]):
        return "PowBackward0"
    return "PowBackward2" if _is_literal(eqn.invars[0]) else "PowBackward1"


def _clamp_or(both_arrays: str) -> _Namer:
    # jnp.maximum(x, 0.0) is torch.clamp(x, min=0.0); two arrays are torch.maximum(x, y).
    def namer(eqn: jcore.JaxprEqn) -> str:
        return "ClampBackward1" if any(map(_is_literal, eqn.invars)) else both_arrays

    return namer


def _reduction(full: str, partial: str) -> _Namer:
    # torch: x.sum() is SumBackward0, x.sum(dim) is SumBackward1 (likewise max/amax, prod).
    def namer(eqn: jcore.JaxprEqn) -> str:
        ndim = len(_shape(eqn.invars[0]))
        return full if len(eqn.params["axes"]) == ndim else partial

    return namer


def _dot(eqn: jcore.JaxprEqn) -> str:
    (_, _), (lhs_batch, _) = eqn.params["dimension_numbers"]
    lhs, rhs = (len(_shape(a)) for a in eqn.invars)
    if lhs_batch:
        return "BmmBackward0"
    if lhs == rhs == 1:
        return "DotBackward0"
    return "MvBackward0" if (lhs, rhs) == (2, 1) else "MmBackward0"


def _convert(eqn: jcore.JaxprEqn) -> str | None:
    # A cast to the same dtype (a weak-type change) is invisible in torch; a real cast is .to().
    same = eqn.invars[0].aval.dtype == eqn.params["new_dtype"]
    return None if same else "ToCopyBackward0"


def _unary(*names: str) -> dict[str, str]:
    return {name: f"{name.capitalize()}Backward0" for name in names}


# The one table: jax primitive -> torch grad_fn name, a function of the equation that picks
# one, or None for what torch does implicitly (broadcasting) and so never shows as a node.
_PRIMITIVE_NAMES: dict[str, str | _Namer | None] = {
    "add": "AddBackward0",
    "add_any": "AddBackward0",
    "sub": _sub,
    "mul": "MulBackward0",
    "div": "DivBackward0",
    "neg": "NegBackward0",
    "integer_pow": "PowBackward0",
    "square": "PowBackward0",
    "pow": _pow,
    "logistic": "SigmoidBackward0",
    "log1p": "Log1PBackward0",
    "atan2": "Atan2Backward0",
    **_unary("exp", "exp2", "expm1", "log", "sqrt", "rsqrt", "tanh", "abs", "sign", "erf"),
    **_unary("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "floor", "ceil"),
    "round": "RoundBackward0",
    "max": _clamp_or("MaximumBackward0"),
    "min": _clamp_or("MinimumBackward0"),
    "reduce_sum": _reduction("SumBackward0", "SumBackward1"),
    "reduce_max": _reduction("MaxBackward1", "AmaxBackward0"),
    "reduce_min": _reduction("MinBackward1", "AminBackward0"),
    "reduce_prod": _reduction("ProdBackward0", "ProdBackward1"),
    "cumsum": "CumsumBackward0",
    "cumprod": "CumprodBackward0",
    "dot_general": _dot,
    "conv_general_dilated": "ConvolutionBackward0",
    "reshape": "ViewBackward0",
    "transpose": "PermuteBackward0",
    "squeeze": "SqueezeBackward1",
    "expand_dims": "UnsqueezeBackward0",
    "slice": "SliceBackward0",
    "dynamic_slice": "SliceBackward0",
    "gather": "IndexBackward0",
    "concatenate": "CatBackward0",
    "pad": "ConstantPadNdBackward0",
    "rev": "FlipBackward0",
    "select_n": "WhereBackward0",
    "copy": "CloneBackward0",
    "copy_p": "CloneBackward0",
    "convert_element_type": _convert,
    "broadcast_in_dim": None,
    "stop_gradient": None,
}

# Named calls (jit-wrapped jnp/jax.nn functions, custom_jvp/custom_vjp functions, user functions
# under jax.jit) that are one torch op; other calls are inlined and named op by op.
_CALL_NAMES: dict[str, str] = {
    "relu": "ReluBackward0",
    "sigmoid": "SigmoidBackward0",
    "silu": "SiluBackward0",
    "gelu": "GeluBackward0",
    "softplus": "SoftplusBackward0",
    "softmax": "SoftmaxBackward0",
    "log_softmax": "LogSoftmaxBackward0",
    "logsumexp": "LogsumexpBackward0",
    "logaddexp": "LogaddexpBackward0",
    "norm": "LinalgVectorNormBackward0",
    "clip": "ClampBackward1",
    "binary_cross_entropy_with_logits": "BinaryCrossEntropyWithLogitsBackward0",
    "sigmoid_binary_cross_entropy": "BinaryCrossEntropyWithLogitsBackward0",
    "binary_cross_entropy": "BinaryCrossEntropyBackward0",
    "mse_loss": "MseLossBackward0",
    "nll_loss": "NllLossBackward0",
}

_CALL_PRIMITIVES = ("jit", "pjit", "closed_call", "core_call", "remat2", "checkpoint")
_CALL_PRIMITIVES += ("custom_jvp_call", "custom_vjp_call", "custom_vjp_call_jaxpr")


@dataclass
class _Op:
    """One flattened equation: its torch label (None: not a node) and its value ids."""

    primitive: str
    label: str | None
    inputs: list[int]
    outputs: list[int]
    reduced: int = 0  # reduce_sum only: how many elements each output element sums


@dataclass
class _Graph:
    """A flat graph whose values are integer ids; `constants` holds the known constant values."""

    ops: list[_Op]
    dtypes: list[Any]
    constants: dict[int, Any]

    def value(self, aval: Any, *constant: Any) -> int:
        self.dtypes.append(aval.dtype)
        if constant:
            self.constants[len(self.dtypes) - 1] = constant[0]
        return len(self.dtypes) - 1


def _inner_call(eqn: jcore.JaxprEqn) -> tuple[jcore.Jaxpr, Sequence[Any], str | None] | None:
    if eqn.primitive.name not in _CALL_PRIMITIVES:
        return None
    inner = next((eqn.params[k] for k in ("jaxpr", "call_jaxpr") if k in eqn.params), None)
    if inner is None:
        return None
    jaxpr, consts = (inner.jaxpr, inner.consts) if hasattr(inner, "consts") else (inner, ())
    name = eqn.params.get("name")
    if not isinstance(name, str):
        name = getattr(jaxpr.debug_info, "func_name", None)
    return jaxpr, consts, name


def _label(eqn: jcore.JaxprEqn, call_name: str | None) -> str | None:
    if call_name in _CALL_NAMES:
        return _CALL_NAMES[call_name]
    entry = _PRIMITIVE_NAMES.get(eqn.primitive.name, f"jax:{eqn.primitive.name}")
    return entry(eqn) if callable(entry) else entry


def _flatten(graph: _Graph, jaxpr: jcore.Jaxpr, consts: Sequence[Any], ins: list[int]) -> list[int]:
    """Append `jaxpr`'s equations to `graph` (inlining unnamed calls); return its output ids."""
    env: dict[Any, int] = dict(zip(jaxpr.invars, ins, strict=True))
    for var, val in zip(jaxpr.constvars, consts, strict=True):
        env[var] = graph.value(var.aval, val)

    def read(atom: Any) -> int:
        return graph.value(atom.aval, atom.val) if _is_literal(atom) else env[atom]

    for eqn in jaxpr.eqns:
        in_ids = [read(atom) for atom in eqn.invars]
        call = _inner_call(eqn)
        name = call[2] if call else None
        if call and name not in _CALL_NAMES and len(call[0].invars) == len(in_ids):
            out_ids = _flatten(graph, call[0], call[1], in_ids)
        else:
            out_ids = [graph.value(var.aval) for var in eqn.outvars]
            op = _Op(eqn.primitive.name, _label(eqn, name), in_ids, out_ids)
            if op.primitive == "reduce_sum":
                op.reduced = math.prod(_shape(eqn.invars[0])[a] for a in eqn.params["axes"])
            graph.ops.append(op)
        env.update(zip(eqn.outvars, out_ids, strict=True))
    return [read(atom) for atom in jaxpr.outvars]


def _fuse(graph: _Graph, outputs: list[int]) -> None:
    """Undo jnp's lowering of ``mean`` (sum, then divide) and of ``x[i]`` (slice, then squeeze)."""
    uses = Counter([i for op in graph.ops for i in op.inputs] + outputs)
    producer = {o: op for op in graph.ops for o in op.outputs}
    for op in graph.ops:
        first = producer.get(op.inputs[0]) if op.inputs else None
        if first is None or uses[op.inputs[0]] != 1:
            continue
        if op.primitive == "div" and first.primitive == "reduce_sum":
            count = graph.constants.get(op.inputs[1])
            if count is not None and np.size(count) == 1 and float(count) == first.reduced:
                op.label = "MeanBackward0" if first.label == "SumBackward0" else "MeanBackward1"
                first.label = None
        elif op.primitive == "squeeze" and first.primitive in ("slice", "dynamic_slice"):
            op.label, first.label = "SelectBackward0", None


def _inexact(dtype: Any) -> bool:
    return jnp.issubdtype(dtype, jnp.inexact)


@dataclass
class _Traced:
    graph: _Graph
    outputs: list[int]
    tracked: set[int]  # values that depend on a differentiated input
    kept: list[_Op]  # ops on a differentiable path from the inputs to the outputs


def _trace(f: Callable[..., Any], args: tuple[Any, ...], argnums: int | Sequence[int] | None):
    picked = set(range(len(args)) if argnums is None else np.atleast_1d(argnums).tolist())
    if not picked <= set(range(len(args))):
        raise ValueError(
            f"`argnums={argnums!r}` names a positional argument that was not passed: "
            f"`f` was given {len(args)} argument(s). Pass indices in range({len(args)})."
        )
    closed = jax.make_jaxpr(f)(*args)
    graph = _Graph([], [], {})
    ins = [graph.value(var.aval) for var in closed.jaxpr.invars]
    outputs = _flatten(graph, closed.jaxpr, closed.consts, ins)
    _fuse(graph, outputs)
    leaf_args = [n for n, arg in enumerate(args) for _ in jax.tree.leaves(arg)]
    tracked = {i for i, n in zip(ins, leaf_args, strict=True) if n in picked}
    tracked = {i for i in tracked if _inexact(graph.dtypes[i])}
    for op in graph.ops:  # forward: what depends on a differentiated input
        if op.primitive != "stop_gradient" and tracked.intersection(op.inputs):
            tracked.update(o for o in op.outputs if _inexact(graph.dtypes[o]))
    needed = tracked.intersection(outputs)
    kept: list[_Op] = []
    for op in reversed(graph.ops):  # backward: what the outputs' gradients flow through
        if op.primitive != "stop_gradient" and needed.intersection(op.outputs):
            kept.append(op)
            needed.update(tracked.intersection(op.inputs))
    return _Traced(graph, outputs, tracked, kept[::-1])


def grad_fn_names(
    f: Callable[..., Any], *args: Any, argnums: int | Sequence[int] | None = None
) -> list[str]:
    """List the torch ``grad_fn`` names of the graph that ``f(*args)`` would build in torch.

    The names are derived from ``jax.make_jaxpr(f)(*args)``, not typed per example: each jax
    primitive maps to a torch name through one table (``add`` -> ``AddBackward0``, ``mul`` ->
    ``MulBackward0``, ``sub`` -> ``SubBackward0`` (``RsubBackward1`` for ``1 - x``), ``div`` ->
    ``DivBackward0``, ``integer_pow``/``pow``/``square`` -> ``PowBackward0/1/2``, ``reduce_sum``
    -> ``SumBackward0`` (all axes) or ``SumBackward1``, ``exp``/``log``/``sqrt``/``tanh``/... ->
    ``ExpBackward0``/..., ``logistic`` -> ``SigmoidBackward0``, ``dot_general`` ->
    ``MmBackward0``/``MvBackward0``/``DotBackward0``/``BmmBackward0``, ``conv_general_dilated``
    -> ``ConvolutionBackward0``, ``reshape`` -> ``ViewBackward0``, ...). ``reduce_sum``
    followed by division by the number of summed elements is ``MeanBackward0``/``1``, and
    ``slice`` then ``squeeze`` is ``SelectBackward0``. Nested calls (``jit``, ``custom_jvp_call``,
    ``custom_vjp_call``, ``remat``) are inlined, except those whose name is a known torch op
    (``relu``, ``softplus``, ``log_softmax``, ``norm``, ``clip``, and user functions under
    ``jax.jit`` named ``binary_cross_entropy_with_logits``, ``mse_loss``, ...), which are one
    node. Broadcasting and same-dtype casts are no node (torch does them implicitly); a
    primitive outside the table is named ``"jax:<primitive>"``.

    As in torch, only operations on a differentiable path from the differentiated inputs to
    the output count: operations on constants, and those cut off by ``jax.lax.stop_gradient``
    (torch's ``detach``), have no ``grad_fn``. This is an approximation: jax primitives are not
    aten ops, so jnp's lowering can add or merge nodes (``v @ w`` for a vector ``v`` is
    ``MmBackward0`` here but ``SqueezeBackward4`` over ``MmBackward0`` in torch;
    ``jax.nn.softmax`` is inlined as its exp/sum/div steps; a conv bias added separately is a
    ``ViewBackward0`` and an ``AddBackward0``, not part of ``ConvolutionBackward0``).

    Args:
        f: A function of arrays (or pytrees of arrays).
        *args: Its inputs.
        argnums: The positional arguments that "require grad" (an index or indices); all of them
            by default. Only floating-point inputs can require grad.

    Returns:
        The names, one per operation, in the order the operations run.

    Raises:
        ValueError: If `argnums` names an argument that was not passed.

    >>> import jax.numpy as jnp
    >>> grad_fn_names(lambda x: ((x + 2) * (x + 2) * 3).mean(), jnp.ones((2, 2)))
    ['AddBackward0', 'AddBackward0', 'MulBackward0', 'MulBackward0', 'MeanBackward0']
    """
    traced = _trace(f, args, argnums)
    return [op.label for op in traced.kept if op.label is not None]


def output_grad_fn(
    f: Callable[..., Any], *args: Any, argnums: int | Sequence[int] | None = None
) -> str | None:
    """Name the ``grad_fn`` torch would print for the output of ``f(*args)``.

    The output's node is found as in `grad_fn_names` (same table, same approximation); an
    operation that torch does implicitly (broadcasting) passes the name of its input through.

    Args:
        f: A function returning one array.
        *args: Its inputs.
        argnums: The positional arguments that "require grad"; all of them by default.

    Returns:
        The torch name (e.g. ``"PowBackward0"``), or None where torch's ``grad_fn`` is None:
        the output does not depend on a differentiated input, is detached with
        ``jax.lax.stop_gradient``, or is an input itself (a leaf).

    Raises:
        TypeError: If `f` returns more than one array.
        ValueError: If `argnums` names an argument that was not passed.

    >>> import jax.numpy as jnp
    >>> output_grad_fn(lambda a, b: 3 * a**3 + 2 * b**4, jnp.array([3.0]), jnp.array([2.0]))
    'AddBackward0'
    >>> print(output_grad_fn(lambda a: a * 2, jnp.array([3.0]), argnums=()))
    None
    """
    traced = _trace(f, args, argnums)
    if len(traced.outputs) != 1:
        raise TypeError(
            f"`output_grad_fn` needs `f` to return one array, but it returned "
            f"{len(traced.outputs)} arrays. Return the array you mean, or use `grad_fn_names`."
        )
    (value,) = traced.outputs
    producer = {o: op for op in traced.graph.ops for o in op.outputs}
    while value in traced.tracked and value in producer:
        op = producer[value]
        if op.label is not None:
            return op.label
        value = next(i for i in op.inputs if i in traced.tracked)
    return None
