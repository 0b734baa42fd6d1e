"""fdiff: PyTorch autograd examples as pure JAX functions, cross-checked against torch.

The package is laid out by feature:

- :mod:`fdiff.functional`: torch's autograd idioms as pure functions (``accumulate``,
  ``backward``, ``retained_vjp``, ``tap`` / ``intermediate_grads``, ``grad_fn_names``);
- :mod:`fdiff.torch`: torch-style code on JAX, with torch's autograd rules;
- :mod:`fdiff.examples`: the catalog of seed examples; :mod:`fdiff.crosscheck` scores them;
- :mod:`fdiff.compare`: a script under real torch and under ``fdiff.torch``, side by side;
- :mod:`fdiff.fields`: gradient fields, descent paths, the expression parser, plots;
- :mod:`fdiff.landscape`: loss landscapes of parameter pytrees (planes, PCA of trajectories);
- :mod:`fdiff.cli`: the ``fdiff`` command; :mod:`fdiff.errors`: ``InputError``, ``OutputError``.

The functional API, the fields API (plots excepted) and the errors are re-exported here,
each loaded on first use: ``import fdiff`` itself imports neither JAX nor matplotlib.

>>> import jax.numpy as jnp
>>> import fdiff
>>> fdiff.backward(lambda p: (2.0 * p[0] + p[1] - 3.0) ** 2, jnp.array([1.0, 3.0]))[1]
(Array([8., 4.], dtype=float32),)
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
"""The package's version (pyproject.toml reads it from here; ``fdiff --version`` prints it)."""

_SOURCES = {
    "fdiff.errors": ("InputError", "OutputError"),
    "fdiff.fields": (
        "DescentPath",
        "Expression",
        "ExpressionError",
        "GradientField",
        "descent_path",
        "descent_paths",
        "gradient_field",
        "named_optimizer",
        "optimizer_paths",
        "parse_expression",
    ),
    "fdiff.landscape": (
        "Plane",
        "loss_landscape",
        "landscape_slice",
        "pca_directions",
        "plane_values",
        "project_trajectory",
        "random_plane",
    ),
    "fdiff.functional": (
        "accumulate",
        "backward",
        "grad_fn_names",
        "intermediate_grads",
        "output_grad_fn",
        "retained_vjp",
        "tap",
        "zeros_like_tree",
    ),
}
"""Where each name of ``__all__`` is defined (tests/test_imports.py checks the two agree)."""

__all__ = [
    "DescentPath",
    "Expression",
    "ExpressionError",
    "GradientField",
    "InputError",
    "OutputError",
    "Plane",
    "accumulate",
    "backward",
    "descent_path",
    "descent_paths",
    "grad_fn_names",
    "gradient_field",
    "intermediate_grads",
    "landscape_slice",
    "loss_landscape",
    "named_optimizer",
    "optimizer_paths",
    "output_grad_fn",
    "parse_expression",
    "pca_directions",
    "plane_values",
    "project_trajectory",
    "random_plane",
    "retained_vjp",
    "tap",
    "zeros_like_tree",
]


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first use, and keep the value here."""
    for module_name, names in _SOURCES.items():
        if name in names:
            value = getattr(importlib.import_module(module_name), name)
            globals()[name] = value
            return value
    raise AttributeError(f"module 'fdiff' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
