"""torch's counting and bucketing: ``searchsorted``, ``bucketize``, ``bincount``, ``histc``.

None of them is differentiable. ``bincount``'s length depends on the values, and ``histc``'s
range checks need them: both read them in Python (:class:`~fdiff.torch.TracedValueError` under
``jax.jit``, ``vmap`` or ``scan``).

>>> import fdiff.torch as torch
>>> torch.bucketize(torch.tensor([0.5, 3.0]), torch.tensor([1.0, 3.0, 5.0]))
tensor([0, 1])
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from fdiff.torch import _creation, _dtypes, _interop
from fdiff.torch import _ops_more as more_ops
from fdiff.torch._dispatch import apply
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._errors import refusing_unknown_keywords as torch_function
from fdiff.torch._grad_mode import is_grad_enabled
from fdiff.torch._tensor_base import TensorBase as Tensor
from fdiff.torch._tensor_base import new_tensor


def _check_boundaries(boundaries: Tensor, input: Any) -> None:
    if boundaries.dim() == 0:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
            "dimension"
        )
    shape = input.shape if isinstance(input, Tensor) else ()
    if boundaries.dim() > 1 and tuple(boundaries.shape[:-1]) != tuple(shape[:-1]):
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(boundaries.shape)} and input value tensor {list(shape)}"
        )


@torch_function
def searchsorted(
    sorted_sequence: Tensor,
    input: Any,
    *,
    out_int32: bool = False,
    right: bool = False,
    side: str | None = None,
    sorter: Tensor | None = None,
) -> Tensor:
    """Where each value of ``input`` (a tensor or a number) would go in ``sorted_sequence``
    (along its last dim) to keep it sorted: before equal values, or after them with
    ``right=True`` / ``side="right"``. ``sorter`` raises :class:`~fdiff.torch.UnsupportedError`.

    >>> import fdiff.torch as torch
    >>> torch.searchsorted(torch.tensor([1.0, 3.0, 5.0]), torch.tensor([3.0, 6.0]), right=True)
    tensor([2, 3])
    """
    if sorter is not None:
        raise UnsupportedError("torch.searchsorted(sorter=...)")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(
                f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}"
            )
        if right and side == "left":
            raise RuntimeError(
                "torch.searchsorted(): side and right can't be set to opposites, got side of "
                "left while right was True"
            )
        right = side == "right"
    _check_boundaries(sorted_sequence, input)
    return apply(more_ops.searchsorted, sorted_sequence, input, right=right, out_int32=out_int32)


@torch_function
def bucketize(
    input: Any, boundaries: Tensor, *, out_int32: bool = False, right: bool = False
) -> Tensor:
    """The bucket of each value of ``input`` among the sorted 1-d ``boundaries``:
    :func:`searchsorted` with the arguments swapped."""
    if boundaries.dim() != 1:
        raise RuntimeError(
            f"boundaries tensor must be 1 dimension, but got dim({boundaries.dim()})"
        )
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def _not_implemented(kernel: str, tensor: Tensor) -> NotImplementedError:
    name = _dtypes.SCALAR_TYPE_NAMES.get(tensor.dtype.name, tensor.dtype.name)
    return NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")


@torch_function
def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value ``0, 1, ..., max(input)`` (at least ``minlength`` of them) occurs in
    the 1-d non-negative integer ``input``; with ``weights``, their sums (float64 unless the
    weights are float32, as torch). Weights that require grad raise
    :class:`~fdiff.torch.UnsupportedError` (torch records a node that cannot backward).

    >>> import fdiff.torch as torch
    >>> torch.bincount(torch.tensor([1, 3, 1]))
    tensor([0, 2, 0, 1])
    """
    if input.dtype.is_floating_point or input.dtype.name == "bool":
        raise _not_implemented("bincount_cpu", input)
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    values = np.asarray(_interop.concrete(input, "torch.bincount"))
    if input.dim() != 1 or (values < 0).any():
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        counts = np.bincount(values, minlength=minlength)
        return new_tensor(jnp.asarray(counts, _dtypes.int64.storage()))
    if weights.dim() != 1 or weights.shape[0] != input.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    if weights.requires_grad and is_grad_enabled():
        raise UnsupportedError("torch.bincount with weights that require grad")
    dtype = weights.dtype if weights.dtype == _dtypes.float32 else _dtypes.float64
    summed = np.bincount(
        values, np.asarray(_interop.concrete(weights, "torch.bincount")), minlength
    )
    return _creation.tensor(summed.astype(dtype.name), dtype=dtype)


@torch_function
def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """A histogram of ``input``'s values: ``bins`` equal bins over ``[min, max]`` (the values'
    own range when ``min == max``), values outside left out, ``max`` in the last bin.

    >>> import fdiff.torch as torch
    >>> torch.histc(torch.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3)
    tensor([0., 2., 1., 0.])
    """
    if not input.dtype.is_floating_point:
        raise _not_implemented("histogram_cpu", input)
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError("torch.histc: max must be larger than min")
    values = np.asarray(_interop.concrete(input, "torch.histc")).reshape(-1)
    kind = values.dtype.type
    low, high = kind(min), kind(max)
    if low == high and values.size:
        low, high = values.min(), values.max()
    if low == high:
        low, high = low - 1, high + 1
    if not (np.isfinite(low) and np.isfinite(high)):
        raise RuntimeError(f"torch.histc: range of [{low}, {high}] is not finite")
    inside = values[(values >= low) & (values <= high)]
    position = ((inside - low) * kind(bins) / (high - low)).astype(np.int64)
    counts = np.bincount(np.minimum(position, bins - 1), minlength=bins)
    return new_tensor(jnp.asarray(counts, values.dtype))


__all__ = ["bincount", "bucketize", "histc", "searchsorted"]
