"""What the command modules share: :class:`UsageError` and the parser and look-ups that raise it.

>>> example("9.9")
Traceback (most recent call last):
    ...
fdiff.cli._usage.UsageError: unknown example id `9.9`; known ids: 000.1, ...
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any, NoReturn

from fdiff.errors import InputError

if TYPE_CHECKING:
    from fdiff.examples import Example

__all__ = ["Parser", "UsageError", "check_range", "example"]

_OPTION_LIKE = re.compile(r"-[A-Za-z_][\w-]*(=.*)?")
"""How an option can look: ``-v``, ``-vx``, ``-x=3`` (a value never starts with ``--``)."""


class UsageError(InputError):
    """A mistake on the command line: ``fdiff`` prints it in one line and exits with status 2."""


def check_range(flag: str, value: int, low: int, high: int) -> None:
    """:class:`UsageError` unless ``low <= value <= high``, naming ``flag``."""
    if not low <= value <= high:
        raise UsageError(f"{flag} {value} is out of range: it must be from {low} to {high}")


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that raises :class:`UsageError` instead of exiting.

    A word that starts with a single ``-`` and is not one of the parser's options is a value
    when it cannot be an option: a number or comma-separated numbers (``-1``, ``-1e3``,
    ``-1.5,2``) or a word with a character no option has (the expression ``-a*b``). ``--``
    still ends the options (``fdiff plot --out f.png -- -a``, for an expression that looks like
    an option).

    >>> parser = Parser(prog="demo")
    >>> _ = parser.add_argument("expression", nargs="?")
    >>> _ = parser.add_argument("--xlim", nargs=2, type=float)
    >>> _ = parser.add_argument("--start")
    >>> parser.parse_args(["-a*b", "--xlim", "-1e3", "1e3", "--start", "-1.5,2"])
    Namespace(expression='-a*b', xlim=[-1000.0, 1000.0], start='-1.5,2')
    >>> parser.parse_args(["-a", "--xlim", "0", "1"])
    Traceback (most recent call last):
        ...
    fdiff.cli._usage.UsageError: unrecognized arguments: -a (a value that starts with - ...
    """

    def error(self, message: str) -> NoReturn:
        if "unrecognized arguments: -" in message:
            message += " (a value that starts with - and looks like an option goes after --)"
        raise UsageError(message)

    def _parse_optional(self, arg_string: str) -> Any:
        if _is_value(arg_string, self._option_string_actions):
            return None
        return super()._parse_optional(arg_string)


def _is_value(word: str, options: dict[str, argparse.Action]) -> bool:
    """Whether ``word``, which may start with ``-``, can only be a value for this parser."""
    if not word.startswith("-") or word.startswith("--") or word in options:
        return False
    if word.split("=", 1)[0] in options:
        return False
    return _is_numbers(word) or not _OPTION_LIKE.fullmatch(word)


def _is_numbers(word: str) -> bool:
    try:
        [float(part) for part in word.split(",")]
    except ValueError:
        return False
    return True


def example(example_id: str) -> Example:
    """The catalog example ``example_id``; a :class:`UsageError` when there is none."""
    from fdiff.examples import get  # the catalog module, not the examples' JAX code

    try:
        return get(example_id)
    except KeyError as error:
        raise UsageError(error.args[0]) from None
