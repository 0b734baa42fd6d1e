"""``apply``: run one op of the table on tensors, or record it for autograd.

Everything a tensor computes goes through :func:`apply`, which runs the op table's jitted
implementation or, when grad mode is on and an input requires grad, records a
:class:`~fdiff.torch._graph.Node` and defers the computation (:mod:`~fdiff.torch._deferred`):
the result's storage holds the node until it is read or a backward replays it.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fdiff.torch import _caches, _capture, _deferred, _dtypes
from fdiff.torch._errors import op_failure
from fdiff.torch._grad_mode import is_grad_enabled
from fdiff.torch._graph import AccumulateGrad, Node, Rebased
from fdiff.torch._opspec import OpSpec
from fdiff.torch._python_reads import note_derived
from fdiff.torch._saving import SavedTensor, saved_inputs, saves_output
from fdiff.torch._tensor_base import TensorBase, new_tensor
from fdiff.torch._views import VIEW_OPS, check_usable, record_layout, record_view


def _as_value(x: Any) -> Any:
    if isinstance(x, TensorBase):
        return x._value
    if isinstance(x, np.ndarray | np.generic | list | tuple):
        return jnp.asarray(x)
    return x


def apply(spec: OpSpec, *args: Any, **static: Any) -> Any:
    """Run one op of the table on tensors (or scalars); record it when grad mode says so.

    A recorded op is deferred: its result holds the node, with the output shape and dtype
    (:mod:`~fdiff.torch._deferred`), and is computed when first read (``_value``) or by the
    backward that replays it anyway.

    >>> import fdiff.torch as torch
    >>> from fdiff.torch import _ops as ops
    >>> apply(ops.mul, torch.tensor([3.0], requires_grad=True), 2)
    tensor([6.], grad_fn=<MulBackward0>)
    """
    # One pass over the arguments: this runs for every op, so it stays lean.
    values = []
    needs_grad = deferred = False
    for a in args:
        if isinstance(a, TensorBase):
            if a._view is not None:
                check_usable(a)
            value = a._storage[0]
            values.append(value)
            needs_grad = needs_grad or a._node is not None or a._requires_grad
            deferred = deferred or value.__class__ is Node
        else:
            values.append(_as_value(a))
    promotes = spec.promotes
    if promotes is not None and "promote_to" not in static:  # torch's dtype, not JAX's
        promote_to = _dtypes.promotion(values[promotes.first :], promotes.to_float)
        if promote_to is not None:
            static = {**static, "promote_to": promote_to}
    grad_mode = is_grad_enabled()
    if needs_grad and spec.differentiable and grad_mode:
        result = _record(spec, args, values, static)
    else:
        result = _captured(spec, values, static)
        if result is None:
            if deferred:
                values = _materialized(args, values)
            result = new_tensor(run(spec, values, static))
            if needs_grad and grad_mode:  # a comparison or argmax of recorded values
                note_derived(result, args)
    if spec in VIEW_OPS:
        record_view(result, args[0], spec, tuple(sorted(static.items())), grad_mode)
    else:
        record_layout(result, spec, args)
    return result


def _captured(spec: OpSpec, values: list, static: dict) -> Any:
    """The op recorded into this thread's capture trace (``_capture``), or ``None``."""
    if not spec.differentiable or spec in VIEW_OPS:
        return None
    node = _capture.record(spec, values, static)
    if node is None:
        return None
    result = new_tensor(node)
    node.trace.hold(result._storage, node)
    return result


def _materialized(args: tuple, values: list) -> list:
    """The inputs' values, computing any deferred one."""
    return [a._value if isinstance(a, TensorBase) else v for a, v in zip(args, values, strict=True)]


def run(spec: OpSpec, values: list, static: dict) -> jax.Array:
    """The op's jitted implementation on these values; torch's error if they do not fit."""
    try:
        return spec.jitted(*values, **static)
    except (TypeError, ValueError) as error:
        raise op_failure(spec.name, values, error, spec.promotes is not None) from error


def _record(spec: OpSpec, args: tuple, values: list, static: dict) -> Any:
    """Record a node; defer its computation unless an input's storage left its graph."""
    static_items = tuple(sorted(static.items())) if static else ()
    edges = []
    in_sync = True
    for i, a in enumerate(args):
        if not isinstance(a, TensorBase):
            edges.append(values[i])
            continue
        node = a._node
        if node is None:
            value = values[i] = a._value
            edges.append(AccumulateGrad(a, value) if a._requires_grad else value)
            continue
        # The node's output is what this tensor holds unless it was changed outside the graph
        # (an in-place op under no_grad, ``.data = ...``): then the op reads the new value and
        # the gradient still flows to the node.
        value = values[i]
        if value is node or value is node.value:
            edges.append(node)
        else:
            in_sync = False
            edges.append(Rebased(node, a._value))
    if in_sync:
        node = _capture.record(spec, edges, static_items, graph=True)
        if node is not None:
            result = new_tensor(node, node)
            node.trace.hold(result._storage, node)
            return _saving(result, args)
    aval = _deferred.output_aval(spec, static_items, values) if in_sync else None
    if aval is None:  # run it now
        values = _materialized(args, values)
        out = run(spec, values, static)
        node = Node(spec, static_items, tuple(edges), out.aval, out)
        return _saving(new_tensor(out, node), args)
    node = Node(spec, static_items, tuple(edges), aval)
    return _saving(new_tensor(node, node), args)


def _saving(result: Any, args: tuple) -> Any:
    """Record on ``result``'s node the tensors torch's node saves, with their versions."""
    node = result._node
    if node.spec.saves:
        requires = tuple(
            isinstance(a, TensorBase) and (a._node is not None or a._requires_grad) for a in args
        )
        indices, output = _saved_plan(node.spec.name, requires)
        saved = [SavedTensor(args[i], i) for i in indices if isinstance(args[i], TensorBase)]
        if output:
            saved.append(SavedTensor(result, output_of=node))
        node.saved = tuple(saved)
    return result


@_caches.lru_cache(maxsize=1024)  # per op, a few patterns of inputs requiring grad
def _saved_plan(name: str, requires: tuple[bool, ...]) -> tuple[tuple[int, ...], bool]:
    """The input positions op ``name``'s node saves, and whether it saves its output."""
    return saved_inputs(name, requires), saves_output(name)
