"""``nn.functional``'s layer functions: dropout (torch's random stream), embedding, one_hot,
layer_norm, batch_norm, max_pool2d, avg_pool2d and the activations (gelu, silu, elu, selu,
relu6, hardtanh, hardswish, hardsigmoid, logsigmoid, mish, glu, prelu).

>>> import fdiff.torch as torch
>>> _ = torch.manual_seed(0)
>>> dropout(torch.ones(6), 0.5)
tensor([0., 0., 2., 0., 0., 0.])
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import jax.numpy as jnp
import numpy as np

from fdiff.torch import _dtypes, _random, _views
from fdiff.torch import _layer_ops as layer_ops
from fdiff.torch import _ops as ops
from fdiff.torch._args import checked_dim
from fdiff.torch._dispatch import apply
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._inplace import assign, overwrite
from fdiff.torch._layer_ops import batch_statistics
from fdiff.torch._math import relu as torch_relu
from fdiff.torch._tensor import Tensor
from fdiff.torch._tensor_base import new_tensor
from fdiff.torch.nn._arguments import functional, int_list, pool_param


@functional
def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``; the
    mask is ``bernoulli_(1 - p)`` drawn from torch's generator, so seeded runs match torch."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0 or input.numel() == 0:
        return input
    storage = input.dtype.storage()
    if p == 1:
        return in_place_or_not(input, input * new_tensor(jnp.zeros((), storage)), inplace)
    keep = _views.drawn_in_order(  # torch fills empty_like(input) in memory order
        lambda shape: _random.default_generator.bernoulli_scalar(shape, 1 - p), input, like=True
    )
    noise = keep.astype(storage) / storage.type(1 - p)  # torch: noise.div_(1 - p)
    return in_place_or_not(input, input * new_tensor(jnp.asarray(noise)), inplace)


def in_place_or_not(input: Tensor, result: Tensor, inplace: bool) -> Tensor:
    """``result``, or with ``inplace`` ``input`` made to hold it (torch's ``relu_``, ...)."""
    return assign(input, result) if inplace else result


@functional
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``; ``inplace`` writes it into ``input`` (``relu_``)."""
    return in_place_or_not(input, torch_relu(input), inplace)


@functional
def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``negative_slope * x`` (the slope is used at 0, as torch)."""
    spec = layer_ops.leaky_relu_in_place if inplace else ops.leaky_relu
    return in_place_or_not(input, apply(spec, input, negative_slope=negative_slope), inplace)


@functional
def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of ``weight`` picked by the integer ``input``; the ``padding_idx`` row gets no
    gradient."""
    for name, value, default in (
        ("max_norm", max_norm, None),
        ("scale_grad_by_freq", scale_grad_by_freq, False),
        ("sparse", sparse, False),
    ):
        if value != default:
            raise UnsupportedError(f"torch.nn.functional.embedding({name}=...)")
    rows = weight.shape[0]
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= rows
    values = np.asarray(input.detach().numpy())
    if values.size and (values.min() < 0 or values.max() >= rows):
        raise IndexError("index out of range in self")
    return apply(layer_ops.embedding, weight, input.detach(), padding_idx=padding_idx)


@functional
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """``int64`` rows with a 1 at each class index (``num_classes=-1``: the largest + 1).

    >>> import fdiff.torch as torch
    >>> one_hot(torch.tensor([0, 2]))
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    if tensor.dtype is not _dtypes.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    values = np.asarray(tensor.numpy())
    if values.size and values.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(values.max()) + 1 if values.size else 0
    elif values.size and values.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    encoded = values[..., None] == np.arange(num_classes)
    return new_tensor(jnp.asarray(encoded, _dtypes.int64.storage()))


@functional
def layer_norm(
    input: Tensor,
    normalized_shape: int | tuple[int, ...] | list[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize over the trailing ``normalized_shape`` dimensions (biased variance)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.dim() - len(shape) :]) != shape or input.dim() < len(shape):
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}"
        )
    return apply(layer_ops.layer_norm, input, weight, bias, normalized_dims=len(shape), eps=eps)


