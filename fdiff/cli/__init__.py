"""The fdiff command: list, show, run, check, plot and compare (``python -m fdiff``).

Each command lives in its own module of this package, with ``add_arguments(parser)`` and
``run(args) -> exit status``; a module is imported only when its command is chosen, so
``fdiff --help`` loads neither JAX nor matplotlib.

Bad input (an unknown id, a bad argument, a rejected expression: any
:class:`~fdiff.errors.InputError`) and an output file that cannot be written (an
:class:`~fdiff.errors.OutputError`) print one line, ``fdiff: error: ...``, on stderr and exit
with status 2; ``check`` exits 1 on any mismatch. Ctrl-C exits 130 with one line, a closed
stdout 141 quietly, a full one 2 with one line (:mod:`fdiff.cli._exit`). Any other exception
is a bug in fdiff and shows its traceback.

>>> main(["show", "9.9"])
2
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Collection, Sequence

from fdiff import __version__
from fdiff.cli._exit import Interrupts, checked_stdout, ending_status, interrupted
from fdiff.cli._usage import Parser, UsageError
from fdiff.errors import InputError, OutputError

__all__ = ["COMMANDS", "UsageError", "build_parser", "main"]

COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("fdiff.cli._list", "list example ids and titles"),
    "show": ("fdiff.cli._show", "torch-style source next to the JAX rewrite"),
    "run": ("fdiff.cli._run", "print an example's transcript"),
    "check": ("fdiff.cli._check", "compare every example with the seeds' numbers"),
    "plot": ("fdiff.cli._plot", "plot a gradient field"),
    "compare": ("fdiff.cli._compare", "run a script under torch and fdiff.torch"),
    "landscape": ("fdiff.cli._landscape", "plot a model's loss landscape"),
}
"""Each command: the module that declares and runs it, and its one-line help."""


def build_parser(commands: Collection[str] | None = None) -> Parser:
    """The ``fdiff`` argument parser, with the arguments of ``commands`` (default: all).

    Every command is listed (``fdiff --help``); only those in ``commands`` have their module
    imported and their arguments declared.

    >>> build_parser(["list"]).parse_args(["list"]).handler.__module__
    'fdiff.cli._list'
    """
    parser = Parser(prog="fdiff", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"fdiff {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name, (module_name, summary) in COMMANDS.items():
        subparser = subparsers.add_parser(name, help=summary, description=summary)
        if commands is None or name in commands:
            module = importlib.import_module(module_name)
            module.add_arguments(subparser)
            subparser.set_defaults(handler=module.run)
    return parser


def _chosen_command(argv: Sequence[str]) -> list[str]:
    """The command ``argv`` names (its first word that is not an option), if it names one."""
    first = next((word for word in argv if not word.startswith("-")), None)
    return [first] if first in COMMANDS else []


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fdiff`` console script; returns the exit status.

    Bad input and unwritable output end with one line and status 2; Ctrl-C, a closed or a full
    stdout as :mod:`fdiff.cli._exit` says (130, 141, 2).
    """
    program, argv = argv is None, sys.argv[1:] if argv is None else list(argv)
    with Interrupts(program) as interrupts, checked_stdout():
        try:
            status = _parse_and_run(argv, interrupts)
            sys.stdout.flush()  # here, where a closed or full stdout can still be reported
        except (InputError, OutputError) as error:
            message = error.args[0] if error.args else str(error)
            print(f"fdiff: error: {message}", file=sys.stderr)
            status = 2
        except BaseException as error:
            return ending_status(error, interrupts)
        return interrupted() if interrupts.seen else status


def _parse_and_run(argv: list[str], interrupts: Interrupts) -> int:
    """Parse ``argv`` and run its command; its exit status (0 after ``--help``, ``--version``)."""
    try:
        args = build_parser(_chosen_command(argv)).parse_args(argv)
    except SystemExit as done:  # argparse printed the help or the version
        return 0 if done.code is None else int(done.code)
    interrupts.running()
    return args.handler(args)
