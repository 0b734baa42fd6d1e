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
import jax.numpy as jnp
from jax.core import ShapedArray

from fdiff.torch import _caches, _graph, _opspec, _saving
from fdiff.torch import _ops as ops
from fdiff.torch._deferred import output_aval
from fdiff.torch._graph import AccumulateGrad, Node
from fdiff.torch._hook_tables import leaf_hooks, node_hooks, post_hooks, pre_hooks
from fdiff.torch._interop import under_transform
from fdiff.torch._opspec import OpSpec

# Ops whose Python float operands may become program arguments: their implementations only do
# arithmetic with them (a float that decides a code path, like an exponent, stays static).
_DYNAMIC_SPECS = frozenset({ops.mul, ops.add, ops.sub})
# Ops whose Python float operands are program arguments from the start, as on the eager path: a
# constant divisor would let XLA fold ``g / 3.0`` into ``g * (1 / 3.0)``, which torch does not.
_FLOATS_AS_ARGUMENTS = frozenset({ops.div})
# Ops left to the eager path: a replayed gradient (``create_graph``) replays a whole backward,
# custom Functions' included, whose own rules (``once_differentiable``) must run.
_NOT_CAPTURED = frozenset({ops.replayed_gradient})
_DYNAMIC_AFTER = 2  # misses at one site with float operands before its floats go dynamic
_DYNAMIC_FLOAT = ("dynamic", float)  # the key of a dynamic float operand
_LEAF = "leaf"  # ``(_LEAF, aval)``: the key of a new leaf that requires grad
_BACKWARD = "backward"  # the first item of a captured backward's key
# What a key resolves to in a program: an earlier value, an input, a dynamic float, a constant.
_VALUE, _INPUT, _FLOAT, _CONST = range(4)
MAX_TRACE = 4096  # entries before a trace is cut anyway (a loop that never reads a value)
MAX_POSITIONS = 65536  # trie positions before the trie is dropped and grown again


class Settings:
    """Whether capture is on (``STATE.enabled = False`` runs every op eagerly)."""

    enabled = True


STATE = Settings()


class Position:
    """A trie position: the trace up to one op. ``key`` is that op's ``(spec, static, input
    keys)``, ``aval`` its output; ``children`` the positions one op further."""

    __slots__ = ("aval", "backward", "children", "key", "leaf_slots", "parent")

    def __init__(self, parent: Position | None, key: tuple | None, aval: Any) -> None:
        self.parent = parent
        self.key = key
        self.aval = aval
        self.children: dict[tuple, Position] = {}
        self.backward: dict[int, tuple | None] = {}  # root index -> (cone, wanted leaf slots)
        self.leaf_slots: dict[int, tuple | None] = {}  # node index -> leaf slots below it


