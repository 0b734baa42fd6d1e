"""``nn.functional``'s losses: mse, binary cross entropy with logits, nll and cross entropy
(``weight``, ``ignore_index``, ``label_smoothing``), smooth L1, Huber, L1, binary cross
entropy, KL divergence.

>>> import fdiff.torch as torch
>>> x = torch.tensor([[0.0, 1.0], [2.0, 0.0]], requires_grad=True)
>>> cross_entropy(x, torch.tensor([1, 0]), label_smoothing=0.2)
tensor(0.3701, grad_fn=<AddBackward0>)
"""

from __future__ import annotations

import warnings

import jax
import numpy as np

from fdiff.torch import _nn_ops as nn_ops
from fdiff.torch._creation import tensor
from fdiff.torch._dispatch import apply
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._layer_ops import binary_cross_entropy as binary_cross_entropy_op
from fdiff.torch._layer_ops import huber_loss as huber_loss_op
from fdiff.torch._layer_ops import smooth_l1_loss as smooth_l1_loss_op
from fdiff.torch._math import exp, log_softmax, where
from fdiff.torch._tensor import Tensor
from fdiff.torch._tensor_base import new_tensor
from fdiff.torch.nn._arguments import check_reduction, functional


def _warn_if_broadcasting(input: Tensor, target: Tensor) -> None:
    if input.shape != target.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )


@functional
def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error (``reduction`` 'mean', 'sum' or 'none')."""
    _warn_if_broadcasting(input, target)
    return apply(nn_ops.mse_loss, input, target, reduction=check_reduction(reduction))


@functional
def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean absolute error, composed as torch composes it (``(input - target).abs()``)."""
    _warn_if_broadcasting(input, target)
    loss = (input - target).abs()
    return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[check_reduction(reduction)]()


@functional
def smooth_l1_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", beta: float = 1.0
) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``beta=0``: L1)."""
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return l1_loss(input, target, reduction)
    _warn_if_broadcasting(input, target)
    return apply(
        smooth_l1_loss_op, input, target, reduction=check_reduction(reduction), beta=float(beta)
    )


@functional
def huber_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0
) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``."""
    _warn_if_broadcasting(input, target)
    return apply(
        huber_loss_op, input, target, reduction=check_reduction(reduction), delta=float(delta)
    )


@functional
def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Sigmoid plus binary cross entropy in one numerically stable op (seed 003.1); each
    element's loss times ``weight``, its positive part times ``pos_weight`` (broadcast)."""
    if input.shape != target.shape:
        raise ValueError(
            f"Target size ({target.shape}) must be the same as input size ({input.shape})"
        )
    return apply(
        nn_ops.binary_cross_entropy_with_logits,
        input,
        target,
        weight,
        pos_weight,
        reduction=check_reduction(reduction),
    )


def _check_targets(input: Tensor, target: Tensor, ignore_index: int) -> None:
    """torch's checks of class-index targets: dtype, batch size, range (JAX would clamp)."""
    if target.dtype.is_floating_point:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_name(target)}")
    if input.dim() > 1 and input.shape[0] != (target.shape[0] if target.dim() else 1):
        batch = target.shape[0] if target.dim() else 1
        raise ValueError(
            f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({batch})."
        )
    classes = input.shape[0 if input.dim() == 1 else 1]
    values = np.asarray(target.detach().numpy()).ravel()
    bad = values[(values != ignore_index) & ((values < 0) | (values >= classes))]
    if bad.size:
        raise IndexError(f"Target {bad[0]} is out of bounds.")


def _name(tensor: Tensor) -> str:
    """torch's scalar type name (``Float``, ``Double``, ``Half``)."""
    names = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16"}
    return names[str(tensor.dtype).removeprefix("torch.")]


