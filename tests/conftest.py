"""Pytest fixtures and collection rules shared by every test module.

Every test that uses the ``real_torch`` fixture (directly or through another fixture) is marked
``torch``: ``pytest -m torch`` selects exactly the tests that need real PyTorch, and under CI
(``CI`` = 1/true/yes) they fail instead of skipping when it cannot be imported.
"""

import pytest
from support import import_extra, import_real_torch


@pytest.fixture(scope="session")
def real_torch():
    """The real ``torch`` module: skipped without it, a failure when ``CI`` is set."""
    return import_real_torch()


@pytest.fixture(scope="session")
def optax():
    """The ``optax`` module (``fdiff[optax]``): skipped without it, a failure when ``CI`` is set."""
    return import_extra("optax", "optax")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "real_torch" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.torch)
