"""The op table's pooling, normalization, embedding, activation and loss ops (see ``_ops``).

Pooling works on the stacked windows of the (padded) input, so a max pool's gradient goes to
the first maximum of each window in scan order, as torch's kernel picks it.

>>> max_pool2d.grad_fn_name((1, 1, 4, 4)), layer_norm.grad_fn_name((2, 3), (3,), (3,))
('MaxPool2DWithIndicesBackward0', 'NativeLayerNormBackward0')
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from fdiff.torch import _torch_kinks as kinks
from fdiff.torch._nn_ops import reduce_loss
from fdiff.torch._opspec import op

# --- pooling -----------------------------------------------------------------------------------


def _windows(x, kernel, stride, dilation, padding, out_size, fill):
    """``x`` (N, C, H, W) or (C, H, W) padded with ``fill`` by ``padding`` ((top, bottom),
    (left, right)), cut into windows: (N, C, out_h, out_w, kernel_h * kernel_w) (no N for
    3-D input), in torch's scan order."""
    x = jnp.pad(x, ((0, 0),) * (x.ndim - 2) + padding, constant_values=fill)
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_size
    slices = [
        x[..., i * dh : i * dh + sh * (oh - 1) + 1 : sh, j * dw : j * dw + sw * (ow - 1) + 1 : sw]
        for i in range(kh)
        for j in range(kw)
    ]
    return jnp.stack(slices, axis=-1)


@op("MaxPool2DWithIndicesBackward0")
def max_pool2d(x, *, kernel, stride, padding, dilation, out_size):
    windows = _windows(x, kernel, stride, dilation, padding, out_size, -jnp.inf)
    first_max = jnp.argmax(windows, axis=-1)[..., None]  # NaN counts as the maximum
    return jnp.take_along_axis(windows, first_max, axis=-1)[..., 0]


def _avg_pool_divisors(in_size, kernel, stride, padding, out_size, count_include_pad):
    """torch's divisor for each output position: the window's size clipped to the padded
    input (with ``count_include_pad``) or to the input itself."""
    per_axis = []
    for n, k, s, (pad, _), o in zip(in_size, kernel, stride, padding, out_size, strict=True):
        start = np.arange(o) * s - pad
        end = np.minimum(start + k, n + pad)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        per_axis.append(end - start)
    return np.outer(*per_axis)


@op("AvgPool2DBackward0")
def avg_pool2d(x, *, kernel, stride, padding, out_size, count_include_pad, divisor_override):
    windows = _windows(x, kernel, stride, (1, 1), padding, out_size, 0.0)
    if divisor_override:
        divisor = np.full(out_size, divisor_override)
    else:
        in_size = x.shape[-2:]
        divisor = _avg_pool_divisors(in_size, kernel, stride, padding, out_size, count_include_pad)
    return windows.sum(-1) / jnp.asarray(divisor, x.dtype)


def adaptive_bins(size: int, out: int) -> np.ndarray:
    """(out, size) 0/1 rows: torch's adaptive bin ``i`` covers ``floor(i size / out)`` up to
    ``ceil((i + 1) size / out)``.

    >>> adaptive_bins(5, 3).astype(int).tolist()
    [[1, 1, 0, 0, 0], [0, 1, 1, 1, 0], [0, 0, 0, 1, 1]]
    """
    i = np.arange(out)[:, None]
    start, end = (i * size) // out, -((-(i + 1) * size) // out)
    return (start <= np.arange(size)) & (np.arange(size) < end)


@op("AdaptiveAvgPool2DBackward0")
def adaptive_avg_pool2d(x, *, out_size):
    rows, cols = (adaptive_bins(n, o) for n, o in zip(x.shape[-2:], out_size, strict=True))
    sums = jnp.einsum(
        "...hw,ih,jw->...ij",
        x,
        jnp.asarray(rows, x.dtype),
        jnp.asarray(cols, x.dtype),
        precision=jax.lax.Precision.HIGHEST,
    )
    # torch divides each bin's sum by its height, then by its width
    height, width = rows.sum(1)[:, None], cols.sum(1)[None, :]
    return sums / jnp.asarray(height, x.dtype) / jnp.asarray(width, x.dtype)


