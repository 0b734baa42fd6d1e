"""Shared test helpers: the one tolerance helper and access to real PyTorch.

Import as ``from support import assert_close, import_real_torch``.
"""

from __future__ import annotations

import importlib
import os

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
