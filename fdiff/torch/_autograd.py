"""``backward``, ``autograd.grad`` and ``functionalize``: the recorded graph as a pure function.

Backward never walks nodes with per-op formulas. It plans the graph (``_graph.plan``), runs the
cached ``jax.jit`` of its VJP, and adds the results into ``.grad`` (explicit accumulation, as
torch does). With ``create_graph=True`` the gradients are themselves recorded: each is one node
whose op replays the whole VJP, so JAX differentiates it again for second derivatives.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from fdiff.torch import _caches, _capture, _graph, _hooks
from fdiff.torch import _ops as ops
from fdiff.torch import _python_reads as python_reads
from fdiff.torch._dependence import float_dependence, fused_reads
from fdiff.torch._dispatch import apply
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._graph import Node, Plan
from fdiff.torch._hook_tables import node_hooks, pre_hooks
from fdiff.torch._interop import check_grad_escape
from fdiff.torch._saving import FUSED_BACKWARD
from fdiff.torch._tensor_base import TensorBase as Tensor
from fdiff.torch._tensor_base import new_tensor

_add_jit = _caches.jit(jnp.add, "fdiff.torch._autograd._add_jit")
_CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the parameter "
    "and its gradient which can cause a memory leak. We recommend using autograd.grad when "
    "creating the graph to avoid this. If you have to use this function, make sure to reset the "
    ".grad fields of your parameters to None after use to break the cycle and avoid the leak."
)


def _as_list(x: Any) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, list | tuple) else [x]


def _cotangents(outputs: list[Tensor], grad_outputs: list) -> list[Tensor | None]:
    """The checked ``gradient`` per output; ``None`` for a one-element output's implicit ones."""
    if len(grad_outputs) not in (0, len(outputs)):
        raise RuntimeError(
            f"grad can be implicitly created only for scalar outputs; got {len(grad_outputs)} "
            f"gradients for {len(outputs)} outputs"
        )
    cotangents = []
    for i, out in enumerate(outputs):
        if not out.requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
        given = grad_outputs[i] if grad_outputs else None
        if given is None:
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            cotangents.append(None)  # made inside the compiled VJP: no eager op per backward
            continue
        if not isinstance(given, Tensor):
            given = new_tensor(jnp.asarray(given))
        if given.shape != out.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {given.shape} and "
                f"output[{i}] has a shape of {out.shape}."
            )
        cotangents.append(given if given.dtype is out.dtype else given.to(out.dtype))
    return cotangents


def _gradients(
    plan: Plan,
    cotangents: list[Tensor | None],
    create_graph: bool,
    accumulated: list[jax.Array | None] | None = None,
) -> list[Tensor]:
    """Gradients for the plan's wanted leaf slots, then perturbed nodes (plus ``accumulated``).

    The same compiled call gives the roots' forward values: deferred roots take them, so
    ``loss.item()`` after ``loss.backward()`` computes nothing more.
    """
    plan, hooks = _hooks.hooked_plan(plan)
    if create_graph:
        if any(place != _graph.HOOK_LEAF for place, _ in plan.key.hooked):
            raise UnsupportedError(
                "hooks on non-leaf tensors, grad_fn hooks and module backward hooks with "
                "create_graph=True (torch runs them again in a backward through the recorded "
                "gradient; fdiff.torch's recorded gradient reaches the leaves directly)"
            )
        if any(
            kind == _graph.REF_REBASED for node in plan.key.nodes for kind, _ in node[2]
        ):  # the recorded gradient would treat the changed value as a constant
            raise UnsupportedError(
                "create_graph=True through a tensor changed in place under no_grad (or through "
                "`.data`): its second derivative would differ from torch's"
            )
        if any(t.requires_grad for t in plan.unpacked):  # its graph would be differentiated
            raise UnsupportedError(
                "torch.autograd.graph.saved_tensors_hooks (an unpack_hook returning a new "
                "tensor that requires grad, with create_graph=True)"
            )
        return _recorded_gradients(plan, cotangents, _hooks.traced_hook(hooks) if hooks else None)
    compiled = (
        _graph.compiled_gradients(plan.key, _hooks.hook_point)
        if hooks
        else _graph.compiled_gradients(plan.key)
    )
    roots, values = _hooks.run_hooked(
        hooks,
        compiled,
        [leaf.value for leaf in plan.leaves],
        plan.consts,
        plan.scalars,
        [None if c is None else c._value for c in cotangents],
        accumulated,
    )
    for i, value in zip(plan.key.roots, roots, strict=True):
        node = plan.nodes[i]
        if node.value is None:
            node.value = value
    return [new_tensor(g) for g in values]


