"""``torch.nn.functional``: convolution, linear, activations and losses on the op table.

>>> import fdiff.torch as torch
>>> x = torch.tensor([0.0, 2.0], requires_grad=True)
>>> binary_cross_entropy_with_logits(x, torch.zeros(2))
tensor(1.4100, grad_fn=<BinaryCrossEntropyWithLogitsBackward0>)
"""

from __future__ import annotations

import warnings
from typing import Any

from fdiff.torch import _nn_ops as nn_ops
from fdiff.torch import _ops as ops
from fdiff.torch._dispatch import apply
from fdiff.torch._errors import F, UnsupportedError, refusing_unknown_keywords
from fdiff.torch._math import log_softmax, relu, sigmoid, softmax, tanh
from fdiff.torch._missing import missing_names
from fdiff.torch._tensor import Tensor

__all__ = [
    "binary_cross_entropy_with_logits",
    "conv2d",
    "cross_entropy",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "relu",
    "sigmoid",
    "softmax",
    "softplus",
    "tanh",
]

__getattr__ = missing_names(__name__, "torch.nn.functional")
_REDUCTIONS = ("mean", "sum", "none")


def _functional(function: F) -> F:
    """``function`` as ``torch.nn.functional.<name>``: an unknown keyword is unsupported."""
    return refusing_unknown_keywords(function, f"torch.nn.functional.{function.__name__}")


def _pair(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v >= 0 for v in pair):
        raise ValueError(f"conv2d: `{name}` must be an int or a pair of ints >= 0, got {value!r}")
    return pair  # type: ignore[return-value]


def _padding(padding: Any, kernel: tuple[int, ...], dilation: tuple[int, int]) -> tuple:
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        total = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
        return tuple((t // 2, t - t // 2) for t in total)
    return tuple((p, p) for p in _pair(padding, "padding"))


@_functional
def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: Any = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution over NCHW input with OIHW weight (torch's layouts)."""
    if input.dim() == 3:
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups)[0]
    if input.dim() != 4 or weight.dim() != 4:
        raise RuntimeError(
            f"Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: "
            f"{list(input.shape)}"
        )
    if input.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
            f"{list(input.shape)} to have {weight.shape[1] * groups} channels, but got "
            f"{input.shape[1]} channels instead"
        )
    dil = _pair(dilation, "dilation")
    return apply(
        nn_ops.conv2d,
        input,
        weight,
        bias,
        stride=_pair(stride, "stride"),
        padding=_padding(padding, tuple(weight.shape[2:]), dil),
        dilation=dil,
        groups=groups,
    )


@_functional
def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``."""
    return apply(ops.softplus, input, beta=beta, threshold=threshold)


@_functional
def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``x`` for ``x > 0``, else ``negative_slope * x`` (the slope is used at 0, as torch)."""
    return apply(ops.leaky_relu, input, negative_slope=negative_slope)


@_functional
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``; on a 2-D input recorded as torch records it (``addmm`` or
    ``mm`` of ``weight.t()``), so ``grad_fn.next_functions`` walks torch's graph."""
    if input.dim() == 2 and weight.dim() == 2:
        if bias is None:
            return apply(ops.matmul, input, weight.t())
        return apply(nn_ops.addmm, bias, input, weight.t())
    return apply(nn_ops.linear, input, weight, bias)


def _check_reduction(reduction: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


@_functional
def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error (``reduction`` 'mean', 'sum' or 'none')."""
    if input.shape != target.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning,
            stacklevel=2,
        )
    return apply(nn_ops.mse_loss, input, target, reduction=_check_reduction(reduction))


@_functional
def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Sigmoid plus binary cross entropy in one numerically stable op (seed 003.1)."""
    if weight is not None or pos_weight is not None:
        keyword = "weight" if weight is not None else "pos_weight"
        raise UnsupportedError(
            f"torch.nn.functional.binary_cross_entropy_with_logits({keyword}=...)"
        )
    if input.shape != target.shape:
        raise ValueError(
            f"Target size ({target.shape}) must be the same as input size ({input.shape})"
        )
    return apply(
        nn_ops.binary_cross_entropy_with_logits,
        input,
        target,
        reduction=_check_reduction(reduction),
    )


@_functional
def nll_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Negative log likelihood of integer class ``target`` under log-probabilities ``input``."""
    if target.dtype.is_floating_point:
        raise RuntimeError(
            "expected scalar type Long but found Float: fdiff.torch's cross_entropy and "
            "nll_loss take integer class indices"
        )
    if input.dim() == 1:
        return nll_loss(input.unsqueeze(0), target.reshape(1), reduction)
    return apply(nn_ops.nll_loss, input, target, reduction=_check_reduction(reduction))


@_functional
def cross_entropy(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """``nll_loss(log_softmax(input, 1), target)`` for integer class targets."""
    dim = 0 if input.dim() == 1 else 1
    return nll_loss(log_softmax(input, dim), target, reduction)
