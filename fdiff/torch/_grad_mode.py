"""Grad mode: whether ops are recorded for autograd (``no_grad``, ``enable_grad``, ...).

The mode is per thread, as torch's is.

>>> with no_grad():
...     is_grad_enabled()
False
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from fdiff.torch._errors import UnsupportedError


class _Mode(threading.local):
    enabled = True  # each thread starts in grad mode (an attribute a thread sets shadows it)
    inference = False


_mode = _Mode()


def is_grad_enabled() -> bool:
    """Whether ops are recorded for autograd (torch's ``torch.is_grad_enabled()``)."""
    return _mode.enabled


class _GradModeSwitch(contextlib.ContextDecorator):
    """A ``with`` block or decorated function with recording on or off; re-entrant (each entry
    restores the mode it found)."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._saved: list[bool] = []

    def __enter__(self) -> None:
        _refuse_recording_in_inference(self.mode)
        self._saved.append(is_grad_enabled())
        _mode.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self._saved.pop()


def _refuse_recording_in_inference(mode: bool) -> None:
    """torch's inference mode records nothing even where grad mode is turned back on; here
    grad mode alone decides, so turning it on inside ``inference_mode`` is refused."""
    if mode and _mode.inference:
        raise UnsupportedError("torch.enable_grad / set_grad_enabled(True) inside inference_mode")


class set_grad_enabled(_GradModeSwitch):
    """Turn recording on or off: called alone (``torch.set_grad_enabled(False)``) it sets the
    mode from then on, as torch's does; as a ``with`` block or decorator, only inside.

    >>> with set_grad_enabled(False):
    ...     is_grad_enabled()
    False
    >>> _ = set_grad_enabled(False); is_grad_enabled()
    False
    >>> _ = set_grad_enabled(True); is_grad_enabled()
    True
    """

    def __init__(self, mode: bool) -> None:
        super().__init__(mode)
        _refuse_recording_in_inference(self.mode)
        self._before: bool | None = is_grad_enabled()  # what the first ``with`` restores
        _mode.enabled = self.mode

    def __enter__(self) -> None:
        before, self._before = self._before, None
        super().__enter__()
        if before is not None:  # the block right after the call: restore what was before it
            self._saved[-1] = before

    def __call__(self, function: Any) -> Any:
        """As a decorator the call changes nothing outside the function (torch's too)."""
        if self._before is not None:
            _mode.enabled, self._before = self._before, None
        return super().__call__(function)


class no_grad(_GradModeSwitch):
    """Ops inside produce tensors with ``requires_grad=False`` that are leaves (torch's rule)."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(_GradModeSwitch):
    """Re-enable recording inside a ``no_grad`` block."""

    def __init__(self) -> None:
        super().__init__(True)


def is_inference_mode_enabled() -> bool:
    """Whether an ``inference_mode()`` block is active (torch's function)."""
    return _mode.inference


class inference_mode(_GradModeSwitch):
    """torch's ``inference_mode(mode=True)``: recording off inside, as ``no_grad`` (on, with
    ``mode=False``); also a decorator, with or without the call.

    Tensors made inside are ordinary tensors here: torch's errors when such an *inference
    tensor* later enters a recorded computation or is changed in place outside the block are
    not raised (docs/semantics.md), and ``Tensor.is_inference`` is unsupported.

    >>> with inference_mode():
    ...     is_grad_enabled(), is_inference_mode_enabled()
    (False, True)
    """

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode):  # ``@inference_mode`` without the call
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        super().__init__(not mode)
        self.inference = bool(mode)
        self._inference_saved: list[bool] = []

    def __enter__(self) -> None:
        self._inference_saved.append(_mode.inference)
        _mode.inference = self.inference  # first: ``inference_mode(False)`` leaves it, then records
        super().__enter__()

    def __exit__(self, *exc: object) -> None:
        _mode.inference = self._inference_saved.pop()
        super().__exit__(*exc)
