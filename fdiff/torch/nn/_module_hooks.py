"""Module hooks: ``register_forward_pre_hook``, ``register_forward_hook``,
``register_full_backward_pre_hook``, ``register_full_backward_hook``, and ``Module.__call__``
running them in torch's order.

Forward hooks are plain calls around ``forward``. Backward hooks work as torch's do: the tensor
inputs and outputs of the call pass through an identity (``BackwardHookFunctionBackward``)
whose gradients are caught by tensor hooks (:mod:`~fdiff.torch._hooks`), so they run inside the
compiled backward: ``hook(module, grad_output)`` when the outputs' gradients arrive, then
``hook(module, grad_input, grad_output)`` when the inputs' do (or at once, with ``grad_input``
all ``None`` and torch's warning, when no input requires grad). A replacement for more than one
input or output gradient raises :class:`~fdiff.torch.UnsupportedError` (the gradients arrive in
separate callbacks).

>>> import fdiff.torch as torch
>>> layer = torch.nn.Linear(2, 1)
>>> seen = []
>>> handle = layer.register_forward_hook(lambda module, args, output: seen.append(output.shape))
>>> _ = layer(torch.ones(3, 2))
>>> seen
[torch.Size([3, 1])]
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from fdiff.torch import _nn_ops
from fdiff.torch._dispatch import apply
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._grad_mode import is_grad_enabled
from fdiff.torch._hook_tables import RemovableHandle
from fdiff.torch._hooks import register_hook
from fdiff.torch._tensor_base import TensorBase

_NO_INPUT_GRAD_WARNING = (
    "Full backward hook is firing when gradients are computed with respect to module outputs "
    "since no inputs require gradients. See "
    "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
    "#torch.nn.Module.register_full_backward_hook for more details."
)


def _hooks(module: Any, kind: str) -> dict:
    """The module's hooks of one kind (``id -> (hook, with_kwargs)``), created on first use."""
    table = module.__dict__.get(kind)
    if table is None:
        table = {}
        object.__setattr__(module, kind, table)
    return table


def _add(module: Any, kind: str, entry: tuple, prepend: bool) -> RemovableHandle:
    table = _hooks(module, kind)
    handle = RemovableHandle(table)
    if prepend:
        rest = dict(table)
        table.clear()
        table[handle.id] = entry
        table.update(rest)
    else:
        table[handle.id] = entry
    return handle


def register_forward_pre_hook(
    module: Any, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False
) -> RemovableHandle:
    """``hook(module, args)`` (or ``(module, args, kwargs)``) before ``forward``; it may return
    new args (or ``(args, kwargs)``)."""
    return _add(module, "_forward_pre_hooks", (hook, with_kwargs), prepend)


def register_forward_hook(
    module: Any,
    hook: Callable,
    *,
    prepend: bool = False,
    with_kwargs: bool = False,
    always_call: bool = False,
) -> RemovableHandle:
    """``hook(module, args, output)`` (or ``(module, args, kwargs, output)``) after
    ``forward``; it may return a new output."""
    if always_call:
        raise UnsupportedError("Module.register_forward_hook(always_call=True)")
    return _add(module, "_forward_hooks", (hook, with_kwargs), prepend)


def register_full_backward_pre_hook(
    module: Any, hook: Callable, prepend: bool = False
) -> RemovableHandle:
    """``hook(module, grad_output)`` when the outputs' gradients are computed."""
    return _add(module, "_backward_pre_hooks", (hook, False), prepend)


def register_full_backward_hook(
    module: Any, hook: Callable, prepend: bool = False
) -> RemovableHandle:
    """``hook(module, grad_input, grad_output)`` when the inputs' gradients are computed; it
    may return new ``grad_input``."""
    return _add(module, "_backward_hooks", (hook, False), prepend)


