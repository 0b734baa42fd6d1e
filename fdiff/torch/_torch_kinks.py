"""Ops whose torch derivative at a non-differentiable point differs from JAX's.

Each function computes the same values as its jnp counterpart; a ``jax.custom_jvp`` (or an
equivalent formulation) gives torch's derivative where the two disagree:

==========================  =====================  ====================
point                       torch                  plain JAX
==========================  =====================  ====================
``abs'(0)``                 0 (``sgn``)            1
``x.pow(0.)`` at ``x = 0``  0                      nan
``d/de x**e`` at ``x = 0``  0 (for ``e >= 0``)     nan
``norm`` of a zero vector   0                      nan
``clamp`` at a bound        1 (bounds inclusive)   0.5
``std`` of constant input   0                      nan
``remainder`` by 0, d/db    ``-a / b`` (inf)       nan
``atan2(0, 0)``             0                      nan
``hypot(0, 0)``             nan                    0
``logit`` outside [0, 1]    nan (eps: 0)           finite
``clamp_min(a, t)`` at nan  0                      1
``heaviside``, anywhere     raises at backward     0
``xlogy`` d/dx, zero grad   0 (``xlogy(grad, y)``)  ``0 * log(y)``: nan
==========================  =====================  ====================

The even split of ties in ``max``/``maximum`` already agrees; ``relu'(0) = 0`` too, but
``relu`` and ``leaky_relu`` are here for their second derivatives (below).

``xlogy``'s rule is a ``jax.custom_vjp``: torch's ``d/dx`` is ``xlogy(grad, y)``, 0 wherever the
incoming gradient is 0 even where ``log(y)`` is not finite, which no tangent linear in ``grad``
gives (so JAX's forward mode, ``torch.func.jvp``, does not run through it).

Second derivatives (``create_graph=True``) differentiate these rules again, so each rule is
written with torch's backward formula in mind: the primal output calls the function itself (a
``jnp.abs`` there would bring JAX's ``abs'(0) = 1`` back), a slope that uses the op again calls
this module's version, and a masked division divides by a safe denominator where torch's
second derivative is finite (a masked ``1 / 0`` still sends ``0 * inf = nan`` backwards).
torch's ``relu`` and ``leaky_relu`` backward read the tensor itself (``threshold_backward``),
so a gradient through them records an edge to it, with derivative 0: their slopes come from
:func:`positive`, a float step whose derivative is 0, which keeps that dependence
(:mod:`~fdiff.torch._dependence` treats a custom-JVP function as one op reading all inputs).

>>> second = jax.grad(jax.grad(lambda x: x * abs(x)))
>>> float(second(0.0)), float(second(-2.0))  # torch: 0 at the kink, d2/dx2 of -x**2 off it
(0.0, -2.0)
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from fdiff.torch._cpu_kernels import pow_scalar
from fdiff.torch._errors import no_derivative


@jax.custom_jvp
def positive(a: jax.Array) -> jax.Array:
    """1 where ``a > 0``, else 0, in ``a``'s dtype; its derivative is 0."""
    return (a > 0).astype(a.dtype)


positive.defjvps(lambda da, result, a: jnp.zeros_like(result))


@jax.custom_jvp
def relu(a: jax.Array) -> jax.Array:
    return jnp.maximum(a, 0)


@relu.defjvp
def _relu_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    result = relu(a)
    return result, positive(result) * da  # torch: threshold_backward(grad, result, 0)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def leaky_relu(a: jax.Array, negative_slope: float) -> jax.Array:
    return jnp.where(a > 0, a, a * negative_slope)


@leaky_relu.defjvp
def _leaky_relu_jvp(negative_slope, primals, tangents):
    (a,), (da,) = primals, tangents
    above = positive(a)  # torch: leaky_relu_backward(grad, x, slope), the slope at 0
    return leaky_relu(a, negative_slope), (above + negative_slope * (1 - above)) * da


@jax.custom_jvp
def abs(a: jax.Array) -> jax.Array:
    return jnp.abs(a)


@abs.defjvp
def _abs_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    return abs(a), jnp.sign(a) * da  # torch: grad * sgn(x), so abs''(0) = 0


def clamp(a: jax.Array, low: float | None, high: float | None) -> jax.Array:
    """``clip`` with torch's gradient: 1 wherever ``low <= a <= high``, bounds included."""
    inside = jnp.ones(a.shape, bool)
    if low is not None:
        inside &= a >= low
    if high is not None:
        inside &= a <= high
    return jnp.where(inside, a, jnp.clip(a, low, high))


