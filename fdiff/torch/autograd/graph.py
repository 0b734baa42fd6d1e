"""``torch.autograd.graph``: ``Node``, the type of every ``grad_fn`` and ``AccumulateGrad``.

``isinstance(t.grad_fn, torch.autograd.graph.Node)`` holds as in torch, and a node offers
torch's ``name()``, ``next_functions``, ``register_hook``, ``register_prehook`` (and
``AccumulateGrad.variable``).
``saved_tensors_hooks(pack, unpack)`` runs ``pack`` on each tensor an op saves for backward
(which ones: ``fdiff.torch._saving.SAVES``, torch's choice) and ``unpack`` when a backward needs
it, in torch's order; the backward reads what ``unpack`` returns. For a saved input that is
exact (the op's VJP at the unpacked values); a saved output (``exp``, ``tanh``, ...) must unpack
to its own value, or backward raises :class:`~fdiff.torch.UnsupportedError` (the replay
differentiates ops from their inputs), as do custom ``Function``s under the hooks.

>>> import fdiff.torch as torch
>>> x = torch.ones(2, requires_grad=True)
>>> y = (x * 2).sum()
>>> isinstance(y.grad_fn, Node), y.grad_fn.next_functions[0][0].name()
(True, 'MulBackward0')
>>> isinstance(y.grad_fn.next_functions[0][0].next_functions[0][0], Node)
True
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any

from fdiff.torch import _graph, _saving
from fdiff.torch._missing import missing_names

__all__ = ["Node", "disable_saved_tensors_hooks", "save_on_cpu", "saved_tensors_hooks"]
__getattr__ = missing_names(__name__, "torch.autograd.graph")


class Node(abc.ABC):  # noqa: B024 - an ABC for isinstance checks, as torch's
    """The abstract type of autograd graph nodes (``grad_fn``, ``AccumulateGrad``)."""


Node.register(_graph.Node)
Node.register(_graph.AccumulateGrad)
Node.register(_graph.MultiOutputNode)


class saved_tensors_hooks:
    """Context manager: ``pack_hook(tensor)`` runs when an op saves a tensor for backward,
    ``unpack_hook(packed)`` when a backward reads it (and must return a tensor).

    >>> import fdiff.torch as torch
    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> calls = []
    >>> def pack(t):
    ...     calls.append("pack")
    ...     return t
    >>> def unpack(t):
    ...     calls.append("unpack")
    ...     return t * 10
    >>> with saved_tensors_hooks(pack, unpack):
    ...     y = x * x
    >>> y.sum().backward()
    >>> calls, x.grad
    (['pack', 'pack', 'unpack', 'unpack'], tensor([20., 40.]))
    """

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        _saving.push_hooks(self.pack_hook, self.unpack_hook)
        return self

    def __exit__(self, *exc: object) -> None:
        _saving.pop_hooks()


class save_on_cpu(saved_tensors_hooks):
    """torch's ``save_on_cpu``: saved tensors move to the CPU and back, which on fdiff.torch's
    CPU is the identity (``pin_memory`` and ``device_type`` change nothing here)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__(lambda t: (t.device, t.cpu()), lambda packed: packed[1].to(packed[0]))


class disable_saved_tensors_hooks:
    """Context manager: entering ``saved_tensors_hooks`` inside raises
    ``RuntimeError(error_message)``."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> None:
        _saving.push_disabled(self.error_message)

    def __exit__(self, *exc: object) -> None:
        _saving.pop_disabled()
