"""Gradient fields of functions of two variables: compute, descend, parse, plot.

- :mod:`fdiff.fields.expr`: the whitelist parser, ``"3*a**3 + 2*b**4"`` -> a JAX function;
- :mod:`fdiff.fields.field`: values and gradients on a grid, descent and momentum paths;
- :mod:`fdiff.fields.optimizers`: paths under optax or fdiff.torch optimizers, side by side;
- :mod:`fdiff.fields.presets`: the seed losses with their windows and SGD runs;
- :mod:`fdiff.fields.scales`: colour levels of f, arrow lengths, the aspect ratio;
- :mod:`fdiff.fields.plot`: contours, arrows or streamlines, paths and f per step (matplotlib);
- :mod:`fdiff.fields.views`: a 3-D surface, a GIF of descent paths.

Everything is re-exported here. The drawing functions and the plot constants load
:mod:`fdiff.fields.plot` or :mod:`fdiff.fields.views` (and so matplotlib) on first use only:
``import fdiff.fields`` does not import matplotlib.

>>> from fdiff.fields import gradient_field, parse_expression
>>> field = gradient_field(parse_expression("a**2 + b"), (-1.0, 1.0), (0.0, 1.0), 3)
>>> field.grad_x.tolist()[0]
[-2.0, 0.0, 2.0]
"""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from fdiff.fields.expr import Expression, ExpressionError, parse_expression
from fdiff.fields.field import (
    DescentPath,
    GradientField,
    descent_path,
    descent_paths,
    gradient_field,
)
from fdiff.fields.optimizers import named_optimizer, optimizer_paths
from fdiff.fields.presets import PRESETS, Preset, preset

if TYPE_CHECKING:
    from fdiff.fields.plot import (
        FORMATS,
        PATH_COLORS,
        plot_comparison,
        plot_field,
        plot_losses,
        save_figure,
    )
    from fdiff.fields.views import animate_paths, plot_surface

__all__ = [
    "FORMATS",
    "PATH_COLORS",
    "PRESETS",
    "DescentPath",
    "Expression",
    "ExpressionError",
    "GradientField",
    "Preset",
    "animate_paths",
    "descent_path",
    "descent_paths",
    "gradient_field",
    "named_optimizer",
    "optimizer_paths",
    "parse_expression",
    "plot_comparison",
    "plot_field",
    "plot_losses",
    "plot_surface",
    "preset",
    "save_figure",
]

_DRAWING_NAMES = MappingProxyType(
    {
        "FORMATS": "plot",
        "PATH_COLORS": "plot",
        "plot_comparison": "plot",
        "plot_field": "plot",
        "plot_losses": "plot",
        "save_figure": "plot",
        "animate_paths": "views",
        "plot_surface": "views",
    }
)


def __getattr__(name: str) -> Any:
    """Load the drawing modules (matplotlib) when one of their names is first asked for."""
    if name in _DRAWING_NAMES:
        module = importlib.import_module(f"fdiff.fields.{_DRAWING_NAMES[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'fdiff.fields' has no attribute {name!r}")
