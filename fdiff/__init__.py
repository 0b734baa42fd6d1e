"""fdiff: PyTorch autograd examples as pure JAX functions, cross-checked against torch.

The functional toolkit (``accumulate``, ``backward``, ``retained_vjp``, ``tap`` /
``intermediate_grads``, ``grad_fn_names``) is re-exported here; the torch-compatible layer is
``fdiff.torch``, the seed catalog ``fdiff.examples``, gradient fields ``fdiff.field`` and
``fdiff.plot``.

>>> import jax.numpy as jnp
>>> import fdiff
>>> fdiff.backward(lambda p: (2.0 * p[0] + p[1] - 3.0) ** 2, jnp.array([1.0, 3.0]))[1]
(Array([8., 4.], dtype=float32),)
"""

from fdiff.functional import (
    accumulate,
    backward,
    grad_fn_names,
    intermediate_grads,
    output_grad_fn,
    retained_vjp,
    tap,
    zeros_like_tree,
)

__all__ = [
    "accumulate",
    "backward",
    "grad_fn_names",
    "intermediate_grads",
    "output_grad_fn",
    "retained_vjp",
    "tap",
    "zeros_like_tree",
]
