"""torch-style code run on JAX values: tensors wrapping arrays (or tracers), and back.

``torch.func``, ``torch.autograd.functional`` and custom ``autograd.Function`` bodies are Python
functions of fdiff tensors. :func:`as_jax_function` turns one into a function of JAX arrays, so a
JAX transform (``jax.grad``, ``jax.vmap``, ``jax.custom_vjp``) can trace it: every fdiff op runs
its JAX implementation on the tracers, with grad mode off so nothing is recorded.

>>> import jax
>>> import jax.numpy as jnp
>>> cube_sum = as_jax_function(lambda x: (x**3).sum())
>>> jax.grad(cube_sum)(jnp.array([1.0, 2.0]))
Array([ 3., 12.], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax

from fdiff.torch._grad_mode import set_grad_enabled
from fdiff.torch._tensor_base import TensorBase, new_tensor


def to_tensors(tree: Any) -> Any:
    """Every JAX array in ``tree`` wrapped as a tensor that does not require grad."""
    return jax.tree_util.tree_map(
        lambda leaf: new_tensor(leaf) if isinstance(leaf, jax.Array) else leaf,
        tree,
        is_leaf=_is_tensor,
    )


def to_arrays(tree: Any) -> Any:
    """Every tensor in ``tree`` replaced by its JAX value."""
    return jax.tree_util.tree_map(
        lambda leaf: leaf._value if isinstance(leaf, TensorBase) else leaf, tree, is_leaf=_is_tensor
    )


def _is_tensor(x: Any) -> bool:
    return isinstance(x, TensorBase)


def as_jax_function(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (tensors in, tensors out, any pytree of them) as a function of JAX arrays, run with
    grad mode off: JAX, not the recorder, differentiates it."""

    def on_arrays(*args: Any, **kwargs: Any) -> Any:
        with set_grad_enabled(False):
            return to_arrays(fn(*to_tensors(args), **to_tensors(kwargs)))

    return on_arrays
