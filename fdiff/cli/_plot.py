"""``fdiff plot``: draw the gradient field of an expression (or a seed preset) to a file.

Bad input raises an :class:`~fdiff.errors.InputError` with a one-line message: a
:class:`~fdiff.cli._usage.UsageError` for an argument, an
:class:`~fdiff.fields.ExpressionError` for the expression, the fields' own errors for a bad
window or preset; ``fdiff`` prints it and exits with status 2. So does an
:class:`~fdiff.errors.OutputError`: ``--out`` is checked before any work (a directory, a missing
folder, a place where no file can be created) and written whole or not at all.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from fdiff._atomic import check_writable
from fdiff.cli._drawing import add_drawing_arguments, drawing_options
from fdiff.cli._usage import UsageError, check_range
from fdiff.fields import PRESETS, descent_paths, gradient_field, parse_expression, preset
from fdiff.fields.optimizers import BUILTIN, named_optimizer, optimizer_paths
from fdiff.fields.plot import FORMATS, plot_comparison, plot_field, save_figure

__all__ = ["MAX_GRID", "MAX_STEPS", "add_arguments", "run"]

MAX_GRID = 4000
"""Largest grid the CLI draws, in points per axis."""
MAX_STEPS = 100_000
"""Most descent steps the CLI runs."""

_DEFAULT_LIMITS = (-2.0, 2.0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``plot`` subcommand's arguments on ``parser``.

    Args:
        parser: the (sub)parser of ``fdiff plot``.

    >>> parser = argparse.ArgumentParser(prog="fdiff plot")
    >>> add_arguments(parser)
    >>> parser.parse_args(["a*b", "--out", "f.png", "--descent", "1,2"]).descent
    ['1,2']
    """
    parser.add_argument("expression", nargs="?", help='e.g. "3*a**3 + 2*b**4"')
    parser.add_argument("--example", metavar="ID", help=f"a seed preset: {', '.join(PRESETS)}")
    parser.add_argument("--vars", metavar="A,B", help="the two variable names (default: a,b)")
    parser.add_argument("--xlim", nargs=2, type=float, metavar=("LOW", "HIGH"))
    parser.add_argument("--ylim", nargs=2, type=float, metavar=("LOW", "HIGH"))
    parser.add_argument("--grid", type=int, default=101, metavar="N", help="N x N points")
    parser.add_argument("--out", required=True, help=f"output file: {', '.join(FORMATS)}")
    parser.add_argument(
        "--descent", action="append", metavar="X,Y", help="a descent start (repeatable)"
    )
    parser.add_argument("--lr", type=float, help="learning rate (default 0.1)")
    parser.add_argument("--steps", type=int, help="descent steps (default 50)")
    parser.add_argument("--momentum", type=float, default=0.0)
    parser.add_argument(
        "--no-contours",
        action="store_true",
        help="arrows or streamlines only; f itself is not computed (only its gradient)",
    )
    add_drawing_arguments(parser)
    parser.add_argument(
        "--optimizer",
        metavar="NAME[:LR],...",
        help=(
            f"compare optimizers from the --descent starts: {', '.join(BUILTIN)} "
            "(fdiff.torch.optim's rules, torch's; momentum is SGD with 0.9) or optax.NAME "
            "(needs optax); each at --lr unless NAME:LR; adds a panel of f per step"
        ),
    )


