"""Matplotlib pictures of gradient fields: contours of f, arrows or streamlines, descent paths.

:func:`plot_field` draws one field; :func:`plot_losses` the value of ``f`` along paths against
the step; :func:`plot_comparison` both, for optimizers run from the same starts
(:func:`fdiff.fields.optimizers.optimizer_paths`).

A figure this module makes is registered with ``pyplot`` when ``pyplot`` is in use with a
backend that shows figures (a notebook's inline backend, a desktop window), so ``plt.show()``
and Jupyter display it; otherwise (no ``pyplot`` imported, or a file-only backend such as Agg)
it is a bare :class:`matplotlib.figure.Figure` that changes no global state: saving renders with
Agg (PNG) or the vector backends (SVG, PDF). Figures use constrained layout; an Axes passed in
gets it too when its figure has no layout engine, so colour bars sit next to their Axes inside
``plt.subplots``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Literal, NamedTuple

import matplotlib
import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap, LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox, ScaledTranslation

from fdiff._atomic import atomic_path
from fdiff.errors import InputError
from fdiff.fields.field import DescentPath, GradientField
from fdiff.fields.scales import arrow_vectors, choose_aspect, color_levels

__all__ = [
    "CONTOUR_COLORS",
    "FORMATS",
    "PATH_COLORS",
    "PathStyle",
    "new_figure",
    "path_style",
    "plot_comparison",
    "plot_field",
    "plot_losses",
    "save_figure",
]

FORMATS = (".png", ".svg", ".pdf")
"""File extensions :func:`save_figure` writes; the extension picks the format."""

PATH_COLORS = ("#e3191c", "#ff7f00", "#e7298a", "#1a9641", "#7b3294", "#a6761d", "#0571b0")
"""Colours of descent paths, in order (no other element of the plot uses red)."""
_LINESTYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "D", "v", "P")
_PATH_ALPHA = 0.85
_MARKS_PER_PATH = 8  # markers along a path: enough to tell it apart, few enough to see through

_STREAM_GRID = 200  # streamplot interpolates; a finer grid only costs time
_CONTOUR_GRID = 400  # finer than the pixels a contour can show
# the lighter two thirds of "bone": black arrows stay visible on the lowest values
CONTOUR_COLORS = ListedColormap(colormaps["bone"](np.linspace(0.35, 1.0, 256)), "fdiff-bone")
"""The colour map of ``f``'s filled contours."""
_NON_INTERACTIVE = frozenset({"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"})
_LEGEND_DROP = 40 / 72  # inches below the Axes: clear of its tick labels and x label
_BAR_HEIGHT = 0.12  # inches: a horizontal colour bar under the Axes
_BAR_LABELS = 40 / 72  # inches: its tick labels and label


class PathStyle(NamedTuple):
    """How one path is drawn: its colour, line style, the marker along it and its width."""

    color: str
    linestyle: str
    marker: str
    linewidth: float


def path_style(index: int) -> PathStyle:
    """The style of path ``index``: colour, line style and marker all change from one to the next.

    Later paths are thinner, so one drawn over an earlier one leaves it showing at both sides.

    >>> path_style(0), path_style(1).linestyle
    (PathStyle(color='#e3191c', linestyle='-', marker='o', linewidth=3.0), '--')
    """
    return PathStyle(
        PATH_COLORS[index % len(PATH_COLORS)],
        _LINESTYLES[index % len(_LINESTYLES)],
        _MARKERS[index % len(_MARKERS)],
        max(1.2, 3.0 - 0.6 * index),
    )


def new_figure(figsize: tuple[float, float], **options) -> Figure:
    """A constrained-layout figure, registered with ``pyplot`` when it can be shown.

    Registered when ``matplotlib.pyplot`` is already imported and its backend shows figures
    (not Agg, SVG, PDF...): then ``plt.show()`` and a notebook display it, and ``plt.close``
    releases it. Otherwise a bare :class:`~matplotlib.figure.Figure`, which ``pyplot`` never
    sees (nothing global changes, nothing accumulates).

    >>> new_figure((4, 3)).get_layout_engine().__class__.__name__
    'ConstrainedLayoutEngine'
    """
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None and matplotlib.get_backend().lower() not in _NON_INTERACTIVE:
        return pyplot.figure(figsize=figsize, layout="constrained", **options)
    return Figure(figsize=figsize, layout="constrained", **options)