def _recorded_gradients(
    plan: Plan, cotangents: list[Tensor | None], hook: Callable | None = None
) -> list[Tensor]:
    """The gradients as recorded ops, each with edges only to the leaves and ``gradient``
    tensors it depends on (torch's double-backward graph): a gradient that depends on none of
    them does not require grad, and a second backward leaves the others' ``.grad`` alone.
    ``hook`` runs the plan's backward hooks as the VJP is traced."""
    cotangents = [
        new_tensor(jnp.ones(node.shape, node.dtype)) if c is None else c
        for node, c in zip((plan.nodes[i] for i in plan.key.roots), cotangents, strict=True)
    ]
    leaves = [leaf.value for leaf in plan.leaves]
    values = [*leaves, *plan.consts, *plan.scalars, *(c._value for c in cotangents)]
    # Where a gradient uses a leaf or cotangent, the tensor enters: the node records an edge.
    tensors = {i: leaf.tensor for i, leaf in enumerate(plan.leaves)}
    tensors.update(enumerate(cotangents, len(values) - len(cotangents)))
    counts = (len(plan.leaves), len(plan.consts), len(plan.scalars))
    uses = _gradient_dependence(plan.key, tuple(_abstract(v) for v in values), counts, hook)
    reads = _fused_reads(plan)
    targets = [*plan.key.wanted_leaves, *(id(node) for node in plan.perturbed)]
    uses = [
        used | reads.get(target, frozenset()) for used, target in zip(uses, targets, strict=True)
    ]
    hooked = {"hook": hook} if hook is not None else {}
    return [
        apply(
            ops.replayed_gradient,
            *(tensors[i] if i in used and i in tensors else v for i, v in enumerate(values)),
            key=plan.key,
            counts=counts,
            index=index,
            **hooked,
        )
        for index, used in enumerate(uses)
    ]


def _fused_reads(plan: Plan) -> dict[Any, frozenset[int]]:
    """Per leaf slot or perturbed node id, the leaf slots torch's fused backward calls above it
    read (``_saving.FUSED_BACKWARD``)."""
    refs = {id(node): entry[2] for node, entry in zip(plan.nodes, plan.key.nodes, strict=True)}

    def edge(kind: int, i: Any) -> Any:
        if kind == _graph.REF_LEAF:
            return i
        if kind in (_graph.REF_NODE, _graph.REF_REBASED):
            return plan.nodes[i if kind == _graph.REF_NODE else i[0]]
        return None

    return fused_reads(
        plan.nodes,
        lambda node: [edge(kind, i) for kind, i in refs[id(node)]],
        lambda node: node.spec.name,
        FUSED_BACKWARD,
    )


def _abstract(value: Any) -> jax.ShapeDtypeStruct | None:
    if value is None:
        return None
    aval = jax.typeof(value)
    return jax.ShapeDtypeStruct(aval.shape, aval.dtype, weak_type=aval.weak_type)


@_caches.lru_cache(maxsize=512)
def _gradient_dependence(
    key: _graph.GraphKey, specs: tuple, counts: tuple[int, int, int], hook: Callable | None
) -> tuple[frozenset[int], ...]:
    """Per gradient of graph ``key``, the positions of the ``replayed_gradient`` arguments
    (leaves, consts, scalars, cotangents; ``specs`` their shapes and dtypes) it depends on."""

    def grads(*values):
        return ops.replayed_gradient.impl(
            *values, key=key, counts=counts, index=slice(None), hook=hook
        )

    return float_dependence(grads, *specs)


def _existing_grads(tensors: list[Tensor]) -> list[jax.Array | None]:
    """Per gradient slot, the ``.grad`` value the compiled backward adds it to (first slot of
    each tensor, when its grad is a plain tensor), else ``None``."""
    seen: set[int] = set()
    existing = []
    for tensor in tensors:
        old = tensor._grad
        first = id(tensor) not in seen
        seen.add(id(tensor))
        existing.append(old._value if first and old is not None and not old.requires_grad else None)
    return existing


def _accumulate(tensor: Tensor, grad: Tensor) -> None:
    """``tensor.grad += grad``, in place when a grad exists (torch keeps the same object)."""
    check_grad_escape(tensor, grad._storage[0])
    if tensor._grad is None:
        tensor._grad = grad
    elif grad.requires_grad or tensor._grad.requires_grad:
        tensor._grad = tensor._grad + grad
    else:
        tensor._grad._storage[0] = _add_jit(tensor._grad._value, grad._value)


