"""The recorded graph: nodes, leaf edges, and its replay as one pure function.

A tensor produced by a recorded op holds a :class:`Node`: the op (an entry of the op table), its
static arguments and one edge per input. An edge is another ``Node``, an :class:`AccumulateGrad`
(a leaf that requires grad, with the value it had when the op ran), a :class:`Rebased` node (one
whose tensor was changed outside the graph), a constant array, or a Python scalar. :func:`plan`
walks a graph once and produces a hashable :class:`GraphKey` (ops, static arguments and wiring,
no values) plus the values in input order; :func:`replay` turns a key back into a pure function
of those values. Backward differentiates that function with ``jax.vjp`` under ``jax.jit``,
cached by key, so a loop that repeats one structure compiles once. The same replay, jitted
without the VJP, computes a deferred node's value (:func:`materialize`).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from fdiff.torch import _caches, _hook_tables
from fdiff.torch._errors import GRAPH_FREED, NOT_IMPLEMENTED, UnsupportedError, no_derivative
from fdiff.torch._opspec import OpSpec
from fdiff.torch._saving import SavedTensor, check_saved, saved_as, unpack_saved

# --- nodes ------------------------------------------------------------------------------------


class AccumulateGrad:
    """Edge to a leaf that requires grad: the tensor and the value an op read from it."""

    __slots__ = ("tensor", "value")

    def __init__(self, tensor: Any, value: jax.Array) -> None:
        self.tensor = tensor
        self.value = value

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"  # what torch's AccumulateGrad.name() returns

    @property
    def variable(self) -> Any:
        """The leaf tensor this edge accumulates into (torch's ``AccumulateGrad.variable``)."""
        return self.tensor

    next_functions: tuple = ()  # a leaf's node has no inputs

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


class Rebased:
    """Edge to a node whose tensor was changed outside the graph (an in-place op under
    ``no_grad``, ``.data = ...``) before an op read it: the op saw ``value``, and the gradient
    flows to ``node``, as torch's autograd does."""

    __slots__ = ("node", "value")

    def __init__(self, node: Node, value: jax.Array) -> None:
        self.node = node
        self.value = value


@jax.custom_jvp
def _rebased(replayed: jax.Array, value: jax.Array) -> jax.Array:
    """``value``, with the derivative of ``replayed``: a :class:`Rebased` edge in a replay."""
    return value


@_rebased.defjvp
def _rebased_jvp(primals, tangents):
    return primals[1], tangents[0]


_SEQUENCE = itertools.count()


class Node:
    """One recorded op application: what torch exposes as ``tensor.grad_fn``."""

    __slots__ = (
        "__weakref__",
        "aval",
        "dtype",
        "freed",
        "index",
        "inputs",
        "output_of",
        "retained",
        "saved",
        "sequence",
        "shape",
        "spec",
        "static",
        "trace",
        "value",
    )

    def __init__(
        self,
        spec: OpSpec,
        static: tuple,
        inputs: tuple,
        aval: jax.core.ShapedArray,
        value: jax.Array | None = None,
    ) -> None:
        self.spec = spec
        self.static = static
        self.inputs = inputs
        self.aval = aval
        self.shape = aval.shape
        self.dtype = aval.dtype
        self.value = value  # the output, once computed (see ``materialize``)
        self.freed = False
        self.retained: Any = None  # the tensor that called retain_grad(), if any
        self.saved: tuple[SavedTensor, ...] = ()  # what torch's node keeps for backward
        self.sequence = next(_SEQUENCE)  # creation order: torch's backward runs later nodes first
        self.trace: Any = None  # the ``_capture.Trace`` whose flush computes it, while pending
        self.index = 0  # its position in that trace
        self.output_of: tuple[MultiOutputNode, int] | None = None  # see MultiOutputNode

    def name(self) -> str:
        """The torch class name of this node, e.g. ``'MulBackward0'``."""
        shapes = (_shape_of(edge) for edge in self.inputs)
        return self.spec.grad_fn_name(*shapes)

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """Input nodes as torch lists them: ``(node_or_None, 0)`` per input."""
        return tuple(_next_pair(e) for e in self.inputs)

    def register_prehook(self, hook: Callable[[tuple], Any]) -> Any:
        """torch's ``grad_fn.register_prehook``: ``hook(grad_outputs)`` may return new ones."""
        return _hook_tables.register(_hook_tables.pre_hooks, self, hook)

    def register_hook(self, hook: Callable[[tuple, tuple], Any]) -> Any:
        """torch's ``grad_fn.register_hook``: ``hook(grad_inputs, grad_outputs)`` may return
        new ``grad_inputs`` (one per ``next_functions`` entry)."""
        return _hook_tables.register(_hook_tables.post_hooks, self, hook)

    def _class_name(self) -> str:
        """The node's torch class name, as reprs print it (``name()`` without a namespace)."""
        return self.name().rpartition("::")[2]

    def __repr__(self) -> str:
        return f"<{self._class_name()} object at {id(self):#x}>"


class MultiOutputNode:
    """The one grad_fn torch gives all outputs of ``unbind``/``split``/``chunk``, which
    fdiff.torch records as one node each (``nodes``): what their ``grad_fn`` and a later node's
    ``next_functions`` show, with the output's number (``output_nr``)."""

    __slots__ = ("__weakref__", "nodes")

    def __init__(self, nodes: tuple[Node, ...]) -> None:
        self.nodes = nodes
        for i, node in enumerate(nodes):
            node.output_of = (self, i)

    def name(self) -> str:
        return self.nodes[0].name()

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        return self.nodes[0].next_functions

    def register_hook(self, hook: Callable[..., Any]) -> Any:
        raise UnsupportedError(f"{self.name()}.register_hook (a grad_fn of several outputs)")

    def register_prehook(self, hook: Callable[..., Any]) -> Any:
        raise UnsupportedError(f"{self.name()}.register_prehook (a grad_fn of several outputs)")

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"


def one_grad_fn(outputs: tuple[Any, ...]) -> tuple[Any, ...]:
    """``outputs`` (each recorded by its own op) shown with one grad_fn, as torch's node of
    several outputs (``aminmax``, ``var_mean``)."""
    nodes = tuple(out._node for out in outputs if out._node is not None)
    if nodes:
        MultiOutputNode(nodes)
    return outputs


def _next_pair(edge: Any) -> tuple[Any, int]:
    """A ``next_functions`` entry: the node an edge leads to and the output it takes."""
    node = _next_function(edge)
    if node.__class__ is Node and node.output_of is not None:
        return node.output_of
    return node, 0


def _next_function(edge: Any) -> Node | AccumulateGrad | None:
    if isinstance(edge, Rebased):
        return edge.node
    return edge if isinstance(edge, Node | AccumulateGrad) else None


def _shape_of(edge: Any) -> tuple[int, ...] | None:
    if isinstance(edge, Node):
        return edge.shape
    if isinstance(edge, AccumulateGrad | Rebased):
        return edge.value.shape
    return getattr(edge, "shape", None if edge is None else ())


# --- planning and replay ----------------------------------------------------------------------


# Where a node's input comes from in a replay (the kind in a ref ``(kind, index)``); plain ints,
# not an Enum, because graph keys are hashed on every backward.
REF_NODE = 0  # the output of an earlier node of the key
REF_LEAF = 1  # a leaf value (differentiated by backward)
REF_CONST = 2  # a constant array (or a node outside the replayed part)
REF_SCALAR = 3  # a Python scalar
REF_REBASED = 4  # a Rebased edge: the index is (node index, constant index)


# Where a backward hook slot sits (see ``_hooks``): on a node's output before its retain_grad
# perturbation (grad_fn pre-hooks), after it (tensor hooks), or on a leaf (tensor hooks).
HOOK_PRE = 0
HOOK_TENSOR = 1
HOOK_LEAF = 2
HOOK_NODE = 3  # around a node's op: its grad_fn hooks see the gradients of its inputs


class GraphKey(NamedTuple):
    """The structure of a graph, without values: hashable, the cache key of compiled backward.

    ``nodes`` holds one ``(op spec, static, input refs, perturbation slot)`` per node in
    topological order; a ref is ``(REF_* kind, index)``, the index a pair for ``REF_REBASED``. Op
    specs hash by identity, so a key is cheap to hash. ``perturbed`` lists ``(node index, shape,
    dtype)`` of non-leaf tensors whose gradient is wanted (``retain_grad``, ``autograd.grad``
    inputs).
    """

    nodes: tuple[tuple[OpSpec, tuple, tuple[tuple[int, Any], ...], int | None], ...]
    roots: tuple[int, ...]
    perturbed: tuple
    wanted_leaves: tuple[int, ...]
    hooked: tuple = ()  # (HOOK_* place, node index or leaf slot) per backward hook slot
    unpacked: tuple = ()  # (node index, ((input position, const index), ...)): saved_as


class Plan(NamedTuple):
    """A graph walked once: its key, its nodes, the perturbed ones and the replay's values."""

    key: GraphKey
    nodes: list[Node]
    perturbed: list[Node]
    leaves: list[AccumulateGrad]
    consts: list[jax.Array]
    scalars: list[Any]
    unpacked: tuple = ()  # the unpacked saved tensors that replace a value the backward reads


def _postorder(roots: Sequence[Node], include: Callable[[Node], bool]) -> list[Node]:
    """The nodes below ``roots`` that ``include`` accepts, each after its inputs; the walk
    does not go below a node that is not included."""
    order: list[Node] = []
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        if not include(node):
            continue
        stack.append((node, True))
        for edge in reversed(node.inputs):
            if isinstance(edge, Rebased):
                edge = edge.node
            if isinstance(edge, Node):
                stack.append((edge, False))
    return order


def _backward_order(roots: Sequence[Node]) -> list[Node]:
    """Every node below ``roots``, inputs first; raises torch's error if a backward without
    ``retain_graph`` freed a node whose saved tensors are needed, or reaches a node of an op
    without a derivative (``heaviside``)."""
    order = _postorder(roots, lambda _: True)
    for node in order:
        if node.freed and node.spec.saves:
            raise RuntimeError(GRAPH_FREED)
        if node.spec.grad_fn is NOT_IMPLEMENTED:
            raise no_derivative(node.spec.name)
    check_saved(order)
    return order


def _forward_order(roots: Sequence[Node], computed: Callable[[Node], bool]) -> list[Node]:
    """The nodes to run to compute ``roots``: a ``computed`` node below them enters the replay
    as a constant, so neither it nor the graph below it is included (freed graphs are fine)."""
    return _postorder(roots, lambda node: node in roots or not computed(node))


def plan(
    roots: Sequence[Node],
    perturb: Callable[[Node], bool] = lambda _: False,
    wanted_leaf: Callable[[AccumulateGrad], bool] = lambda _: True,
) -> Plan:
    """Walk the graph below ``roots`` into a :class:`Plan` (raises if it was freed).

    ``perturb`` picks the non-leaf nodes whose gradient is wanted, ``wanted_leaf`` the leaves.
    """
    order = _backward_order(roots)
    unpacked = unpack_saved(order)
    if unpacked or any(read_inputs(node) is not node.inputs for node in order):
        for root in roots:  # the forward values as the ops saw them, not as backward reads them
            materialize(root)
    return _plan(order, roots, perturb, wanted_leaf, read_inputs, unpacked)


def plan_above(
    roots: Sequence[Node], cuts: dict[int, Any], wanted_leaf: Callable[[AccumulateGrad], bool]
) -> Plan:
    """The plan of the graph above the nodes of ``cuts`` (``id(node) -> tensor``, none a root):
    each enters as a leaf edge holding its tensor, so a ``create_graph`` gradient recorded from
    the plan has an edge to that tensor, as torch's double-backward graph reads it (a later
    ``grad`` with respect to it, or to what lies below it, flows through its node)."""
    order = _postorder(roots, lambda node: id(node) not in cuts)
    if any(node.freed and node.spec.saves for node in order):
        raise RuntimeError(GRAPH_FREED)
    check_saved(order)
    unpacked = unpack_saved(order)
    if unpacked or any(read_inputs(node) is not node.inputs for node in order):
        for root in roots:
            materialize(root)
    leaf_edges = {key: AccumulateGrad(tensor, tensor._value) for key, tensor in cuts.items()}

    def inputs_of(node: Node) -> tuple:
        inputs = read_inputs(node)
        return tuple(leaf_edges.get(id(e), e) if isinstance(e, Node) else e for e in inputs)

    return _plan(order, roots, lambda _: False, wanted_leaf, inputs_of, unpacked)


def _plan(
    nodes: list[Node],
    roots: Sequence[Node],
    perturb: Callable[[Node], bool],
    wanted_leaf: Callable[[AccumulateGrad], bool],
    inputs_of: Callable[[Node], tuple] = lambda node: node.inputs,
    unpacked: dict[int, dict[int | None, Any]] | None = None,
) -> Plan:
    """The key and values of replaying ``nodes`` (in topological order); an input node not
    among them enters as a constant holding its value. ``inputs_of`` gives a node's edges
    (backward reads saved tensors as they are now: :func:`read_inputs`); ``unpacked``, per
    node id, the tensors ``saved_tensors_hooks`` unpacked (:func:`_unpacked_refs`)."""
    position = {id(n): i for i, n in enumerate(nodes)}
    perturbed = [n for n in nodes if perturb(n)]
    slot_of_perturbed = {id(n): k for k, n in enumerate(perturbed)}
    leaves: list[AccumulateGrad] = []
    leaf_slot: dict[tuple[int, int], int] = {}
    consts: list[jax.Array] = []
    scalars: list[Any] = []
    node_keys = []
    unpacked_refs: list[tuple] = []
    unpacked_tensors: list[Any] = []
    for node in nodes:
        refs = []
        for edge in inputs_of(node):
            if isinstance(edge, Node):
                if id(edge) in position:
                    refs.append((REF_NODE, position[id(edge)]))
                else:  # computed, outside the replayed part
                    refs.append((REF_CONST, len(consts)))
                    consts.append(edge.value)
            elif isinstance(edge, AccumulateGrad):
                ident = (id(edge.tensor), id(edge.value))
                if ident not in leaf_slot:
                    leaf_slot[ident] = len(leaves)
                    leaves.append(edge)
                refs.append((REF_LEAF, leaf_slot[ident]))
            elif isinstance(edge, Rebased):
                if id(edge.node) in position:
                    refs.append((REF_REBASED, (position[id(edge.node)], len(consts))))
                else:  # not replayed: its value is all that matters
                    refs.append((REF_CONST, len(consts)))
                consts.append(edge.value)
            elif isinstance(edge, jax.Array):
                refs.append((REF_CONST, len(consts)))
                consts.append(edge)
            else:
                refs.append((REF_SCALAR, len(scalars)))
                scalars.append(edge)
        node_keys.append((node.spec, node.static, tuple(refs), slot_of_perturbed.get(id(node))))
        if unpacked and id(node) in unpacked:
            saved = _unpacked_refs(node, unpacked[id(node)], consts, unpacked_tensors)
            if saved:
                unpacked_refs.append((len(node_keys) - 1, saved))
    key = GraphKey(
        nodes=tuple(node_keys),
        roots=tuple(position[id(r)] for r in roots),
        perturbed=tuple((position[id(n)], n.shape, n.dtype) for n in perturbed),
        wanted_leaves=tuple(i for i, leaf in enumerate(leaves) if wanted_leaf(leaf)),
        unpacked=tuple(unpacked_refs),
    )
    return Plan(key, nodes, perturbed, leaves, consts, scalars, tuple(unpacked_tensors))


def _unpacked_refs(node: Node, tensors: dict, consts: list, kept: list) -> tuple:
    """``(input position, const index)`` per unpacked saved input whose value is not the one
    the op read (appended to ``consts``, the tensor to ``kept``). A saved output must unpack
    to the node's value: the replay differentiates the op from its inputs, not its output."""
    refs = []
    for position, tensor in tensors.items():
        current = tensor._storage[0]
        if position is None:
            value = materialize(node)
            if current is not node and current is not value and not _same(tensor._value, value):
                raise UnsupportedError(
                    "torch.autograd.graph.saved_tensors_hooks (an unpack_hook returning a value "
                    f"other than the saved output of {node.name()})"
                )
            continue
        edge = node.inputs[position]
        read = edge.value if isinstance(edge, Node | AccumulateGrad | Rebased) else edge
        if current is edge or current is read:
            continue
        if tuple(tensor.shape) != tuple(read.shape):
            raise RuntimeError(
                f"unpack_hook returned a tensor of shape {list(tensor.shape)} for a tensor of "
                f"shape {list(read.shape)} saved by {node.name()}"
            )
        refs.append((position, len(consts)))
        consts.append(tensor._value.astype(read.dtype))
        kept.append(tensor)
    return tuple(refs)


def _same(a: jax.Array, b: jax.Array) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and bool(jnp.array_equal(a, b))


def read_inputs(node: Node) -> tuple:
    """The node's input edges as its backward reads them: torch's backward reads a saved tensor's
    storage as it is now, so a saved input changed without an in-place op (``w.data.mul_(10)``,
    ``h.data = ...``; an in-place op raises in :func:`check_saved`) enters with its new value."""
    inputs = node.inputs
    for saved in node.saved:
        if saved.unpack is not None:  # read through saved_tensors_hooks' unpack instead
            continue
        tensor = None if saved.index is None else saved.tensor()
        if tensor is None or saved.counter.version != saved.version:
            continue
        edge, current = inputs[saved.index], tensor._storage[0]
        if isinstance(edge, AccumulateGrad) and current is not edge.value:
            edge = AccumulateGrad(tensor, tensor._value)
        elif isinstance(edge, Node) and current is not edge and current is not edge.value:
            edge = Rebased(edge, tensor._value)
        else:
            continue
        inputs = (*inputs[: saved.index], edge, *inputs[saved.index + 1 :])
    return inputs


def replay(
    key: GraphKey, leaves, consts, scalars, perturbations=None, hook=None
) -> list[jax.Array]:
    """Evaluate the graph ``key`` describes on these values; returns the root values.

    ``hook(slot, value)``, given, marks the values of ``key.hooked`` (an identity whose
    derivative runs backward hooks); ``hook(slot, op, *args)`` runs a ``HOOK_NODE`` node's op
    (its derivative runs the node's hooks)."""
    hooked = {(place, i): slot for slot, (place, i) in enumerate(key.hooked)} if hook else {}
    unpacked = dict(key.unpacked)
    values: list[jax.Array] = []
    sources = (values, leaves, consts, scalars)  # indexed by REF_NODE ... REF_SCALAR
    for spec, static, refs, slot in key.nodes:
        args = [
            _rebased(values[i[0]], consts[i[1]]) if kind == REF_REBASED else sources[kind][i]
            for kind, i in refs
        ]
        op = functools.partial(spec.impl, **dict(static))
        if len(values) in unpacked:  # its VJP reads the unpacked saved tensors
            op = saved_as(op, {p: consts[c] for p, c in unpacked[len(values)]})
        if (HOOK_NODE, len(values)) in hooked:  # the op, its VJP watched by grad_fn hooks
            value = hook(hooked[HOOK_NODE, len(values)], op, *args)
        else:
            value = op(*args)
        if (HOOK_PRE, len(values)) in hooked:
            value = hook(hooked[HOOK_PRE, len(values)], value)
        if slot is not None and perturbations is not None:
            value = value + perturbations[slot]
        if (HOOK_TENSOR, len(values)) in hooked:
            value = hook(hooked[HOOK_TENSOR, len(values)], value)
        values.append(value)
    return [values[i] for i in key.roots]


def gradients(key: GraphKey, leaves, consts, scalars, cotangents, accumulated=None, hook=None):
    """Pure VJP of the graph: the root values, and the gradients of the wanted leaves, then of
    the perturbed nodes.

    A ``None`` cotangent stands for ones shaped like its root (torch's implicit gradient).
    ``accumulated`` holds, per gradient, ``None`` or the ``.grad`` it is added to. ``hook``:
    see :func:`replay`.
    """
    zeros = tuple(jnp.zeros(shape, dtype) for _, shape, dtype in key.perturbed)
    wanted = key.wanted_leaves

    def wanted_to_roots(wanted_values, perturbations):
        values = list(leaves)
        for i, v in zip(wanted, wanted_values, strict=True):
            values[i] = v
        for slot, (place, i) in enumerate(key.hooked if hook else ()):
            if place == HOOK_LEAF:
                values[i] = hook(slot, values[i])
        return replay(key, values, consts, scalars, perturbations, hook)

    wanted_values = tuple(leaves[i] for i in wanted)
    roots, pullback = jax.vjp(wanted_to_roots, wanted_values, zeros)
    ones = [jnp.ones_like(r) if c is None else c for r, c in zip(roots, cotangents, strict=True)]
    leaf_grads, node_grads = pullback(ones)
    grads = (*leaf_grads, *node_grads)
    if accumulated is not None:
        grads = tuple(g if a is None else a + g for g, a in zip(grads, accumulated, strict=True))
    return tuple(roots), grads


# One jitted program per graph structure (and hook), compiled per input shape; ``_caches``
# bounds both.
compiled_gradients = _caches.Programs(
    "fdiff.torch._graph.compiled_gradients",
    lambda key, hook=None: functools.partial(gradients, key, hook=hook),
    maxsize=512,
)
compiled_replay = _caches.Programs(  # the deferred forward
    "fdiff.torch._graph.compiled_replay", lambda key: functools.partial(replay, key), maxsize=512
)


def materialize(node: Node) -> jax.Array:
    """The output of a recorded op, computed on first use by one jitted replay of the graph
    below it (nodes already computed enter as constants); cached on the node."""
    if node.value is None and node.trace is not None and node.trace.flush(node):
        return node.value
    if node.value is None:
        nodes = _forward_order([node], lambda n: n.value is not None)
        p = _plan(nodes, [node], lambda _: False, lambda _: False)
        leaves = [leaf.value for leaf in p.leaves]
        node.value = compiled_replay(p.key)(leaves, p.consts, p.scalars)[0]
    return node.value


def free(nodes: Iterable[Node]) -> None:
    """Mark nodes as freed: torch releases saved tensors after a backward without retain_graph."""
    for node in nodes:
        node.freed = True
