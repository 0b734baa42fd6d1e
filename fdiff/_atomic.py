"""Output files written whole or not at all: checked before the work, renamed into place after.

:func:`check_writable` proves, before any computation, that a file can be created next to the
output (so a typo'd folder, a directory or a read-only place fails at once);
:func:`atomic_path` gives a temporary path in the output's folder and renames it onto the output
with ``os.replace`` only when the writing succeeded, so a full disk, an error or a Ctrl-C leaves
the previous file (or none), never a truncated one. Failures raise :class:`OutputError` with a
one-line message.

>>> import tempfile
>>> from pathlib import Path
>>> with tempfile.TemporaryDirectory() as folder:
...     out = check_writable(Path(folder) / "result.txt")
...     with atomic_path(out) as temporary:
...         _ = temporary.write_text("done")
...     sorted(p.name for p in Path(folder).iterdir()), out.read_text()
(['result.txt'], 'done')
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from fdiff.errors import OutputError

__all__ = ["atomic_path", "check_writable"]


def check_writable(path: str | Path) -> Path:
    """``path`` as a :class:`~pathlib.Path`, once a file could be created in its folder.

    Raises:
        OutputError: ``path`` is a directory, its folder is missing, or nothing can be
            created there (permissions, a read-only or special file system such as ``/proc``).
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"cannot write {str(path)!r}: it is a directory")
    if not path.parent.is_dir():
        raise OutputError(f"cannot write {str(path)!r}: the folder {str(path.parent)!r} is missing")
    with _temporary_file(path):
        return path


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path next to ``path``, renamed onto ``path`` if the block ends without error.

    The file gets the permissions a new file (or the file it replaces) would have. If the block
    raises (``KeyboardInterrupt`` included), the temporary file is removed and ``path`` is left
    as it was.

    Raises:
        OutputError: an ``OSError`` while writing, flushing or renaming (a full disk, ...).
    """
    path = Path(path)
    with _temporary_file(path) as temporary:
        try:
            yield temporary
            with open(temporary, "rb+") as written:
                os.fsync(written.fileno())
            os.chmod(temporary, _mode_for(path))
            os.replace(temporary, path)
        except OSError as error:
            raise OutputError(f"cannot write {str(path)!r}: {error.strerror or error}") from error


@contextlib.contextmanager
def _temporary_file(path: Path) -> Iterator[Path]:
    """An empty file created next to ``path``, removed on the way out unless renamed."""
    try:
        descriptor, name = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent
        )
    except OSError as error:
        raise OutputError(f"cannot write {str(path)!r}: {error.strerror or error}") from error
    os.close(descriptor)
    try:
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def _mode_for(path: Path) -> int:
    """The replaced file's permissions, or those ``open`` gives a new file (0o666 less umask)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
