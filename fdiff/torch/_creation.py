"""Tensor creation: ``tensor``, ``ones``, ``zeros``, ``eye``, ``arange``, ``rand``, ``randn``...

Defaults follow torch: Python floats make float32, Python ints make int64, bools make bool, a
NumPy array keeps its dtype. Random tensors come from the torch-exact CPU generator in
``_random``, so ``manual_seed(0); randn(3)`` gives torch's numbers without torch.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np

from fdiff.torch import _dtypes, _random, _views
from fdiff.torch import _ops as ops
from fdiff.torch._args import check_device, shape_args
from fdiff.torch._dispatch import apply
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._errors import refusing_unknown_keywords as torch_function
from fdiff.torch._inplace import assign
from fdiff.torch._tensor_base import TensorBase as Tensor
from fdiff.torch._tensor_base import new_tensor

__all__ = [
    "arange", "as_tensor", "empty", "eye", "from_numpy", "full", "initial_seed", "linspace",
    "manual_seed", "ones", "ones_like", "rand", "rand_like", "randint", "randn", "randn_like",
    "tensor", "zeros", "zeros_like",
]  # fmt: skip


def _leaf(values: Any, dtype: _dtypes.dtype, requires_grad: bool) -> Tensor:
    _dtypes.check_storage_range(values, dtype)
    tensor = new_tensor(jnp.asarray(values, dtype=dtype.storage()))
    return tensor.requires_grad_(requires_grad) if requires_grad else tensor


_NUMPY_DTYPES = _dtypes.BY_NUMPY


def _infer_dtype(data: Any) -> _dtypes.dtype:
    """A NumPy array keeps its dtype; Python numbers give float32, int64 or bool."""
    array = np.asarray(data)
    if isinstance(data, np.ndarray | np.generic) and array.dtype in _NUMPY_DTYPES:
        return _NUMPY_DTYPES[array.dtype]
    kinds = {"b": _dtypes.bool_, "i": _dtypes.int64, "u": _dtypes.int64, "f": _dtypes.float32}
    if array.dtype.kind not in kinds:
        raise TypeError(f"cannot make a tensor from data of type {array.dtype}: {data!r}")
    return kinds[array.dtype.kind]


@torch_function
def tensor(
    data: Any,
    dtype: _dtypes.dtype | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (nested lists, numbers, NumPy arrays).

    >>> tensor([1.0, 2.0], requires_grad=True)
    tensor([1., 2.], requires_grad=True)
    >>> tensor([1, 2]).dtype
    torch.int64
    """
    check_device(device, "torch.tensor")
    if isinstance(data, Tensor):
        data = np.asarray(data._value)
    elif isinstance(data, Sequence) and any(isinstance(d, Tensor) for d in data):
        data = [np.asarray(d._value) if isinstance(d, Tensor) else d for d in data]
    return _leaf(data, _dtypes.resolve(dtype, _infer_dtype(data)), requires_grad)


@torch_function
def as_tensor(data: Any, dtype: _dtypes.dtype | None = None) -> Tensor:
    return data if isinstance(data, Tensor) and dtype in (None, data.dtype) else tensor(data, dtype)


@torch_function
def from_numpy(array: np.ndarray) -> Tensor:
    return tensor(array)


def _filled(fill: float, size: tuple, dtype, requires_grad: bool) -> Tensor:
    resolved = _dtypes.resolve(dtype, _dtypes.float32)
    return _constant(fill, shape_args(size), resolved, requires_grad)


def _constant(fill: Any, shape: tuple[int, ...], dtype: _dtypes.dtype, requires_grad: bool):
    """A leaf of ``shape`` filled with ``fill``, built in its final dtype: the only full-size
    buffer is the tensor's own (a broadcast view of one element is what is copied from)."""
    storage = dtype.storage()
    _dtypes.check_storage_range(fill, dtype)  # before the cast to int32 would wrap it
    one = np.asarray(fill).astype(storage)  # as torch casts the fill value (2.7 -> 2 for ints)
    return _leaf(np.broadcast_to(one, shape), dtype, requires_grad)


