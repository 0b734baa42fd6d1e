"""The op table: every torch op fdiff.torch supports, as a jnp implementation and a grad_fn name.

Each entry is one :class:`~fdiff.torch._opspec.OpSpec`, made by the :func:`op` decorator and
bound to the implementation's name, so call sites use ``ops.add`` (``from fdiff.torch import
_ops as ops``). This module holds the math; :mod:`~fdiff.torch._shape_ops` the shape and
indexing ops, :mod:`~fdiff.torch._nn_ops` the layers and losses; importing it registers all three
in ``OPS``. The eager forward, the backward replay, ``grad_fn`` printing and
``functionalize`` all read this table. No entry writes a derivative by hand except where torch's
value at a non-differentiable point differs from JAX's (``_torch_kinks``); JAX differentiates
the rest.

An implementation takes jax arrays (or Python scalars) positionally and hashable static
arguments by keyword, and returns one array.

>>> add.name, add.grad_fn, add in OPS.values()
('add', 'AddBackward0', True)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from fdiff.torch import _cpu_kernels as cpu_kernels
from fdiff.torch import _graph, _nn_ops, _ops_more, _pointwise_ops, _shape_ops  # noqa: F401
from fdiff.torch import _torch_kinks as kinks
from fdiff.torch._opspec import OPS as OPS
from fdiff.torch._opspec import OpSpec as OpSpec
from fdiff.torch._opspec import Promotion, op

OPERANDS = Promotion()  # every input takes part in type promotion
DIVISION = Promotion(to_float=True)

# --- arithmetic -------------------------------------------------------------------------------


@op("AddBackward0", saves=False, promotes=OPERANDS)
def add(a, b, *, alpha=1):
    return a + b * alpha if alpha != 1 else a + b


@op("SubBackward0", saves=False, promotes=OPERANDS)
def sub(a, b, *, alpha=1):
    return a - b * alpha if alpha != 1 else a - b


@op("RsubBackward1", saves=False, promotes=OPERANDS)
def rsub(a, b):
    return b - a


@op("MulBackward0", promotes=OPERANDS)
def mul(a, b):
    return a * b


@op("DivBackward0", promotes=DIVISION)
def div(a, b):
    return cpu_kernels.divide(a, b)


@op("MulBackward0", promotes=DIVISION)
def rdiv(a, b):
    return cpu_kernels.rdivide(a, b)


@op("NegBackward0", saves=False)
def neg(a):
    return -a


@op("PowBackward0", promotes=OPERANDS)
def pow_scalar(a, *, exponent):
    """``a ** exponent`` for a Python number: static, as torch's kernel picks its formula by it."""
    return cpu_kernels.pow_scalar(a, exponent)


@op("PowBackward0")
def pow_zero(a):
    """``a ** 0``: ones (also at 0, inf and nan), with torch's gradient, a zero constant."""
    return jnp.ones_like(a)


@op("PowBackward1", promotes=OPERANDS)
def pow_tensor(a, exponent):
    return kinks.pow_tensor(a, exponent)


@op("PowBackward2", promotes=OPERANDS)
def rpow(exponent, base):
    return kinks.pow_tensor(base, exponent)


def _matmul_name(a: tuple[int, ...], b: tuple[int, ...]) -> str:
    names = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (1, 2): "SqueezeBackward4"}
    names[2, 2] = "MmBackward0"
    return names.get((len(a), len(b)), "UnsafeViewBackward0")


@op(_matmul_name)
def matmul(a, b):
    return jnp.matmul(a, b)


@op("BmmBackward0")
def bmm(a, b):
    return jnp.matmul(a, b)


@op("DotBackward0")
def dot(a, b):
    return jnp.dot(a, b)


# --- elementwise functions --------------------------------------------------------------------


@op("ExpBackward0")
def exp(a):
    return jnp.exp(a)


@op("LogBackward0")
def log(a):
    return jnp.log(a)


@op("SqrtBackward0")
def sqrt(a):
    return jnp.sqrt(a)


