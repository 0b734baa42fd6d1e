"""Shared test helpers: the one tolerance helper and access to real PyTorch.

Import as ``from support import assert_close, import_real_torch``; the torch-layer tests also
use ``run_both`` and ``assert_same`` to run one program under real torch and fdiff.torch.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

# float32 defaults (DEVELOPERS.md): a looser tolerance must be passed explicitly, with a reason.
RTOL = 1e-5
ATOL = 1e-6


def assert_close(actual, expected, rtol: float = RTOL, atol: float = ATOL) -> None:
    """Compare arrays (or pytrees of arrays given as lists/tuples) with explicit tolerances."""
    np.testing.assert_allclose(
        np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64), rtol, atol
    )


def import_real_torch():
    """Return real PyTorch; skip without it, but fail when ``CI`` is set (it must run there)."""
    try:
        return importlib.import_module("torch")
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("real PyTorch is required when CI is set: pip install 'fdiff[torch]'")
        pytest.skip("real PyTorch is not installed")


def run_both(real_torch, program: Callable[[Any], Any]) -> tuple[Any, Any]:
    """``(program(fdiff.torch), program(real_torch))``: one torch-style program, two engines."""
    import fdiff.torch

    return program(fdiff.torch), program(real_torch)


def assert_same(actual, expected, rtol: float = RTOL, atol: float = ATOL) -> None:
    """Compare nested results of ``run_both``: tensors by shape, dtype, requires_grad and value;
    lists, tuples and dicts item by item; anything else (numbers, strings, None) by equality.
    """
    if hasattr(expected, "detach") and hasattr(expected, "dtype"):  # a tensor of either engine
        assert hasattr(actual, "detach"), f"expected a tensor, got {actual!r}"
        assert tuple(actual.shape) == tuple(expected.shape), (actual.shape, expected.shape)
        assert str(actual.dtype) == str(expected.dtype), (actual.dtype, expected.dtype)
        assert actual.requires_grad == expected.requires_grad
        assert_close(actual.detach().numpy(), expected.detach().numpy(), rtol, atol)
    elif isinstance(expected, list | tuple):
        assert isinstance(actual, list | tuple) and len(actual) == len(expected), actual
        for a, e in zip(actual, expected, strict=True):
            assert_same(a, e, rtol, atol)
    elif isinstance(expected, float):
        assert isinstance(actual, float), actual
        assert_close(actual, expected, rtol, atol)
    elif isinstance(expected, dict):
        assert actual.keys() == expected.keys()
        for key in expected:
            assert_same(actual[key], expected[key], rtol, atol)
    else:
        assert actual == expected, (actual, expected)