def plot_field(
    field: GradientField,
    paths: Sequence[DescentPath] = (),
    *,
    ax: Axes | None = None,
    contours: bool | None = None,
    stream: bool = False,
    direction: Literal["descent", "ascent"] = "descent",
    normalize: bool = False,
    log_arrows: bool = False,
    color_by: Literal["none", "magnitude", "log-magnitude"] = "none",
    color_scale: Literal["auto", "quantile", "linear", "log", "symlog"] = "auto",
    aspect: Literal["equal", "auto"] | None = None,
    arrows: int = 24,
    levels: int = 20,
    title: str | None = None,
    labels: tuple[str, str] = ("a", "b"),
    path_labels: Sequence[str] | None = None,
    path_styles: Sequence[PathStyle] | None = None,
    legend: bool = True,
) -> Axes:
    """Draw contours of ``f``, its (negative) gradient and descent paths on one Axes.

    A field computed with ``gradient_field(..., values=False)`` has no values to contour: it is
    drawn as arrows or streamlines (and paths) alone, with no colour bar for ``f``.

    Args:
        field: the :class:`~fdiff.fields.field.GradientField` to draw; masked points are left blank.
        paths: descent paths to overlay, start marked with a white-edged dot, end ``*`` (``X``
            if it diverged); each in its own colour, line style and marker, half transparent.
        ax: Axes to draw on; default: a new 6.4 x 5.6 inch figure (see :func:`new_figure`).
        contours: draw filled contours of ``f``; default: when the field has values.
            ``True`` for a field without values is an error.
        stream: streamlines instead of arrows.
        direction: ``"descent"`` draws ``-grad f``, ``"ascent"`` draws ``grad f``.
        normalize: arrows of equal length (direction only).
        log_arrows: arrow lengths grow with ``log(1 + |grad f| / m0)`` (m0: a small gradient
            of the window), so small gradients stay visible next to large ones.
        color_by: colour arrows/streamlines by the gradient's magnitude, linear or log scale.
        color_scale: how contour levels of ``f`` are spaced; the colours follow them band by
            band (``BoundaryNorm``). ``"auto"``: log (or symlog, where ``f <= 0``) when ``f``
            spans 3 decades or more, quantiles otherwise; the colour bar's label says which
            (:mod:`fdiff.fields.scales`).
        aspect: ``"equal"`` or ``"auto"`` axes; default: equal unless the window is more than
            3 times wider than high or higher than wide.
        arrows: at most this many arrows per axis (dense grids are subsampled).
        levels: the number of contour levels.
        title: the title; the arrows' meaning is added below it.
        labels: the axis labels (the variable names).
        path_labels: legend entries of the paths (default: start point and outcome).
        path_styles: the paths' styles (default: :func:`path_style` by index).
        legend: draw the paths' legend, below the Axes (off the data).

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
    if aspect not in (None, "equal", "auto"):
        raise ValueError(f"`aspect` must be 'equal', 'auto' or None, got {aspect!r}")
    if normalize and log_arrows:
        raise ValueError("choose one of `normalize` and `log_arrows`")
    if arrows < 2 or levels < 1:
        raise ValueError(f"need `arrows` >= 2 and `levels` >= 1, got {arrows} and {levels}")
    for name, given in (("path_labels", path_labels), ("path_styles", path_styles)):
        if given is not None and len(given) != len(paths):
            raise ValueError(f"got {len(given)} `{name}` for {len(paths)} paths")
    if contours and field.values is None:
        raise ValueError(
            "cannot draw contours: the field has no values (it was computed with "
            "`values=False`); compute it with `values=True`, or pass `contours=False`"
        )
    if not field.finite.any():
        raise InputError(
            "f is not finite anywhere on the grid: nothing to plot; choose another window"
        )
    ax = _prepared(ax)
    if field.values is not None and contours is not False:
        _draw_contours(ax, field, levels, color_scale)
    sign = -1.0 if direction == "descent" else 1.0
    if stream:
        _draw_streamlines(ax, field, sign, color_by)
    else:
        lengths = "equal" if normalize else "log" if log_arrows else "linear"
        _draw_arrows(ax, field, sign, lengths, color_by, arrows)
    for index, path in enumerate(paths):
        label = path_labels[index] if path_labels is not None else _path_label(path, index)
        style = path_styles[index] if path_styles is not None else path_style(index)
        _draw_path(ax, path, style, label, zorder=4 + index / max(1, len(paths)))
    if paths and legend:
        bar = color_by != "none"  # the magnitude's colour bar is under the Axes too
        _legend_below(ax, _LEGEND_DROP + (_BAR_HEIGHT + _BAR_LABELS if bar else 0.0))
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
    kind = "streamlines" if stream else "log-length arrows" if log_arrows else "arrows"
    ax.set_title(f"{title}\n{kind}: {gradient}" if title else f"{kind}: {gradient}")
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    xlim = (float(field.x[0]), float(field.x[-1]))
    ylim = (float(field.y[0]), float(field.y[-1]))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect(aspect or choose_aspect(xlim, ylim))
    return ax


def plot_losses(
    paths: Sequence[DescentPath],
    *,
    ax: Axes | None = None,
    path_labels: Sequence[str] | None = None,
    path_styles: Sequence[PathStyle] | None = None,
    title: str | None = "f along each path",
) -> Axes:
    """The value of ``f`` against the step, one line per path (a diverged one ends in ``X``).

    The value axis is logarithmic when every value is positive and they span 2 decades or
    more, symmetric-logarithmic when they reach 0 or below and span as much, linear otherwise.

    Args:
        paths: the paths, as :func:`~fdiff.fields.descent_paths` or
            :func:`~fdiff.fields.optimizers.optimizer_paths` give them.
        ax: Axes to draw on; default: a new 6.4 x 4.8 inch figure.
        path_labels: legend entries (default: none; :func:`plot_comparison` makes one legend).
        path_styles: the lines' styles (default: :func:`path_style` by index).
        title: the Axes' title.

    Returns:
        The Axes.

    >>> from fdiff.fields.field import descent_paths
    >>> ax = plot_losses(descent_paths(lambda a, b: a**2 + b**2, [(1.0, 1.0)], steps=30))
    >>> ax.get_yscale(), ax.get_xlabel()
    ('log', 'step')
    """
    ax = ax if ax is not None else new_figure((6.4, 4.8)).add_subplot()
    finite = [p.values[np.isfinite(p.values)] for p in paths]
    finite = np.concatenate(finite) if finite else np.zeros(0)
    for index, path in enumerate(paths):
        style = path_styles[index] if path_styles is not None else path_style(index)
        label = path_labels[index] if path_labels is not None else None
        steps = np.arange(len(path.values))
        ax.plot(
            steps,
            path.values,
            linestyle=style.linestyle,
            color=style.color,
            marker=style.marker,
            markevery=max(1, len(steps) // _MARKS_PER_PATH),
            markersize=4,
            alpha=_PATH_ALPHA,
            label=label,
        )
        if path.diverged and np.isfinite(path.values[-1]):
            ax.plot(steps[-1], path.values[-1], "X", color=style.color, markersize=9)
    spread = _decades(finite)
    if spread is not None and spread >= 2:
        if finite.min() > 0:
            ax.set_yscale("log")
        else:
            ax.set_yscale("symlog", linthresh=float(np.quantile(np.abs(finite), 0.1)) or 1.0)
    ax.set_xlabel("step")
    ax.set_ylabel("f")
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    return ax


def plot_comparison(
    field: GradientField,
    runs: Mapping[str, Sequence[DescentPath]],
    *,
    title: str | None = None,
    labels: tuple[str, str] = ("a", "b"),
    figsize: tuple[float, float] = (11.0, 5.6),
    **field_options,
) -> Figure:
    """Optimizers side by side: their paths on the field, and ``f`` against the step.

    Each optimizer has its colour, marker and width (later ones thinner, so overlapping paths
    stay visible), each start its line style; one legend below both panels names every path
    with its outcome (steps taken, or where it diverged).

    Args:
        field: the field to draw the paths on.
        runs: optimizer label -> its paths, as :func:`~fdiff.fields.optimizers.optimizer_paths`
            returns them (every optimizer from the same starts).
        title: the field panel's title.
        labels: the axis labels (the variable names).
        figsize: the figure's size in inches.
        **field_options: passed on to :func:`plot_field` (``stream``, ``color_scale``...).

    Returns:
        The figure (a new one, see :func:`new_figure`).

    >>> from fdiff.fields.field import descent_paths, gradient_field
    >>> bowl = lambda a, b: a**2 + b**2
    >>> runs = {f"lr {lr}": descent_paths(bowl, [(1.0, 1.0)], learning_rate=lr)
    ...         for lr in (0.1, 0.4)}
    >>> figure = plot_comparison(gradient_field(bowl, (-1, 1), (-1, 1), 9), runs)
    >>> [t.get_text() for t in figure.legends[0].get_texts()]
    ['lr 0.1 from (1, 1): 50 steps', 'lr 0.4 from (1, 1): 50 steps']
    """
    paths, styles, names = [], [], []
    for row, (name, run) in enumerate(runs.items()):
        for column, path in enumerate(run):
            color, _, marker, width = path_style(row)
            styles.append(PathStyle(color, _LINESTYLES[column % len(_LINESTYLES)], marker, width))
            paths.append(path)
            names.append(f"{name} {_path_label(path, None)}")
    figure = new_figure(figsize)
    field_ax, loss_ax = figure.subplots(1, 2, width_ratios=(1.3, 1))
    plot_field(
        field,
        paths,
        ax=field_ax,
        title=title,
        labels=labels,
        path_labels=names,
        path_styles=styles,
        legend=False,
        **field_options,
    )
    plot_losses(paths, ax=loss_ax, path_labels=names, path_styles=styles)
    handles, texts = loss_ax.get_legend_handles_labels()
    columns = min(3, len(texts))
    figure.legend(handles, texts, loc="outside lower center", ncols=columns, fontsize="small")
    return figure


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


def _prepared(ax: Axes | None) -> Axes:
    """``ax``, its figure given constrained layout if it has no layout engine; or a new one."""
    if ax is None:
        return new_figure((6.4, 5.6)).add_subplot()
    figure = ax.get_figure(root=True)
    if figure.get_layout_engine() is None:
        figure.set_layout_engine("constrained")
    return ax


def _draw_contours(ax: Axes, field: GradientField, count: int, scale: str) -> None:
    step = max(1, math.ceil(len(field.x) / _CONTOUR_GRID))
    values = np.ma.masked_where(~field.finite, field.values)[::step, ::step]
    levels = color_levels(values.compressed(), count, scale)
    if levels is None:  # f is constant: no contour to draw
        return
    x, y = field.x[::step], field.y[::step]
    norm = levels.norm(CONTOUR_COLORS.N)
    filled = ax.contourf(x, y, values, levels.bounds, cmap=CONTOUR_COLORS, norm=norm, alpha=0.85)
    ax.contour(x, y, values, levels.bounds, colors="black", linewidths=0.3, alpha=0.5)
    ticks = levels.bounds[:: max(1, math.ceil(len(levels.bounds) / 9))]
    bar = ax.get_figure(root=True).colorbar(
        filled,
        cax=ax.inset_axes((1.03, 0.0, 0.04, 1.0)),
        label=levels.label,
        ticks=ticks,
        format="{x:.3g}",
    )
    bar.ax.tick_params(labelsize="small")


def _draw_arrows(
    ax: Axes, field: GradientField, sign: float, lengths: str, color_by: str, arrows: int
) -> None:
    step = max(1, math.ceil(len(field.x) / arrows))
    x, y = field.x[::step], field.y[::step]
    u, v, magnitude = _directions(field, step, sign)
    u, v = arrow_vectors(u, v, (float(x[1] - x[0]), float(y[1] - y[0])), lengths)
    scale = {"angles": "xy", "scale_units": "xy", "scale": 1.0}
    if color_by == "none":
        ax.quiver(x, y, u, v, color="black", width=0.003, **scale)
        return
    norm = _magnitude_norm(magnitude, color_by)
    drawn = ax.quiver(x, y, u, v, magnitude, cmap="viridis", norm=norm, width=0.003, **scale)
    _magnitude_bar(ax, drawn)


def _draw_streamlines(ax: Axes, field: GradientField, sign: float, color_by: str) -> None:
    step = max(1, math.ceil(len(field.x) / _STREAM_GRID))
    u, v, magnitude = _directions(field, step, sign)
    x, y = field.x[::step], field.y[::step]
    if color_by == "none":
        ax.streamplot(x, y, u, v, color="black", linewidth=0.7, density=1.2)
        return
    norm = _magnitude_norm(magnitude, color_by)
    lines = ax.streamplot(
        x, y, u, v, color=magnitude.filled(np.nan), cmap="viridis", norm=norm, linewidth=0.9
    )
    _magnitude_bar(ax, lines.lines)


def _magnitude_bar(ax: Axes, mappable) -> None:
    """The gradient magnitude's colour bar, under the Axes' x label (attached to the Axes)."""
    cax = ax.inset_axes((0.1, -0.2, 0.8, 0.04))  # placed at draw time by the locator below
    cax.set_axes_locator(partial(_locate_under, ax, _LEGEND_DROP, _BAR_HEIGHT))
    figure = ax.get_figure(root=True)
    bar = figure.colorbar(mappable, cax=cax, orientation="horizontal", label=r"$|\nabla f|$")
    bar.ax.tick_params(labelsize="small")


def _directions(field: GradientField, step: int, sign: float) -> tuple[np.ndarray, ...]:
    """Subsampled (signed) gradient components and magnitude, masked where f is not finite."""
    mask = ~field.finite[::step, ::step]
    u = np.ma.masked_where(mask, np.where(mask, 0, sign * field.grad_x[::step, ::step]))
    v = np.ma.masked_where(mask, np.where(mask, 0, sign * field.grad_y[::step, ::step]))
    return u, v, np.ma.hypot(u, v)


def _magnitude_norm(magnitude: np.ma.MaskedArray, color_by: str) -> Normalize:
    positive = magnitude.compressed()
    positive = positive[positive > 0]
    if color_by == "magnitude" or not positive.size:
        return Normalize(vmin=float(magnitude.min()), vmax=float(magnitude.max()))
    return LogNorm(vmin=float(positive.min()), vmax=float(positive.max()), clip=True)


def _decades(values: np.ndarray) -> float | None:
    """How many decades the magnitudes of ``values`` span (from their 10th percentile)."""
    magnitudes = np.abs(values[values != 0])
    if not magnitudes.size:
        return None
    return math.log10(magnitudes.max() / np.quantile(magnitudes, 0.1))


def _path_label(path: DescentPath, index: int | None) -> str:
    outcome = "diverged" if path.diverged else f"{path.steps} steps"
    start = path.points[0]
    where = f"from ({start[0]:.3g}, {start[1]:.3g}): {outcome}"
    return where if index is None else f"path {index + 1} {where}"


def _draw_path(ax: Axes, path: DescentPath, style: PathStyle, label: str, zorder: float) -> None:
    points = path.points
    ax.plot(
        points[:, 0],
        points[:, 1],
        linestyle=style.linestyle,
        color=style.color,
        marker=style.marker,
        markevery=max(1, len(points) // _MARKS_PER_PATH),
        markersize=5,
        markeredgecolor="white",
        markeredgewidth=0.5,
        linewidth=style.linewidth,
        alpha=_PATH_ALPHA,
        label=label,
        zorder=zorder,
    )
    ax.plot(*points[0], "o", color=style.color, markersize=8, markeredgecolor="white", zorder=5)
    end = "X" if path.diverged else "*"
    ax.plot(*points[-1], end, color=style.color, markersize=12, markeredgecolor="white", zorder=5)


def _locate_under(parent: Axes, drop: float, height: float, child: Axes, renderer) -> Bbox:
    """The box ``drop`` inches under ``parent`` (as drawn), ``height`` inches tall, 80% wide."""
    box = parent.get_position(original=False)
    height_inches = parent.get_figure(root=True).get_size_inches()[1]
    top = box.y0 - drop / height_inches
    return Bbox.from_bounds(
        box.x0 + 0.1 * box.width,
        top - height / height_inches,
        0.8 * box.width,
        height / height_inches,
    )


def _below(ax: Axes, inches: float):
    """A transform of Axes coordinates moved ``inches`` down: 0 is that far below the Axes."""
    figure = ax.get_figure(root=True)
    return ax.transAxes + ScaledTranslation(0, -inches, figure.dpi_scale_trans)


def _legend_below(ax: Axes, drop: float) -> None:
    """The paths' legend ``drop`` inches under the Axes: off the data and the colour bars."""
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=_below(ax, drop),
        fontsize="small",
        ncols=2 if len(ax.get_legend_handles_labels()[1]) > 3 else 1,
        framealpha=0.9,
    )
