""":func:`store`: the one place a tensor's value is replaced in place outside autograd
(optimizer updates, batch norm's running statistics, ``Module.to``).

>>> import jax.numpy as jnp
>>> import fdiff.torch as torch
>>> w = torch.zeros(2)
>>> store(w, jnp.ones(2))
>>> w
tensor([1., 1.])
"""

from __future__ import annotations

import jax

from fdiff.torch._tensor_base import TensorBase


def store(tensor: TensorBase, value: jax.Array) -> None:
    """Write ``value`` into ``tensor`` in place, outside the graph, for every tensor sharing
    its storage (an in-place write's version-counter bump belongs here too)."""
    tensor._storage[0] = value
