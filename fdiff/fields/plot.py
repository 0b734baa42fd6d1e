"""Matplotlib pictures of gradient fields: contours of f, arrows or streamlines, descent paths.

Figures are made with :class:`matplotlib.figure.Figure` directly, never through ``pyplot``,
so nothing here needs a display or changes matplotlib's global backend: saving renders with
Agg (PNG) or the vector backends (SVG, PDF).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap, LogNorm, Normalize
from matplotlib.figure import Figure

from fdiff._atomic import atomic_path
from fdiff.errors import InputError
from fdiff.fields.field import DescentPath, GradientField

__all__ = ["FORMATS", "PATH_COLORS", "plot_field", "save_figure"]

FORMATS = (".png", ".svg", ".pdf")
"""File extensions :func:`save_figure` writes; the extension picks the format."""

PATH_COLORS = ("#e3191c", "#ff7f00", "#e7298a", "#a6761d")
"""Colours of descent paths, in order (no other element of the plot uses red)."""

_STREAM_GRID = 200  # streamplot interpolates; a finer grid only costs time
_CONTOUR_GRID = 400  # finer than the pixels a contour can show
# the lighter two thirds of "bone": black arrows stay visible on the lowest values
_CONTOUR_COLORS = ListedColormap(colormaps["bone"](np.linspace(0.35, 1.0, 256)), "fdiff-bone")


def plot_field(
    field: GradientField,
    paths: Sequence[DescentPath] = (),
    *,
    ax: Axes | None = None,
    contours: bool | None = None,
    stream: bool = False,
    direction: Literal["descent", "ascent"] = "descent",
    normalize: bool = False,
    color_by: Literal["none", "magnitude", "log-magnitude"] = "none",
    arrows: int = 24,
    levels: int = 20,
    title: str | None = None,
    labels: tuple[str, str] = ("a", "b"),
    path_labels: Sequence[str] | None = None,
) -> Axes:
    """Draw contours of ``f``, its (negative) gradient and descent paths on one Axes.

    A field computed with ``gradient_field(..., values=False)`` has no values to contour: it is
    drawn as arrows or streamlines (and paths) alone, with no colour bar for ``f``.

    Args:
        field: the :class:`~fdiff.fields.field.GradientField` to draw; masked points are left blank.
        paths: descent paths to overlay, start marked ``o``, end ``*`` (``x`` if it diverged).
        ax: Axes to draw on; default: a new 6.4 x 5.6 inch figure.
        contours: draw filled contours of ``f``; default: when the field has values.
            ``True`` for a field without values is an error.
        stream: streamlines instead of arrows.
        direction: ``"descent"`` draws ``-grad f``, ``"ascent"`` draws ``grad f``.
        normalize: arrows of equal length (direction only).
        color_by: colour arrows/streamlines by the gradient's magnitude, linear or log scale.
        arrows: at most this many arrows per axis (dense grids are subsampled).
        levels: the number of contour levels (spaced by quantile of f).
        title: the title; the arrows' meaning is added below it.
        labels: the axis labels (the variable names).
        path_labels: legend entries of the paths (default: start point and outcome).

    Returns:
        The Axes (its ``.figure`` is what :func:`save_figure` takes).

    Raises:
        ValueError: for bad options, or ``contours=True`` for a field without values.
        InputError: for a field with no finite point.

    >>> from fdiff.fields.field import gradient_field
    >>> ax = plot_field(gradient_field(lambda a, b: a**2 + b**2, (-1, 1), (-1, 1), n=9))
    >>> ax.get_aspect(), ax.get_xlabel(), ax.get_ylabel()
    (1.0, 'a', 'b')
    >>> grads = gradient_field(lambda a, b: a**2 + b**2, (-1, 1), (-1, 1), n=9, values=False)
    >>> len(plot_field(grads, stream=True).collections)  # streamlines only, no contours
    1
    """
    if direction not in ("descent", "ascent"):
        raise ValueError(f"`direction` must be 'descent' or 'ascent', got {direction!r}")
    if color_by not in ("none", "magnitude", "log-magnitude"):
        raise ValueError(f"`color_by` must be 'none', 'magnitude' or 'log-magnitude': {color_by!r}")
    if arrows < 2 or levels < 1:
        raise ValueError(f"need `arrows` >= 2 and `levels` >= 1, got {arrows} and {levels}")
    if path_labels is not None and len(path_labels) != len(paths):
        raise ValueError(f"got {len(path_labels)} `path_labels` for {len(paths)} paths")
    if contours and field.values is None:
        raise ValueError(
            "cannot draw contours: the field has no values (it was computed with "
            "`values=False`); compute it with `values=True`, or pass `contours=False`"
        )
    if not field.finite.any():
        raise InputError(
            "f is not finite anywhere on the grid: nothing to plot; choose another window"
        )
    if ax is None:
        ax = Figure(figsize=(6.4, 5.6), layout="constrained").add_subplot()
    if field.values is not None and contours is not False:
        _draw_contours(ax, field, levels)
    sign = -1.0 if direction == "descent" else 1.0
    if stream:
        _draw_streamlines(ax, field, sign, color_by)
    else:
        _draw_arrows(ax, field, sign, normalize, color_by, arrows)
    for index, path in enumerate(paths):
        label = path_labels[index] if path_labels is not None else _path_label(path, index)
        _draw_path(ax, path, PATH_COLORS[index % len(PATH_COLORS)], label)
    if paths:
        ax.legend(loc="best", fontsize="small", framealpha=0.85)
    if field.nonfinite:
        ax.text(
            0.99,
            0.01,
            f"{field.nonfinite} non-finite points masked",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize="small",
            bbox={"fc": "white", "alpha": 0.8},
        )
    gradient = r"$-\nabla f$ (descent)" if sign < 0 else r"$\nabla f$ (ascent)"
    kind = "streamlines" if stream else "arrows"
    ax.set_title(f"{title}\n{kind}: {gradient}" if title else f"{kind}: {gradient}")
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_xlim(float(field.x[0]), float(field.x[-1]))
    ax.set_ylim(float(field.y[0]), float(field.y[-1]))
    ax.set_aspect("equal")
    return ax


def save_figure(figure: Figure, path: str | Path, *, dpi: int = 150) -> Path:
    """Write ``figure`` to ``path`` in the format its extension names (PNG, SVG or PDF).

    Args:
        figure: the figure, e.g. ``plot_field(...).figure``.
        path: the output file; ``.png``, ``.svg`` or ``.pdf``.
        dpi: resolution of raster output (and of rasterised parts of vector output).

    Returns:
        The path written.

    Raises:
        ValueError: for another extension or a non-positive ``dpi``.
        OutputError: the file cannot be written (its folder is missing, the disk is full...);
            the previous file at ``path``, if any, is left as it was.

    >>> import tempfile
    >>> from fdiff.fields.field import gradient_field
    >>> ax = plot_field(gradient_field(lambda a, b: a * b, (-1, 1), (-1, 1), n=5))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save_figure(ax.figure, Path(folder) / "field.svg").stat().st_size > 0
    True
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"cannot write {str(path)!r}: the extension must be one of {', '.join(FORMATS)}"
        )
    if not dpi > 0:
        raise ValueError(f"`dpi` must be positive, got {dpi}")
    with atomic_path(path) as temporary:  # whole or not at all: never a truncated file
        figure.savefig(temporary, format=suffix[1:], dpi=dpi)
    return path


