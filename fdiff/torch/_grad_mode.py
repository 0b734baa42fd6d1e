"""Grad mode: whether ops are recorded for autograd (``no_grad``, ``enable_grad``, ...).

The mode is per thread, as torch's is.

>>> with no_grad():
...     is_grad_enabled()
False
"""

from __future__ import annotations

import contextlib
import threading


class _Mode(threading.local):
    enabled = True  # each thread starts in grad mode (an attribute a thread sets shadows it)


_mode = _Mode()


def is_grad_enabled() -> bool:
    """Whether ops are recorded for autograd (torch's ``torch.is_grad_enabled()``)."""
    return _mode.enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Turn recording on or off for a ``with`` block or a decorated function.

    >>> with set_grad_enabled(False):
    ...     is_grad_enabled()
    False
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._saved: list[bool] = []

    def __enter__(self) -> None:
        self._saved.append(is_grad_enabled())
        _mode.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self._saved.pop()


class no_grad(set_grad_enabled):
    """Ops inside produce tensors with ``requires_grad=False`` that are leaves (torch's rule)."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Re-enable recording inside a ``no_grad`` block."""

    def __init__(self) -> None:
        super().__init__(True)