@functional
def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log likelihood of class ``target`` under log-probabilities ``input``, each
    weighted by ``weight[target]``; the mean divides by the weights' sum."""
    _check_targets(input, target, ignore_index)
    if input.dim() > 2 and input.dim() != 4 and check_reduction(reduction) == "none":
        raise UnsupportedError(
            "torch.nn.functional.nll_loss(reduction='none') on 3-D or 5-D+ input"
        )
    return apply(
        nn_ops.nll_loss,
        input,
        target,
        weight,
        reduction=check_reduction(reduction),
        ignore_index=ignore_index,
    )


@functional
def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """``nll_loss(log_softmax(input, 1), target)`` for class-index targets; with
    ``label_smoothing`` torch's mix with the uniform distribution over the classes."""
    if target.dtype.is_floating_point:
        raise UnsupportedError("torch.nn.functional.cross_entropy(target=class probabilities)")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    dim = 0 if input.dim() == 1 else 1
    log_probs = log_softmax(input, dim)
    loss = nll_loss(log_probs, target, weight, ignore_index, reduction)
    if label_smoothing == 0:
        return loss
    smooth = _smoothing_term(log_probs, target, weight, ignore_index, reduction, dim)
    return (1 - label_smoothing) * loss + smooth * (label_smoothing / input.shape[dim])


def _smoothing_term(log_probs, target, weight, ignore_index, reduction, dim) -> Tensor:
    """torch's ``cross_entropy_loss_label_smoothing``: minus the (weighted) sum of the
    log-probabilities over the classes, zero where ignored, reduced."""
    if weight is not None:
        shape = [1] * log_probs.dim()
        shape[dim] = weight.shape[0]
        per_entry = -(log_probs * weight.reshape(shape)).sum(dim)
    else:
        per_entry = -log_probs.sum(dim)
    ignored = target == ignore_index
    per_entry = where(ignored, 0.0, per_entry)
    if reduction == "none":
        return per_entry
    if reduction == "sum":
        return per_entry.sum()
    if weight is None:
        return per_entry.sum() / (target != ignore_index).sum()
    kept = np.asarray(target.detach().numpy())[~np.asarray(ignored.numpy())]
    return per_entry.sum() / weight[tensor(kept.ravel())].sum()


@functional
def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """``-(y log x + (1 - y) log(1 - x))`` on probabilities ``x``, each log clamped at -100
    as torch clamps it, times ``weight`` (broadcast to the target).

    >>> import fdiff.torch as torch
    >>> binary_cross_entropy(torch.tensor([0.5, 1.0]), torch.tensor([1.0, 0.0]))
    tensor(50.3466)
    """
    if input.shape != target.shape:
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}) is deprecated. Please ensure they have the same size."
        )
    reduction = check_reduction(reduction)
    if weight is not None:
        if weight.requires_grad:
            raise RuntimeError(
                "The function 'binary_cross_entropy' is not differentiable with respect to "
                "argument 'weight'. This input cannot have requires_grad True."
            )
        weight = weight.expand(target.shape)
    values = np.asarray(input.detach().numpy())
    if values.size and not ((values >= 0) & (values <= 1)).all():
        raise RuntimeError("all elements of input should be between 0 and 1")
    return apply(binary_cross_entropy_op, input, target, weight, reduction=reduction)


@functional
def kl_div(
    input: Tensor, target: Tensor, reduction: str = "mean", log_target: bool = False
) -> Tensor:
    """Pointwise KL divergence of log-probabilities ``input`` from ``target``
    (``log_target``: ``target`` holds log-probabilities too), composed as torch composes it;
    ``'batchmean'`` divides the sum by the batch size."""
    if reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.",
            UserWarning,
            stacklevel=3,
        )
    if log_target:
        loss = exp(target) * (target - input)
    elif target.requires_grad:
        raise UnsupportedError("torch.nn.functional.kl_div(target requiring grad)")
    else:  # xlogy(target, target) - target * input; the xlogy term is a constant here
        entropy = new_tensor(jax.scipy.special.xlogy(target._value, target._value))
        loss = entropy - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.dim() else loss.sum()
    return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[check_reduction(reduction)]()
