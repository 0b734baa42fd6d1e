"""``torch.nn.functional``: convolution, linear, activations, pooling, normalization,
dropout and losses on the op table (the losses in ``_loss_functions``, the other layers in
``_layer_functions``).

>>> import fdiff.torch as torch
>>> x = torch.tensor([0.0, 2.0], requires_grad=True)
>>> binary_cross_entropy_with_logits(x, torch.zeros(2))
tensor(1.4100, grad_fn=<BinaryCrossEntropyWithLogitsBackward0>)
"""

from __future__ import annotations

import warnings
from typing import Any

from fdiff.torch import _dtypes, _math
from fdiff.torch import _nn_ops as nn_ops
from fdiff.torch import _ops as ops
from fdiff.torch._dispatch import apply
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._math import sigmoid, tanh
from fdiff.torch._missing import missing_names
from fdiff.torch._tensor import Tensor
from fdiff.torch.nn._arguments import conv_param, functional
from fdiff.torch.nn._layer_functions import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    batch_norm,
    dropout,
    elu,
    embedding,
    gelu,
    glu,
    hardsigmoid,
    hardswish,
    hardtanh,
    layer_norm,
    leaky_relu,
    logsigmoid,
    max_pool1d,
    max_pool2d,
    mish,
    one_hot,
    pad,
    prelu,
    relu,
    relu6,
    selu,
    silu,
)
from fdiff.torch.nn._loss_functions import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "cosine_similarity",
    "cross_entropy",
    "dropout",
    "elu",
    "embedding",
    "gelu",
    "glu",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "max_pool1d",
    "max_pool2d",
    "mish",
    "mse_loss",
    "nll_loss",
    "normalize",
    "one_hot",
    "pad",
    "prelu",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softmin",
    "softplus",
    "tanh",
]

__getattr__ = missing_names(__name__, "torch.nn.functional")


def _padding(padding: Any, kernel: tuple[int, ...], dilation: tuple[int, ...], name: str) -> tuple:
    if padding == "valid":
        return ((0, 0),) * len(kernel)
    if padding == "same":
        total = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
        return tuple((t // 2, t - t // 2) for t in total)
    return tuple((p, p) for p in conv_param(padding, "padding", len(kernel), 5, name))


def _conv_params(weight: Tensor, stride: Any, padding: Any, dilation: Any, name: str) -> tuple:
    """A convolution's stride, padding pairs and dilation, checked in torch's order."""
    dims = weight.dim() - 2
    stride = conv_param(stride, "stride", dims, 4, name)
    if not isinstance(padding, str):
        conv_param(padding, "padding", dims, 5, name)
    dilation = conv_param(dilation, "dilation", dims, 6, name)
    if 0 in dilation:
        raise RuntimeError(f"dilation should be greater than zero, but got {list(dilation)}")
    pads = _padding(padding, tuple(weight.shape[2:]), dilation, name)
    if min(p for side in pads for p in side) < 0:
        raise RuntimeError("negative padding is not supported")
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) < 0:
        raise RuntimeError("dilation should be greater than zero")
    return stride, pads, dilation


def _convolution(
    dims: int,
    input: Tensor,
    weight: Tensor,
    bias: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
) -> Tensor:
    """``conv1d``/``conv2d`` (``dims`` spatial dims): unbatched input gets a batch dim."""
    name = f"conv{dims}d"
    if input.dim() == dims + 1:
        batched = input.unsqueeze(0)
        y = _convolution(dims, batched, weight, bias, stride, padding, dilation, groups)
        return y.squeeze(0)  # torch's SqueezeBackward1
    if input.dim() != dims + 2:
        raise RuntimeError(
            f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to {name}, but got "
            f"input of size: {list(input.shape)}"
        )
    stride, padding, dilation = _conv_params(weight, stride, padding, dilation, name)
    if weight.dim() != input.dim():
        raise RuntimeError(
            f"Expected {weight.dim()}-dimensional input for {weight.dim()}-dimensional weight "
            f"{list(weight.shape)}, but got {input.dim()}-dimensional input of size "
            f"{list(input.shape)} instead"
        )
    if input.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
            f"{list(input.shape)} to have {weight.shape[1] * groups} channels, but got "
            f"{input.shape[1]} channels instead"
        )
    static = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return apply(nn_ops.conv2d, input, weight, bias, **static)


