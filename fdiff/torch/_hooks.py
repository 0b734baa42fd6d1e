"""Backward hooks: ``Tensor.register_hook``, ``grad_fn.register_prehook`` and
``Tensor.register_post_accumulate_grad_hook``, run inside the one compiled backward.

A hooked gradient is marked in the replayed graph (``GraphKey.hooked``) by an identity whose
derivative is a ``jax.experimental.io_callback``: when the compiled VJP reaches it, the callback
calls the hooks on the host with the gradient as a tensor and hands on what they return. So a
hook sees torch's values and can replace the gradient, and the compiled backward stays cached per
graph structure: the slots are positions, and the hooks of the current backward are looked up at
run time (:data:`_active`). Hooks on one tensor run in registration order, a tensor's hooks
before its ``retain_grad`` capture and before its ``grad_fn``'s pre-hooks, as torch runs them;
hooks on tensors in independent branches run in the order XLA schedules them. A hook that raises
stops the backward with its exception. ``create_graph=True`` with hooks raises
:class:`~fdiff.torch.UnsupportedError` (a callback has no derivative).

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

from fdiff.torch._graph import HOOK_LEAF, HOOK_PRE, HOOK_TENSOR, Plan
from fdiff.torch._hook_tables import (
    RemovableHandle,
    leaf_hooks,
    node_hooks,
    post_accumulate_hooks,
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
    """The hooks of one hook slot: a tensor's (``hook(grad)``) or a node's pre-hooks."""

    __slots__ = ("hooks", "pre")

    def __init__(self, hooks: list[Callable], pre: bool) -> None:
        self.hooks = hooks
        self.pre = pre


_active: list[_Slot] = []  # the slots of the backward now running
_raised: list[BaseException] = []


def hooked_plan(plan: Plan) -> tuple[Plan, list[_Slot]]:
    """``plan`` with its hooked gradients marked in the key, and their hooks by slot."""
    places, slots = [], []
    for i, node in enumerate(plan.nodes):
        if pre_hooks.get(node):
            places.append((HOOK_PRE, i))
            slots.append(_Slot(list(pre_hooks.get(node).values()), pre=True))
        if node_hooks.get(node):
            places.append((HOOK_TENSOR, i))
            slots.append(_Slot(list(node_hooks.get(node).values()), pre=False))
    for i in plan.key.wanted_leaves:
        hooks = leaf_hooks.get(plan.leaves[i].tensor)
        if hooks:
            places.append((HOOK_LEAF, i))
            slots.append(_Slot(list(hooks.values()), pre=False))
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


def _call_hooks(slot: int, gradient: np.ndarray) -> np.ndarray:
    if _raised:
        return gradient
    try:
        hooked = _active[slot]
        grad = new_tensor(jnp.asarray(gradient))
        for hook in hooked.hooks:
            result = hook((grad,) if hooked.pre else grad)
            if result is None:
                continue
            new = result[0] if hooked.pre else result
            if tuple(new.shape) != tuple(grad.shape):
                raise RuntimeError(
                    f"hook '{getattr(hook, '__name__', hook)}' has changed the size of value"
                )
            grad = new
        return np.asarray(grad._value, dtype=gradient.dtype)
    except BaseException as error:  # handed to run_hooked: XLA would wrap it
        _raised.append(error)
        return gradient


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def hook_point(slot: int, value: jax.Array) -> jax.Array:
    """The identity; its derivative calls the hooks of ``slot`` on the gradient."""
    return value


def _hook_point_fwd(slot, value):
    return value, None


def _hook_point_bwd(slot, _, gradient):
    shape = jax.ShapeDtypeStruct(gradient.shape, gradient.dtype)
    return (io_callback(functools.partial(_call_hooks, slot), shape, gradient),)


hook_point.defvjp(_hook_point_fwd, _hook_point_bwd)
