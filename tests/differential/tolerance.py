"""Comparing two runs with error bounds derived from the program, not guessed.

Every float quantity ``q`` (a value or a ``.grad``) of fdiff.torch's run must be within

    bound(q) = RTOL * |q_torch| + ATOL + 2 * sensitivity(q)

of real torch's, both at the program's precision. ``RTOL = 1e-5`` and ``ATOL = 1e-6`` are the
project's float32 defaults: they cover an elementwise op's last-bit differences (a few ulp)
between ATen and XLA. The sensitivity term covers what float32 rounding does to everything
downstream of a sum, matmul, convolution or loss, which the defaults cannot: fl(x_1 + ... + x_n)
equals the exact sum of the x_i (1 + d_i) with |d_i| <= gamma_n ~ n * u (u = 2^-24), whatever
the order of summation, so each engine's result is the exact program on inputs perturbed by a
relative n * u, to first order. The sensitivity is measured, not assumed: real torch runs the
program in float64 once as is and twice on inputs multiplied by (1 + n * u * s) with signs
s = +-1, and ``sensitivity(q)`` is the largest change of q (mixed float32/float64
programs keep their dtypes there, so torch's dtype errors stay; their float32 parts then
round in the reference too, which only adds that rounding to the measured sensitivity).
``n`` is the longest accumulation the program does (the generator declares it; 1 for
elementwise programs). Either engine is that far from the exact result, hence the factor 2.
Signs depend on |value| only, so equal values (and x, -x) stay tied and kinks (``max``
ties, ``abs`` at 0) keep their gradients.
For float64 programs every term is scaled by 2^-29 = u64 / u32.

>>> bound_of(np.array([10.0]), np.array([0.0]), 1.0)
array([0.000101])
"""

from __future__ import annotations

import numpy as np

from differential.program import Program
from differential.runner import Run, execute

RTOL = 1e-5
ATOL = 1e-6
U32 = 2.0**-24
FLOAT64_SCALE = 2.0**-29  # u64 / u32
SALTS = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F)  # one sign pattern per reference run


def _signs(array: np.ndarray, salt: int) -> np.ndarray:
    """+-1 per element, a function of |value| only (ties stay ties)."""
    bits = np.abs(array.astype(np.float64)).view(np.uint64)
    with np.errstate(over="ignore"):  # multiplication modulo 2^64: a hash
        mixed = (bits * np.uint64(salt)) >> np.uint64(41)
    return np.where(mixed & np.uint64(1), 1.0, -1.0)


def sensitivities(program: Program, torch) -> tuple[Run, dict[str, tuple]]:
    """The float64 reference run and, per tensor, the (value, grad, early) sensitivities."""
    relative = max(program.accumulation, 1) * U32
    reference = execute(program, torch, perturbation=lambda a: _widened(program, a))
    perturbed = [
        execute(program, torch, lambda a, s=salt: _perturbed(program, a, relative, s))
        for salt in SALTS
    ]
    result = {}
    for name, ref in reference.observed.items():
        value = grad = early = 0.0
        for run in perturbed:
            other = run.observed.get(name)
            if other is None:
                continue
            value = np.maximum(value, _change(other.value, ref.value))
            if other.grad is not None and ref.grad is not None:
                grad = np.maximum(grad, _change(other.grad, ref.grad))
            if name in reference.early and name in run.early:
                early = np.maximum(early, _change(run.early[name], reference.early[name]))
        result[name] = (value, grad, early)
    return reference, result


def _widened(program: Program, array: np.ndarray) -> np.ndarray:
    """float64, except in mixed-precision programs: their dtype errors must stay errors."""
    return array if program.precision == "mixed" else array.astype(np.float64)


def _perturbed(program: Program, array: np.ndarray, relative: float, salt: int) -> np.ndarray:
    wide = array.astype(np.float64)
    return _widened(program, wide * (1 + relative * _signs(wide, salt))).astype(
        array.dtype if program.precision == "mixed" else np.float64
    )


def _change(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.shape != b.shape or a.dtype.kind != "f":
        return np.zeros(np.shape(b))
    with np.errstate(invalid="ignore"):
        change = np.abs(a - b)
    return np.where(np.isnan(change), np.inf, change)  # a NaN appearing: no bound at all


def bound_of(expected: np.ndarray, sensitivity, scale: float) -> np.ndarray:
    """The allowed |actual - expected|: defaults plus twice the measured sensitivity."""
    return scale * (RTOL * np.abs(expected) + ATOL + 2 * np.asarray(sensitivity))


def assert_values_close(actual, expected, sensitivity, scale: float, what: str) -> None:
    """Exact for ints and bools; within ``bound_of`` for floats; NaN and inf where torch's are."""
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    if expected.dtype.kind != "f":
        np.testing.assert_array_equal(actual, expected, err_msg=what)
        return
    special = ~np.isfinite(expected)
    np.testing.assert_array_equal(actual[special], expected[special], err_msg=what)
    with np.errstate(invalid="ignore"):
        error = np.abs(actual - expected)
    allowed = bound_of(expected, sensitivity, scale)
    bad = np.isfinite(expected) & ~(error <= allowed)
    assert not bad.any(), (
        f"{what}: fdiff.torch {actual[bad]} vs torch {expected[bad]}, "
        f"|difference| {error[bad]} > bound {np.broadcast_to(allowed, error.shape)[bad]}"
    )


def assert_runs_match(program: Program, actual: Run, expected: Run, sensitivity: dict) -> None:
    """Everything observed must agree; see the module docstring for the float bounds."""
    assert actual.error == expected.error, f"errors: fdiff {actual.error}, torch {expected.error}"
    assert actual.message == expected.message
    assert actual.observed.keys() == expected.observed.keys()
    scale = FLOAT64_SCALE if program.precision == "float64" else 1.0
    for name, want in expected.observed.items():
        got = actual.observed[name]
        value_s, grad_s, early_s = sensitivity.get(name, (np.inf, np.inf, np.inf))
        for field in ("dtype", "requires_grad", "is_leaf", "grad_dtype"):
            assert getattr(got, field) == getattr(want, field), (name, field, got, want)
        if name.partition("[")[0] not in program.replayed:
            assert got.grad_fn == want.grad_fn, f"{name}.grad_fn: {got.grad_fn} != {want.grad_fn}"
        assert_values_close(got.value, want.value, value_s, scale, name)
        assert (got.grad is None) == (want.grad is None), f"{name}.grad: {got.grad} {want.grad}"
        if want.grad is not None:
            assert_values_close(got.grad, want.grad, grad_s, scale, f"{name}.grad")
    assert actual.early.keys() == expected.early.keys()
    for name, want in expected.early.items():
        early_s = sensitivity.get(name, (0, 0, np.inf))[2]
        assert_values_close(actual.early[name], want, early_s, scale, f"{name} (early)")
