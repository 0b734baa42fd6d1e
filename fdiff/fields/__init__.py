"""Gradient fields of functions of two variables: compute, descend, parse, plot.

- :mod:`fdiff.fields.expr`: the whitelist parser, ``"3*a**3 + 2*b**4"`` -> a JAX function;
- :mod:`fdiff.fields.field`: values and gradients on a grid, descent and momentum paths;
- :mod:`fdiff.fields.presets`: the seed losses with their windows and SGD runs;
- :mod:`fdiff.fields.plot`: contours, arrows or streamlines and paths, drawn with matplotlib.

Everything is re-exported here. ``plot_field``, ``save_figure`` and the plot constants load
:mod:`fdiff.fields.plot` (and so matplotlib) on first use only: ``import fdiff.fields`` does not
import matplotlib.

>>> from fdiff.fields import gradient_field, parse_expression
>>> field = gradient_field(parse_expression("a**2 + b"), (-1.0, 1.0), (0.0, 1.0), 3)
>>> field.grad_x.tolist()[0]
[-2.0, 0.0, 2.0]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fdiff.fields.expr import Expression, ExpressionError, parse_expression
from fdiff.fields.field import (
    DescentPath,
    GradientField,
    descent_path,
    descent_paths,
    gradient_field,
)
from fdiff.fields.presets import PRESETS, Preset, preset

if TYPE_CHECKING:
    from fdiff.fields.plot import FORMATS, PATH_COLORS, plot_field, save_figure

__all__ = [
    "FORMATS",
    "PATH_COLORS",
    "PRESETS",
    "DescentPath",
    "Expression",
    "ExpressionError",
    "GradientField",
    "Preset",
    "descent_path",
    "descent_paths",
    "gradient_field",
    "parse_expression",
    "plot_field",
    "preset",
    "save_figure",
]

_PLOT_NAMES = frozenset({"FORMATS", "PATH_COLORS", "plot_field", "save_figure"})


def __getattr__(name: str) -> Any:
    """Load :mod:`fdiff.fields.plot` (matplotlib) when one of its names is first asked for."""
    if name in _PLOT_NAMES:
        from fdiff.fields import plot

        return getattr(plot, name)
    raise AttributeError(f"module 'fdiff.fields' has no attribute {name!r}")
