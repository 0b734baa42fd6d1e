"""Backward hooks: ``Tensor.register_hook``, ``grad_fn.register_prehook``/``register_hook``
and ``Tensor.register_post_accumulate_grad_hook``, run inside the one compiled backward.

A hooked gradient is marked in the replayed graph (``GraphKey.hooked``) by an identity whose
derivative is a ``jax.experimental.io_callback``: when the compiled VJP reaches it, the callback
calls the hooks on the host with the gradient as a tensor and hands on what they return. So a
hook sees torch's values and can replace the gradient, and the compiled backward stays cached per
graph structure: the slots are positions, and the hooks of the current backward are looked up at
run time (:data:`_active`). Hooks on one tensor run in registration order, a tensor's hooks
before its ``retain_grad`` capture and before its ``grad_fn``'s pre-hooks, as torch runs them;
hooks on tensors in independent branches run in the order XLA schedules them. A hook that raises
stops the backward with its exception. A ``grad_fn`` hook wraps its node's op in a custom VJP
that hands the op's input gradients to the hooks (a ``None`` it returns for an input's gradient
raises :class:`~fdiff.torch.UnsupportedError`: torch leaves that input without a gradient, which
the compiled VJP cannot express). With ``create_graph=True`` a callback would have no
derivative, so a leaf's hooks run while JAX traces the recorded VJP instead
(:func:`traced_hook`); other hooks with ``create_graph=True`` raise
:class:`~fdiff.torch.UnsupportedError` (torch runs a non-leaf's hooks again in a later backward
through the recorded gradient, whose graph in fdiff.torch reaches the leaves directly).

>>> import fdiff.torch as torch
>>> x = torch.tensor([1.0, 2.0], requires_grad=True)
>>> y = x * 2
>>> handle = y.register_hook(lambda g: g * 10)
>>> y.sum().backward()
>>> x.grad
tensor([20., 20.])
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import io_callback

from fdiff.torch._errors import UnsupportedError
from fdiff.torch._graph import (
    HOOK_LEAF,
    HOOK_NODE,
    HOOK_PRE,
    HOOK_TENSOR,
    AccumulateGrad,
    Node,
    Plan,
    Rebased,
)
from fdiff.torch._hook_tables import (
    RemovableHandle,
    leaf_hooks,
    node_hooks,
    post_accumulate_hooks,
    post_hooks,
    pre_hooks,
    register,
)
from fdiff.torch._tensor_base import TensorBase, new_tensor


def register_hook(tensor: TensorBase, hook: Callable[[Any], Any]) -> RemovableHandle:
    """``Tensor.register_hook``: ``hook(grad)`` runs when the tensor's gradient is computed and
    may return a replacement."""
    if not (tensor._node is not None or tensor._requires_grad):
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if tensor._node is None:
        return register(leaf_hooks, tensor, hook)
    return register(node_hooks, tensor._node, hook)


def register_post_accumulate_grad_hook(tensor: TensorBase, hook: Callable) -> RemovableHandle:
    """``Tensor.register_post_accumulate_grad_hook``: ``hook(tensor)`` after ``.grad`` is set."""
    if tensor._node is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if not tensor._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    return register(post_accumulate_hooks, tensor, hook)


def run_post_accumulate_hooks(tensors: list[TensorBase]) -> None:
    """Call the post-accumulate hooks of these leaves (each leaf once)."""
    seen: set[int] = set()
    for tensor in tensors:
        if id(tensor) in seen or tensor._node is not None:
            continue
        seen.add(id(tensor))
        for hook in list(post_accumulate_hooks.get(tensor).values()):
            hook(tensor)


# --- hooks inside the compiled backward -------------------------------------------------------


class _Slot:
    """The hooks of one hook slot: a tensor's (``hook(grad)``), a node's pre-hooks
    (``hook(grad_outputs)``) or a node's hooks (``hook(grad_inputs, grad_outputs)``, with which
    of its inputs have a gradient)."""

    __slots__ = ("differentiable", "hooks", "kind")

    def __init__(self, hooks: list[Callable], kind: str, differentiable: tuple = ()) -> None:
        self.hooks = hooks
        self.kind = kind
        self.differentiable = differentiable


_active: list[_Slot] = []  # the slots of the backward now running
_raised: list[BaseException] = []


def hooked_plan(plan: Plan) -> tuple[Plan, list[_Slot]]:
    """``plan`` with its hooked gradients marked in the key, and their hooks by slot."""
    places, slots = [], []
    for i, node in enumerate(plan.nodes):
        if post_hooks.get(node):
            places.append((HOOK_NODE, i))
            edges = tuple(isinstance(e, Node | AccumulateGrad | Rebased) for e in node.inputs)
            slots.append(_Slot(list(post_hooks.get(node).values()), "node", edges))
        if pre_hooks.get(node):
            places.append((HOOK_PRE, i))
            slots.append(_Slot(list(pre_hooks.get(node).values()), "pre"))
        if node_hooks.get(node):
            places.append((HOOK_TENSOR, i))
            slots.append(_Slot(list(node_hooks.get(node).values()), "tensor"))
    for i in plan.key.wanted_leaves:
        hooks = leaf_hooks.get(plan.leaves[i].tensor)
        if hooks:
            places.append((HOOK_LEAF, i))
            slots.append(_Slot(list(hooks.values()), "tensor"))
    if not places:
        return plan, []
    return plan._replace(key=plan.key._replace(hooked=tuple(places))), slots


def run_hooked(slots: list[_Slot], compiled: Callable[..., Any], *args: Any) -> Any:
    """``compiled(*args)`` with ``slots`` active; re-raises what a hook raised."""
    _active[:] = slots
    _raised.clear()
    if not slots:
        return compiled(*args)
    try:
        result = jax.block_until_ready(compiled(*args))
    finally:
        _active.clear()
    if _raised:
        error = _raised[0]
        _raised.clear()
        raise error
    return result


def _run_hooks(hooked: _Slot, grad: Any) -> Any:
    """The tensor or pre-hooks of one slot on ``grad`` (a tensor): the gradient flowing on."""
    for hook in hooked.hooks:
        pre = hooked.kind == "pre"
        result = hook((grad,) if pre else grad)
        if result is None:
            continue
        new = result[0] if pre else result
        if tuple(new.shape) != tuple(grad.shape):
            raise RuntimeError(
                f"hook '{getattr(hook, '__name__', hook)}' has changed the size of value"
            )
        grad = new
    return grad


def _call_hooks(slot: int, gradient: np.ndarray) -> np.ndarray:
    if _raised:
        return gradient
    try:
        grad = _run_hooks(_active[slot], new_tensor(jnp.asarray(gradient)))
        return np.asarray(grad._value, dtype=gradient.dtype)
    except BaseException as error:  # handed to run_hooked: XLA would wrap it
        _raised.append(error)
        return gradient


def traced_hook(slots: list[_Slot]) -> Callable[..., jax.Array]:
    """:func:`hook_point` for a ``create_graph=True`` backward (leaf hooks only): the hooks run
    while JAX traces the VJP, on tensors holding tracers, so what they compute is part of the
    recorded gradient and is differentiated again (a hook must compute with tensor ops; it runs
    once per trace, and a tensor it reads other than its gradient is a constant)."""
    kept = tuple(slots)

    def point(slot: int, value: jax.Array) -> jax.Array:
        return _traced_point(kept[slot], value)

    return point


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _traced_point(hooked: _Slot, value: jax.Array) -> jax.Array:
    return value


def _traced_point_fwd(hooked, value):
    return value, None


def _traced_point_bwd(hooked, _, gradient):
    result = _run_hooks(hooked, new_tensor(gradient))._value
    return (result.astype(gradient.dtype),)


_traced_point.defvjp(_traced_point_fwd, _traced_point_bwd)


def hook_point(slot: int, value: Any, *args: Any) -> jax.Array:
    """``value``, whose derivative calls the hooks of ``slot`` on its gradient; or, given an op
    and its arguments, the op's result, whose derivative calls the node hooks of ``slot`` with
    the gradients of the arguments."""
    if args:
        return _node_point(slot, value, args)
    return _gradient_point(slot, value)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _gradient_point(slot: int, value: jax.Array) -> jax.Array:
    return value


def _gradient_point_fwd(slot, value):
    return value, None


def _gradient_point_bwd(slot, _, gradient):
    shape = jax.ShapeDtypeStruct(gradient.shape, gradient.dtype)
    return (io_callback(functools.partial(_call_hooks, slot), shape, gradient),)


_gradient_point.defvjp(_gradient_point_fwd, _gradient_point_bwd)


def _node_point(slot: int, op: Callable[..., jax.Array], args: tuple) -> jax.Array:
    """``op(*args)`` with a derivative rule: the op's VJP, then the node hooks of ``slot``.
    Arrays are the rule's arguments; Python scalars stay as they are."""
    positions = [i for i, a in enumerate(args) if isinstance(a, jax.Array)]

    def run(*arrays):
        full = list(args)
        for i, a in zip(positions, arrays, strict=True):
            full[i] = a
        return op(*full)

    watched = jax.custom_vjp(run)

    def forward(*arrays):
        return run(*arrays), arrays

    def backward(arrays, gradient):
        grads = list(jax.vjp(run, *arrays)[1](gradient))
        floats = [k for k, a in enumerate(arrays) if jnp.issubdtype(a.dtype, jnp.inexact)]
        shapes = tuple(jax.ShapeDtypeStruct(grads[k].shape, grads[k].dtype) for k in floats)
        where = tuple(positions[k] for k in floats)
        call = functools.partial(_call_node_hooks, slot, where, len(args))
        hooked = io_callback(call, shapes, [grads[k] for k in floats], gradient)
        for k, new in zip(floats, hooked, strict=True):
            grads[k] = new
        return tuple(grads)

    watched.defvjp(forward, backward)
    return watched(*(args[i] for i in positions))


