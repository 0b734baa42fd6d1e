"""The functional core: torch's autograd idioms as pure functions over JAX transforms.

=============================================  ===============================================
torch                                          fdiff.functional / jax
=============================================  ===============================================
``p.grad += g`` / ``p.grad is None``           ``acc = accumulate(acc, grads)``, ``acc = None``
``p.grad.zero_()``                             ``acc = zeros_like_tree(acc)``
``y.backward()`` / ``y.backward(v)``           ``out, grads = backward(f, *xs, cotangent=v)``
only some inputs require grad; ``has_aux``      ``backward(f, *xs, argnums=0, has_aux=True)``
``y.backward(v, retain_graph=True)``, again    ``out, vjp_fn = retained_vjp(f, *xs)``
``b.retain_grad()``; ``b.grad``                ``tap("b", b)`` in ``f``; ``intermediate_grads``
``retain_grad()`` inside a loop                ``tap`` a stacked zero added through ``scan``'s xs
``y.grad_fn``                                  ``output_grad_fn(f, *xs)``, ``grad_fn_names``
``x.detach()`` / ``torch.no_grad()``           ``jax.lax.stop_gradient(x)`` (used directly)
=============================================  ===============================================

One private module per row group: ``_accumulate``, ``_vjp``, ``_intermediates``,
``_grad_fn_names``.

>>> import jax.numpy as jnp
>>> out, (grad,) = backward(lambda x: (x * x).sum(), jnp.array([3.0]))
>>> accumulate(grad, grad), output_grad_fn(lambda x: (x * x).sum(), jnp.array([3.0]))
(Array([12.], dtype=float32), 'SumBackward0')
"""

from fdiff.functional._accumulate import accumulate, zeros_like_tree
from fdiff.functional._grad_fn_names import grad_fn_names, output_grad_fn
from fdiff.functional._intermediates import intermediate_grads, tap
from fdiff.functional._vjp import backward, retained_vjp

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
