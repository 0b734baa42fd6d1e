"""Other views of a field: a 3-D surface of ``f``, and an animation of descent paths (GIF).

>>> from fdiff.fields.field import gradient_field
>>> ax = plot_surface(gradient_field(lambda a, b: a**2 + b**2, (-1, 1), (-1, 1), 9))
>>> ax.name, ax.get_zlabel()
('3d', 'f (levels by quantile)')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.axes import Axes

from fdiff._atomic import atomic_path
from fdiff.fields.field import DescentPath, GradientField
from fdiff.fields.plot import CONTOUR_COLORS, new_figure, path_style, plot_field
from fdiff.fields.scales import color_levels

__all__ = ["animate_paths", "plot_surface"]

_SURFACE_GRID = 80  # facets per side: finer only slows rendering
_MAX_FRAMES = 60


def plot_surface(
    field: GradientField,
    paths: Sequence[DescentPath] = (),
    *,
    ax: Axes | None = None,
    color_scale: Literal["auto", "quantile", "linear", "log", "symlog"] = "auto",
    levels: int = 20,
    title: str | None = None,
    labels: tuple[str, str] = ("a", "b"),
) -> Axes:
    """``f`` as a 3-D surface, coloured by the same levels as :func:`~fdiff.fields.plot_field`.

    The height is ``f`` itself; the colours follow the contour levels (log or symlog ones where
    ``f`` spans decades), so the low ground stays readable next to tall walls. Paths are drawn
    on the surface at their values. Masked points are left out.

    Args:
        field: a field computed with values.
        paths: descent paths to draw on the surface.
        ax: a 3-D Axes (``projection="3d"``); default: a new 7 x 5.6 inch figure.
        color_scale: as :func:`~fdiff.fields.plot_field`'s.
        levels: the number of colour levels.
        title: the title.
        labels: the axis labels (the variable names).

    Returns:
        The 3-D Axes.

    Raises:
        ValueError: for a field without values, or with no finite value.
    """
    if field.values is None or not field.finite.any():
        raise ValueError("a surface needs a field with values, finite somewhere")
    if ax is None:
        ax = new_figure((7.0, 5.6)).add_subplot(projection="3d")
    step = max(1, math.ceil(len(field.x) / _SURFACE_GRID))
    values = np.where(field.finite, field.values, np.nan)[::step, ::step]
    found = color_levels(values[np.isfinite(values)], levels, color_scale)
    a, b = np.meshgrid(field.x[::step], field.y[::step])
    surface = ax.plot_surface(
        a,
        b,
        values,
        rcount=values.shape[0],
        ccount=values.shape[1],
        facecolors=CONTOUR_COLORS(found.norm(CONTOUR_COLORS.N)(values)) if found else None,
        linewidth=0,
        antialiased=False,
        shade=False,
        alpha=0.9,
    )
    surface.set_rasterized(True)
    for index, path in enumerate(paths):
        style = path_style(index)
        z = path.values
        ax.plot(
            *path.points.T, z, color=style.color, linestyle=style.linestyle, linewidth=2, zorder=5
        )
        ax.scatter(*path.points[0], z[0], color=style.color, s=30, depthshade=False)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_zlabel(found.label if found else "f")
    if title:
        ax.set_title(title)
    return ax


def animate_paths(
    field: GradientField,
    paths: Sequence[DescentPath],
    out: str | Path,
    *,
    fps: int = 12,
    dpi: int = 80,
    **field_options,
) -> Path:
    """Write a GIF of ``paths`` growing step by step over the field (matplotlib's Pillow writer).

    Args:
        field: the field drawn behind the paths (by :func:`~fdiff.fields.plot_field`).
        paths: the paths to animate; every path advances one step per frame (long paths are
            sampled so the GIF has at most 60 frames); the end marker rides at the head.
        out: the ``.gif`` file to write (whole or not at all).
        fps: frames per second.
        dpi: the GIF's resolution.
        **field_options: passed on to :func:`~fdiff.fields.plot_field`.

    Returns:
        The path written.

    Raises:
        ValueError: for no paths, another extension or a non-positive ``fps``.

    >>> import tempfile
    >>> from fdiff.fields.field import descent_paths, gradient_field
    >>> bowl = lambda a, b: a**2 + b**2
    >>> field = gradient_field(bowl, (-1, 1), (-1, 1), 5)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     out = animate_paths(field, descent_paths(bowl, [(1.0, 1.0)], steps=1),
    ...                         Path(folder) / "paths.gif", dpi=10)
    ...     out.read_bytes()[:6]
    b'GIF89a'
    """
    out = Path(out)
    if not paths:
        raise ValueError("give at least one path to animate")
    if out.suffix.lower() != ".gif":
        raise ValueError(f"cannot write {str(out)!r}: an animation is written as .gif")
    if not fps > 0:
        raise ValueError(f"`fps` must be positive, got {fps}")
    ax = plot_field(field, paths, **field_options)
    lines = ax.get_lines()  # per path: the path, its start marker, its end marker
    trails, heads = lines[0::3], lines[2::3]
    longest = max(len(path.points) for path in paths)
    frames = np.unique(np.linspace(1, longest, min(longest, _MAX_FRAMES)).round().astype(int))

    def draw(shown: int) -> list:
        for trail, head, path in zip(trails, heads, paths, strict=True):
            trail.set_data(path.points[:shown, 0], path.points[:shown, 1])
            head.set_data(path.points[min(shown, len(path.points)) - 1, None].T)
        return [*trails, *heads]

    figure = ax.get_figure(root=True)
    figure.draw_without_rendering()  # lay out once: the frames change only the paths
    figure.set_layout_engine("none")
    animation = FuncAnimation(figure, draw, frames=frames, blit=False)
    with atomic_path(out) as temporary:
        animation.save(temporary, writer=PillowWriter(fps=fps), dpi=dpi)
    return out
