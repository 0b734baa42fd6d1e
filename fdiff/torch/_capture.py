"""Step capture: ops outside the graph recorded into a per-thread trace, run as one program.

An op that autograd does not record (grad mode off, or no input requiring grad: a manual
``p -= lr * p.grad`` under ``no_grad``) is not dispatched one by one: :func:`record` appends it
to the thread's :class:`Trace` and returns a pending :class:`~fdiff.torch._graph.Node` that its
tensor's storage holds. When Python needs a value (``item()``, printing, ``numpy()``, an op that
is not captured: a *cut*), :meth:`Trace.flush` runs the whole trace as one compiled program
whose outputs are the pending values that live tensors still hold, and stores them back.

A repeated step must not pay for planning: each op is looked up in a trie (:class:`Position`)
keyed by the op, its static arguments and its input references (an earlier entry of the trace,
an input array seen before, the shape of a new one, a Python scalar by value); the trie caches
the output's shape and dtype (so ``eval_shape`` runs once per position) and, through
:data:`programs`, the compiled program per (last position, outputs). A Python float that keeps
changing at one position (a learning rate on a schedule) stops being part of the key there and
becomes an argument of the program, so it does not recompile every step.

Anything unusual is left to the eager path: an unhashable argument, a tracer (inside a custom
``autograd.Function`` or a JAX transform), a view op, an op that autograd records, an op
without a derivative (comparisons: their values tend to be read at once), a pending input of
another thread's trace. Reading a pending value from
another thread, or one that was not an output of its flush, replays the node's own inputs
(``_graph.materialize``), so every path gives the same values.

>>> import fdiff.torch as torch
>>> w = torch.ones(3)
>>> with torch.no_grad():
...     w -= 0.5 * w
>>> w._storage[0].__class__.__name__, w.sum().item()
('Node', 1.5)
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

import jax
from jax.core import ShapedArray

from fdiff.torch import _caches
from fdiff.torch import _ops as ops
from fdiff.torch._deferred import output_aval
from fdiff.torch._graph import Node
from fdiff.torch._opspec import OpSpec

# Ops whose Python float operands may become program arguments: their implementations only do
# arithmetic with them (a float that decides a code path, like an exponent, stays static).
_DYNAMIC_SPECS = frozenset({ops.mul, ops.add, ops.sub})
_DYNAMIC_AFTER = 2  # misses at one position with float operands before its floats go dynamic
_DYNAMIC_FLOAT = ("dynamic", float)  # the key of a dynamic float operand
MAX_TRACE = 4096  # entries before a trace is cut anyway (a loop that never reads a value)
MAX_POSITIONS = 65536  # trie positions before the trie is dropped and grown again


class Settings:
    """Whether capture is on (``STATE.enabled = False`` runs every op eagerly)."""

    enabled = True


STATE = Settings()


class Position:
    """A trie position: the trace up to one op. ``key`` is that op's ``(spec, static, input
    keys)``, ``aval`` its output; ``children`` the positions one op further."""

    __slots__ = ("aval", "children", "dynamic", "key", "misses", "parent")

    def __init__(self, parent: Position | None, key: tuple | None, aval: Any) -> None:
        self.parent = parent
        self.key = key
        self.aval = aval
        self.children: dict[tuple, Position] = {}
        self.dynamic = False  # float operands of the next op are program arguments
        self.misses = 0  # lookups that missed with float operands


class _Trie:
    """The root position, and how many positions grew from it (bounded by ``MAX_POSITIONS``)."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.root = Position(None, None, None)
        self.size = 0


TRIE = _Trie()
_caches.register("fdiff.torch._capture.TRIE", TRIE.clear, lambda: TRIE.size)


class Trace:
    """The ops one thread recorded since its last cut: pending nodes in order, the arrays they
    read (each once), the dynamic floats, and the storages holding pending nodes (weakly)."""

    __slots__ = ("cursor", "dynamic", "held", "input_slots", "inputs", "nodes", "thread")

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self._start()

    def _start(self) -> None:
        self.nodes: list[Node] = []
        self.inputs: list[jax.Array] = []
        self.input_slots: dict[int, int] = {}  # id(array) -> its slot in ``inputs``
        self.dynamic: list[float] = []
        self.held: list[tuple[weakref.ref, Node]] = []
        self.cursor = TRIE.root

    def hold(self, storage: list, node: Node) -> None:
        """``storage`` (a tensor's cell) now holds the pending ``node``: a flush fills it."""
        self.held.append((weakref.ref(storage), node))

    def flush(self, wanted: Node | None = None) -> bool:
        """Run the trace as one compiled program (a cut); ``False`` from another thread.

        The outputs are ``wanted`` and the pending nodes a live storage still holds; the other
        nodes keep no value (a later read replays them from their inputs)."""
        if threading.get_ident() != self.thread:
            return False
        nodes, inputs, dynamic, held, cursor = (
            self.nodes,
            self.inputs,
            self.dynamic,
            self.held,
            self.cursor,
        )
        self._start()
        live = []
        for ref, node in held:
            storage = ref()
            if storage is not None and storage[0] is node:
                live.append((storage, node))
        outputs = {node.index for _, node in live}
        if wanted is not None and wanted.trace is self:
            outputs.add(wanted.index)
        for node in nodes:
            node.trace = None
        if not outputs:
            return True
        order = tuple(sorted(outputs))
        values = programs(cursor, order)(inputs, dynamic)
        for index, value in zip(order, values, strict=True):
            nodes[index].value = value
        for storage, node in live:
            storage[0] = node.value
        return True