class _Trie:
    """The root position, how many positions grew from it (bounded by ``MAX_POSITIONS``), and
    per *site* (an op at an index of the trace) the lookups that missed with float operands
    there, and the sites whose floats are program arguments."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.root = Position(None, None, None)
        self.size = 0
        self.misses: dict[tuple[int, OpSpec], int] = {}
        self.dynamic_sites: set[tuple[int, OpSpec]] = set()


TRIE = _Trie()
_caches.register("fdiff.torch._capture.TRIE", TRIE.clear, lambda: TRIE.size)


class Trace:
    """The ops one thread recorded since its last cut: pending nodes in order, the arrays they
    read (each once), the dynamic floats, and the storages holding pending nodes (weakly)."""

    __slots__ = (
        "cursor",
        "dynamic",
        "forced",
        "held",
        "input_slots",
        "inputs",
        "leaves",
        "nodes",
        "thread",
    )

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self._start()

    def _start(self) -> None:
        self.nodes: list[Node] = []
        self.inputs: list[jax.Array] = []
        self.input_slots: dict[Any, int] = {}  # id(array), or a leaf's ids -> its input slot
        self.leaves: dict[int, AccumulateGrad] = {}  # input slot -> the leaf edge it came from
        self.forced: list[int] = []  # outputs whatever holds them: the gradients
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
        nodes, inputs, dynamic, held, cursor, forced = (
            self.nodes,
            self.inputs,
            self.dynamic,
            self.held,
            self.cursor,
            self.forced,
        )
        self._start()
        live = []
        for ref, node in held:
            storage = ref()
            if storage is not None and storage[0] is node:
                live.append((storage, node))
        outputs = {node.index for _, node in live}
        outputs.update(forced)
        if wanted is not None and wanted.trace is self:
            outputs.add(wanted.index)
        for node in nodes:
            node.trace = None
        if not outputs:
            return True
        order = tuple(sorted(outputs))
        program = programs(cursor, order)
        if under_transform():  # concrete inputs must give concrete values, not the transform's
            with jax.ensure_compile_time_eval():  # tracers (this also folds the program's
                values = program(inputs, dynamic)  # constant parts eagerly: never at the top)
        else:
            values = program(inputs, dynamic)
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


def record(spec: OpSpec, values: list, static: dict | tuple, graph: bool = False) -> Node | None:
    """Append ``spec`` on ``values`` to this thread's trace; its pending node, or ``None`` when
    the op is not captured (the caller then runs it). Raises the op's error if the inputs do
    not fit, as running it would.

    ``graph``: the op is recorded for autograd and ``values`` are its edges (nodes of this trace,
    leaves, constants); the node is then also its tensor's ``grad_fn``."""
    if not STATE.enabled or spec in _NOT_CAPTURED or _opspec.OPS.get(spec.name) is not spec:
        return None
    if graph and _saving._hooks:  # under saved_tensors_hooks: its pack and unpack must run
        return None
    trace = current()
    if len(trace.nodes) >= MAX_TRACE:
        trace.flush()
    static = static if graph else tuple(sorted(static.items()))
    try:
        return _append(trace, spec, values, static, graph)
    except TypeError:  # an unhashable static argument
        return None


def _append(trace: Trace, spec: OpSpec, values: list, static: tuple, graph: bool) -> Node | None:
    cursor = trace.cursor
    site = (len(trace.nodes), spec)
    dynamic = site in TRIE.dynamic_sites or spec in _FLOATS_AS_ARGUMENTS
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
            if graph or value.value is None:  # a node of an earlier graph, or pending elsewhere
                return None
            value = value.value
        cls = value.__class__
        if cls is AccumulateGrad:
            if isinstance(value.value, jax.core.Tracer):  # a leaf made inside a JAX transform
                return None
            ident = leaf_key(value)
            slot = trace.input_slots.get(ident)
            if slot is None:
                slot = new_slots.get(ident)
            if slot is None:
                new_slots[ident] = len(trace.inputs) + len(new_inputs)
                new_inputs.append(value)
                keys.append((_LEAF, value.value.aval))
            else:
                keys.append(~slot)
            edges.append(value)
            continue
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
        if floats and not dynamic and spec in _DYNAMIC_SPECS and len(TRIE.misses) < MAX_TRACE:
            misses = TRIE.misses[site] = TRIE.misses.get(site, 0) + 1
            if misses > _DYNAMIC_AFTER:
                TRIE.dynamic_sites.add(site)
                return _append(trace, spec, values, static, graph)
        aval = output_aval(spec, static, [_operand(e) for e in edges] if graph else edges)
        if aval is None:
            return None
        if TRIE.size >= MAX_POSITIONS:
            TRIE.clear()
        position = cursor.children[key] = Position(cursor, key, aval)
        TRIE.size += 1
    for ident, slot in new_slots.items():
        trace.input_slots[ident] = slot
    for value in new_inputs:
        if value.__class__ is AccumulateGrad:
            trace.leaves[len(trace.inputs)] = value
            value = value.value
        trace.inputs.append(value)
    if dynamic:
        trace.dynamic.extend(floats)
    node = _pending(trace, spec, static, tuple(edges), position.aval)
    trace.cursor = position
    return node


def leaf_key(edge: AccumulateGrad) -> tuple:
    """How a trace's ``input_slots`` names the leaf edge ``edge`` (its tensor at this value)."""
    return (_LEAF, id(edge.tensor), id(edge.value))


def _operand(edge: Any) -> Any:
    """What an op reads from an edge, for ``output_aval``."""
    return edge.value if edge.__class__ is AccumulateGrad else edge