# --- padding -----------------------------------------------------------------------------------


@op("ConstantPadNdBackward0", saves=False)
def constant_pad(x, *, pads, value):
    """``pads``: (before, after) per dim, first dim first; negative ones crop."""
    config = [(0, 0, 0)] * (x.ndim - len(pads)) + [(lo, hi, 0) for lo, hi in pads]
    return jax.lax.pad(x, jnp.asarray(value, x.dtype), config)


def _edge_pad(x, pads, mode):
    """``x``'s last ``len(pads)`` dims padded by torch's reflection (the edge not repeated,
    NumPy's 'reflect') or replication (NumPy's 'edge'); JAX's gradient sums the copies back."""
    widths = [(0, 0)] * (x.ndim - len(pads)) + list(pads)
    return jnp.pad(x, widths, mode={"reflect": "reflect", "replicate": "edge"}[mode])


@op("ReflectionPad1DBackward0")
def reflection_pad1d(x, *, pads):
    return _edge_pad(x, pads, "reflect")


@op("ReflectionPad2DBackward0")
def reflection_pad2d(x, *, pads):
    return _edge_pad(x, pads, "reflect")


@op("ReplicationPad1DBackward0")
def replication_pad1d(x, *, pads):
    return _edge_pad(x, pads, "replicate")


@op("ReplicationPad2DBackward0")
def replication_pad2d(x, *, pads):
    return _edge_pad(x, pads, "replicate")


# --- normalization -----------------------------------------------------------------------------


@op("NativeLayerNormBackward0")
def layer_norm(x, weight=None, bias=None, *, normalized_dims, eps):
    axes = tuple(range(x.ndim - normalized_dims, x.ndim))
    mean = x.mean(axes, keepdims=True)
    variance = jnp.square(x - mean).mean(axes, keepdims=True)
    y = (x - mean) * jax.lax.rsqrt(variance + eps)
    y = y if weight is None else y * weight
    return y if bias is None else y + bias


def batch_statistics(x):
    """Per-channel mean and biased variance of ``x`` (N, C, ...)."""
    axes = (0, *range(2, x.ndim))
    mean = x.mean(axes)
    return mean, jnp.square(x - _per_channel(mean, x.ndim)).mean(axes)


def _per_channel(values, ndim):
    return values.reshape((1, -1) + (1,) * (ndim - 2))


@op("NativeBatchNormBackward0")
def batch_norm(x, mean=None, variance=None, weight=None, bias=None, *, eps):
    """With ``mean`` and ``variance`` None: the batch's statistics (training)."""
    if mean is None:
        mean, variance = batch_statistics(x)
    y = (x - _per_channel(mean, x.ndim)) * _per_channel(jax.lax.rsqrt(variance + eps), x.ndim)
    y = y if weight is None else y * _per_channel(weight, x.ndim)
    return y if bias is None else y + _per_channel(bias, x.ndim)


# --- embedding and activations -----------------------------------------------------------------


@op("EmbeddingBackward0")
def embedding(weight, indices, *, padding_idx):
    rows = jnp.take(weight, indices, axis=0)
    if padding_idx is None:
        return rows
    # the padding row gets no gradient
    return jnp.where((indices == padding_idx)[..., None], jax.lax.stop_gradient(rows), rows)


@op("GeluBackward0")
def gelu(x, *, approximate):
    if approximate == "tanh":
        inner = np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)
        return 0.5 * x * (1 + jnp.tanh(inner))
    return 0.5 * x * (1 + jax.lax.erf(x * np.sqrt(0.5).astype(x.dtype)))


@op("LeakyReluBackward1")
def leaky_relu_in_place(x, *, negative_slope):
    """``leaky_relu_``: torch names its in-place node apart (it saves the result)."""
    return kinks.leaky_relu(x, negative_slope)