_local = threading.local()


def current() -> Trace:
    """This thread's trace."""
    trace = getattr(_local, "trace", None)
    if trace is None:
        trace = _local.trace = Trace()
    return trace


def record(spec: OpSpec, values: list, static: dict) -> Node | None:
    """Append ``spec`` on ``values`` to this thread's trace; its pending node, or ``None`` when
    the op is not captured (the caller then runs it). Raises the op's error if the inputs do
    not fit, as running it would."""
    if not STATE.enabled:
        return None
    trace = current()
    if len(trace.nodes) >= MAX_TRACE:
        trace.flush()
    try:
        return _append(trace, spec, values, tuple(sorted(static.items())))
    except TypeError:  # an unhashable static argument
        return None


def _append(trace: Trace, spec: OpSpec, values: list, static: tuple) -> Node | None:
    cursor = trace.cursor
    dynamic = cursor.dynamic and spec in _DYNAMIC_SPECS
    keys: list[Any] = []
    new_inputs: list[jax.Array] = []
    new_slots: dict[int, int] = {}
    floats: list[float] = []
    edges = []
    for value in values:
        if value.__class__ is Node:
            if value.trace is trace:
                keys.append(value.index)
                edges.append(value)
                continue
            if value.value is None:  # pending elsewhere (another thread, or not an output)
                return None
            value = value.value
        cls = value.__class__
        if cls is float:
            floats.append(value)
            keys.append(_DYNAMIC_FLOAT if dynamic else (float, value.hex()))
        elif cls is int or cls is bool:
            keys.append((cls, value))
        elif isinstance(value, jax.Array) and not isinstance(value, jax.core.Tracer):
            slot = trace.input_slots.get(id(value))
            if slot is None:
                slot = new_slots.get(id(value))
            if slot is None:
                new_slots[id(value)] = len(trace.inputs) + len(new_inputs)
                new_inputs.append(value)
                keys.append(value.aval)
            else:
                keys.append(~slot)
        else:
            return None
        edges.append(value)
    key = (spec, static, tuple(keys))
    position = cursor.children.get(key)
    if position is None:
        if floats and not dynamic and spec in _DYNAMIC_SPECS:
            cursor.misses += 1
            if cursor.misses > _DYNAMIC_AFTER:
                cursor.dynamic = True
                return _append(trace, spec, values, static)
        aval = output_aval(spec, static, edges)
        if aval is None:
            return None
        if TRIE.size >= MAX_POSITIONS:
            TRIE.clear()
        position = cursor.children[key] = Position(cursor, key, aval)
        TRIE.size += 1
    for array in new_inputs:
        trace.input_slots[id(array)] = len(trace.inputs)
        trace.inputs.append(array)
    if dynamic:
        trace.dynamic.extend(floats)
    node = Node(spec, static, tuple(edges), position.aval)
    node.trace = trace
    node.index = len(trace.nodes)
    trace.nodes.append(node)
    trace.cursor = position
    return node


def _program(position: Position, outputs: tuple[int, ...]) -> Callable[..., list]:
    """The pure function of a trace ending at ``position``: inputs and dynamic floats in, the
    values of the entries ``outputs`` out."""
    entries = []
    while position.parent is not None:
        entries.append(position.key)
        position = position.parent
    entries.reverse()

    def run(inputs: list[jax.Array], dynamic: list[float]) -> list[jax.Array]:
        values: list[jax.Array] = []
        next_input = next_float = 0
        for spec, static, keys in entries:
            args = []
            for key in keys:
                if key.__class__ is int:
                    args.append(values[key] if key >= 0 else inputs[~key])
                elif isinstance(key, ShapedArray):
                    args.append(inputs[next_input])
                    next_input += 1
                elif key == _DYNAMIC_FLOAT:
                    args.append(dynamic[next_float])
                    next_float += 1
                elif key[0] is float:
                    args.append(float.fromhex(key[1]))
                else:
                    args.append(key[1])
            values.append(spec.impl(*args, **dict(static)))
        return [values[i] for i in outputs]

    return run


programs = _caches.Programs("fdiff.torch._capture.programs", _program, maxsize=256)
