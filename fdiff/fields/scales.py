"""How a field is scaled for the eye: colour levels of ``f``, arrow lengths, the aspect ratio.

Pure NumPy (and :class:`matplotlib.colors.BoundaryNorm`); the drawing is in
:mod:`fdiff.fields.plot`.

- colour: the contour levels of ``f`` are spaced by quantile (each band covers as much of the
  window), linearly, by logarithm (``f > 0``) or by a symmetric logarithm (any sign), and the
  colours follow the levels through a ``BoundaryNorm`` (one colour step per band, however
  wide in ``f``); ``"auto"`` picks log or symlog when ``f`` spans :data:`DECADES` decades or
  more, quantiles otherwise;
- arrows: lengths linear in ``|grad f|``, logarithmic, or all equal, measured in grid cells so
  that no arrow reaches its neighbour, whatever the aspect ratio;
- aspect: ``"equal"`` unless the window is more than :data:`MAX_EQUAL_RATIO` times wider than
  high (or higher than wide), where equal axes would draw a thin strip.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from matplotlib.colors import BoundaryNorm

__all__ = [
    "COLOR_SCALES",
    "DECADES",
    "MAX_EQUAL_RATIO",
    "ColorLevels",
    "arrow_vectors",
    "choose_aspect",
    "choose_color_scale",
    "color_levels",
]

COLOR_SCALES = ("auto", "quantile", "linear", "log", "symlog")
"""The colour scales of ``f``: ``"log"`` falls back to ``"symlog"`` where ``f <= 0``."""
DECADES = 3.0
"""``"auto"`` colours by (sym)log when ``f``'s magnitudes span at least this many decades."""
MAX_EQUAL_RATIO = 3.0
"""``aspect=None`` draws equal axes while width/height of the window is within this ratio."""
_SMALL_QUANTILE = 0.1  # symlog: the magnitude below which f is drawn linearly


class ColorLevels:
    """Contour levels of ``f`` and the ``BoundaryNorm`` that colours each band by them.

    Attributes:
        scale: the scale used: ``"quantile"``, ``"linear"``, ``"log"`` or ``"symlog"``.
        bounds: the level boundaries, increasing.
        linthresh: for ``"symlog"``, the magnitude below which spacing is linear.
    """

    def __init__(self, scale: str, bounds: np.ndarray, linthresh: float | None = None):
        self.scale = scale
        self.bounds = bounds
        self.linthresh = linthresh

    def norm(self, colors: int) -> BoundaryNorm:
        """The norm mapping band ``k`` of ``colors`` to colour ``k`` (evenly spread)."""
        return BoundaryNorm(self.bounds, ncolors=colors, clip=True)

    @property
    def label(self) -> str:
        """The colour bar's label, saying how the levels are spaced."""
        if self.scale == "symlog":
            return f"f (symlog levels, linear within ±{self.linthresh:.2g})"
        spacing = {"quantile": "levels by quantile", "linear": "linear levels", "log": "log levels"}
        return f"f ({spacing[self.scale]})"