def run(args: argparse.Namespace) -> int:
    """Compute and draw the field ``args`` describe, write it, print a short report.

    Args:
        args: the namespace parsed by a parser that :func:`add_arguments` set up.

    Returns:
        0 on success.

    Raises:
        InputError: for any bad input, with a one-line message.
    """
    out = _output_path(args.out)
    check_range("--grid", args.grid, 2, MAX_GRID)
    expression, xlim, ylim, starts, learning_rate, steps = _resolve(args)
    check_range("--steps", steps, 0, MAX_STEPS)
    if not (math.isfinite(learning_rate) and learning_rate > 0):
        raise UsageError(f"--lr must be a positive number, got {learning_rate}")
    if not 0 <= args.momentum < 1:
        raise UsageError(f"--momentum must be in [0, 1), got {args.momentum}")
    optimizers = _optimizers(args, starts, learning_rate)
    options = drawing_options(args)
    field = gradient_field(expression, xlim, ylim, args.grid, values=not args.no_contours)
    if optimizers:
        runs = optimizer_paths(expression, starts, optimizers, steps=steps)
        figure = plot_comparison(
            field, runs, title=expression.title, labels=expression.variables, **options
        )
        reports = [
            f"{name} path {i}: {p.message}"
            for name, paths in runs.items()
            for i, p in enumerate(paths, 1)
        ]
    else:
        paths = (
            descent_paths(
                expression, starts, learning_rate=learning_rate, steps=steps, momentum=args.momentum
            )
            if starts
            else ()
        )
        ax = plot_field(
            field, paths, title=expression.title, labels=expression.variables, **options
        )
        figure = ax.figure
        reports = [f"path {i}: {p.message}" for i, p in enumerate(paths, 1)]
    save_figure(figure, out, dpi=args.dpi)
    print(f"wrote {out} ({args.grid}x{args.grid} grid of {expression.title})")
    for line in (field.report(), *reports):
        if line:
            print(line)
    return 0


def _optimizers(args: argparse.Namespace, starts, learning_rate: float) -> dict:
    """``--optimizer sgd,adam:0.05``: label -> optimizer; empty without the flag."""
    if args.optimizer is None:
        return {}
    if not starts:
        raise UsageError("--optimizer needs start points: give --descent X,Y (repeatable)")
    if args.momentum:
        raise UsageError("--momentum is for plain descent; with --optimizer, name 'momentum'")
    optimizers = {}
    for item in args.optimizer.split(","):
        name, _, rate = item.strip().partition(":")
        rate_value = _positive(f"--optimizer {item!r}: the learning rate", rate) if rate else None
        lr = learning_rate if rate_value is None else rate_value
        label = f"{name} lr {lr:g}"
        if label in optimizers:
            raise UsageError(f"--optimizer names {label!r} twice")
        optimizers[label] = named_optimizer(name, lr)
    return optimizers


def _positive(what: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise UsageError(f"{what} must be a positive number, got {text!r}")
    return value


def _resolve(args: argparse.Namespace):
    """The expression, window, starts, learning rate and steps: the preset's, then overrides."""
    if args.example is not None:
        if args.expression is not None or args.vars is not None:
            raise UsageError("give either an expression (with --vars) or --example, not both")
        chosen = preset(args.example)
        expression, xlim, ylim = chosen.expression, chosen.xlim, chosen.ylim
        starts, learning_rate, steps = chosen.starts, chosen.learning_rate, chosen.steps
    elif args.expression is None:
        raise UsageError(f"give an expression to plot, or --example with one of {list(PRESETS)}")
    else:
        variables = ("a", "b") if args.vars is None else tuple(args.vars.split(","))
        expression = parse_expression(args.expression, variables)
        xlim = ylim = _DEFAULT_LIMITS
        starts, learning_rate, steps = (), 0.1, 50
    return (
        expression,
        tuple(args.xlim) if args.xlim else xlim,
        tuple(args.ylim) if args.ylim else ylim,
        [_point(text) for text in args.descent] if args.descent else starts,
        learning_rate if args.lr is None else args.lr,
        steps if args.steps is None else args.steps,
    )


def _point(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        point = tuple(float(part) for part in parts)
    except ValueError:
        point = ()
    if len(point) != 2 or not all(math.isfinite(v) for v in point):
        raise UsageError(f"--descent {text!r} must be two finite numbers written X,Y")
    return point


def _output_path(text: str) -> Path:
    path = Path(text)
    if path.suffix.lower() not in FORMATS:
        raise UsageError(f"--out {text!r} must end in one of {', '.join(FORMATS)}")
    return check_writable(path)