def _call_node_hooks(slot: int, where: tuple, count: int, grads: list, gradient: np.ndarray):
    """The node hooks of ``slot`` on ``(grad_inputs, grad_outputs)``; the new grad_inputs."""
    if _raised:
        return tuple(grads)
    try:
        hooked = _active[slot]
        inputs: list[Any] = [None] * count
        for i, g in zip(where, grads, strict=True):
            if hooked.differentiable[i]:
                inputs[i] = new_tensor(jnp.asarray(g))
        outputs = (new_tensor(jnp.asarray(gradient)),)
        for hook in hooked.hooks:
            result = hook(tuple(inputs), outputs)
            if result is not None:
                if len(result) != count:
                    raise RuntimeError(
                        f"hook '{getattr(hook, '__name__', hook)}' has returned an incorrect "
                        f"number of values (got {len(result)}, but expected {count})"
                    )
                inputs = list(result)
        if any(inputs[i] is None and hooked.differentiable[i] for i in where):
            raise UnsupportedError(
                "grad_fn.register_hook (a hook returning None for an input's gradient: torch "
                "leaves that input without one, the compiled backward cannot)"
            )
        return tuple(
            np.zeros_like(g) if inputs[i] is None else np.asarray(inputs[i]._value, g.dtype)
            for i, g in zip(where, grads, strict=True)
        )
    except BaseException as error:  # handed to run_hooked
        _raised.append(error)
        return tuple(grads)
