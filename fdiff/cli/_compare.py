"""``fdiff compare``: run a torch-style script under real PyTorch and under fdiff.torch.

Bad input (a missing file, not ``.py``, a script with a ``SyntaxError``, an unknown example id,
a tolerance or timeout that is not a finite positive number, no real PyTorch) raises an
:class:`~fdiff.errors.InputError` with a one-line message; ``fdiff`` prints it and exits with
status 2. Otherwise the exit status is 0 when the engines agree, 1 when they differ and 3 when a
run failed (timed out, killed by a signal, ended without a result, or never started).
With ``--against PORT.py`` the script runs under real PyTorch and ``PORT.py``, its pure JAX
rewrite, under plain JAX (``--example ID --against jax``: the catalog's own rewrite); the exit
statuses are the same.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import threading
from collections.abc import Iterator

from fdiff.cli._usage import UsageError
from fdiff.compare import (
    DEFAULT_ATOL,
    DEFAULT_RTOL,
    compare_example,
    compare_port,
    compare_script,
    format_report,
    report_json,
)

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``compare`` subcommand's arguments on ``parser``.

    >>> parser = argparse.ArgumentParser(prog="fdiff compare")
    >>> add_arguments(parser)
    >>> parser.parse_args(["train.py", "--tol", "1e-4"]).tol
    0.0001
    """
    parser.add_argument("script", nargs="?", help="a .py file of torch-style code")
    parser.add_argument(
        "--example", metavar="ID", help="a catalog example id, or a seed document's name"
    )
    parser.add_argument(
        "--tol",
        type=float,
        default=DEFAULT_RTOL,
        metavar="RTOL",
        help=f"relative tolerance (default {DEFAULT_RTOL:g})",
    )
    parser.add_argument(
        "--atol",
        type=float,
        default=DEFAULT_ATOL,
        help=f"absolute tolerance (default {DEFAULT_ATOL:g})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="seconds each engine's run may take, its engine's import not counted "
        "(default 300; the engines run at the same time)",
    )
    parser.add_argument(
        "--no-x64",
        dest="x64",
        action="store_false",
        help="run fdiff.torch without JAX's 64-bit mode (on by default, so float64 and "
        "int64 work as in torch)",
    )
    parser.add_argument(
        "--against",
        metavar="PORT",
        help="compare the torch script with PORT.py, its pure JAX rewrite, instead of "
        "fdiff.torch (with --example, `jax` is the catalog's own rewrite)",
    )
    parser.add_argument("--json", action="store_true", help="print the JSON report instead")


@contextlib.contextmanager
def _terminations_exit() -> Iterator[None]:
    """``SIGTERM`` and ``SIGHUP`` raise ``SystemExit(128 + signal)`` inside the block.

    The engines run in sessions of their own, so a signal to ``fdiff`` does not reach them:
    exiting through Python lets the comparison kill their process groups on the way out.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # handlers can only be set from the main thread
        return

    def leave(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = {s: signal.signal(s, leave) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run(args: argparse.Namespace) -> int:
    """Compare, print the report (text or JSON); 0 agree, 1 differ, 3 a run failed.

    Raises:
        InputError: for any bad input, with a one-line message.
    """
    if (args.script is None) == (args.example is None):
        raise UsageError("give either a script to compare or --example ID, not both or neither")
    if args.against == "jax" and args.example is None:
        raise UsageError(
            "`--against jax` is the catalog's own JAX rewrite: use it with --example ID, or "
            "give your port's file (--against PORT.py)"
        )
    with _terminations_exit():
        if args.example is not None:
            report = compare_example(
                args.example, args.tol, args.atol, args.timeout, args.x64, args.against
            )
        elif args.against is not None:
            report = compare_port(args.script, args.against, args.tol, args.atol, args.timeout)
        else:
            report = compare_script(args.script, args.tol, args.atol, args.timeout, args.x64)
    if args.json:
        print(json.dumps(report_json(report), indent=2))
    else:
        print(format_report(report), end="")
    return report.exit_code
