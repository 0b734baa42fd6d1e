"""The test helpers themselves: CI detection, the torch fixture's rule, the summation bound."""

import sys

import numpy as np
import pytest
from support import (
    UNIT_ROUNDOFF,
    assert_close,
    ci_is_set,
    import_extra,
    import_real_torch,
    summation_bound,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("True", True),
        ("YES", True),
        (" yes\n", True),
        ("false", False),
        ("FALSE", False),
        ("0", False),
        ("no", False),
        ("", False),
        (None, False),
    ],
)
def test_ci_truthiness(value, expected):
    assert ci_is_set(value) is expected


@pytest.fixture
def torch_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError


@pytest.mark.parametrize("ci", ["1", "true", "Yes"])
def test_missing_torch_fails_under_ci(torch_missing, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="real PyTorch is required when CI is set"):
        import_real_torch()


@pytest.mark.parametrize("ci", ["false", "0", "", None])
def test_missing_torch_skips_without_ci(torch_missing, monkeypatch, ci):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match="real PyTorch is not installed"):
        import_real_torch()


@pytest.mark.parametrize(("ci", "outcome"), [("1", pytest.fail), ("0", pytest.skip)])
def test_missing_optax_fails_under_ci_and_skips_without(monkeypatch, ci, outcome):
    monkeypatch.setitem(sys.modules, "optax", None)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome.Exception, match=r"pip install 'fdiff\[optax\]'|not installed"):
        import_extra("optax", "optax")


def test_tests_using_real_torch_are_marked_torch(request, real_torch):
    assert request.node.get_closest_marker("torch") is not None


def test_tests_without_real_torch_are_not_marked_torch(request):
    assert request.node.get_closest_marker("torch") is None


def test_summation_bound_is_gamma_n_times_the_magnitude():
    n = 18
    gamma = n * UNIT_ROUNDOFF / (1 - n * UNIT_ROUNDOFF)
    assert summation_bound(-3.0, n, engines=1) == pytest.approx(3 * gamma, rel=1e-12)
    assert summation_bound(3.0, n) == pytest.approx(6 * gamma, rel=1e-12)


def test_summation_bound_holds_for_a_float32_sum_in_any_order():
    terms = np.random.default_rng(0).normal(size=1000).astype(np.float32)
    exact = terms.astype(np.float64).sum()
    bound = summation_bound(np.abs(terms.astype(np.float64)).sum(), terms.size, engines=1)
    for order in (terms, terms[::-1], np.sort(terms)):
        total = np.float32(0)
        for term in order:  # sequential float32 summation: the worst order for the bound
            total = np.float32(total + term)
        assert_close(total, exact, bound=bound)


def test_assert_close_with_a_bound_fails_outside_it():
    assert_close([1.0, 2.0], [1.0, 2.5], bound=np.array([0.0, 0.5]))
    assert_close([np.nan, np.inf], [np.nan, np.inf], bound=0.0)
    with pytest.raises(AssertionError, match="1 of 2 values differ by more than"):
        assert_close([1.0, 2.0], [1.0, 2.5], bound=np.array([0.0, 0.4]))
    with pytest.raises(AssertionError):
        assert_close([np.nan], [1.0], bound=10.0)