@op("SinBackward0")
def sin(a):
    return jnp.sin(a)


@op("CosBackward0")
def cos(a):
    return jnp.cos(a)


@op("TanhBackward0")
def tanh(a):
    return jnp.tanh(a)


@op("SigmoidBackward0")
def sigmoid(a):
    return jax.nn.sigmoid(a)


@op("ReluBackward0")
def relu(a):
    return kinks.relu(a)


@op("PowBackward0")
def square(a):
    return jnp.square(a)


@op("RsqrtBackward0")
def rsqrt(a):
    return cpu_kernels.rsqrt(a)


@op("Log1PBackward0")
def log1p(a):
    return jnp.log1p(a)


@op("Expm1Backward0")
def expm1(a):
    return jnp.expm1(a)


# Piecewise-constant ops: torch's (and JAX's) gradient is zero everywhere.
@op("SignBackward0", saves=False)
def sign(a):
    return jnp.sign(a)


@op("FloorBackward0", saves=False)
def floor(a):
    return jnp.floor(a)


@op("CeilBackward0", saves=False)
def ceil(a):
    return jnp.ceil(a)


@op("RoundBackward0", saves=False)
def round_(a):
    return jnp.round(a)


@op("SoftplusBackward0")
def softplus(a, *, beta=1.0, threshold=20.0):
    # torch returns x itself above the threshold; jax.nn.softplus keeps the other branch finite.
    return jnp.where(a * beta > threshold, a, jax.nn.softplus(a * beta) / beta)


@op("LeakyReluBackward0")
def leaky_relu(a, *, negative_slope=0.01):
    return kinks.leaky_relu(a, negative_slope)


@op("AbsBackward0")
def abs_(a):
    return kinks.abs(a)


@op("ClampBackward1")
def clamp(a, *, low=None, high=None):
    return kinks.clamp(a, low, high)


@op("MaximumBackward0", promotes=OPERANDS)
def maximum(a, b):
    return jnp.maximum(a, b)


@op("MinimumBackward0", promotes=OPERANDS)
def minimum(a, b):
    return jnp.minimum(a, b)


@op("WhereBackward0", promotes=Promotion(first=1))
def where(condition, a, b):
    return jnp.where(condition, a, b)


@op("ToCopyBackward0", saves=False)
def to_dtype(a, *, dtype):
    return a.astype(dtype)


@op("torch::autograd::CopyBackwards", saves=False)
def copy(a, src):
    """``a.copy_(src)``: ``src`` broadcast to ``a``'s shape and dtype; ``a``'s old value is lost."""
    return jnp.broadcast_to(src, a.shape).astype(a.dtype)


@op("ZeroBackward0", saves=False)
def zero(a):
    return jnp.zeros_like(a)


@op("FillBackward2", saves=False)
def fill(a, value):
    return jnp.full_like(a, value)


@op("UniformBackward0", saves=False)
def uniform_draw(a, sample):
    """``a.uniform_()`` recorded: the drawn ``sample``, so ``a``'s gradient is zero."""
    return sample.astype(a.dtype)


@op("NormalBackward0", saves=False)
def normal_draw(a, sample):
    """``a.normal_()`` recorded: the drawn ``sample``, so ``a``'s gradient is zero."""
    return sample.astype(a.dtype)


@op("CloneBackward0", saves=False)
def clone(a):
    return jnp.array(a, copy=True)


# --- reductions -------------------------------------------------------------------------------


@op("SumBackward0", saves=False)
def sum_(a):
    return jnp.sum(a)


@op("SumBackward1", saves=False)
def sum_dim(a, *, dim, keepdim=False):
    return jnp.sum(a, axis=dim, keepdims=keepdim)


@op("MeanBackward0", saves=False)
def mean(a):
    return jnp.mean(a)


@op("MeanBackward1", saves=False)
def mean_dim(a, *, dim, keepdim=False):
    return jnp.mean(a, axis=dim, keepdims=keepdim)