@op("SiluBackward0")
def silu(x):
    return x * jax.nn.sigmoid(x)


@op("EluBackward0")
def elu(x, *, alpha, scale=1.0, input_scale=1.0):
    """torch's ``elu`` (``selu`` is ``elu`` with its constants): ``x <= 0`` takes the
    exponential branch, so the slope at 0 is ``scale * alpha * input_scale``."""
    negative = jnp.where(x > 0, 0, x)  # keeps expm1's unused branch finite
    return jnp.where(x > 0, scale * x, scale * alpha * jnp.expm1(negative * input_scale))


@op("HardtanhBackward0")
def hardtanh(x, *, min_val, max_val):
    """``x`` clamped to the bounds; torch's slope is 1 strictly inside them, 0 at them."""
    inside = (x > min_val) & (x < max_val)
    return jnp.where(inside, x, jax.lax.stop_gradient(jnp.clip(x, min_val, max_val)))


@op("HardswishBackward0")
def hardswish(x):
    """``x * min(max(x + 3, 0), 6) / 6``; torch's slope is 0 at -3 and 1 at 3."""
    middle = x * (x + 3) / 6
    return jnp.where(x <= -3, jax.lax.stop_gradient(0 * x), jnp.where(x < 3, middle, x))


@op("HardsigmoidBackward0")
def hardsigmoid(x):
    """``min(max(x + 3, 0), 6) / 6``; torch's slope is 1/6 strictly inside (-3, 3)."""
    clipped = jax.lax.stop_gradient(jnp.clip(x + 3, 0, 6) / 6)
    return jnp.where((x > -3) & (x < 3), (x + 3) / 6, clipped)


@op("LogSigmoidBackward0")
def logsigmoid(x):
    return jax.nn.log_sigmoid(x)


@op("MishBackward0")
def mish(x):
    return x * jnp.tanh(jax.nn.softplus(x))


@op("GluBackward0")
def glu(x, *, dim):
    first, second = jnp.split(x, 2, axis=dim)
    return first * jax.nn.sigmoid(second)


@op("PreluKernelBackward0")
def prelu(x, weight):
    """``weight`` holds one slope, or one per channel (dim 1); the slope applies at 0."""
    slopes = weight.reshape((-1,) + (1,) * (x.ndim - 2)) if x.ndim >= 2 else weight
    return jnp.where(x > 0, x, slopes * x)


# --- losses ------------------------------------------------------------------------------------


@jax.custom_jvp
def _binary_cross_entropy(x, y):
    """torch's elementwise loss, each log clamped at -100."""
    return -(y * jnp.maximum(jnp.log(x), -100) + (1 - y) * jnp.maximum(jnp.log1p(-x), -100))


@_binary_cross_entropy.defjvp
def _binary_cross_entropy_jvp(primals, tangents):
    (x, y), (dx, dy) = primals, tangents
    slope = (x - y) / jnp.maximum((1 - x) * x, 1e-12)  # torch's binary_cross_entropy_backward
    target_slope = -(jnp.log(x) - jnp.log1p(-x))  # torch: -logit(x)
    return _binary_cross_entropy(x, y), slope * dx + target_slope * dy


@op("BinaryCrossEntropyBackward0")
def binary_cross_entropy(x, y, weight=None, *, reduction):
    loss = _binary_cross_entropy(x, y)
    return reduce_loss(loss if weight is None else loss * weight, reduction)


@op("SmoothL1LossBackward0")
def smooth_l1_loss(x, y, *, reduction, beta):
    d = x - y
    loss = jnp.where(jnp.abs(d) < beta, 0.5 * d * d / beta, jnp.abs(d) - 0.5 * beta)
    return reduce_loss(loss, reduction)


@op("HuberLossBackward0")
def huber_loss(x, y, *, reduction, delta):
    d = x - y
    loss = jnp.where(jnp.abs(d) < delta, 0.5 * d * d, delta * (jnp.abs(d) - 0.5 * delta))
    return reduce_loss(loss, reduction)