@functional
def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int] = 1,
    padding: Any = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution over NCL input with OIL weight (torch's layouts).

    >>> import fdiff.torch as torch
    >>> conv1d(torch.tensor([[[1.0, 2.0, 3.0]]]), torch.tensor([[[1.0, -1.0]]]))
    tensor([[[-1., -1.]]])
    """
    return _convolution(1, input, weight, bias, stride, padding, dilation, groups)


@functional
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
    return _convolution(2, input, weight, bias, stride, padding, dilation, groups)


def _softmax_args(input: Tensor, dim: int | None, dtype: Any, name: str, stacklevel: int):
    """``input`` in ``dtype`` and the dim, as torch.nn.functional's softmaxes take them: no
    dim picks torch's implicit one (0 for 0-, 1- and 3-d input, else 1) with its warning."""
    if dim is None:
        warnings.warn(
            f"Implicit dimension choice for {name} has been deprecated. Change the call to "
            "include dim=X as an argument.",
            UserWarning,
            stacklevel=stacklevel,
        )
        dim = 0 if input.dim() in (0, 1, 3) else 1
    return (input if dtype is None else input.to(dtype)), dim


# softmax and log_softmax are torch Python functions with these exact signatures: any other
# keyword (NumPy's ``axis=``) is Python's TypeError, as in torch.
def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None):
    """``torch.nn.functional.softmax``: ``exp(x) / exp(x).sum(dim)``, computed stably."""
    return _math.softmax(*_softmax_args(input, dim, dtype, "softmax", _stacklevel))


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None):
    """``torch.nn.functional.log_softmax``: ``x - logsumexp(x, dim)``."""
    return _math.log_softmax(*_softmax_args(input, dim, dtype, "log_softmax", _stacklevel))


@functional
def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``."""
    return apply(ops.softplus, input, beta=beta, threshold=threshold)


@functional
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``; on a 2-D input recorded as torch records it (``addmm`` or
    ``mm`` of ``weight.t()``), so ``grad_fn.next_functions`` walks torch's graph."""
    _dtypes.check_matmul_dtypes("linear", input, weight, bias)
    if input.dim() == 2 and weight.dim() == 2:
        if bias is None:
            return apply(ops.matmul, input, weight.t())
        return apply(nn_ops.addmm, bias, input, weight.t())
    return apply(nn_ops.linear, input, weight, bias)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None):
    """``torch.nn.functional.softmin``: ``softmax(-x)``."""
    return _math.softmax(*_softmax_args(-input, dim, dtype, "softmin", _stacklevel))


@functional
def normalize(
    input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Any = None
) -> Tensor:
    """``input`` divided by its ``p``-norm along ``dim`` (at least ``eps``).

    >>> import fdiff.torch as torch
    >>> normalize(torch.tensor([[3.0, 4.0]]))
    tensor([[0.6000, 0.8000]])
    """
    if out is not None:
        raise UnsupportedError("torch.nn.functional.normalize(out=...)")
    denom = _math.norm(input, p, dim, keepdim=True).clamp(min=eps).expand(input.shape)
    return input / denom


@functional
def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """torch's formula: each input divided by its 2-norm (raised to ``eps`` without
    recording it), multiplied and summed over ``dim``.

    >>> import fdiff.torch as torch
    >>> cosine_similarity(torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 1.0]]))
    tensor([0.7071])
    """
    if x1.shape != x2.shape:
        raise UnsupportedError("torch.nn.functional.cosine_similarity(x1, x2 of other shapes)")
    norms = []
    for x in (x1, x2):
        norm = _math.norm(x, 2, dim, keepdim=True)
        # torch clamps a clone of the norm in place under no_grad: the value is clamped, the
        # derivative (to every order) is the norm's; written without the in-place change
        norms.append(norm + (norm.clamp(min=eps) - norm).detach())
    return ((x1 / norms[0]) * (x2 / norms[1])).sum(dim)
