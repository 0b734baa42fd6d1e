"""The op table's pointwise math beyond ``_ops``: ``tan``, ``erf``, ``remainder``, ``lerp``...

Each entry is a jnp implementation and torch's grad_fn name (see :mod:`~fdiff.torch._ops`);
where torch's derivative at a special point differs from JAX's the rule is in
:mod:`~fdiff.torch._torch_kinks`. Ops whose torch node depends on whether an argument is a
Python number or a tensor (``RemainderBackward0``/``1``) are two entries.

>>> remainder.grad_fn, remainder_scalar.grad_fn, isnan.differentiable
('RemainderBackward1', 'RemainderBackward0', False)
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from fdiff.torch import _torch_kinks as kinks
from fdiff.torch._errors import NOT_IMPLEMENTED
from fdiff.torch._opspec import Promotion, op

OPERANDS = Promotion()
TO_FLOAT = Promotion(to_float=True)  # integer inputs compute in the default float, as torch's

# --- unary ------------------------------------------------------------------------------------


@op("TanBackward0", promotes=TO_FLOAT)
def tan(a):
    return jnp.tan(a)


@op("ErfBackward0", promotes=TO_FLOAT)
def erf(a):
    return jax.lax.erf(a)


@op("ReciprocalBackward0", promotes=TO_FLOAT)
def reciprocal(a):
    return jnp.reciprocal(a)


@op("Deg2RadBackward0", saves=False, promotes=TO_FLOAT)
def deg2rad(a):
    return a * (math.pi / 180)


@op("TruncBackward0", saves=False)
def trunc(a):
    return jnp.trunc(a)


@op("FracBackward0", saves=False)
def frac(a):
    return a - jnp.trunc(a)


@op("LogitBackward0", promotes=TO_FLOAT)
def logit(a, *, eps=None):
    return kinks.logit(a, eps)


@op("NanToNumBackward0")
def nan_to_num(a, *, nan=0.0, posinf=None, neginf=None):
    if not jnp.issubdtype(a.dtype, jnp.floating):
        return a
    finfo = jnp.finfo(a.dtype)
    posinf = finfo.max if posinf is None else posinf
    neginf = finfo.min if neginf is None else neginf
    replaced = jnp.where(a == jnp.inf, posinf, jnp.where(a == -jnp.inf, neginf, a))
    return jnp.where(jnp.isnan(a), jnp.asarray(nan, a.dtype), replaced.astype(a.dtype))


# --- binary -----------------------------------------------------------------------------------


@op("RemainderBackward0", saves=False, promotes=OPERANDS)
def remainder_scalar(a, b):
    return kinks.remainder(a, b)


@op("RemainderBackward1", promotes=OPERANDS)
def remainder(a, b):
    return kinks.remainder(a, b)


@op("FmodBackward0", saves=False, promotes=OPERANDS)
def fmod_scalar(a, b):
    return jnp.fmod(a, b)


@op("FmodBackward1", promotes=OPERANDS)
def fmod(a, b):
    return jnp.fmod(a, b)


@op("Atan2Backward0", promotes=TO_FLOAT)
def atan2(a, b):
    return kinks.atan2(a, b)


@op("HypotBackward0", promotes=OPERANDS)
def hypot(a, b):
    return kinks.hypot(a, b)


@op("ClampMinBackward0")
def clamp_min(a, *, low):
    return kinks.clamp(a, low, None)


@op("ClampMaxBackward0")
def clamp_max(a, *, high):
    return kinks.clamp(a, None, high)


@op("ClampMinBackward1", promotes=OPERANDS)
def clamp_min_tensor(a, low):
    return kinks.clamp_tensor(a, low, upper=False)


@op("ClampMaxBackward1", promotes=OPERANDS)
def clamp_max_tensor(a, high):
    return kinks.clamp_tensor(a, high, upper=True)


@op("XlogyBackward0", promotes=TO_FLOAT)
def xlogy(a, b):
    return kinks.xlogy(a, b)


@op("XlogyBackward1", promotes=TO_FLOAT)
def xlogy_of_number(a, b):
    """``xlogy(number, tensor)``."""
    return kinks.xlogy(a, b)


@op("XlogyBackward2", promotes=TO_FLOAT)
def xlogy_by_number(a, b):
    """``xlogy(tensor, number)``."""
    return kinks.xlogy(a, b)


@op(NOT_IMPLEMENTED, saves=False)
def heaviside(a, values):
    return kinks.heaviside(a, values)


# --- ternary ----------------------------------------------------------------------------------


def _lerp(start, end, weight):
    """torch's formula, exact in both halves: from ``start`` below 0.5, from ``end`` above."""
    return jnp.where(
        jnp.abs(weight) < 0.5, start + weight * (end - start), end - (end - start) * (1 - weight)
    )


@op("LerpBackward0", saves=False)
def lerp_scalar(start, end, weight):
    return _lerp(start, end, weight)


@op("LerpBackward1")
def lerp(start, end, weight):
    return _lerp(start, end, weight)


@op("AddcmulBackward0", promotes=OPERANDS)
def addcmul(a, b, c, *, value=1):
    return a + value * b * c


@op("AddcdivBackward0", promotes=OPERANDS)
def addcdiv(a, b, c, *, value=1):
    return a + value * b / c


# --- tests of the value: never recorded -------------------------------------------------------


@op("", saves=False, differentiable=False)
def isnan(a):
    return jnp.isnan(a)


@op("", saves=False, differentiable=False)
def isinf(a):
    return jnp.isinf(a)


@op("", saves=False, differentiable=False)
def isfinite(a):
    return jnp.isfinite(a)
