"""Grad mode and inference mode as torch sets them: called, entered, or decorating a function."""

from __future__ import annotations

import pytest
from support import assert_same, run_both

import fdiff.torch


def _records(t, x):
    return (x * 2).requires_grad


def test_set_grad_enabled_called_alone_sets_the_mode(real_torch):
    def program(t):
        x = t.ones(2, requires_grad=True)
        t.set_grad_enabled(False)
        off = (_records(t, x), t.is_grad_enabled())
        t.set_grad_enabled(True)
        return off, (_records(t, x), t.is_grad_enabled())

    actual, expected = run_both(real_torch, program)
    assert actual == expected == ((False, False), (True, True))


def test_grad_mode_blocks_and_decorators(real_torch):
    def program(t):
        x = t.ones(2, requires_grad=True)
        seen = []
        with t.set_grad_enabled(False):
            seen.append(_records(t, x))
            with t.enable_grad():
                seen.append(_records(t, x))
        seen.append(_records(t, x))
        with t.no_grad(), t.set_grad_enabled(True):
            seen.append(_records(t, x))

        @t.set_grad_enabled(False)
        def off():
            return _records(t, x)

        @t.no_grad()
        def also_off():
            return _records(t, x)

        seen += [t.is_grad_enabled(), off(), also_off(), off(), t.is_grad_enabled()]
        return seen

    actual, expected = run_both(real_torch, program)
    assert actual == expected


def test_inference_mode_records_nothing_inside(real_torch):
    def program(t):
        x = t.ones(2, requires_grad=True)
        seen = [t.is_inference_mode_enabled()]
        with t.inference_mode():
            seen += [_records(t, x), t.is_grad_enabled(), t.is_inference_mode_enabled()]
            with t.inference_mode(False):
                seen += [_records(t, x), t.is_inference_mode_enabled()]
        with t.no_grad(), t.inference_mode(mode=False):
            seen += [_records(t, x), t.is_grad_enabled()]

        @t.inference_mode
        def bare():
            return _records(t, x)

        @t.inference_mode()
        def called():
            return _records(t, x), t.is_inference_mode_enabled()

        seen += [bare(), called(), _records(t, x), t.is_inference_mode_enabled()]
        with t.inference_mode():
            y = x * 3
        seen.append(y)
        return seen

    actual, expected = run_both(real_torch, program)
    assert_same(actual, expected)


def test_turning_grad_mode_on_inside_inference_mode_is_refused(real_torch):
    """torch records nothing there even with grad mode on (its inference mode bypasses
    autograd); fdiff.torch's recording follows grad mode alone, so it refuses instead of
    recording what torch would not."""
    x = real_torch.ones(2, requires_grad=True)
    with real_torch.inference_mode(), real_torch.enable_grad():
        assert not _records(real_torch, x)
    with fdiff.torch.inference_mode():
        refused = pytest.raises(fdiff.torch.UnsupportedError, match="inside inference_mode")
        with refused, fdiff.torch.enable_grad():
            pass
        with pytest.raises(fdiff.torch.UnsupportedError, match="inside inference_mode"):
            fdiff.torch.set_grad_enabled(True)
    assert fdiff.torch.is_grad_enabled() and not fdiff.torch.is_inference_mode_enabled()
