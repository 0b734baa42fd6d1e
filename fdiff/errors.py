"""``InputError``: bad input from the user, as opposed to a bug in fdiff; ``OutputError``;
``TraceWarning``.

Every error fdiff documents as the caller's mistake (a rejected expression, an unknown preset, a
plot window with ``low >= high``, a missing script to compare, a bad command-line argument) is an
:class:`InputError`, a ``ValueError`` whose message names what was wrong and what to do. The
``fdiff`` command prints such an error as one line, ``fdiff: error: ...``, and exits with
status 2; any other exception is a bug and shows its traceback. An output file that cannot be
written (a directory, a missing folder, a full disk) is an :class:`OutputError`, an ``OSError``
printed the same way.

>>> from fdiff.fields import preset
>>> try:
...     preset("999.9")
... except InputError as error:
...     print(error)
no gradient-field preset for example '999.9'; known: 000.1, 002.1
"""

__all__ = ["InputError", "OutputError", "TraceWarning"]


class InputError(ValueError):
    """The caller's input was wrong; the message says what, and what to do instead."""


class OutputError(OSError):
    """An output file could not be written (a directory, a missing folder, a full disk...).

    The message is one line naming the file and the reason; the ``fdiff`` command prints it as
    ``fdiff: error: ...`` and exits with status 2. It is an ``OSError``: the cause is the file
    system, not a bug.
    """


class TraceWarning(UserWarning):
    """A recorded program read one of its values into Python: its control flow is frozen.

    ``fdiff.torch.functionalize`` warns with it, as ``torch.jit.trace`` warns with
    ``TracerWarning``: the pure function replays the ops that ran, so an ``if`` on a recorded
    value keeps the branch taken when the program was recorded. The message names the line.
    """
