"""Fused multiply-add with one correct rounding, in NumPy: what PyTorch's CPU kernels compute.

A float32 ``a * b + c`` is exact in float64 except for the sum, which is rounded to odd where a
second rounding to float32 could go wrong; a float64 one splits the product into two exact
halves (Veltkamp, Dekker) and adds them with the sum rounded to odd (Boldo and Melquiond),
falling back to exact fractions for the rare elements near underflow or overflow.

>>> import numpy as np
>>> float(fma64(np.array([1.0 + 2.0**-30]), 1.0 - 2.0**-30, -1.0)[0]) == -(2.0**-60)
True
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

_TINY = 2.0**-960  # products below this could lose bits to underflow when split


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``s, e`` with ``s = fl(a + b)`` and ``a + b = s + e`` exactly."""
    s = a + b
    t = s - a
    return s, (a - (s - t)) + (b - t)


def _round_to_odd(s: np.ndarray, err: np.ndarray) -> np.ndarray:
    """Round ``s + err`` to odd: an inexact ``s`` with an even last bit moves one ulp toward it."""
    bits = s.view(np.int64).copy()
    bits += ((err != 0) & ((bits & 1) == 0)) * np.where((err > 0) == (s > 0), 1, -1)
    return bits.view(np.float64)


def fma32(a, b, c) -> np.ndarray:
    """Correctly rounded float32 ``a * b + c``.

    The float64 product is exact, so only the float64 sum rounds; rounding that to float32 is
    wrong only when it lands exactly on a float32 midpoint (or among float32 subnormals). Those
    rare sums are rounded to odd first, which makes the second rounding correct.
    """
    s = np.multiply(a, b, dtype=np.float64)  # exact
    s += c
    unsure = ((s.view(np.int64) & 0x1FFFFFFF) == 0x10000000) | (np.abs(s) < 2.0**-126)
    if unsure.any():
        a, b, c = (np.broadcast_to(v, s.shape)[unsure].astype(np.float64) for v in (a, b, c))
        s[unsure] = _round_to_odd(*_two_sum(a * b, c))
    return s.astype(np.float32)


def fma64(a: np.ndarray, b: float, c: float) -> np.ndarray:
    """Correctly rounded float64 ``a * b + c``.

    The product is split into an exact sum of two doubles (Veltkamp and Dekker) and added to
    ``c`` with the low part rounded to odd (Boldo and Melquiond). The rare elements where
    splitting could underflow or overflow are computed with exact fractions instead.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        product = a * b
        if b in (0, 1):
            return product + c  # the product is exact: one rounding
        a_big, b_big = a * 134217729.0, b * 134217729.0  # 2**27 + 1: split into 26-bit halves
        a_hi, b_hi = a_big - (a_big - a), b_big - (b_big - b)
        a_lo, b_lo = a - a_hi, b - b_hi
        error = ((a_hi * b_hi - product) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
        high, low = _two_sum(np.full_like(product, c), product)
        low = _round_to_odd(*_two_sum(low, error))
        result = np.where(low == 0, high, high + low)  # (keeps the sign of a zero ``high``)
        safe = (abs(product) >= _TINY) & (abs(result) >= _TINY) & np.isfinite(result)
    for i in np.flatnonzero(~safe):
        result.flat[i] = _exact_fma(float(a.flat[i]), b, c)
    return result


def _exact_fma(a: float, b: float, c: float) -> float:
    if a == 0:
        return a * b + c  # an exact zero product: plain IEEE arithmetic, signed zeros included
    exact = Fraction(a) * Fraction(b) + Fraction(c)
    try:
        return float(exact)  # correctly rounded, subnormals included
    except OverflowError:
        return math.inf if exact > 0 else -math.inf