@functional
def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel (dim 1) by the batch's statistics when ``training`` (updating
    the running ones in place: ``(1 - momentum) running + momentum batch``, the variance
    unbiased), else by the running statistics."""
    if input.numel() == 0:  # torch's shortcut: a copy, times weight[0] plus bias[0]
        out = input.clone()
        out = out if weight is None else out * weight[0]
        return out if bias is None else out + bias[0]
    per_channel = input.numel() // input.shape[1]
    if training and per_channel == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {input.shape}"
        )
    if training and running_mean is not None:
        _update_running_statistics(input, running_mean, running_var, momentum, per_channel)
    if training or running_mean is None:
        return apply(layer_ops.batch_norm, input, None, None, weight, bias, eps=eps)
    return apply(
        layer_ops.batch_norm,
        input,
        running_mean.detach(),
        running_var.detach(),
        weight,
        bias,
        eps=eps,
    )


def _update_running_statistics(
    input: Tensor, mean: Tensor, variance: Tensor, momentum: float, count: int
) -> None:
    batch_mean, batch_variance = batch_statistics(input._value)
    unbiased = batch_variance * (count / (count - 1))
    overwrite(
        mean, (momentum * batch_mean + (1 - momentum) * mean._value).astype(mean._value.dtype)
    )
    overwrite(
        variance,
        (momentum * unbiased + (1 - momentum) * variance._value).astype(variance._value.dtype),
    )


def _pool_geometry(
    input: Tensor,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
    function: str,
) -> tuple[Any, ...]:
    """Kernel, stride, padding pairs, dilation and output size, as torch's pooling computes
    them (``ceil_mode`` keeps a last window that starts inside the input or left padding)."""
    if input.dim() not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    kernel = pool_param(kernel_size, "kernel_size", function, 2)
    omitted = stride is None or stride in ([], ())
    stride = kernel if omitted else pool_param(stride, "stride", function, 3)
    pad = pool_param(padding, "padding", function, 4)
    dil = pool_param(dilation, "dilation", function, 5)
    out_size, paddings = [], []
    for n, k, s, p, d in zip(input.shape[-2:], kernel, stride, pad, dil, strict=True):
        if s == 0:
            raise RuntimeError("stride should not be zero")
        if p < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
        if p > int((d * (k - 1) + 1) / 2):  # C++ division: truncated toward zero
            raise RuntimeError(
                "pad should be at most half of effective kernel size, but got "
                f"pad={p}, kernel_size={k} and dilation={d}"
            )
        span = n + 2 * p - d * (k - 1) - 1
        out = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (out - 1) * s >= n + p:
            out -= 1
        out_size.append(out)
        paddings.append((p, max(p, (out - 1) * s + d * (k - 1) + 1 - n - p)))
    for what, short, values in (("kernel size", "k", kernel), ("stride", "d", stride),
                                ("dilation", "dilation", dil)):  # fmt: skip
        if min(values) <= 0:
            raise RuntimeError(
                f"{what} should be greater than zero, but got {short}H: {values[0]} "
                f"{short}W: {values[1]}"
            )
    return kernel, stride, tuple(paddings), dil, tuple(out_size)


@functional
def max_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor:
    """The maximum of each window; its gradient goes to the window's first maximum."""
    if return_indices:
        raise UnsupportedError("torch.nn.functional.max_pool2d(return_indices=True)")
    kernel, stride, paddings, dil, out_size = _pool_geometry(
        input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d"
    )
    static = {"kernel": kernel, "stride": stride, "padding": paddings, "dilation": dil}
    return apply(layer_ops.max_pool2d, input, **static, out_size=out_size)