def _captured_backward(outs: list[Tensor], cotangents: list, retain: bool) -> bool:
    """``backward`` recorded into the capture trace (``_capture.backward``), when it can be:
    one output, its implicit gradient, no backward hook on its graph."""
    if len(outs) != 1 or cotangents[0] is not None:
        return False
    grads = _capture.backward(outs[0]._node, retain)
    if grads is None:
        return False
    for tensor, node in grads:
        if tensor._grad is None:
            tensor._grad = new_tensor(node)
        else:
            tensor._grad._storage[0] = node  # in place: torch keeps the .grad object
        node.trace.hold(tensor._grad._storage, node)
    _hooks.run_post_accumulate_hooks([tensor for tensor, _ in grads])
    return True


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves below them.

    >>> import fdiff.torch as torch
    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> backward((x ** 2).sum())
    >>> x.grad
    tensor([2., 4.])
    """
    outputs = _as_list(tensors)
    cotangents = _cotangents(outputs, _as_list(grad_tensors))
    if create_graph:
        warnings.warn(_CREATE_GRAPH_WARNING, UserWarning, stacklevel=3)
    retain = create_graph if retain_graph is None else retain_graph
    only = {id(t) for t in _as_list(inputs)} if inputs is not None else None
    leaf_outputs = [(o, c) for o, c in zip(outputs, cotangents, strict=True) if o.is_leaf]
    for out, cot in leaf_outputs:
        if only is None or id(out) in only:
            _accumulate(out, new_tensor(jnp.ones_like(out._value)) if cot is None else cot)
    graph = [(o, c) for o, c in zip(outputs, cotangents, strict=True) if not o.is_leaf]
    if not graph:
        return
    outs, cots = (list(x) for x in zip(*graph, strict=True))
    if only is None and not create_graph and _captured_backward(outs, cots, retain):
        return

    def retained_tensor(node: Node) -> Tensor | None:
        tensor = node.retained() if node.retained is not None else None
        if tensor is None or tensor._node is not node:
            return None
        return tensor if only is None or id(tensor) in only else None

    plan = _graph.plan(
        [out._node for out in outs],
        lambda node: retained_tensor(node) is not None,
        lambda leaf: only is None or id(leaf.tensor) in only,
    )
    wanted = [plan.leaves[i].tensor for i in plan.key.wanted_leaves]
    targets = [*wanted, *(retained_tensor(node) for node in plan.perturbed)]
    # The compiled backward also adds the existing .grad values: no separate add per leaf.
    existing = None if create_graph else _existing_grads(targets)
    grads = _gradients(plan, cots, create_graph, existing)
    if not retain:
        _graph.free(plan.nodes)
    for i, (tensor, grad) in enumerate(zip(targets, grads, strict=True)):
        if existing is not None and existing[i] is not None:
            tensor._grad._storage[0] = grad._value  # in place: torch keeps the .grad object
        else:
            _accumulate(tensor, grad)
    _hooks.run_post_accumulate_hooks(wanted)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned (``.grad`` is untouched).

    >>> import fdiff.torch as torch
    >>> x = torch.tensor(3.0, requires_grad=True)
    >>> (dx,) = grad(x ** 3, x, create_graph=True)
    >>> dx, grad(dx, x)[0]
    (tensor(27., grad_fn=<ReplayedGradBackward>), tensor(18.))
    """
    outs = _as_list(outputs)
    targets = _as_list(inputs)
    cotangents = _cotangents(outs, _as_list(grad_outputs))
    for t in targets:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    # An output that is a leaf (``x.contiguous()`` returns ``x``) passes its cotangent through.
    passed = {}
    for out, cot in zip(outs, cotangents, strict=True):
        if out.is_leaf:
            cot = new_tensor(jnp.ones_like(out._value)) if cot is None else cot
            passed[id(out)] = passed[id(out)] + cot if id(out) in passed else cot
    graph = [(o, c) for o, c in zip(outs, cotangents, strict=True) if not o.is_leaf]
    if not graph:
        return _per_target(targets, None, [], allow_unused, passed)
    outs, cotangents = (list(x) for x in zip(*graph, strict=True))
    wanted_ids = {id(t) for t in targets if t.is_leaf}
    non_leaf_ids = {id(t._node) for t in targets if not t.is_leaf}
    roots = [out._node for out in outs]
    hooked = any(node_hooks.get(t._node) or pre_hooks.get(t._node) for t in targets if t._node)
    if create_graph and non_leaf_ids and not hooked and not non_leaf_ids & {id(r) for r in roots}:
        # the gradients' graph must reach the non-leaf targets themselves: cut the graph there
        cuts = {id(t._node): t for t in targets if not t.is_leaf}
        wanted_ids |= {id(t) for t in cuts.values()}
        plan = _graph.plan_above(roots, cuts, lambda leaf: id(leaf.tensor) in wanted_ids)
    else:
        plan = _graph.plan(
            roots,
            lambda node: id(node) in non_leaf_ids,
            lambda leaf: id(leaf.tensor) in wanted_ids,
        )
    grads = _gradients(plan, cotangents, create_graph)
    if not (create_graph if retain_graph is None else retain_graph):
        _graph.free(plan.nodes)
    return _per_target(targets, plan, grads, allow_unused, passed)


