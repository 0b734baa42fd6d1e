"""The op table: every torch op fdiff.torch supports, as a jnp implementation and a grad_fn name.

Each entry is one :class:`OpSpec`, registered by the :func:`op` decorator. The eager forward, the
backward replay (``_autograd``), ``grad_fn`` printing and ``functionalize`` all read this table;
nothing else knows op names. No entry writes a derivative by hand except where torch's value at a
non-differentiable point differs from JAX's (``_torch_kinks``); JAX differentiates the rest.

An implementation takes jax arrays (or Python scalars) positionally and hashable static
arguments by keyword, and returns one array.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp

from fdiff.torch import _torch_kinks as kinks


@dataclasses.dataclass(frozen=True)
class OpSpec:
    """One torch op: its implementation, grad_fn name and autograd properties.

    ``grad_fn`` is what torch's ``grad_fn.name()`` returns, or a function of the input shapes
    returning it (torch names ``matmul``'s node after the shapes, e.g. ``MmBackward0`` or
    ``DotBackward0``). torch's hand-written nodes carry a namespace there
    (``torch::autograd::CopySlices``); their class name, which reprs print, is the last part.
    ``saves`` says whether torch's node keeps tensors for backward, which decides whether a
    second backward without ``retain_graph`` fails. ``differentiable=False`` ops (comparisons,
    argmax) never record a node.
    """

    name: str
    impl: Callable[..., jax.Array]
    grad_fn: str | Callable[..., str]
    saves: bool = True
    differentiable: bool = True
    jitted: Callable[..., jax.Array] = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "jitted", jax.jit(self.impl, static_argnames=_static_names(self)))

    def grad_fn_name(self, *shapes: tuple[int, ...]) -> str:
        """The torch grad_fn class name for inputs of these shapes."""
        return self.grad_fn if isinstance(self.grad_fn, str) else self.grad_fn(*shapes)


def _static_names(spec: OpSpec) -> tuple[str, ...]:
    import inspect

    params = inspect.signature(spec.impl).parameters.values()
    return tuple(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)


OPS: dict[str, OpSpec] = {}


def op(grad_fn: str | Callable[..., str], *, saves: bool = True, differentiable: bool = True):
    """Register the decorated jnp implementation under its function name; returns it unchanged."""

    def register(impl: Callable[..., jax.Array]) -> Callable[..., jax.Array]:
        name = impl.__name__.rstrip("_")  # `sum_` registers torch's `sum`
        if name in OPS:
            raise ValueError(f"op `{name}` is registered twice")
        OPS[name] = OpSpec(name, impl, grad_fn, saves, differentiable)
        return impl

    return register


# --- arithmetic -------------------------------------------------------------------------------


@op("AddBackward0", saves=False)
def add(a, b, *, alpha=1):
    return a + b * alpha if alpha != 1 else a + b


@op("SubBackward0", saves=False)
def sub(a, b, *, alpha=1):
    return a - b * alpha if alpha != 1 else a - b


@op("RsubBackward1", saves=False)
def rsub(a, b):
    return b - a


@op("MulBackward0")
def mul(a, b):
    return a * b


@op("DivBackward0")
def div(a, b):
    return jnp.true_divide(a, b)


@op("MulBackward0")
def rdiv(a, b):
    return jnp.true_divide(b, a)


@op("NegBackward0", saves=False)
def neg(a):
    return -a


@op("PowBackward0")
def pow_scalar(a, exponent):
    return kinks.pow_scalar(a, exponent)


@op("PowBackward1")
def pow_tensor(a, exponent):
    return kinks.pow_tensor(a, exponent)


@op("PowBackward2")
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
    return jax.nn.relu(a)


@op("PowBackward0")
def square(a):
    return jnp.square(a)


@op("RsqrtBackward0")
def rsqrt(a):
    return jax.lax.rsqrt(a)


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
    return jnp.where(a > 0, a, a * negative_slope)  # slope at 0, as torch


@op("AbsBackward0")
def abs_(a):
    return kinks.abs(a)


@op("ClampBackward1")
def clamp(a, *, low=None, high=None):
    return kinks.clamp(a, low, high)


@op("MaximumBackward0")
def maximum(a, b):
    return jnp.maximum(a, b)


@op("MinimumBackward0")
def minimum(a, b):
    return jnp.minimum(a, b)


@op("WhereBackward0")
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
    return kinks.select_along(a, jnp.argmax(a, axis=dim), dim, keepdim)


@op("MinBackward0")
def min_dim(a, *, dim, keepdim=False):
    return kinks.select_along(a, jnp.argmin(a, axis=dim), dim, keepdim)


@op("AmaxBackward0")
def amax(a, *, dim, keepdim=False):
    return jnp.max(a, axis=dim, keepdims=keepdim)


@op("", differentiable=False)
def argmax(a, *, dim=None, keepdim=False):
    return jnp.argmax(a, axis=dim, keepdims=keepdim)


@op("", differentiable=False)
def argmin(a, *, dim=None, keepdim=False):
    return jnp.argmin(a, axis=dim, keepdims=keepdim)


@op("SoftmaxBackward0")
def softmax(a, *, dim):
    return jax.nn.softmax(a, axis=dim)


@op("LogSoftmaxBackward0")
def log_softmax(a, *, dim):
    return jax.nn.log_softmax(a, axis=dim)


# --- shape ------------------------------------------------------------------------------------


@op("ViewBackward0", saves=False)
def view(a, *, shape):
    return jnp.reshape(a, shape)


@op("TBackward0", saves=False)
def t(a):
    return a.T


@op("TransposeBackward0", saves=False)
def transpose(a, *, dim0, dim1):
    return jnp.swapaxes(a, dim0, dim1)


@op("PermuteBackward0", saves=False)
def permute(a, *, dims):
    return jnp.transpose(a, dims)


@op("UnsqueezeBackward0", saves=False)
def unsqueeze(a, *, dim):
    return jnp.expand_dims(a, dim)


@op("SqueezeBackward0", saves=False)
def squeeze(a):
    return jnp.squeeze(a)


@op("SqueezeBackward1", saves=False)
def squeeze_dim(a, *, dim):
    return jnp.squeeze(a, dim) if a.shape[dim] == 1 else a


@op("ExpandBackward0", saves=False)
def expand(a, *, shape):
    return jnp.broadcast_to(a, shape)


@op("CatBackward0", saves=False)
def cat(*arrays, dim=0):
    return jnp.concatenate(arrays, axis=dim)


@op("StackBackward0", saves=False)
def stack(*arrays, dim=0):
    return jnp.stack(arrays, axis=dim)


@op("SelectBackward0", saves=False)
def select(a, *, key):
    return a[decode_index(key, ())]


@op("SliceBackward0", saves=False)
def slice_(a, *, key):
    return a[decode_index(key, ())]


@op("IndexBackward0")
def index(a, *indices, key):
    return a[decode_index(key, indices)]


def _index_put_name(a, value, *indices) -> str:
    """torch records ``x[i:j] = v`` as CopySlices, ``x[tensor] = v`` as IndexPutBackward0."""
    return "IndexPutBackward0" if indices else "torch::autograd::CopySlices"


@op(_index_put_name)
def index_put(a, value, *indices, key):
    return a.at[decode_index(key, indices)].set(value)


ARRAY_INDEX = "<array>"  # marks where an index array (an op input) goes in a static key


def decode_index(key: tuple, indices: tuple) -> tuple:
    """Rebuild a numpy-style index from a static key: slices and the index-array inputs."""
    arrays = iter(indices)
    decoded = []
    for item in key:
        if isinstance(item, tuple):
            decoded.append(slice(*item[1:]))
        elif isinstance(item, str):
            decoded.append(next(arrays))
        else:
            decoded.append(item)
    return tuple(decoded)


# --- neural network ---------------------------------------------------------------------------


def _linear_name(x: tuple[int, ...], w: tuple[int, ...], b: tuple[int, ...] | None = None) -> str:
    if len(x) != 2:
        return "ViewBackward0"
    return "AddmmBackward0" if b is not None else "MmBackward0"


@op(_linear_name)
def linear(x, w, b=None):
    y = jnp.matmul(x, w.T)
    return y if b is None else y + b


@op("ConvolutionBackward0")
def conv2d(x, w, b=None, *, stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
    y = jax.lax.conv_general_dilated(
        x,
        w,
        window_strides=stride,
        padding=padding,
        rhs_dilation=dilation,
        feature_group_count=groups,
        dimension_numbers=("NCHW", "OIHW", "NCHW"),
        precision=jax.lax.Precision.HIGHEST,
    )
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def _reduce(loss: jax.Array, reduction: str) -> jax.Array:
    return {"mean": jnp.mean, "sum": jnp.sum, "none": lambda v: v}[reduction](loss)


@op("MseLossBackward0")
def mse_loss(x, y, *, reduction="mean"):
    return _reduce((x - y) ** 2, reduction)


@op("BinaryCrossEntropyWithLogitsBackward0")
def binary_cross_entropy_with_logits(x, y, *, reduction="mean"):
    # softplus(x) = log(1 + exp(x)), computed stably; unlike max(x, 0) + log1p(exp(-|x|)) it has
    # no kinks, so the gradient at x = 0 is torch's sigmoid(0) - y.
    loss = jax.nn.softplus(x) - x * y
    return _reduce(loss, reduction)


@op("NllLossBackward0")
def nll_loss(log_probs, target, *, reduction="mean"):
    picked = -jnp.take_along_axis(log_probs, target[:, None], axis=1)[:, 0]
    return _reduce(picked, reduction)


# --- comparisons: results never require grad ---------------------------------------------------


@op("", saves=False, differentiable=False)
def eq(a, b):
    return a == b


@op("", saves=False, differentiable=False)
def ne(a, b):
    return a != b


@op("", saves=False, differentiable=False)
def lt(a, b):
    return a < b


@op("", saves=False, differentiable=False)
def le(a, b):
    return a <= b


@op("", saves=False, differentiable=False)
def gt(a, b):
    return a > b


@op("", saves=False, differentiable=False)
def ge(a, b):
    return a >= b