@functional
def avg_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each window (divided as torch divides at the borders)."""
    kernel, stride, paddings, _, out_size = _pool_geometry(
        input, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d"
    )
    static = {
        "kernel": kernel,
        "stride": stride,
        "padding": paddings,
        "out_size": out_size,
        "count_include_pad": bool(count_include_pad),
        "divisor_override": divisor_override,
    }
    return apply(layer_ops.avg_pool2d, input, **static)


def _adaptive_output_size(output_size: Any, input: Tensor) -> tuple[int, int]:
    """torch's ``_list_with_default`` (None keeps the input's size), then its ``int[2]``."""
    if not isinstance(output_size, int):
        if len(output_size) >= input.dim():
            raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
        defaults = input.shape[input.dim() - len(output_size) :]
        output_size = [d if v is None else v for v, d in zip(output_size, defaults, strict=True)]
    sizes = int_list(output_size, "output_size", "adaptive_avg_pool2d", 2)
    if len(sizes) != 2:
        raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    return sizes  # type: ignore[return-value]


@functional
def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """The mean of each of torch's adaptive bins: bin ``i`` of ``out`` over ``n`` covers
    ``floor(i n / out)`` up to ``ceil((i + 1) n / out)``; a 1x1 output is torch's ``mean``.

    >>> import fdiff.torch as torch
    >>> adaptive_avg_pool2d(torch.arange(6.0).view(1, 2, 3), (1, 2))
    tensor([[[2., 3.]]])
    """
    sizes = _adaptive_output_size(output_size, input)
    if input.dim() not in (3, 4):
        raise RuntimeError(
            f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {list(input.shape)}"
        )
    if min(sizes) < 0:
        raise RuntimeError(
            "adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 "
            f"but received {{{sizes[0]}, {sizes[1]}}}"
        )
    for dim in range(1, input.dim()):
        if input.shape[dim] == 0 and (dim > 1 or input.dim() == 3):
            raise RuntimeError(
                "adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch "
                f"dimensions, but input has sizes {list(input.shape)} with dimension {dim} being "
                "empty"
            )
    if sizes == (1, 1):
        return input.mean((-1, -2), keepdim=True)
    return apply(layer_ops.adaptive_avg_pool2d, input, out_size=sizes)


@functional
def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """:func:`adaptive_avg_pool2d` over the last dim, as torch runs it (through a squeezed
    height of 1).

    >>> import fdiff.torch as torch
    >>> adaptive_avg_pool1d(torch.arange(5.0).view(1, 5), 3)
    tensor([[0.5000, 2.0000, 3.5000]])
    """
    sizes = int_list(output_size, "output_size", "adaptive_avg_pool1d", 2)
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument "
            "#1 'self' (while checking arguments for adaptive_avg_pool1d)"
        )
    if not isinstance(output_size, int) and len(sizes) != 1:
        raise RuntimeError(
            f"adaptive_avg_pool1d() argument 'output_size' should contain one int (got "
            f"{len(sizes)})"
        )
    pooled = adaptive_avg_pool2d(input.unsqueeze(-2), (1, sizes[0]))
    return pooled.squeeze(-2)


_EDGE_PADS = MappingProxyType(
    {
        ("reflect", 1): layer_ops.reflection_pad1d,
        ("reflect", 2): layer_ops.reflection_pad2d,
        ("replicate", 1): layer_ops.replication_pad1d,
        ("replicate", 2): layer_ops.replication_pad2d,
    }
)


@functional
def pad(input: Tensor, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims, ``pad`` giving (before, after) from the last dim
    backwards: ``constant`` (negative pads crop), ``reflect`` or ``replicate`` (the last one
    or two dims of 2- to 4-d input).

    >>> import fdiff.torch as torch
    >>> pad(torch.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect")
    tensor([[3., 2., 1., 2., 3., 2.]])
    """
    widths = int_list(pad, "pad", "pad", 2)
    if len(widths) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(widths) > 2 * input.dim():
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but "
            f"got padding length {len(widths)} and input of dimension {input.dim()}"
        )
    pads = tuple((widths[i], widths[i + 1]) for i in reversed(range(0, len(widths), 2)))
    if mode == "constant":
        return apply(
            layer_ops.constant_pad, input, pads=pads, value=0.0 if value is None else value
        )
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    _check_edge_padding(input, pads, mode)
    return apply(_EDGE_PADS[mode, len(pads)], input, pads=pads)


