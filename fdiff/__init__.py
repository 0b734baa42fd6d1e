"""fdiff: PyTorch autograd examples as pure JAX functions, cross-checked against torch.

The functional toolkit (``accumulate``, ``backward``, ``retained_vjp``, ``tap`` /
``intermediate_grads``, ``grad_fn_names``) is re-exported here; the torch-compatible layer is
``fdiff.torch``, the seed catalog ``fdiff.examples``. Gradient fields (``gradient_field``,
``descent_paths``, ``parse_expression``) are re-exported too; their plots live in
``fdiff.fields.plot`` (imported on demand, as it loads matplotlib).

>>> import jax.numpy as jnp
>>> import fdiff
>>> fdiff.backward(lambda p: (2.0 * p[0] + p[1] - 3.0) ** 2, jnp.array([1.0, 3.0]))[1]
(Array([8., 4.], dtype=float32),)
"""

from fdiff.fields.expr import Expression, ExpressionError, parse_expression
from fdiff.fields.field import (
    DescentPath,
    GradientField,
    descent_path,
    descent_paths,
    gradient_field,
)
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
    "DescentPath",
    "Expression",
    "ExpressionError",
    "GradientField",
    "accumulate",
    "backward",
    "descent_path",
    "descent_paths",
    "grad_fn_names",
    "gradient_field",
    "intermediate_grads",
    "output_grad_fn",
    "parse_expression",
    "retained_vjp",
    "tap",
    "zeros_like_tree",
]