def _draw_contours(ax: Axes, field: GradientField, levels: int) -> None:
    step = max(1, math.ceil(len(field.x) / _CONTOUR_GRID))
    values = np.ma.masked_where(~field.finite, field.values)[::step, ::step]
    bounds = np.unique(np.quantile(values.compressed(), np.linspace(0, 1, levels + 1)))
    if len(bounds) < 2:  # f is constant: no contour to draw
        return
    x, y = field.x[::step], field.y[::step]
    filled = ax.contourf(x, y, values, bounds, cmap=_CONTOUR_COLORS, alpha=0.8)
    ax.contour(x, y, values, bounds, colors="black", linewidths=0.3, alpha=0.5)
    ax.figure.colorbar(filled, ax=ax, label="f", shrink=0.8, format="{x:.3g}")


def _draw_arrows(
    ax: Axes, field: GradientField, sign: float, normalize: bool, color_by: str, arrows: int
) -> None:
    step = max(1, math.ceil(len(field.x) / arrows))
    x, y = field.x[::step], field.y[::step]
    u, v, magnitude = _directions(field, step, sign, normalize)
    spacing = min(x[1] - x[0], y[1] - y[0])  # arrows >= 2, so two or more per axis
    longest = 1.0 if normalize else float(magnitude.max() or 1.0)
    # the longest arrow spans 90% of the spacing between arrows
    scale = {"angles": "xy", "scale_units": "xy", "scale": longest / (0.9 * spacing)}
    if color_by == "none":
        ax.quiver(x, y, u, v, color="black", width=0.003, **scale)
        return
    norm = _magnitude_norm(magnitude, color_by)
    drawn = ax.quiver(x, y, u, v, magnitude, cmap="viridis", norm=norm, width=0.003, **scale)
    ax.figure.colorbar(drawn, ax=ax, label=r"$|\nabla f|$", location="bottom", shrink=0.8)