def _check_edge_padding(input: Tensor, pads: tuple, mode: str) -> None:
    """torch's errors for reflect/replicate/circular padding; what fdiff cannot match (circular,
    3 dims, negative pads) is refused."""
    dims = len(pads)
    if input.dim() not in (dims + 1, dims + 2):
        raise NotImplementedError(
            f"Padding size {2 * dims} is not supported for {input.dim()}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    if mode == "circular" or dims == 3 or min(min(p) for p in pads) < 0:
        raise UnsupportedError(f"torch.nn.functional.pad(mode={mode!r}) with these paddings")
    if 0 in input.shape[input.dim() - dims - 1 :]:
        raise RuntimeError(
            f"Expected {dims + 1}D or {dims + 2}D (batch mode) tensor with possibly 0 batch size "
            f"and other non-zero dimensions for input, but got: {list(input.shape)}"
        )
    if mode == "reflect":
        for i, (before, after) in reversed(list(enumerate(pads))):  # torch: the last dim first
            dim = input.dim() - dims + i
            if max(before, after) >= input.shape[dim]:
                raise RuntimeError(
                    f"Argument #{4 + 2 * (dims - 1 - i)}: Padding size should be less than the "
                    "corresponding input dimension, but got: padding "
                    f"({before}, {after}) at dimension {dim} of input {list(input.shape)}"
                )


def _pool1d_int(value: Any, name: str, function: str) -> int:
    """One int of a 1-D pooling's ``kernel_size``/``stride``/``padding``/``dilation``."""
    values = (value,) if isinstance(value, int) else tuple(value)
    if len(values) != 1:
        raise RuntimeError(
            f"{function}() {name} must be an int, list of ints or tuple of ints of size 1 but "
            f"got size {len(values)}"
        )
    return values[0]


def _check_pool1d_input(input: Tensor, function: str) -> None:
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument "
            f"#1 'self' (while checking arguments for {function})"
        )


@functional
def max_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor:
    """:func:`max_pool2d` over the last dim, as torch runs it (through an unsqueezed height).

    >>> import fdiff.torch as torch
    >>> max_pool1d(torch.tensor([[1.0, 3.0, 2.0, 0.0]]), 2)
    tensor([[3., 2.]])
    """
    if input.dim() not in (2, 3):
        raise RuntimeError(
            "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size "
            f"for input, but got:{list(input.shape)}"
        )
    kernel = _pool1d_int(kernel_size, "kernel_size", "max_pool1d")
    omitted = stride is None or stride in ([], ())
    step = kernel if omitted else _pool1d_int(stride, "stride", "max_pool1d")
    pad = _pool1d_int(padding, "padding", "max_pool1d")
    if kernel <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {kernel}")
    if pad > kernel // 2:
        raise RuntimeError(
            "max_pool1d() padding should be at most half of kernel size, but got "
            f"padding={pad} and kernel_size={kernel}"
        )
    dil = _pool1d_int(dilation, "dilation", "max_pool1d")
    if return_indices:  # named here: max_pool2d's refusal would name the wrong function
        raise UnsupportedError("torch.nn.functional.max_pool1d(return_indices=True)")
    pooled = max_pool2d(
        input.unsqueeze(-2), (1, kernel), (1, step), (0, pad), (1, dil), ceil_mode, return_indices
    )
    return pooled.squeeze(-2)


