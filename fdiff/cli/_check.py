"""``fdiff check [ID ...] [--engines ...] [-v]``: every example against the seeds' numbers.

One row per example: for each engine the largest absolute error against the documented
values (or why there is none), then pass or FAIL; the exit status is 1 on any mismatch.

>>> parser = argparse.ArgumentParser(prog="fdiff check")
>>> add_arguments(parser)
>>> run(parser.parse_args(["004.1", "--engines", "jax"]))  # doctest: +ELLIPSIS
id      keys             jax  result
004.1   ... pass
<BLANKLINE>
1/1 examples match the seeds' documented numbers (cells: max abs error against the printed values)
0
"""

from __future__ import annotations

import argparse

from fdiff.cli._usage import UsageError, example
from fdiff.crosscheck import EXAMPLE_ENGINES, EngineResult, check_example
from fdiff.examples import CATALOG

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``check``'s arguments on ``parser``."""
    parser.add_argument("ids", nargs="*", help="example ids (default: all)")
    parser.add_argument(
        "--engines", default=",".join(EXAMPLE_ENGINES), help="comma-separated engines"
    )
    parser.add_argument("-v", "--verbose", action="store_true")


def _cell(result: EngineResult) -> str:
    if result.status in ("pass", "fail"):
        mark = "ok" if result.status == "pass" else "FAIL"
        return f"{mark} {result.max_error:.1e}"
    return result.status


def run(args: argparse.Namespace) -> int:
    """Print the table; 1 when an example does not match, else 0."""
    examples = [example(i) for i in args.ids] if args.ids else list(CATALOG.values())
    engines = args.engines.split(",")
    unknown = [e for e in engines if e not in EXAMPLE_ENGINES]
    if unknown:
        choices = ", ".join(EXAMPLE_ENGINES)
        raise UsageError(f"unknown engine `{unknown[0]}`; choose from {choices}")
    header = f"{'id':7s} {'keys':>4s}  " + "  ".join(f"{e:>14s}" for e in engines) + "  result"
    print(header)
    failed = 0
    for chosen in examples:
        check = check_example(chosen, engines)
        cells = "  ".join(f"{_cell(check.engines[e]):>14s}" for e in engines)
        verdict = "pass" if check.passed else "FAIL"
        print(f"{chosen.id:7s} {len(chosen.documented):4d}  {cells}  {verdict}")
        for engine, result in check.engines.items():
            for failure in result.failures if (args.verbose or not check.passed) else []:
                print(f"        {engine}: {failure}")
            if args.verbose and result.skipped:
                print(f"        {engine}: not expressed: {', '.join(result.skipped)}")
        failed += not check.passed
    print(f"\n{len(examples) - failed}/{len(examples)} examples match the seeds' documented numbers"
          f" (cells: max abs error against the printed values)")  # fmt: skip
    return 1 if failed else 0
