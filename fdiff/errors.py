"""``InputError``: bad input from the user, as opposed to a bug in fdiff.

Every error fdiff documents as the caller's mistake (a rejected expression, an unknown preset, a
plot window with ``low >= high``, a missing script to compare, a bad command-line argument) is an
:class:`InputError`, a ``ValueError`` whose message names what was wrong and what to do. The
``fdiff`` command prints such an error as one line, ``fdiff: error: ...``, and exits with
status 2; any other exception is a bug and shows its traceback.

>>> from fdiff.fields import preset
>>> try:
...     preset("999.9")
... except InputError as error:
...     print(error)
no gradient-field preset for example '999.9'; known: 000.1, 002.1
"""

__all__ = ["InputError"]


class InputError(ValueError):
    """The caller's input was wrong; the message says what, and what to do instead."""