def choose_color_scale(values: np.ndarray) -> Literal["quantile", "log", "symlog"]:
    """The scale ``"auto"`` picks for these (finite) values of ``f``.

    Log when ``f > 0`` and ``max / min`` spans :data:`DECADES` decades; symlog when ``f``
    reaches 0 or below and its largest magnitude is that many decades above its small ones
    (the 10th percentile of the non-zero ``|f|``); quantile levels otherwise.

    >>> choose_color_scale(np.exp(np.linspace(0, 18, 50)))  # exp(a^2 + b^2) on [-3, 3]^2
    'log'
    >>> choose_color_scale(np.linspace(-4, 4, 50))  # a * b
    'quantile'
    >>> choose_color_scale(np.concatenate([-np.logspace(-2, 4, 30), np.logspace(-2, 4, 30)]))
    'symlog'
    """
    values = np.asarray(values, dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    if low > 0:
        return "log" if math.log10(high / low) >= DECADES else "quantile"
    small = _small_magnitude(values)
    if small is not None and math.log10(np.abs(values).max() / small) >= DECADES:
        return "symlog"
    return "quantile"


def color_levels(values: np.ndarray, count: int, scale: str = "auto") -> ColorLevels | None:
    """``count`` bands of the finite ``values`` of ``f`` on ``scale``; ``None`` if f is flat.

    Args:
        values: the finite values of ``f`` (any shape).
        count: the number of bands (levels + 1 boundaries; fewer where quantiles coincide).
        scale: one of :data:`COLOR_SCALES`.

    Returns:
        The :class:`ColorLevels`, or ``None`` when ``f`` is constant.

    Raises:
        ValueError: for an unknown scale.

    >>> levels = color_levels(np.array([1.0, 10.0, 100.0, 1000.0]), 3)
    >>> levels.scale, levels.bounds.round(6).tolist(), levels.label
    ('log', [1.0, 10.0, 100.0, 1000.0], 'f (log levels)')
    """
    if scale not in COLOR_SCALES:
        raise ValueError(f"`color_scale` must be one of {', '.join(COLOR_SCALES)}, got {scale!r}")
    values = np.asarray(values, dtype=np.float64).ravel()
    low, high = float(values.min()), float(values.max())
    if not low < high:
        return None
    if scale == "auto":
        scale = choose_color_scale(values)
    if scale == "log" and low <= 0:
        scale = "symlog"
    if scale == "quantile":
        return ColorLevels(scale, np.unique(np.quantile(values, np.linspace(0, 1, count + 1))))
    if scale == "linear":
        return ColorLevels(scale, np.linspace(low, high, count + 1))
    if scale == "log":
        return ColorLevels(scale, np.geomspace(low, high, count + 1))
    linthresh = _small_magnitude(values) or (high - low) / count
    forward = lambda v: np.sign(v) * np.log10(1 + np.abs(v) / linthresh)  # noqa: E731
    spaced = np.linspace(forward(low), forward(high), count + 1)
    bounds = np.sign(spaced) * linthresh * (10 ** np.abs(spaced) - 1)
    bounds[0], bounds[-1] = low, high  # exactly the data's range, not a rounding off it
    return ColorLevels("symlog", np.unique(bounds), linthresh)


def choose_aspect(xlim: tuple[float, float], ylim: tuple[float, float]) -> Literal["equal", "auto"]:
    """``"equal"`` unless one side of the window is :data:`MAX_EQUAL_RATIO` times the other.

    >>> choose_aspect((-2, 2), (-1, 1)), choose_aspect((-100, 100), (-1, 1))
    ('equal', 'auto')
    """
    ratio = (xlim[1] - xlim[0]) / (ylim[1] - ylim[0])
    return "equal" if 1 / MAX_EQUAL_RATIO <= ratio <= MAX_EQUAL_RATIO else "auto"


def arrow_vectors(
    u: np.ma.MaskedArray,
    v: np.ma.MaskedArray,
    spacing: tuple[float, float],
    lengths: Literal["linear", "log", "equal"],
) -> tuple[np.ma.MaskedArray, np.ma.MaskedArray]:
    """Arrow components in data units: the direction of ``(u, v)``, the longest 0.9 cell.

    Lengths are measured in grid cells (``u / dx``, ``v / dy``), so an arrow never reaches
    the next one whether the axes are equal or stretched. ``"linear"`` keeps lengths in
    proportion to the cell-scaled magnitude, ``"log"`` makes them ``log(1 + m / m0)`` with
    ``m0`` the 10th percentile of the non-zero magnitudes (small gradients stay visible next to
    large ones), ``"equal"`` draws every non-zero arrow 0.9 cells long.

    >>> u, v = np.ma.array([[3.0, 0.0]]), np.ma.array([[4.0, 0.5]])
    >>> [a.round(3).tolist() for a in arrow_vectors(u, v, (1.0, 1.0), "linear")]
    [[[0.54, 0.0]], [[0.72, 0.09]]]
    >>> [a.round(3).tolist() for a in arrow_vectors(u, v, (1.0, 1.0), "equal")]
    [[[0.54, 0.0]], [[0.72, 0.9]]]
    """
    dx, dy = spacing
    magnitude = np.ma.hypot(u / dx, v / dy)  # in cells per unit of the scale
    if lengths == "equal":
        length = np.ma.where(magnitude > 0, 1.0, 0.0)
    elif lengths == "log":
        positive = magnitude.compressed()
        positive = positive[positive > 0]
        floor = float(np.quantile(positive, _SMALL_QUANTILE)) if positive.size else 1.0
        length = np.ma.log(1 + magnitude / floor)
    else:
        length = magnitude
    longest = float(length.max()) if length.count() else 0.0
    factor = np.ma.where(magnitude > 0, 0.9 * length / (longest or 1.0) / magnitude, 0.0)
    return u * factor, v * factor


def _small_magnitude(values: np.ndarray) -> float | None:
    magnitudes = np.abs(values[values != 0])
    return float(np.quantile(magnitudes, _SMALL_QUANTILE)) if magnitudes.size else None
