"""``torch.autograd.graph``: ``Node``, the type of every ``grad_fn`` and ``AccumulateGrad``.

``isinstance(t.grad_fn, torch.autograd.graph.Node)`` holds as in torch, and a node offers
torch's ``name()``, ``next_functions``, ``register_hook``, ``register_prehook`` (and
``AccumulateGrad.variable``).
``saved_tensors_hooks`` raises :class:`~fdiff.torch.UnsupportedError`: fdiff.torch saves no
tensors one op at a time (backward replays the recorded program), so there is nothing to pack.

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

from fdiff.torch import _graph
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._missing import missing_names

__all__ = ["Node", "saved_tensors_hooks"]
__getattr__ = missing_names(__name__, "torch.autograd.graph")


class Node(abc.ABC):  # noqa: B024 - an ABC for isinstance checks, as torch's
    """The abstract type of autograd graph nodes (``grad_fn``, ``AccumulateGrad``)."""


Node.register(_graph.Node)
Node.register(_graph.AccumulateGrad)
Node.register(_graph.MultiOutputNode)


class saved_tensors_hooks:
    """torch's pack/unpack hooks for saved tensors: not supported (see the module docs)."""

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]):
        raise UnsupportedError("torch.autograd.graph.saved_tensors_hooks")
