"""``TensorBase``: a tensor's storage and graph link, what the modules below ``Tensor`` see.

A tensor's value lives in a one-element list (its storage) so that ``detach()``, ``.data`` and
``Variable(t)`` share it with the original, as torch's views of one storage do: an in-place op on
either is seen by both. A recorded op's result is deferred: the storage then holds the
:class:`~fdiff.torch._graph.Node` until ``_value`` computes it, so every sharer sees the value.

The dispatcher, autograd and the creation functions make tensors with :func:`new_tensor` and
test for them with ``isinstance(x, TensorBase)``; the class they get is
:class:`~fdiff.torch._tensor.Tensor`, which declares itself with ``returned_by_ops=True`` (it
lists torch's whole API and so sits above every module that computes).

>>> import fdiff.torch as torch
>>> type(new_tensor(torch.ones(2)._value)) is torch.Tensor
True
"""

from __future__ import annotations

from typing import Any

import jax

from fdiff.torch._graph import Node, materialize


class Cell(list):
    """A tensor's storage: a one-element list holding its value (an array, or the node of a
    deferred result), shared by ``detach()`` and ``.data`` twins; ``views`` holds (weakly) the
    views of the tensors that own it (see :mod:`~fdiff.torch._views`)."""

    __slots__ = ("__weakref__", "views")  # weakly held by a capture trace (``_capture``)


class TensorBase:
    """The state every tensor has: ``_storage`` (shared), ``_node`` (its grad_fn, or None for
    a leaf), ``_requires_grad`` (a leaf's flag), ``_grad`` and ``_retains_grad``; ``_view``
    (a :class:`~fdiff.torch._views.ViewInfo` when it is a view) and ``_counter`` (its version
    counter, made on first use) default to None."""

    __array_priority__ = 1000  # numpy scalars defer to our reflected operators
    _view: Any = None
    _counter: Any = None
    _strides: Any = None  # see fdiff.torch._views.strides

    def __init_subclass__(cls, returned_by_ops: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if returned_by_ops:
            global _returned_class
            _returned_class = cls

    def _init(self, value: jax.Array | Node, node: Node | None, requires_grad: bool) -> None:
        self._storage = Cell((value,))
        self._node = node
        self._requires_grad = requires_grad
        self._grad: Any = None
        self._retains_grad = False

    @property
    def _value(self) -> jax.Array:
        value = self._storage[0]
        if value.__class__ is Node:  # a deferred result: compute it now, for every sharer
            value = self._storage[0] = materialize(value)
        return value


_returned_class: type[TensorBase] = TensorBase


def new_tensor(
    value: jax.Array | Node, node: Node | None = None, requires_grad: bool = False
) -> Any:
    """A new tensor (a :class:`~fdiff.torch._tensor.Tensor`) holding ``value``."""
    tensor = object.__new__(_returned_class)
    tensor._init(value, node, requires_grad)
    return tensor