def call(module: Any, args: tuple, kwargs: dict) -> Any:
    """``module(*args, **kwargs)``: pre-hooks, ``forward``, forward hooks, backward hooks."""
    pre = module.__dict__.get("_forward_pre_hooks")
    post = module.__dict__.get("_forward_hooks")
    backward = module.__dict__.get("_backward_hooks") or module.__dict__.get("_backward_pre_hooks")
    if not (pre or post or backward):
        return module.forward(*args, **kwargs)
    for hook, with_kwargs in list((pre or {}).values()):
        if with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    hooked = _BackwardCall(module, args) if backward and is_grad_enabled() else None
    if hooked is not None:
        args = hooked.inputs()
    output = module.forward(*args, **kwargs)
    for hook, with_kwargs in list((post or {}).values()):
        result = hook(module, args, kwargs, output) if with_kwargs else hook(module, args, output)
        if result is not None:
            output = result
    return output if hooked is None else hooked.outputs(output)


def _identity(tensor: TensorBase) -> TensorBase:
    return apply(_nn_ops.backward_hook_function, tensor)


class _BackwardCall:
    """One call's backward hooks: its inputs' and outputs' gradients, as they arrive."""

    def __init__(self, module: Any, args: tuple) -> None:
        self.module = module
        self.args = args
        tensors = [i for i, a in enumerate(args) if isinstance(a, TensorBase)]
        self.tensor_positions = tensors
        self.grad_positions = [i for i in tensors if args[i].requires_grad]
        self.grad_inputs: list[Any] = [None] * len(tensors)
        self.pending_inputs = len(self.grad_positions)
        self.grad_outputs: list[Any] = []
        self.pending_outputs = 0

    def inputs(self) -> tuple:
        args = list(self.args)
        for k, i in enumerate(self.tensor_positions):
            if args[i].requires_grad:
                args[i] = _identity(args[i])
                register_hook(args[i], lambda grad, k=k: self._input_grad(k, grad))
        return tuple(args)

    def outputs(self, output: Any) -> Any:
        single = isinstance(output, TensorBase)
        outputs = [output] if single else list(output) if isinstance(output, tuple) else None
        if outputs is None:
            return output
        self.grad_outputs = [None] * len(outputs)
        for k, out in enumerate(outputs):
            if isinstance(out, TensorBase) and out.requires_grad:
                outputs[k] = _identity(out)
                self.pending_outputs += 1
                register_hook(outputs[k], lambda grad, k=k: self._output_grad(k, grad))
        return outputs[0] if single else tuple(outputs)

    def _output_grad(self, k: int, grad: TensorBase) -> TensorBase | None:
        self.grad_outputs[k] = grad
        self.pending_outputs -= 1
        if self.pending_outputs:
            return None
        for hook, _ in list(self.module.__dict__.get("_backward_pre_hooks", {}).values()):
            result = hook(self.module, tuple(self.grad_outputs))
            if result is not None:
                self._replace(self.grad_outputs, result, "register_full_backward_pre_hook")
        if not self.pending_inputs:
            warnings.warn(_NO_INPUT_GRAD_WARNING, UserWarning, stacklevel=2)
            self._call_backward_hooks()
        return self.grad_outputs[k]

    def _input_grad(self, k: int, grad: TensorBase) -> TensorBase | None:
        self.grad_inputs[k] = grad
        self.pending_inputs -= 1
        if self.pending_inputs:
            return None
        self._call_backward_hooks()
        return self.grad_inputs[k]

    def _call_backward_hooks(self) -> None:
        for hook, _ in list(self.module.__dict__.get("_backward_hooks", {}).values()):
            result = hook(self.module, tuple(self.grad_inputs), tuple(self.grad_outputs))
            if result is not None:
                self._replace(self.grad_inputs, result, "register_full_backward_hook")

    @staticmethod
    def _replace(grads: list, result: Any, name: str) -> None:
        result = list(result) if isinstance(result, tuple | list) else [result]
        if len(result) != len(grads):
            kind = "grad_input" if name == "register_full_backward_hook" else "grad_output"
            raise RuntimeError(
                f"Backward hook returned an invalid number of {kind}, got {len(result)}, but "
                f"expected {len(grads)}"
            )
        if sum(g is not None for g in grads) > 1 and any(
            r is not g for r, g in zip(result, grads, strict=True)
        ):
            raise UnsupportedError(f"Module.{name} replacing more than one gradient")
        grads[:] = result
