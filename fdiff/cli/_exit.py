"""How the ``fdiff`` command ends when it is stopped: Ctrl-C, a closed or a full stdout.

- **Ctrl-C** (``SIGINT``) at any moment prints one line, ``fdiff: interrupted``, and ends with
  status 130 (128 + ``SIGINT``, the shell's convention), never a traceback. While the command's
  modules load (JAX, matplotlib: nothing to clean up yet) the program ends at once (``main``
  called from Python returns 130 instead); once the command runs, Ctrl-C raises
  ``KeyboardInterrupt`` so that ``finally`` blocks clean up (a half-written output file is
  removed, ``fdiff compare`` kills its engines' process groups); further Ctrl-Cs are ignored
  while that cleanup runs. An interrupt that a library turned into another exception (a native
  module's import reports it as an ``ImportError``), or swallowed, still ends with 130.
- **A closed stdout** (``fdiff list | head -0``) ends quietly with status 141 (128 + ``SIGPIPE``,
  what a program killed by the broken pipe reports; distinct from every verdict of
  ``fdiff compare``).
- **A stdout that cannot be written** (``fdiff list > /dev/full``) prints one line,
  ``fdiff: error: cannot write to standard output: ...``, and ends with status 2.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any, TextIO

__all__ = [
    "BROKEN_PIPE",
    "INTERRUPTED",
    "Interrupts",
    "StdoutError",
    "checked_stdout",
    "ending_status",
    "interrupted",
]

INTERRUPTED = 128 + signal.SIGINT
"""Exit status after Ctrl-C."""
BROKEN_PIPE = 128 + signal.SIGPIPE
"""Exit status when the reader of stdout has gone."""

_INTERRUPTED_LINE = "fdiff: interrupted"


class Interrupts:
    """Ctrl-C handling for one run of the command (a context manager; main thread only).

    Args:
        program: the command is the whole program (the console script, ``python -m fdiff``):
            after the block, while the interpreter exits (JAX's exit hooks), Ctrl-C still ends
            with the line and 130; otherwise the previous handler is put back.

    >>> with Interrupts() as interrupts:
    ...     interrupts.running()
    >>> interrupts.seen
    False
    """

    def __init__(self, program: bool = False) -> None:
        self.seen = False
        self._loading = True
        self._program = program
        self._previous: object = None

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_interrupt)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, _end_now if self._program else self._previous)

    def running(self) -> None:
        """The command's modules are loaded: from now on Ctrl-C raises ``KeyboardInterrupt``."""
        self._loading = False

    def _on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self.seen:
            return  # a cleanup is under way: let it finish
        self.seen = True
        if self._loading and self._program:
            _end_now(signum, frame)
        raise KeyboardInterrupt


def _end_now(signum: int, frame: FrameType | None) -> None:
    """Print the line and end the process at once (nothing to clean up)."""
    os.write(sys.stderr.fileno(), f"{_INTERRUPTED_LINE}\n".encode())
    os._exit(INTERRUPTED)


class StdoutError(OSError):
    """Writing to stdout failed (other than a broken pipe): the disk is full, an I/O error."""


class _CheckedStdout:
    """Stands for stdout: a failed write raises :class:`StdoutError`, telling it from others."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        with _as_stdout_error():
            return self._stream.write(text)

    def flush(self) -> None:
        with _as_stdout_error():
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def _as_stdout_error() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as error:
        raise StdoutError(error.errno, error.strerror) from error


@contextlib.contextmanager
def checked_stdout() -> Iterator[None]:
    """Inside the block, a failed write to ``sys.stdout`` raises :class:`StdoutError`."""
    stream = sys.stdout
    sys.stdout = _CheckedStdout(stream)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout = stream


def ending_status(error: BaseException, interrupts: Interrupts) -> int:
    """The exit status for ``error`` if it is one of the endings above (after its one line).

    Raises:
        BaseException: ``error`` itself when it is none of them (a bug shows its traceback).
    """
    if interrupts.seen or isinstance(error, KeyboardInterrupt):
        return interrupted()
    if isinstance(error, BrokenPipeError):
        _silence_stdout()
        return BROKEN_PIPE
    if isinstance(error, StdoutError):
        _silence_stdout()
        print(f"fdiff: error: cannot write to standard output: {error.strerror}", file=sys.stderr)
        return 2
    raise error


def interrupted() -> int:
    """Print the interrupted line; the status to exit with."""
    print(_INTERRUPTED_LINE, file=sys.stderr)
    return INTERRUPTED


def _silence_stdout() -> None:
    """Point stdout at ``/dev/null``, so that the flush at exit cannot fail a second time."""
    with contextlib.suppress(OSError, ValueError, AttributeError):  # no real stdout (captured)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