def _pending(trace: Trace, spec: OpSpec, static: tuple, edges: tuple, aval: Any) -> Node:
    node = Node(spec, static, edges, aval)
    node.trace = trace
    node.index = len(trace.nodes)
    trace.nodes.append(node)
    return node


def backward(root: Node, retain: bool) -> list[tuple[Any, Node]] | None:
    """Capture ``root.backward()`` (no hooks, no ``retain_grad``, implicit ``ones``) in the
    trace: per leaf, its tensor and the pending node of its new ``.grad`` (the old one added
    inside the program), or ``None`` when it cannot be captured (the caller runs it)."""
    trace = current()
    if root.trace is not trace:
        return None
    cursor = trace.cursor
    info = cursor.backward.get(root.index, False)
    if info is False:
        info = _backward_info(trace, root)
        if root.trace is not trace:  # planning computed the forward: the trace was cut
            return None
        cursor.backward[root.index] = info
    if info is None:
        return None
    cone, wanted = info
    nodes = [trace.nodes[i] for i in cone]
    if not _replayable(nodes):
        return None
    tensors = [trace.leaves[slot].tensor for slot in wanted]
    if _hooked(nodes, tensors):
        return None
    if len({id(t) for t in tensors}) != len(tensors):
        return None
    if any(t._grad is not None and t._grad.requires_grad for t in tensors):
        return None
    accumulated: list[Any] = []
    new_inputs: list[jax.Array] = []
    for tensor in tensors:
        grad = tensor._grad
        value = None if grad is None else grad._storage[0]
        if value is None or (value.__class__ is Node and value.trace is trace):
            accumulated.append(None if value is None else value.index)
            continue
        value = grad._value  # computed: an input of the program
        slot = trace.input_slots.get(id(value))
        if slot is None and any(value is new for new in new_inputs):
            slot = len(trace.inputs) + next(i for i, a in enumerate(new_inputs) if a is value)
        if slot is None:
            new_inputs.append(value)
            accumulated.append(value.aval)
        else:
            accumulated.append(~slot)
    key = (_BACKWARD, root.index, cone, wanted, tuple(accumulated))
    position = cursor.children.get(key)
    if position is None:
        avals = tuple(trace.inputs[slot].aval for slot in wanted)
        position = cursor.children[key] = Position(cursor, key, avals)
        TRIE.size += 1
    for value in new_inputs:
        trace.input_slots[id(value)] = len(trace.inputs)
        trace.inputs.append(value)
    grads = []
    for aval in position.aval:
        node = _pending(trace, ops.replayed_gradient, (), (), aval)
        trace.forced.append(node.index)
        grads.append(node)
    trace.cursor = position
    if not retain:
        for node in nodes:
            node.freed = True
    return list(zip(tensors, grads, strict=True))


def _backward_info(trace: Trace, root: Node) -> tuple | None:
    """The trace indices of the graph below ``root`` and the input slots of its leaves, in
    the order of ``_graph.plan``'s; ``None`` when the graph leaves the trace."""
    plan = _graph.plan([root])
    if any(node.trace is not trace for node in plan.nodes):
        return None
    slots = []
    for leaf in plan.leaves:
        slot = trace.input_slots.get(leaf_key(leaf))
        if slot is None:
            return None
        slots.append(slot)
    return tuple(node.index for node in plan.nodes), tuple(slots)


def _replayable(nodes: list[Node]) -> bool:
    """Whether a captured backward gives what ``_graph.plan``'s would for these nodes: none
    freed, retaining its gradient, or reading a saved tensor changed since (the eager path
    then raises torch's error or handles it)."""
    for node in nodes:
        if node.freed or node.retained is not None or (node.saved and _stale(node)):
            return False
    return True


def _hooked(nodes: list[Node], leaves: list[Any]) -> bool:
    """Whether a backward hook is registered on one of these nodes or leaves (its backward
    then runs on the eager path, which calls the hooks)."""
    if not any(table._entries for table in (leaf_hooks, node_hooks, pre_hooks, post_hooks)):
        return False
    return any(leaf_hooks.get(leaf) for leaf in leaves) or any(
        node_hooks.get(node) or pre_hooks.get(node) or post_hooks.get(node) for node in nodes
    )


