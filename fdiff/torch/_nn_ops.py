"""The op table's layer and loss ops: ``linear``, ``conv2d``, ``mse_loss``... (see ``_ops``).

>>> linear.grad_fn_name((4, 3), (2, 3), (2,)), linear.grad_fn_name((5, 4, 3), (2, 3), (2,))
('AddmmBackward0', 'ViewBackward0')
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from fdiff.torch._opspec import op

# --- layers and losses -------------------------------------------------------------------------


def _linear_name(x: tuple[int, ...], w: tuple[int, ...], b: tuple[int, ...] | None = None) -> str:
    """torch runs ``linear`` as ``addmm``/``mm`` on 2-D input, else through a reshape."""
    if len(x) == 2:
        return "AddmmBackward0" if b is not None else "MmBackward0"
    if b is not None:
        return "ViewBackward0"
    return "SqueezeBackward4" if len(x) == 1 else "UnsafeViewBackward0"


@op(_linear_name)
def linear(x, w, b=None):
    y = jnp.matmul(x, w.T)
    return y if b is None else y + b


@op("ConvolutionBackward0")
def conv2d(x, w, b=None, *, stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
    """Any-dimensional convolution (``conv1d`` runs it too) over NC... input, OI... weight."""
    spatial = "DHW"[3 - (x.ndim - 2) :]
    y = jax.lax.conv_general_dilated(
        x,
        w,
        window_strides=stride,
        padding=padding,
        rhs_dilation=dilation,
        feature_group_count=groups,
        dimension_numbers=("NC" + spatial, "OI" + spatial, "NC" + spatial),
        precision=jax.lax.Precision.HIGHEST,
    )
    return y if b is None else y + b.reshape((1, -1) + (1,) * (x.ndim - 2))


def reduce_loss(loss: jax.Array, reduction: str) -> jax.Array:
    """``loss`` reduced as torch's ``reduction`` says ('mean', 'sum' or 'none')."""
    return {"mean": jnp.mean, "sum": jnp.sum, "none": lambda v: v}[reduction](loss)


@op("MseLossBackward0")
def mse_loss(x, y, *, reduction="mean"):
    return reduce_loss((x - y) ** 2, reduction)


@op("BinaryCrossEntropyWithLogitsBackward0")
def binary_cross_entropy_with_logits(x, y, weight=None, pos_weight=None, *, reduction="mean"):
    # softplus(x) = log(1 + exp(x)), computed stably; unlike max(x, 0) + log1p(exp(-|x|)) it has
    # no kinks, so the gradient at x = 0 is torch's sigmoid(0) - y.
    # torch accumulates the loss in place on a tensor made from the target: the target's dtype.
    if pos_weight is None:
        loss = jax.nn.softplus(x) - x * y
    else:  # torch: (1 - y) x - log_sigmoid(x) ((pos_weight - 1) y + 1)
        loss = (1 - y) * x + jax.nn.softplus(-x) * ((pos_weight - 1) * y + 1)
    loss = loss if weight is None else loss * weight
    return reduce_loss(loss.astype(jnp.result_type(y)), reduction)


def _nll_loss_name(log_probs: tuple[int, ...], *_: tuple[int, ...] | None) -> str:
    return "NllLoss2DBackward0" if len(log_probs) > 2 else "NllLossBackward0"


@op(_nll_loss_name)
def nll_loss(log_probs, target, weight=None, *, reduction="mean", ignore_index=-100):
    """Input (C,), (N, C) or (N, C, d1, ...); ``target`` the matching class indices. Entries
    whose target is ``ignore_index`` count neither in the loss nor in the mean's weight."""
    classes = log_probs.shape[0 if log_probs.ndim == 1 else 1]
    rows = jnp.moveaxis(log_probs, 0 if log_probs.ndim == 1 else 1, -1).reshape(-1, classes)
    flat = target.reshape(-1)
    keep = flat != ignore_index
    index = jnp.where(keep, flat, 0)
    picked = jnp.take_along_axis(rows, index[:, None], axis=1)[:, 0]
    weights = jnp.ones_like(picked) if weight is None else weight[index].astype(picked.dtype)
    weights = jnp.where(keep, weights, 0)
    losses = jnp.where(keep, -(weights * picked), 0).reshape(target.shape)
    if reduction == "mean":
        return losses.sum() / weights.sum()
    return reduce_loss(losses, reduction)


@op("BackwardHookFunctionBackward", saves=False)
def backward_hook_function(x):
    """The identity a module's tensors pass through when it has full backward hooks."""
    return x


@op("AddmmBackward0")
def addmm(b, x, w):
    """``x @ w + b``: ``linear`` on a 2-D input as torch records it (``w`` is ``weight.t()``)."""
    return jnp.matmul(x, w) + b
