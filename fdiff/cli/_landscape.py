"""``fdiff landscape``: the loss landscape of a model around its parameters, drawn to a file.

``ENTRY`` is ``module:function`` / ``file.py:function`` (returning ``loss`` and ``params``, and
optionally ``data``, ``trajectories``, ``end``) or a torch-style script ``train.py`` (run on
``fdiff.torch``, defining ``model``, ``loss_fn``, ``inputs``, ``targets`` and optionally
``trajectories``): see :mod:`fdiff.landscape.entry`. The plane is two filter-normalized random
directions (``--directions filter``, the default), layer-normalized or raw ones, the top-2 PCA
directions of the first recorded trajectory (``pca``), or the line to the ``end`` checkpoint
with a filter-normalized second direction (``interpolate``). Recorded trajectories are drawn
projected onto the plane. Bad input is an :class:`~fdiff.errors.InputError` (one line, exit 2).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import numpy as np

from fdiff._atomic import check_writable
from fdiff.cli._drawing import add_drawing_arguments, drawing_options
from fdiff.cli._usage import UsageError, check_range
from fdiff.fields.plot import FORMATS, plot_field, save_figure
from fdiff.landscape import (
    Plane,
    direction_to,
    filter_normalize,
    loss_landscape,
    pca_directions,
    project_trajectory,
    random_direction,
    random_plane,
)
from fdiff.landscape.entry import load_problem

__all__ = ["DIRECTIONS", "MAX_GRID", "add_arguments", "run"]

DIRECTIONS = ("filter", "layer", "random", "pca", "interpolate")
"""The planes ``--directions`` chooses."""
MAX_GRID = 1000
"""Largest grid the command draws, in points per axis."""

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMG]i?B?|B)?", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``landscape`` subcommand's arguments on ``parser``.

    >>> parser = argparse.ArgumentParser(prog="fdiff landscape")
    >>> add_arguments(parser)
    >>> parser.parse_args(["train.py", "--out", "l.png", "--directions", "pca"]).directions
    'pca'
    """
    parser.add_argument("entry", help="module:function, file.py:function, or a script train.py")
    parser.add_argument("--out", required=True, help=f"output file: {', '.join(FORMATS)}")
    parser.add_argument("--directions", choices=DIRECTIONS, default="filter")
    parser.add_argument("--grid", type=int, default=51, metavar="N", help="N x N points")
    parser.add_argument("--xlim", nargs=2, type=float, metavar=("LOW", "HIGH"))
    parser.add_argument("--ylim", nargs=2, type=float, metavar=("LOW", "HIGH"))
    parser.add_argument("--seed", type=int, default=0, help="seed of the random directions")
    parser.add_argument(
        "--memory-budget", default="1G", metavar="BYTES", help="e.g. 512M, 2G (default 1G)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_drawing_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Load the entry, compute the landscape, draw it with the trajectories, write the file.

    Returns:
        0 on success.

    Raises:
        InputError: for any bad input, with a one-line message.
    """
    out = Path(args.out)
    if out.suffix.lower() not in FORMATS:
        raise UsageError(f"--out {args.out!r} must end in one of {', '.join(FORMATS)}")
    check_writable(out)
    check_range("--grid", args.grid, 2, MAX_GRID)
    options = drawing_options(args)
    budget = memory_budget(args.memory_budget)
    problem = load_problem(args.entry)
    plane, labels = _plane(problem, args.directions, args.seed)
    runs = {
        name: project_trajectory(plane, points, problem.loss, data=problem.data, name=name)
        for name, points in problem.trajectories.items()
    }
    xlim, ylim = _window(args, [path.points for path in runs.values()], args.directions)
    field = loss_landscape(
        problem.loss,
        plane,
        xlim,
        ylim,
        args.grid,
        data=problem.data,
        memory_budget=budget,
        progress=False if args.no_progress else None,
    )
    ax = plot_field(
        field,
        list(runs.values()),
        title=f"loss landscape of {args.entry} ({args.directions} directions)",
        labels=labels,
        path_labels=list(runs),
        **options,
    )
    save_figure(ax.figure, out, dpi=args.dpi)
    print(f"wrote {out} ({args.grid}x{args.grid} grid, {args.directions} directions)")
    for line in (field.report(), *(path.message for path in runs.values())):
        if line:
            print(line)
    return 0


def memory_budget(text: str) -> int:
    """Bytes from ``512M``, ``2G``, ``1.5GiB``, ``100000``.

    >>> memory_budget("512M"), memory_budget("2GiB"), memory_budget("4096")
    (536870912, 2147483648, 4096)
    """
    match = _SIZE.fullmatch(text.strip())
    if not match:
        raise UsageError(f"--memory-budget {text!r} must be a size such as 512M or 2G")
    unit = (match[2] or "").upper().rstrip("B").rstrip("I")
    return int(float(match[1]) * _UNITS[unit])


def _plane(problem: Any, directions: str, seed: int) -> tuple[Plane, tuple[str, str]]:
    if directions == "pca":
        if not problem.trajectories:
            raise UsageError("--directions pca needs a recorded trajectory (`trajectories`)")
        pca = pca_directions(next(iter(problem.trajectories.values())))
        first, second = (f"{100 * e:.0f}%" for e in pca.explained)
        return pca.plane, (f"PC1 ({first} of the variance)", f"PC2 ({second})")
    if directions == "interpolate":
        if problem.end is None:
            raise UsageError("--directions interpolate needs an `end` checkpoint from the entry")
        side = filter_normalize(random_direction(seed, problem.params), problem.params)
        plane = Plane(problem.params, direction_to(problem.params, problem.end), side)
        return plane, ("toward `end` (1 = end)", "filter-normalized random")
    normalization = "none" if directions == "random" else directions
    plane = random_plane(seed, problem.params, normalization=normalization)
    return plane, (f"{directions} direction 1", f"{directions} direction 2")


def _window(
    args: argparse.Namespace, paths: list[np.ndarray], directions: str
) -> tuple[tuple, tuple]:
    """The limits asked for; otherwise [-1, 1] widened to hold every path, or for PCA planes
    (whose units are the trajectory's own) a square around the paths."""
    if directions == "pca" and paths and not (args.xlim or args.ylim):
        points = np.concatenate(paths)
        low, high = points.min(axis=0), points.max(axis=0)
        centre, half = (low + high) / 2, 0.65 * float(np.max(high - low))
        (x_low, x_high), (y_low, y_high) = ((c - half, c + half) for c in centre.tolist())
        return (x_low, x_high), (y_low, y_high)
    limits = []
    for axis, given in enumerate((args.xlim, args.ylim)):
        if given:
            limits.append(tuple(given))
            continue
        low, high = -1.0, 1.0
        for points in paths:
            low = min(low, float(points[:, axis].min()))
            high = max(high, float(points[:, axis].max()))
        margin = 0.1 * (high - low) if paths else 0.0
        limits.append((low - margin, high + margin))
    return limits[0], limits[1]