def _stale(node: Node) -> bool:
    return any(  # changed since, or under ``saved_tensors_hooks`` (whose unpack must run)
        saved.counter.version != saved.version or saved.unpack is not None for saved in node.saved
    ) or (_graph.read_inputs(node) is not node.inputs)


def _resolved(entries: list[tuple]) -> list[tuple]:
    """Each entry's keys as ``(_VALUE | _INPUT | _FLOAT | _CONST, index or value)`` refs (new
    inputs and dynamic floats numbered in the order the trace met them)."""
    inputs = floats = 0
    resolved = []
    for entry in entries:
        keys = entry[4] if entry[0] == _BACKWARD else entry[2]
        refs: list[tuple[int, Any] | None] = []
        for key in keys:
            if key is None:
                refs.append(None)
            elif key.__class__ is int:
                refs.append((_VALUE, key) if key >= 0 else (_INPUT, ~key))
            elif key.__class__ is ShapedArray or key[0] == _LEAF:
                refs.append((_INPUT, inputs))
                inputs += 1
            elif key == _DYNAMIC_FLOAT:
                refs.append((_FLOAT, floats))
                floats += 1
            elif key[0] is float:
                refs.append((_CONST, float.fromhex(key[1])))
            else:
                refs.append((_CONST, key[1]))
        resolved.append((*entry[:-1], tuple(refs)) if entry[0] == _BACKWARD else (*entry[:2], refs))
    return resolved


def _program(position: Position, outputs: tuple[int, ...]) -> Callable[..., list]:
    """The pure function of a trace ending at ``position``: inputs and dynamic floats in, the
    values of the entries ``outputs`` out."""
    entries = []
    while position.parent is not None:
        entries.append(position.key)
        position = position.parent
    entries.reverse()
    resolved = _resolved(entries)
    ops_at = {}  # value index -> the op entry computing it
    count = 0
    for entry in resolved:
        if entry[0] == _BACKWARD:
            count += len(entry[3])
        else:
            ops_at[count] = entry
            count += 1

    def run(inputs: list[jax.Array], dynamic: list[float]) -> list[jax.Array]:
        sources = ([], inputs, dynamic)  # indexed by _VALUE, _INPUT, _FLOAT
        values = sources[_VALUE]
        for entry in resolved:
            if entry[0] == _BACKWARD:
                values.extend(_gradients(entry, ops_at, sources))
                continue
            spec, static, refs = entry
            args = [ref[1] if ref[0] == _CONST else sources[ref[0]][ref[1]] for ref in refs]
            values.append(spec.impl(*args, **dict(static)))
        return [values[i] for i in outputs]

    return run


def _gradients(entry: tuple, ops_at: dict, sources: tuple) -> list[jax.Array]:
    """A captured backward inside a program: the VJP of the ops below the root with respect to
    its leaves (replayed from them), each added to the ``.grad`` it accumulates into."""
    _, root, cone, wanted, accumulated = entry
    values, inputs, dynamic = sources
    position = {slot: i for i, slot in enumerate(wanted)}

    def root_of(leaves: list[jax.Array]) -> jax.Array:
        replayed: dict[int, jax.Array] = {}
        for index in cone:
            spec, static, refs = ops_at[index]
            args = []
            for kind, i in refs:
                if kind == _VALUE:
                    args.append(replayed[i] if i in replayed else values[i])
                elif kind == _INPUT:
                    args.append(leaves[position[i]] if i in position else inputs[i])
                else:
                    args.append(i if kind == _CONST else dynamic[i])
            replayed[index] = spec.impl(*args, **dict(static))
        return replayed[root]

    out, pullback = jax.vjp(root_of, [inputs[slot] for slot in wanted])
    (grads,) = pullback(jnp.ones_like(out))
    return [
        g if ref is None else sources[ref[0]][ref[1]] + g
        for g, ref in zip(grads, accumulated, strict=True)
    ]


programs = _caches.Programs("fdiff.torch._capture.programs", _program, maxsize=256)