def _per_target(
    targets: list[Tensor],
    plan: Plan | None,
    grads: list[Tensor],
    allow_unused: bool,
    passed: dict[int, Tensor],
) -> tuple[Tensor | None, ...]:
    """Each target's gradient: the plan's, plus ``passed`` (leaf outputs' cotangents by id)."""
    by_leaf: dict[int, Tensor] = dict(passed)
    node_grads: dict[int, Tensor] = {}
    if plan is not None:
        n_leaves = len(plan.key.wanted_leaves)
        for slot, g in zip(plan.key.wanted_leaves, grads[:n_leaves], strict=True):
            ident = id(plan.leaves[slot].tensor)
            by_leaf[ident] = by_leaf[ident] + g if ident in by_leaf else g
        node_grads = dict(zip((id(n) for n in plan.perturbed), grads[n_leaves:], strict=True))
    result: list[Tensor | None] = []
    for i, t in enumerate(targets):
        g = by_leaf.get(id(t)) if t.is_leaf or id(t) in by_leaf else node_grads.get(id(t._node))
        if g is None and not allow_unused:
            raise RuntimeError(
                f"The differentiated Tensor at index {i} appears to not have been used in the "
                "graph. Set allow_unused=True if this is the desired behavior."
            )
        result.append(g)
    return tuple(result)


class Functionalized(NamedTuple):
    """A recorded program as a pure JAX function of its leaves (see :func:`functionalize`)."""

    fn: Callable[..., jax.Array]
    leaves: tuple[Tensor, ...]
    args: tuple[jax.Array, ...]


def functionalize(output: Tensor) -> Functionalized:
    """The program that computed ``output``, as a pure function of the leaves requiring grad.

    Constants (tensors that do not require grad) are baked in; ``fn(*args)`` recomputes
    ``output``'s value, ready for ``jax.jacrev``, ``jax.hessian`` or ``jax.make_jaxpr``.
    Python control flow is frozen, as in ``torch.jit.trace``: ``fn`` replays the ops that ran,
    so a value computed from the leaves and read into Python before ``output`` was computed
    (``if h.sum() > 0:``, ``.item()``) warns with :class:`fdiff.errors.TraceWarning`, naming
    the line (see :mod:`fdiff.torch._python_reads`).

    >>> import jax
    >>> import fdiff.torch as torch
    >>> a = torch.tensor([3.0], requires_grad=True)
    >>> b = torch.tensor([2.0], requires_grad=True)
    >>> program = functionalize(3 * a**3 + 2 * b**4)
    >>> [float(g[0, 0]) for g in jax.jacrev(program.fn, argnums=(0, 1))(*program.args)]
    [81.0, 64.0]
    """
    if output._node is None:
        raise ValueError(
            "functionalize needs a tensor computed from tensors that require grad; "
            "this one is a leaf with no recorded program"
        )
    plan = _graph.plan([output._node])
    python_reads.warn_frozen_reads(output._node, plan.leaves, stacklevel=2)
    leaves: dict[int, Tensor] = {}
    for leaf in plan.leaves:
        leaves.setdefault(id(leaf.tensor), leaf.tensor)
    order = list(leaves)
    slot_to_arg = [order.index(id(leaf.tensor)) for leaf in plan.leaves]
    key, consts, scalars = plan.key, plan.consts, plan.scalars

    def fn(*args: jax.Array) -> jax.Array:
        if len(args) != len(order):
            raise TypeError(f"this program takes {len(order)} leaf arrays, got {len(args)}")
        return _graph.replay(key, [args[i] for i in slot_to_arg], consts, scalars)[0]

    leaf_tensors = tuple(leaves.values())
    return Functionalized(fn, leaf_tensors, tuple(t._value for t in leaf_tensors))