def pow_tensor(a: jax.Array, exponent: jax.Array) -> jax.Array:
    """``a ** exponent`` with both sides possibly tensors (or one a Python number)."""
    dtype = jnp.result_type(a, exponent)
    if not jnp.issubdtype(dtype, jnp.floating):
        return jnp.power(a, exponent)
    # One float dtype on both sides: an integer side would bring a float0 tangent into the rule.
    return _pow_tensor(jnp.asarray(a, dtype), jnp.asarray(exponent, dtype))


@jax.custom_jvp
def _pow_tensor(a: jax.Array, exponent: jax.Array) -> jax.Array:
    return jnp.power(a, exponent)


@_pow_tensor.defjvp
def _pow_tensor_jvp(primals, tangents):
    (a, exponent), (da, de) = primals, tangents
    result = _pow_tensor(a, exponent)
    safe = jnp.where(exponent == 0, 1, exponent)
    slope_a = jnp.where(exponent == 0, 0, safe * _pow_tensor(a, safe - 1))
    # torch's formula, log(0) included: its second derivative at a = 0 is nan, as torch's
    slope_e = jnp.where((a == 0) & (exponent >= 0), 0, result * jnp.log(a))
    return result, slope_a * da + slope_e * de


@jax.custom_jvp
def sqrt_zero_grad_at_zero(a: jax.Array) -> jax.Array:
    """``sqrt`` whose derivative at 0 is 0, not inf: torch's ``std`` of a constant input."""
    return jnp.sqrt(a)


@sqrt_zero_grad_at_zero.defjvp
def _sqrt_zero_grad_at_zero_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    root = sqrt_zero_grad_at_zero(a)
    return root, jnp.where(root == 0, 0, da / (2 * jnp.where(root == 0, 1, root)))


def _norm(a: jax.Array, p: float, dim, keepdim: bool) -> jax.Array:
    if p == float("inf"):
        return jnp.max(jnp.abs(a), axis=dim, keepdims=keepdim)
    return jnp.sum(jnp.abs(a) ** p, axis=dim, keepdims=keepdim) ** (1.0 / p)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2, 3))
def vector_norm(a: jax.Array, p: float, dim, keepdim: bool) -> jax.Array:
    """``torch.linalg.vector_norm``; the gradient of a zero norm is 0, as in torch."""
    return _norm(a, p, dim, keepdim)


@vector_norm.defjvp
def _vector_norm_jvp(p, dim, keepdim, primals, tangents):
    (a,), (da,) = primals, tangents
    norm = vector_norm(a, p, dim, True)
    if p == 2:  # torch: (x / norm).masked_fill_(norm == 0, 0): its Hessian at 0 is nan, as here
        scale = a / norm
    elif p == 1:
        scale = jnp.sign(a)
    elif p == float("inf"):
        at_max = jnp.abs(a) == norm
        scale = jnp.sign(a) * at_max / jnp.sum(at_max, axis=dim, keepdims=True)
    else:
        safe = jnp.where(norm == 0, 1, norm)
        scale = a * pow_scalar(abs(a), p - 2) / pow_scalar(safe, p - 1)
    scale = jnp.where(norm == 0, 0, scale)
    tangent = jnp.sum(scale * da, axis=dim, keepdims=keepdim)
    return vector_norm(a, p, dim, keepdim), tangent


def select_along(a: jax.Array, indices: jax.Array, dim: int, keepdim: bool) -> jax.Array:
    """``a`` at ``indices`` along ``dim``: the gradient goes to that one element, as in torch."""
    picked = jnp.take_along_axis(a, jnp.expand_dims(indices, dim), axis=dim)
    return picked if keepdim else jnp.squeeze(picked, dim)


def _floor_divide(a: jax.Array, b: jax.Array) -> jax.Array:
    """torch's ``div(a, b, rounding_mode="floor")``: ``a / b`` (an infinity) where ``b == 0``."""
    safe = jnp.where(b == 0, 1, b)
    return jnp.where(b == 0, a / b, jnp.floor_divide(a, safe))


@jax.custom_jvp
def remainder(a: jax.Array, b: jax.Array) -> jax.Array:
    """Python's ``a % b`` (the divisor's sign); ``d/db = -floor(a / b)``, as torch's."""
    return jnp.remainder(a, b)


