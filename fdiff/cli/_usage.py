"""What the command modules share: :class:`UsageError` and the parser and look-ups that raise it.

>>> example("9.9")
Traceback (most recent call last):
    ...
fdiff.cli._usage.UsageError: unknown example id `9.9`; known ids: 000.1, ...
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, NoReturn

from fdiff.errors import InputError

if TYPE_CHECKING:
    from fdiff.examples import Example

__all__ = ["Parser", "UsageError", "example"]


class UsageError(InputError):
    """A mistake on the command line: ``fdiff`` prints it in one line and exits with status 2."""


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that raises :class:`UsageError` instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def example(example_id: str) -> Example:
    """The catalog example ``example_id``; a :class:`UsageError` when there is none."""
    from fdiff.examples import get  # the catalog loads JAX: only for the commands that need it

    try:
        return get(example_id)
    except KeyError as error:
        raise UsageError(error.args[0]) from None
