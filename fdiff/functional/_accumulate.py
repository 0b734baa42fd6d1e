"""Gradient accumulation as values: torch's ``.grad +=`` and ``.grad.zero_()``, state in, out.

>>> import jax.numpy as jnp
>>> zeros_like_tree(accumulate(None, [jnp.ones(2)]))
[Array([0., 0.], dtype=float32)]
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax.tree_util import keystr, tree_flatten_with_path

__all__ = ["accumulate", "zeros_like_tree"]


def accumulate(acc: Any, grads: Any) -> Any:
    """Add ``grads`` into the accumulated gradients ``acc`` (torch's ``.grad +=``), state in, out.

    Args:
        acc: The gradients so far (a pytree of arrays), or None for "nothing yet" (torch's
            ``.grad is None`` before the first backward).
        grads: New gradients with the same structure, shapes and dtypes as `acc`.

    Returns:
        ``grads`` if `acc` is None, else the leafwise sum ``acc + grads``.

    Raises:
        ValueError: If the pytree structures or a leaf's shapes differ.
        TypeError: If a leaf's dtypes differ.

    >>> import jax.numpy as jnp
    >>> acc = accumulate(None, {"w": jnp.array([1.0, 2.0])})
    >>> accumulate(acc, {"w": jnp.array([0.5, 0.5])})
    {'w': Array([1.5, 2.5], dtype=float32)}
    """
    if acc is None:
        return grads
    acc_leaves, acc_def = tree_flatten_with_path(acc)
    grad_leaves, grad_def = jax.tree.flatten(grads)
    if acc_def != grad_def:
        raise ValueError(
            f"Cannot accumulate: `grads` has structure {grad_def} but the accumulator has "
            f"structure {acc_def}. Pass gradients of the same pytree as before."
        )
    for (path, a), g in zip(acc_leaves, grad_leaves, strict=True):
        where = f"at `{keystr(path)}` " if path else ""
        if jnp.shape(a) != jnp.shape(g):
            raise ValueError(
                f"Cannot accumulate: the gradient {where}has shape {jnp.shape(g)} but the "
                f"accumulator has shape {jnp.shape(a)}."
            )
        if jnp.result_type(a) != jnp.result_type(g):
            raise TypeError(
                f"Cannot accumulate: the gradient {where}has dtype {jnp.result_type(g)} but the "
                f"accumulator has dtype {jnp.result_type(a)}. Cast one with `.astype`."
            )
    sums = [a + g for (_, a), g in zip(acc_leaves, grad_leaves, strict=True)]
    return jax.tree.unflatten(grad_def, sums)


def zeros_like_tree(tree: Any) -> Any:
    """Zeros shaped like every leaf of ``tree`` (torch's ``.grad.zero_()``, as a new value).

    Args:
        tree: A pytree of arrays (None stays None).

    Returns:
        The same structure with every leaf replaced by zeros of its shape and dtype.

    >>> import jax.numpy as jnp
    >>> zeros_like_tree((jnp.ones(2), None))
    (Array([0., 0.], dtype=float32), None)
    """
    return jax.tree.map(jnp.zeros_like, tree)
