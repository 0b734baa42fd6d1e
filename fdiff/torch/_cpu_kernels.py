"""torch's CPU arithmetic where XLA would round differently: scalar powers, division, reciprocal.

torch's ``pow`` kernel special-cases six scalar exponents (``x ** 2`` is ``x * x``, ``x ** 3``
is ``x * x * x``, ``x ** 0.5`` is ``sqrt``, ``x ** -0.5`` is ``1 / sqrt``, ``x ** -1`` is
``1 / x``, ``x ** -2`` is ``1 / (x * x)``; 0 and 1 fill and copy); ``c / x`` is
``x.reciprocal() * c``. XLA's simplifier rewrites ``a / broadcast(b)`` into ``a * (1 / b)``,
``(a / b) / c`` into ``a / (b * c)`` and ``1 / sqrt(a)`` into an approximate ``rsqrt``, which
torch never does: an
``optimization_barrier`` around the divisor keeps the division (XLA drops the barrier before
fusing, so it costs nothing). The exponent is static, so each program computes what torch's
kernel computes for that value, and each gradient follows torch's formula
(``pow_backward``: ``grad * (exponent * x.pow(exponent - 1))``, that ``pow`` torch's again).

>>> import numpy as np
>>> x = np.float32([0.1, 3.0])
>>> bool((np.asarray(divide(x, 3.0)) == x / np.float32(3.0)).all())
True
>>> float(pow_scalar(np.float32(3.0), 3))
27.0
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax


def _kept_divisor(divisor: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    """``divisor`` broadcast to ``shape`` behind a barrier, so XLA divides by it elementwise."""
    if jnp.shape(divisor) == shape:
        return divisor
    return lax.optimization_barrier(jnp.broadcast_to(divisor, shape))


def _divided(a: jax.Array, b: jax.Array) -> jax.Array:
    return jnp.true_divide(a, _kept_divisor(b, jnp.broadcast_shapes(jnp.shape(a), jnp.shape(b))))


def divide(a: jax.Array, b: jax.Array) -> jax.Array:
    """``a / b`` elementwise, as torch's ``div`` (never a multiply by ``1 / b``)."""
    dtype = jnp.promote_types(jnp.result_type(a, b), jnp.float32)  # integers divide into floats
    return _divide(jnp.asarray(a, dtype), jnp.asarray(b, dtype))


@jax.custom_jvp
def _divide(a: jax.Array, b: jax.Array) -> jax.Array:
    return _divided(a, b)


@_divide.defjvp
def _divide_jvp(primals, tangents):
    (a, b), (da, db) = primals, tangents
    result = _divide(a, b)
    # torch: grad / other, and -grad * ((self / other) / other); the barrier stops XLA from
    # rewriting (a / b) / b into a / (b * b)
    return result, _divided(da, b) + -db * _divide(lax.optimization_barrier(result), b)


@jax.custom_jvp
def reciprocal(a: jax.Array) -> jax.Array:
    """``1 / a``, with torch's gradient ``-grad * (result * result)``."""
    return jnp.true_divide(1, a)


@reciprocal.defjvp
def _reciprocal_jvp(primals, tangents):
    ((a,), (da,)) = primals, tangents
    result = reciprocal(a)
    return result, -da * (result * result)


def rdivide(a: jax.Array, numerator: jax.Array) -> jax.Array:
    """``numerator / a`` as torch's ``Tensor.__rtruediv__``: ``a.reciprocal() * numerator``."""
    return reciprocal(a) * numerator


def _kernel_pow(a: jax.Array, exponent: float) -> jax.Array:
    """What torch's CPU ``pow`` kernel computes for this scalar exponent (no gradient rule)."""
    if exponent == 0:
        return jnp.ones_like(a)
    if exponent == 1:
        return a
    if exponent == 2:
        return a * a
    if exponent == 3:
        return a * a * a
    if not jnp.issubdtype(a.dtype, jnp.floating):  # an integer to a positive integer power
        return lax.integer_pow(a, int(exponent))
    if exponent == 0.5:
        return jnp.sqrt(a)
    if exponent == -0.5:
        return jnp.true_divide(1, lax.optimization_barrier(jnp.sqrt(a)))
    if exponent == -1:
        return jnp.true_divide(1, a)
    if exponent == -2:
        return jnp.true_divide(1, a * a)
    if not isinstance(exponent, complex):  # an int would make jnp.power multiply (integer_pow)
        exponent = float(exponent)
    return jnp.power(a, exponent)  # torch: a vectorised pow (Sleef); XLA's pow is within 1 ulp


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def pow_scalar(a: jax.Array, exponent: float) -> jax.Array:
    """``a ** exponent`` for a static Python exponent, as torch's CPU kernel computes it."""
    return _kernel_pow(jnp.asarray(a), exponent)


@pow_scalar.defjvp
def _pow_scalar_jvp(exponent, primals, tangents):
    ((a,), (da,)) = primals, tangents
    if exponent == 0:
        return pow_scalar(a, exponent), jnp.zeros_like(da)
    # torch: grad * (exponent * self.pow(exponent - 1)), that pow torch's kernel again
    return pow_scalar(a, exponent), da * (exponent * pow_scalar(a, exponent - 1))


@jax.custom_jvp
def rsqrt(a: jax.Array) -> jax.Array:
    """``1 / sqrt(a)`` rounded twice, as torch's kernel (XLA's ``rsqrt`` is an approximation)."""
    return _kernel_pow(a, -0.5)


@rsqrt.defjvp
def _rsqrt_jvp(primals, tangents):
    ((a,), (da,)) = primals, tangents
    result = rsqrt(a)
    return result, (-0.5 * da) * pow_scalar(result, 3)  # torch: -0.5 * grad * result.pow(3)
