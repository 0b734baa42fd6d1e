"""A tqdm progress bar on a terminal, nothing otherwise (tqdm is the optional extra ``progress``).

``progress=None`` (the default of the landscape functions) shows a bar when tqdm is installed
and stderr is a terminal; ``True`` asks for one, so a missing tqdm is an ``ImportError`` naming
the extra (still silent when stderr is not a terminal: a log file gets no bar); ``False`` never
shows one. tqdm is imported only when a bar is shown.

>>> with progress_bar(100, False, "landscape") as bar:
...     bar.update(100)
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["progress_bar"]


class _Silent:
    """The bar when none is shown."""

    def update(self, count: int) -> None:
        """Count ``count`` more points done (nothing to show)."""


@contextlib.contextmanager
def progress_bar(total: int, progress: bool | None, description: str) -> Iterator[Any]:
    """A bar counting ``total`` points (``update(k)`` per chunk), closed on exit.

    Args:
        total: the number of points.
        progress: ``None`` (a bar if tqdm is installed and stderr is a terminal), ``True``
            (tqdm required), ``False`` (no bar).
        description: the bar's label.

    Raises:
        ImportError: ``progress=True`` without tqdm; the message names ``fdiff[progress]``.
    """
    if progress is False or not _is_terminal():
        yield _Silent()
        return
    try:
        tqdm = importlib.import_module("tqdm").tqdm
    except ImportError as missing:
        if progress is None:
            yield _Silent()
            return
        raise ImportError(
            "a progress bar needs tqdm: pip install 'fdiff[progress]' (or pass progress=False)"
        ) from missing
    bar = tqdm(total=total, desc=description, unit="pt", leave=False, file=sys.stderr)
    try:
        yield bar
    finally:
        bar.close()


def _is_terminal() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())