@functional
def avg_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """:func:`avg_pool2d` over the last dim, as torch runs it (through an unsqueezed height).

    >>> import fdiff.torch as torch
    >>> avg_pool1d(torch.tensor([[1.0, 3.0, 2.0, 0.0]]), 2)
    tensor([[2., 1.]])
    """
    _check_pool1d_input(input, "avg_pool1d")
    kernel = _pool1d_one(kernel_size, "kernel_size", "avg_pool1d", 2)
    omitted = stride is None or stride in ([], ())
    step = kernel if omitted else _pool1d_one(stride, "stride", "avg_pool1d", 3)
    pad = _pool1d_one(padding, "padding", "avg_pool1d", 4)
    pooled = avg_pool2d(
        input.unsqueeze(-2), (1, kernel), (1, step), (0, pad), ceil_mode, count_include_pad
    )
    return pooled.squeeze(-2)


def _pool1d_one(value: Any, name: str, function: str, position: int) -> int:
    """``avg_pool1d``'s ``int[1]`` arguments: one int, else torch's error."""
    values = int_list(value, name, function, position)
    if not isinstance(value, int) and len(values) != 1:
        raise RuntimeError(
            f"{function}() argument '{name}' should contain one int (got {len(values)})"
        )
    return values[0]


@functional
def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x Phi(x)`` (``approximate='tanh'``: torch's tanh formula)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return apply(layer_ops.gelu, input, approximate=approximate)


@functional
def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x sigmoid(x)``."""
    return in_place_or_not(input, apply(layer_ops.silu, input), inplace)


def _not_in_place(function: str, inplace: bool) -> None:
    if inplace:
        raise UnsupportedError(f"torch.nn.functional.{function}(inplace=True)")


# torch's selu constants (its Activation.cpp)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@functional
def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``.

    >>> import fdiff.torch as torch
    >>> elu(torch.tensor([-1.0, 2.0]))
    tensor([-0.6321,  2.0000])
    """
    _not_in_place("elu", inplace)
    return apply(layer_ops.elu, input, alpha=float(alpha))


@functional
def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with torch's self-normalizing constants."""
    _not_in_place("selu", inplace)
    return apply(layer_ops.elu, input, alpha=SELU_ALPHA, scale=SELU_SCALE)


@functional
def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    """``x`` clamped to ``[min_val, max_val]`` (gradient 1 strictly inside, 0 at the bounds).

    >>> import fdiff.torch as torch
    >>> hardtanh(torch.tensor([-2.0, 0.5, 3.0]))
    tensor([-1.0000,  0.5000,  1.0000])
    """
    _not_in_place("hardtanh", inplace)
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return apply(layer_ops.hardtanh, input, min_val=min_val, max_val=max_val)


@functional
def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``hardtanh(x, 0, 6)``, as torch computes it."""
    _not_in_place("relu6", inplace)
    return apply(layer_ops.hardtanh, input, min_val=0.0, max_val=6.0)


@functional
def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    _not_in_place("hardswish", inplace)
    return apply(layer_ops.hardswish, input)


@functional
def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``."""
    _not_in_place("hardsigmoid", inplace)
    return apply(layer_ops.hardsigmoid, input)


@functional
def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))``, computed stably."""
    return apply(layer_ops.logsigmoid, input)


@functional
def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    _not_in_place("mish", inplace)
    return apply(layer_ops.mish, input)


@functional
def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The first half of ``dim`` times the sigmoid of the second half."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    dim = checked_dim(input, dim) % input.dim()
    if input.shape[dim] % 2:
        raise RuntimeError(
            f"Halving dimension must be even, but dimension {dim} is size {input.shape[dim]}"
        )
    return apply(layer_ops.glu, input, dim=dim)


@functional
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` for ``x > 0``, else ``weight * x``: one slope, or one per channel (dim 1)."""
    channels = input.shape[1] if input.dim() >= 2 else 1
    if weight.numel() != 1 and weight.numel() != channels:
        raise RuntimeError(
            "Mismatch of parameter numbers and input channel size. Found parameter numbers = "
            f"{weight.numel()} and channel size = {channels}."
        )
    return apply(layer_ops.prelu, input, weight)