@torch_function
def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``ones(2, 2, requires_grad=True)``."""
    check_device(device, "torch.ones")
    return _filled(1, size, dtype, requires_grad)


@torch_function
def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(3)``."""
    check_device(device, "torch.zeros")
    return _filled(0, size, dtype, requires_grad)


empty = zeros  # torch.empty is uninitialised: zeros are one valid content


@torch_function
def full(size: Sequence[int], fill_value: float, *, dtype: Any = None,
         device: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    check_device(device, "torch.full")
    default = _infer_dtype(fill_value)
    return _constant(fill_value, shape_args((size,)), _dtypes.resolve(dtype, default),
                     requires_grad)  # fmt: skip


@torch_function
def ones_like(
    input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    check_device(device, "torch.ones_like")
    filled = _filled(1, (input.shape,), dtype or input.dtype, requires_grad)
    return _views.like_layout(filled, input)


@torch_function
def zeros_like(
    input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    check_device(device, "torch.zeros_like")
    filled = _filled(0, (input.shape,), dtype or input.dtype, requires_grad)
    return _views.like_layout(filled, input)


@torch_function
def eye(
    n: int,
    m: int | None = None,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The identity matrix, as 003.3 uses it: ``eye(5, requires_grad=True)``."""
    check_device(device, "torch.eye")
    return _leaf(np.eye(n, m), _dtypes.resolve(dtype, _dtypes.float32), requires_grad)


@torch_function
def arange(start: float, end: float | None = None, step: float = 1, *, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """``arange(5)`` is int64 ``[0, 1, 2, 3, 4]``; any float argument makes float32."""
    check_device(device, "torch.arange")
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    is_int = all(isinstance(v, builtins.int) for v in (start, end, step))
    resolved = _dtypes.resolve(dtype, _dtypes.int64 if is_int else _dtypes.float32)
    return _leaf(_arange_values(start, end, step, is_int, resolved.storage()), resolved,
                 requires_grad)  # fmt: skip


_ARANGE_CHUNK = 1 << 20


def _arange_values(start: float, end: float, step: float, is_int: bool, storage: np.dtype):
    """``start + i * step`` for the ``i`` below torch's length, written straight into an array
    of the final dtype (no int64 or float64 array of the full length); floats are computed in
    double, as torch's CPU kernel does, a chunk at a time."""
    if (
        is_int
        and np.can_cast(np.min_scalar_type(start), storage)
        and np.can_cast(np.min_scalar_type(end - step), storage)
    ):
        return np.arange(start, end, step, dtype=storage)
    length = max(math.ceil((end - start) / step), 0)
    values = np.empty(length, storage)
    for first in range(0, length, _ARANGE_CHUNK):
        index = np.arange(first, min(first + _ARANGE_CHUNK, length), dtype=np.float64)
        values[first : first + len(index)] = start + index * step
    return values


@torch_function
def linspace(start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    check_device(device, "torch.linspace")
    values = np.linspace(start, end, steps, dtype=np.float32)
    return _leaf(values, _dtypes.resolve(dtype, _dtypes.float32), requires_grad)


# --- random -----------------------------------------------------------------------------------


@torch_function
def manual_seed(seed: int) -> _random.Generator:
    """Seed the default generator; the next draws equal torch's after ``torch.manual_seed``."""
    return _random.default_generator.manual_seed(seed)


@torch_function
def initial_seed() -> int:
    return _random.default_generator.initial_seed()


def _random_tensor(draw: str, size: tuple, generator, dtype, requires_grad: bool) -> Tensor:
    resolved = _dtypes.resolve(dtype, _dtypes.float32)
    if not resolved.is_floating_point:
        raise RuntimeError(f"\"{draw}\" not implemented for '{resolved.name.capitalize()}'")
    source = generator or _random.default_generator
    values = getattr(source, draw)(shape_args(size), dtype=resolved.name)
    return _leaf(values, resolved, requires_grad)


@torch_function
def rand(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Uniform ``[0, 1)`` samples, bit-identical to torch's CPU generator."""
    check_device(device, "torch.rand")
    return _random_tensor("rand", size, generator, dtype, requires_grad)


@torch_function
def randn(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Standard normal samples, bit-identical to torch's CPU generator.

    >>> _ = manual_seed(0)
    >>> randn(3)
    tensor([ 1.5410, -0.2934, -2.1788])
    """
    check_device(device, "torch.randn")
    return _random_tensor("randn", size, generator, dtype, requires_grad)


@torch_function
def randint(low: int, high: int | None = None, size: Sequence[int] = (), *,
            generator: Any = None, dtype: Any = None, device: Any = None) -> Tensor:  # fmt: skip
    """Integers in ``[low, high)``, bit-identical to torch's CPU generator."""
    check_device(device, "torch.randint")
    if high is None:
        low, high = 0, low
    resolved = _dtypes.resolve(dtype, _dtypes.int64)
    exact = {_dtypes.float32: 24, _dtypes.float64: 53}.get(resolved)
    if exact is not None and high - low > 2**exact:  # torch then draws another way
        raise UnsupportedError(f"torch.randint(dtype={resolved}) over more than 2**{exact} values")
    source = generator or _random.default_generator
    values = source.randint(low, high, shape_args((size,)))
    return _leaf(values, resolved, False)


@torch_function
def rand_like(
    input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    check_device(device, "torch.rand_like")
    return _random_like("rand", input, dtype, requires_grad)


@torch_function
def randn_like(
    input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    check_device(device, "torch.randn_like")
    return _random_like("randn", input, dtype, requires_grad)


def _random_like(draw: str, input: Tensor, dtype: Any, requires_grad: bool) -> Tensor:
    """``torch.rand_like``/``randn_like``: ``empty_like(input)`` (its layout) filled in place,
    so in memory order, as torch fills it."""
    result = _views.like_layout(_filled(0, (input.shape,), dtype or input.dtype, False), input)
    (uniform_ if draw == "rand" else normal_)(result)
    result._counter = None  # filled before torch hands it out: still at version 0
    return result.requires_grad_(requires_grad)


def _fill_from(tensor: Tensor, draw: str, recorded: Any, generator: Any, *params: float) -> Tensor:
    """Fill ``tensor`` with ``draw`` samples; on a tensor that requires grad (a non-leaf in grad
    mode) the draw is recorded as op ``recorded``, whose gradient is zero, as torch's."""
    if not tensor.dtype.is_floating_point:
        raise RuntimeError(f"\"{draw}_\" not implemented for '{tensor.dtype.name.capitalize()}'")
    source = generator or _random.default_generator
    # torch fills a non-contiguous tensor one element at a time, in memory order
    options = {"serial": not _views.is_contiguous(tensor)} if draw == "normal" else {}
    values = _views.drawn_in_order(
        lambda shape: getattr(source, draw)(shape, *params, dtype=tensor.dtype.name, **options),
        tensor,
        like=False,
    )
    if tensor.requires_grad:
        return assign(tensor, apply(recorded, tensor, jnp.asarray(values)))
    return assign(tensor, new_tensor(jnp.asarray(values)))


def uniform_(self: Tensor, low: float = 0.0, high: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill in place with uniform samples in ``[low, high)``, bit-identical to torch's ``uniform_``.

    >>> _ = manual_seed(0)
    >>> zeros(3).uniform_(-1.0, 1.0)
    tensor([-0.0075,  0.5364, -0.8230])
    """
    return _fill_from(self, "uniform", ops.uniform_draw, generator, low, high)


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill in place with normal samples, bit-identical to torch's ``normal_``."""
    return _fill_from(self, "normal", ops.normal_draw, generator, mean, std)