@remainder.defjvp
def _remainder_jvp(primals, tangents):
    (a, b), (da, db) = primals, tangents
    return remainder(a, b), da - _floor_divide(a, b) * db


@jax.custom_jvp
def atan2(a: jax.Array, b: jax.Array) -> jax.Array:
    return jnp.arctan2(a, b)


@atan2.defjvp
def _atan2_jvp(primals, tangents):
    (a, b), (da, db) = primals, tangents
    denominator = a * a + b * b
    scale = jnp.where(denominator == 0, 0, 1 / jnp.where(denominator == 0, 1, denominator))
    return atan2(a, b), (b * da - a * db) * scale


@jax.custom_jvp
def hypot(a: jax.Array, b: jax.Array) -> jax.Array:
    return jnp.hypot(a, b)


@hypot.defjvp
def _hypot_jvp(primals, tangents):
    (a, b), (da, db) = primals, tangents
    result = hypot(a, b)
    return result, (a * da + b * db) / result  # torch: grad * a / result: nan at (0, 0)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def logit(a: jax.Array, eps: float | None) -> jax.Array:
    """``log(z / (1 - z))`` of ``a`` clamped to ``[eps, 1 - eps]`` (unclamped without eps)."""
    z = a if eps is None else jnp.clip(a, eps, 1 - eps)
    return jnp.log(z / (1 - z))


@logit.defjvp
def _logit_jvp(eps, primals, tangents):
    (a,), (da,) = primals, tangents
    slope = 1 / (a * (1 - a))
    if eps is None:  # torch: nan outside [0, 1]
        slope = jnp.where((a < 0) | (a > 1), jnp.nan, slope)
    else:  # torch: 0 outside [eps, 1 - eps], bounds included in the inside
        slope = jnp.where((a < eps) | (a > 1 - eps), 0, slope)
    return logit(a, eps), slope * da


def clamp_tensor(a: jax.Array, bound: jax.Array, upper: bool) -> jax.Array:
    """``clamp_min(a, bound)`` (``clamp_max`` when ``upper``) with tensor bounds: NaN in either
    is NaN; the gradient goes to ``a`` where ``a`` is inside or on the bound, else to ``bound``,
    and to neither at a NaN."""
    inside = (a <= bound) if upper else (a >= bound)
    nan = jnp.isnan(a) | jnp.isnan(bound)
    picked = jnp.where(inside, a, bound)
    return jnp.where(nan, jax.lax.stop_gradient(a + bound), picked)


@jax.custom_jvp
def heaviside(a: jax.Array, values: jax.Array) -> jax.Array:
    """``values`` where ``a == 0``, else ``a > 0`` (0 at NaN), as torch's kernel; torch has no
    derivative for it: differentiating it raises torch's error (when the backward is traced)."""
    return jnp.where(a == 0, values, (a > 0).astype(a.dtype))


@heaviside.defjvp
def _heaviside_jvp(primals, tangents):
    raise no_derivative("heaviside")  # under JAX's transforms: a backward checks it first


def _xlogy(x: jax.Array, y: jax.Array) -> jax.Array:
    """torch's kernel: NaN where ``y`` is NaN, else 0 where ``x == 0``, else ``x log(y)``."""
    safe = jnp.where(x == 0, 1, y)
    return jnp.where(jnp.isnan(y), jnp.nan, jnp.where(x == 0, 0, x * jnp.log(safe)))


def xlogy(x: jax.Array, y: jax.Array) -> jax.Array:
    """``x * log(y)`` as torch computes and differentiates it (see :func:`_xlogy`)."""
    x, y = jnp.broadcast_arrays(x, y)  # the rule's cotangents then have its inputs' shapes
    return _xlogy_rule(x, y)


@jax.custom_vjp
def _xlogy_rule(x: jax.Array, y: jax.Array) -> jax.Array:
    return _xlogy(x, y)


def _xlogy_forward(x, y):
    return _xlogy(x, y), (x, y)


def _xlogy_backward(saved, grad):
    x, y = saved  # torch: xlogy(grad, y) masked where x == 0 and y <= 0; grad * x / y
    return jnp.where((x == 0) & (y <= 0), 0, _xlogy(grad, y)), grad * x / y


_xlogy_rule.defvjp(_xlogy_forward, _xlogy_backward)
