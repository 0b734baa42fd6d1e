"""The ``fdiff`` command: ``list``, ``show``, ``run``, ``check`` and ``plot``.

Bad input (an unknown id, a bad argument, a rejected expression) prints one line,
``fdiff: error: ...``, on stderr and exits with status 2; ``check`` exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from fdiff.cli import _compare as _compare_cli
from fdiff.cli import _plot as _plot_cli
from fdiff.crosscheck import ENGINES, EngineResult, check_example, jax_transcript, run_engine
from fdiff.examples import CATALOG, Example, get


class UsageError(Exception):
    """A user mistake on the command line: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _example(example_id: str) -> Example:
    try:
        return get(example_id)
    except KeyError as error:
        raise UsageError(error.args[0]) from None


def _list(args: argparse.Namespace) -> int:
    for example in CATALOG.values():
        print(f"{example.id:7s} {example.title}  [{example.document}]")
    return 0


def _show(args: argparse.Namespace) -> int:
    example = _example(args.id)
    left = ["# torch-style source (seed's spelling)", *example.torch_source.splitlines()]
    right = ["# pure JAX rewrite", *example.jax_source.splitlines()]
    print(f"{example.id}  {example.title}  [{example.document}]\n")
    if args.stacked:
        print("\n".join([*left, "", *right]))
    else:
        width = max(len(line) for line in left) + 2
        for a, b in itertools.zip_longest(left, right, fillvalue=""):
            print(f"{a:{width}s}| {b}".rstrip())
    if example.notes:
        print(f"\nnote: {example.notes}")
    return 0


def _run(args: argparse.Namespace) -> int:
    example = _example(args.id)
    if args.engine == "jax":
        print(jax_transcript(example), end="")
        return 0
    result = run_engine(example, args.engine)
    if result.status == "not installed":
        raise UsageError("real PyTorch is not installed: pip install 'fdiff[torch]'")
    if result.status == "error":
        print(f"{example.id} failed under {args.engine}: {result.failures[0]}", file=sys.stderr)
        return 1
    print(result.stdout, end="")
    return 0


def _cell(result: EngineResult) -> str:
    if result.status in ("pass", "fail"):
        mark = "ok" if result.status == "pass" else "FAIL"
        return f"{mark} {result.max_error:.1e}"
    return result.status


def _check(args: argparse.Namespace) -> int:
    examples = [_example(i) for i in args.ids] if args.ids else list(CATALOG.values())
    engines = args.engines.split(",")
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        raise UsageError(f"unknown engine `{unknown[0]}`; choose from {', '.join(ENGINES)}")
    header = f"{'id':7s} {'keys':>4s}  " + "  ".join(f"{e:>14s}" for e in engines) + "  result"
    print(header)
    failed = 0
    for example in examples:
        check = check_example(example, engines)
        cells = "  ".join(f"{_cell(check.engines[e]):>14s}" for e in engines)
        verdict = "pass" if check.passed else "FAIL"
        print(f"{example.id:7s} {len(example.documented):4d}  {cells}  {verdict}")
        for engine, result in check.engines.items():
            for failure in result.failures if (args.verbose or not check.passed) else []:
                print(f"        {engine}: {failure}")
            if args.verbose and result.skipped:
                print(f"        {engine}: not expressed: {', '.join(result.skipped)}")
        failed += not check.passed
    print(f"\n{len(examples) - failed}/{len(examples)} examples match the seeds' documented numbers"
          f" (cells: max abs error against the printed values)")  # fmt: skip
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    """The ``fdiff`` argument parser (subcommands list, show, run, check, plot)."""
    parser = _Parser(prog="fdiff", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    commands.add_parser("list", help="list example ids and titles").set_defaults(handler=_list)
    show = commands.add_parser("show", help="torch-style source next to the JAX rewrite")
    show.add_argument("id")
    show.add_argument("--stacked", action="store_true", help="one above the other")
    show.set_defaults(handler=_show)
    run = commands.add_parser("run", help="print an example's transcript")
    run.add_argument("id")
    run.add_argument("--engine", choices=ENGINES, default="jax")
    run.set_defaults(handler=_run)
    check = commands.add_parser("check", help="compare every example with the seeds' numbers")
    check.add_argument("ids", nargs="*", help="example ids (default: all)")
    check.add_argument("--engines", default=",".join(ENGINES), help="comma-separated engines")
    check.add_argument("-v", "--verbose", action="store_true")
    check.set_defaults(handler=_check)
    plot = commands.add_parser("plot", help="plot a gradient field")
    _plot_cli.add_arguments(plot)
    plot.set_defaults(handler=_plot_cli.run)
    compare = commands.add_parser("compare", help="run a script under torch and fdiff.torch")
    _compare_cli.add_arguments(compare)
    compare.set_defaults(handler=_compare_cli.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fdiff`` console script; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        return args.handler(args)
    except BrokenPipeError:  # `fdiff check | head`: the reader left; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (UsageError, ValueError) as error:
        message = error.args[0] if error.args else str(error)
        print(f"fdiff: error: {message}", file=sys.stderr)
        return 2
