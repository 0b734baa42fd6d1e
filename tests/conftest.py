"""Pytest fixtures shared by every test module."""

import pytest
from support import import_real_torch


@pytest.fixture(scope="session")
def real_torch():
    """The real ``torch`` module: skipped without it, a failure when ``CI`` is set."""
    return import_real_torch()