@op("ProdBackward0")
def prod(a):
    return jnp.prod(a)


@op("VarBackward0")
def var(a, *, dim=None, correction=1, keepdim=False):
    return jnp.var(a, axis=dim, ddof=correction, keepdims=keepdim)


@op("StdBackward0")
def std(a, *, dim=None, correction=1, keepdim=False):
    return kinks.sqrt_zero_grad_at_zero(jnp.var(a, axis=dim, ddof=correction, keepdims=keepdim))


@op("LogsumexpBackward0")
def logsumexp(a, *, dim, keepdim=False):
    return jax.nn.logsumexp(a, axis=dim, keepdims=keepdim)


@op("LinalgVectorNormBackward0")
def norm(a, *, p=2.0, dim=None, keepdim=False):
    return kinks.vector_norm(a, p, dim, keepdim)


@op("MaxBackward1")
def max_(a):
    return jnp.max(a)


@op("MinBackward1")
def min_(a):
    return jnp.min(a)


@op("MaxBackward0")
def max_dim(a, *, dim, keepdim=False):
    if a.ndim == 0:  # torch reduces a 0-d tensor along dim 0 or -1 to itself
        return a
    return kinks.select_along(a, jnp.argmax(a, axis=dim), dim, keepdim)


@op("MinBackward0")
def min_dim(a, *, dim, keepdim=False):
    if a.ndim == 0:
        return a
    return kinks.select_along(a, jnp.argmin(a, axis=dim), dim, keepdim)


@op("AmaxBackward0")
def amax(a, *, dim, keepdim=False):
    return jnp.max(a, axis=None if a.ndim == 0 else dim, keepdims=keepdim)


@op("", differentiable=False)
def argmax(a, *, dim=None, keepdim=False):
    return jnp.argmax(a, axis=None if a.ndim == 0 else dim, keepdims=keepdim)


@op("", differentiable=False)
def argmin(a, *, dim=None, keepdim=False):
    return jnp.argmin(a, axis=None if a.ndim == 0 else dim, keepdims=keepdim)


@op("SoftmaxBackward0")
def softmax(a, *, dim):
    return jax.nn.softmax(a, axis=dim)


@op("LogSoftmaxBackward0")
def log_softmax(a, *, dim):
    return jax.nn.log_softmax(a, axis=dim)


# --- comparisons: results never require grad ---------------------------------------------------


@op("", saves=False, differentiable=False, promotes=OPERANDS)
def eq(a, b):
    return a == b


@op("", saves=False, differentiable=False, promotes=OPERANDS)
def ne(a, b):
    return a != b


@op("", saves=False, differentiable=False, promotes=OPERANDS)
def lt(a, b):
    return a < b


@op("", saves=False, differentiable=False, promotes=OPERANDS)
def le(a, b):
    return a <= b


@op("", saves=False, differentiable=False, promotes=OPERANDS)
def gt(a, b):
    return a > b


@op("", saves=False, differentiable=False, promotes=OPERANDS)
def ge(a, b):
    return a >= b


# --- autograd ---------------------------------------------------------------------------------


@op("ReplayedGradBackward")
def replayed_gradient(*values, key, counts, index, hook=None):
    """Output ``index`` of the VJP of graph ``key`` (``create_graph=True``: the gradient is one
    recorded op, so JAX differentiates the VJP again); values are leaves, consts, scalars, cots.
    A slice ``index`` gives a tuple of outputs; ``hook`` runs the backward hooks of
    ``key.hooked`` as JAX traces the VJP (``_hooks.traced_hook``)."""
    n_leaves, n_consts, n_scalars = counts
    leaves = values[:n_leaves]
    consts = values[n_leaves : n_leaves + n_consts]
    scalars = values[n_leaves + n_consts : n_leaves + n_consts + n_scalars]
    cotangents = values[n_leaves + n_consts + n_scalars :]
    return _graph.gradients(key, leaves, consts, scalars, cotangents, hook=hook)[1][index]
