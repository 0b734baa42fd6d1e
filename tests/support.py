"""Shared test helpers: tolerances, access to real PyTorch, and running both torch engines.

Import as ``from support import assert_close, summation_bound, import_real_torch``; the
torch-layer tests also use ``run_both`` and ``assert_same`` to run one program under real torch
and fdiff.torch.

Tolerances: elementwise float32 results use ``RTOL``/``ATOL``. A result that is a sum (a
reduction, a matmul, a convolution, a loss, a gradient of any of these) may differ between two
correct engines by the summation order alone (AVX2 vs AVX-512 kernels, ``ATEN_CPU_CAPABILITY``,
XLA vs oneDNN): compare it with ``bound=summation_bound(magnitude, terms)``, where ``magnitude``
is the same computation on absolute values in float64, e.g. ``conv2d(|x|, |w|) + |b|``.
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

# float32 defaults (DEVELOPERS.md) for elementwise results: RTOL is about 84 units of roundoff.
RTOL = 1e-5
ATOL = 1e-6
UNIT_ROUNDOFF = float(np.finfo(np.float32).eps) / 2  # u: one rounding's largest relative error

CI_TRUE = ("1", "true", "yes")


def ci_is_set(value: str | None) -> bool:
    """Whether the ``CI`` environment value asks for CI behaviour: "1", "true" or "yes".

    >>> [ci_is_set(v) for v in ("true", "YES", " 1 ", "false", "0", "", None)]
    [True, True, True, False, False, False, False]
    """
    return (value or "").strip().lower() in CI_TRUE


def import_real_torch():
    """Return real PyTorch; skip without it, but fail when ``CI`` is set (it must run there)."""
    return import_extra("torch", "torch", "real PyTorch")


def import_extra(module: str, extra: str, what: str | None = None):
    """Return the optional dependency ``module`` (installed by ``fdiff[extra]``); skip without
    it, but fail when ``CI`` is set (CI installs every extra)."""
    what = what or module
    try:
        return importlib.import_module(module)
    except ImportError as error:
        if ci_is_set(os.environ.get("CI")):
            pytest.fail(
                f"{what} is required when CI is set ({error}): pip install 'fdiff[{extra}]'"
            )
        pytest.skip(f"{what} is not installed ({error}); CI=1 turns this into a failure")


def _as_array(value) -> np.ndarray:
    if hasattr(value, "detach"):  # a tensor of either engine
        value = value.detach().numpy()
    return np.asarray(value, dtype=np.float64)


def summation_bound(magnitude, terms: int, engines: int = 2):
    """How far float32 results may lie apart that differ only in rounding and summation order.

    Each result is a sum whose terms' absolute values sum to ``magnitude`` and which passes
    through at most ``terms`` roundings on its way (a dot product of length n: n; a gradient
    through a forward sum of n terms and a backward sum of m: n + m + the elementwise steps).
    For any summation order, one float32 result lies within ``gamma(terms) * magnitude`` of the
    exact value (Higham, *Accuracy and Stability of Numerical Algorithms*, 3.1), gamma(n) =
    n u / (1 - n u); two engines (``engines=2``) within twice that of each other; one engine
    against an exact or float64 reference (``engines=1``) within once.

    ``magnitude`` may be a number, an array, a tensor of either engine, or lists, tuples and
    dicts of them (as ``assert_same`` takes them); ``None`` stays ``None`` (exact comparison).

    >>> float(summation_bound(10.0, terms=18)) < 2.2e-5
    True
    >>> bounds = summation_bound({"y": np.array([1.0, -2.0]), "n": None}, terms=1, engines=1)
    >>> (bounds["y"] / 2**-24).round(6), bounds["n"]  # u = 2**-24
    (array([1., 2.]), None)
    """
    if magnitude is None:
        return None
    if isinstance(magnitude, dict):
        return {key: summation_bound(value, terms, engines) for key, value in magnitude.items()}
    if isinstance(magnitude, list | tuple):
        return type(magnitude)(summation_bound(value, terms, engines) for value in magnitude)
    gamma = terms * UNIT_ROUNDOFF / (1 - terms * UNIT_ROUNDOFF)
    return engines * gamma * np.abs(_as_array(magnitude))


def assert_close(actual, expected, rtol: float = RTOL, atol: float = ATOL, bound=None) -> None:
    """Compare arrays with explicit tolerances, or, given ``bound`` (an array from
    ``summation_bound``), require ``|actual - expected| <= bound`` elementwise instead.
    NaN must meet NaN and infinities the same infinity.
    """
    actual, expected = _as_array(actual), _as_array(expected)
    if bound is None:
        np.testing.assert_allclose(actual, expected, rtol, atol)
        return
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    same = (actual == expected) | (np.isnan(actual) & np.isnan(expected))
    with np.errstate(invalid="ignore"):  # inf - inf where both are the same infinity
        error = np.where(same, 0.0, np.abs(actual - expected))
    outside = ~(error <= np.broadcast_to(bound, error.shape))
    assert not outside.any(), (
        f"{outside.sum()} of {outside.size} values differ by more than the summation bound; "
        f"largest excess {np.max(np.where(outside, error - bound, 0.0)):.3g}, "
        f"actual {actual[outside][:4]}, expected {expected[outside][:4]}"
    )


def run_both(real_torch, program: Callable[[Any], Any]) -> tuple[Any, Any]:
    """``(program(fdiff.torch), program(real_torch))``: one torch-style program, two engines."""
    import fdiff.torch

    return program(fdiff.torch), program(real_torch)


def assert_same_error(real_torch, program: Callable[[Any], Any], fragment: str | None = None):
    """``program`` raises the same exception type under real torch and fdiff.torch; both messages
    contain ``fragment``, or, without one, are equal."""
    import fdiff.torch

    raised = []
    for torch in (real_torch, fdiff.torch):
        with pytest.raises(Exception) as info:
            program(torch)
        raised.append(info.value)
    expected, actual = raised
    assert type(actual) is type(expected), (actual, expected)
    if fragment is None:
        assert str(actual) == str(expected)
    else:
        assert fragment in str(expected), f"torch said: {expected}"
        assert fragment in str(actual), f"fdiff said: {actual}"


def assert_same(actual, expected, rtol: float = RTOL, atol: float = ATOL, bounds=None) -> None:
    """Compare nested results of ``run_both``: tensors by shape, dtype, requires_grad and value;
    lists, tuples and dicts item by item; anything else (numbers, strings, None) by equality.

    ``bounds``, when given, has the structure of ``expected`` (``summation_bound`` of the
    magnitudes) and replaces ``rtol``/``atol`` wherever it holds an array.
    """
    if hasattr(expected, "detach") and hasattr(expected, "dtype"):  # a tensor of either engine
        assert hasattr(actual, "detach"), f"expected a tensor, got {actual!r}"
        assert tuple(actual.shape) == tuple(expected.shape), (actual.shape, expected.shape)
        assert str(actual.dtype) == str(expected.dtype), (actual.dtype, expected.dtype)
        assert actual.requires_grad == expected.requires_grad
        assert_close(actual, expected, rtol, atol, bounds)
    elif isinstance(expected, list | tuple):
        assert isinstance(actual, list | tuple) and len(actual) == len(expected), actual
        parts = bounds if bounds is not None else [None] * len(expected)
        for a, e, b in zip(actual, expected, parts, strict=True):
            assert_same(a, e, rtol, atol, b)
    elif isinstance(expected, float):
        assert isinstance(actual, float), actual
        assert_close(actual, expected, rtol, atol, bounds)
    elif isinstance(expected, dict):
        assert actual.keys() == expected.keys()
        for key in expected:
            assert_same(actual[key], expected[key], rtol, atol, (bounds or {}).get(key))
    else:
        assert actual == expected, (actual, expected)


def traced(torch, op, *arrays):
    """``op`` on leaves made from ``arrays`` (float arrays require grad), then a backward of a
    fixed weighting of its output; returns the output, its grad_fn name and the gradients."""
    leaves = [
        torch.tensor(a, requires_grad=a.dtype.kind == "f") if isinstance(a, np.ndarray) else a
        for a in arrays
    ]
    out = op(torch, *leaves)
    weights = torch.tensor(np.linspace(-1.0, 2.0, out.numel(), dtype=np.float32)).reshape(out.shape)
    (out * weights).sum().backward()
    grads = [leaf.grad for leaf in leaves if hasattr(leaf, "grad") and leaf.requires_grad]
    return {"out": out, "grad_fn": out.grad_fn.name(), "grads": grads}


# torch CPU capabilities whose random kernels fdiff.torch reproduces bit for bit: they fuse
# uniform's x * (high - low) + low into one FMA and draw large float32 normals with the Cephes
# polynomials of avx_mathfun.h. Under others (ATEN_CPU_CAPABILITY=default, non-x86 CPUs) torch
# rounds twice and calls libm's logf/cosf/sinf, so the same draws differ in the last bits.
REPLICATED_CAPABILITIES = ("AVX2", "AVX512")
RANDOM_KERNEL_ROUNDINGS = 8  # Box-Muller: log, sqrt, cos/sin, 2 pi u, products, the fma
# A standard normal draw's terms, per unit of std: radius * (1 + |theta|), as the rounding of
# theta = 2 pi u2 moves cos(theta) by up to its own size; radius = sqrt(-2 log u1) with the
# smallest float32 u1 = 2**-24.
BOX_MULLER_MAGNITUDE = math.sqrt(-2 * math.log(2.0**-24)) * (1 + 2 * math.pi)


def assert_same_random_draws(real_torch, actual, expected, magnitude) -> None:
    """fdiff's random draws against torch's for the same seed: bit for bit (with dtype and
    shape) when torch runs the kernels fdiff reproduces; otherwise within
    ``summation_bound(magnitude, RANDOM_KERNEL_ROUNDINGS)``, where ``magnitude`` bounds each
    draw's terms (``|low| + |high - low|`` for uniform, ``|mean| + std BOX_MULLER_MAGNITUDE``
    for normal). A draw
    from the wrong place in the random stream is off by about ``magnitude``, far outside it.
    Integers are always compared exactly.
    """
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert (actual.dtype, actual.shape) == (expected.dtype, expected.shape)
    capability = real_torch.backends.cpu.get_cpu_capability()
    if expected.dtype.kind != "f":
        np.testing.assert_array_equal(actual, expected)
    elif capability in REPLICATED_CAPABILITIES:  # compare bits: -0.0 == 0.0 would pass
        bits = f"u{expected.itemsize}"
        np.testing.assert_array_equal(actual.view(bits), expected.view(bits))
    else:
        assert_close(actual, expected, bound=summation_bound(magnitude, RANDOM_KERNEL_ROUNDINGS))