def _draw_streamlines(ax: Axes, field: GradientField, sign: float, color_by: str) -> None:
    step = max(1, math.ceil(len(field.x) / _STREAM_GRID))
    u, v, magnitude = _directions(field, step, sign, normalize=False)
    x, y = field.x[::step], field.y[::step]
    if color_by == "none":
        ax.streamplot(x, y, u, v, color="black", linewidth=0.7, density=1.2)
        return
    norm = _magnitude_norm(magnitude, color_by)
    lines = ax.streamplot(
        x, y, u, v, color=magnitude.filled(np.nan), cmap="viridis", norm=norm, linewidth=0.9
    )
    ax.figure.colorbar(lines.lines, ax=ax, label=r"$|\nabla f|$", location="bottom", shrink=0.8)


def _directions(
    field: GradientField, step: int, sign: float, normalize: bool
) -> tuple[np.ndarray, ...]:
    """Subsampled arrow components and gradient magnitude, masked where f is not finite."""
    mask = ~field.finite[::step, ::step]
    u = np.ma.masked_where(mask, np.where(mask, 0, sign * field.grad_x[::step, ::step]))
    v = np.ma.masked_where(mask, np.where(mask, 0, sign * field.grad_y[::step, ::step]))
    magnitude = np.ma.hypot(u, v)
    if normalize:
        length = np.ma.where(magnitude > 0, magnitude, 1.0)
        u, v = u / length, v / length
    return u, v, magnitude


def _magnitude_norm(magnitude: np.ma.MaskedArray, color_by: str) -> Normalize:
    positive = magnitude.compressed()
    positive = positive[positive > 0]
    if color_by == "magnitude" or not positive.size:
        return Normalize(vmin=float(magnitude.min()), vmax=float(magnitude.max()))
    return LogNorm(vmin=float(positive.min()), vmax=float(positive.max()), clip=True)


def _path_label(path: DescentPath, index: int) -> str:
    outcome = "diverged" if path.diverged else f"{path.steps} steps"
    start = path.points[0]
    return f"path {index + 1} from ({start[0]:.3g}, {start[1]:.3g}): {outcome}"


def _draw_path(ax: Axes, path: DescentPath, color: str, label: str) -> None:
    points = path.points
    ax.plot(points[:, 0], points[:, 1], "-", color=color, linewidth=2, label=label, zorder=4)
    ax.plot(*points[0], "o", color=color, markersize=8, markeredgecolor="white", zorder=5)
    end = "X" if path.diverged else "*"
    ax.plot(*points[-1], end, color=color, markersize=12, markeredgecolor="white", zorder=5)
