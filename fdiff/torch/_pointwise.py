"""More of torch's pointwise math: ``tan``, ``remainder``, ``lerp``, ``isnan``, ``torch.eq``...

As in :mod:`~fdiff.torch._math`, each function is ``torch.<name>`` and the method
``Tensor.<name>``; the op table (:mod:`~fdiff.torch._pointwise_ops`, and ``_ops`` for the
comparisons) computes. ``IN_PLACE`` holds the in-place forms torch has (``x.tan_()``...).

>>> import fdiff.torch as torch
>>> torch.remainder(torch.tensor([-3.0, 5.0]), 2), torch.fmod(torch.tensor([-3.0, 5.0]), 2)
(tensor([1., 1.]), tensor([-1.,  1.]))
"""

from __future__ import annotations

import builtins
import numbers
from types import MappingProxyType
from typing import Any

import numpy as np

from fdiff.torch import _dtypes
from fdiff.torch import _ops as ops
from fdiff.torch import _pointwise_ops as pointwise_ops
from fdiff.torch._dispatch import apply
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._errors import refusing_unknown_keywords as torch_function
from fdiff.torch._math import _unary
from fdiff.torch._math_more import in_place
from fdiff.torch._opspec import OpSpec
from fdiff.torch._tensor_base import TensorBase as Tensor

tan = _unary(pointwise_ops.tan)
erf = _unary(pointwise_ops.erf)
reciprocal = _unary(pointwise_ops.reciprocal)
deg2rad = _unary(pointwise_ops.deg2rad)
trunc = _unary(pointwise_ops.trunc)
isnan = _unary(pointwise_ops.isnan)
isinf = _unary(pointwise_ops.isinf)
isfinite = _unary(pointwise_ops.isfinite)


def _type_name(value: Any) -> str:
    return _dtypes.SCALAR_TYPE_NAMES.get(value.dtype.name, value.dtype.name.capitalize())


def _floating_only(kernel: str, *values: Any) -> None:
    """torch's ``NotImplementedError`` for a kernel that has no integer or bool version; the
    first tensor's dtype names the kernel's (they share one after promotion)."""
    tensors = [v for v in values if isinstance(v, Tensor)]
    if not builtins.any(t.dtype.is_floating_point for t in tensors):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_type_name(tensors[0])}'")


@torch_function
def frac(input: Tensor) -> Tensor:
    """``input - trunc(input)``, with the sign of ``input``; floats only, as torch's.

    >>> import fdiff.torch as torch
    >>> torch.frac(torch.tensor([-1.5, 2.25]))
    tensor([-0.5000,  0.2500])
    """
    _floating_only("frac_cpu", input)
    return apply(pointwise_ops.frac, input)


@torch_function
def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """``log(p / (1 - p))`` of ``input`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given.

    >>> import fdiff.torch as torch
    >>> torch.logit(torch.tensor([0.5, 0.0]), eps=0.25)
    tensor([ 0.0000, -1.0986])
    """
    return apply(pointwise_ops.logit, input, eps=None if eps is None else builtins.float(eps))


@torch_function
def nan_to_num(
    input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Tensor:
    """NaN, +inf and -inf replaced (by 0 and the dtype's largest and lowest finite values).

    >>> import fdiff.torch as torch
    >>> torch.nan_to_num(torch.tensor([float("nan"), 1.0]), nan=2.0)
    tensor([2., 1.])
    """
    return apply(pointwise_ops.nan_to_num, input, nan=nan, posinf=posinf, neginf=neginf)


# --- binary -----------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, complex)


def _invalid_combination(name: str, parameter: str, *args: Any) -> TypeError:
    """torch's ``TypeError`` for ``torch.<name>(Tensor input, Tensor or Number <parameter>)``
    called with other types."""
    return TypeError(
        f"{name}() received an invalid combination of arguments - got "
        f"({', '.join(type(a).__name__ for a in args)}), but expected one of:\n"
        f" * (Tensor input, Tensor {parameter}, *, Tensor out = None)\n"
        f" * (Tensor input, Number {parameter}, *, Tensor out = None)\n"
    )


def _check_integer_divisor(input: Tensor, other: Any) -> None:
    """torch's ``RuntimeError`` for an integer ``remainder``/``fmod`` by zero (a value read)."""
    if not isinstance(other, Tensor):
        if isinstance(other, builtins.int) and not input.dtype.is_floating_point and other == 0:
            raise RuntimeError("ZeroDivisionError")
        return
    integers = not (input.dtype.is_floating_point or other.dtype.is_floating_point)
    if integers and builtins.bool((other == 0).any()):
        raise RuntimeError("ZeroDivisionError")


def _modulo(name: str, tensor_op: OpSpec, scalar_op: OpSpec, number_first: bool):
    """``torch.<name>``; ``number_first``: torch also takes ``(Number, Tensor)`` (refused)."""

    def function(input: Tensor, other: Any) -> Tensor:
        if not isinstance(input, Tensor):
            if number_first:
                raise UnsupportedError(f"torch.{name}(Number, Tensor)")
            raise _invalid_combination(name, "other", input, other)
        if isinstance(other, np.generic):
            other = other.item()
        _check_integer_divisor(input, other)
        return apply(tensor_op if isinstance(other, Tensor) else scalar_op, input, other)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (
        f"``torch.{name}`` of a tensor by a tensor ({tensor_op.grad_fn}) or a number "
        f"({scalar_op.grad_fn}); integers by zero raise, as torch's."
    )
    return torch_function(function)


remainder = _modulo("remainder", pointwise_ops.remainder, pointwise_ops.remainder_scalar, True)
fmod = _modulo("fmod", pointwise_ops.fmod, pointwise_ops.fmod_scalar, False)


def _tensor_argument(name: str, other: Any) -> None:
    if not isinstance(other, Tensor):
        raise TypeError(
            f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}"
        )


@torch_function
def atan2(input: Tensor, other: Tensor) -> Tensor:
    """The angle of the point ``(other, input)``; integers compute in the default float.

    >>> import fdiff.torch as torch
    >>> torch.atan2(torch.tensor([1.0]), torch.tensor([-1.0]))
    tensor([2.3562])
    """
    _tensor_argument("atan2", other)
    return apply(pointwise_ops.atan2, input, other)


arctan2 = atan2


@torch_function
def hypot(input: Tensor, other: Tensor) -> Tensor:
    """``sqrt(input**2 + other**2)`` without overflow; floats only, as torch's.

    >>> import fdiff.torch as torch
    >>> torch.hypot(torch.tensor([3.0]), torch.tensor([4.0]))
    tensor([5.])
    """
    _tensor_argument("hypot", other)
    _floating_only("hypot_cpu", input, other)
    return apply(pointwise_ops.hypot, input, other)


@torch_function
def xlogy(input: Any, other: Any) -> Tensor:
    """``input * log(other)``, 0 where ``input`` is 0 (NaN where ``other`` is NaN); either may
    be a number (grad_fn ``XlogyBackward1`` for a number ``input``, ``2`` for ``other``).

    >>> import fdiff.torch as torch
    >>> torch.xlogy(torch.tensor([0.0, 2.0]), torch.tensor([0.0, 1.0]))
    tensor([0., 0.])
    """
    if isinstance(input, np.generic):
        input = input.item()
    if isinstance(other, np.generic):
        other = other.item()
    if not isinstance(input, Tensor):
        if not (_is_number(input) and isinstance(other, Tensor)):
            raise _invalid_combination("xlogy", "other", input, other)
        return apply(pointwise_ops.xlogy_of_number, input, other)
    if not (isinstance(other, Tensor) or _is_number(other)):
        raise _invalid_combination("xlogy", "other", input, other)
    spec = pointwise_ops.xlogy if isinstance(other, Tensor) else pointwise_ops.xlogy_by_number
    return apply(spec, input, other)


@torch_function
def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """The step function: ``values`` where ``input`` is 0, else 1 above 0 and 0 below (and at
    NaN). torch records it without a derivative: a backward through it raises torch's error.

    >>> import fdiff.torch as torch
    >>> torch.heaviside(torch.tensor([-1.0, 0.0, 2.0]), torch.tensor(0.5))
    tensor([0.0000, 0.5000, 1.0000])
    """
    if not isinstance(values, Tensor):
        raise TypeError(
            "heaviside(): argument 'values' (position 2) must be Tensor, not "
            f"{type(values).__name__}"
        )
    if input.dtype != values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    return apply(pointwise_ops.heaviside, input, values)


_CLAMP_SIDES = MappingProxyType({
    "min": (pointwise_ops.clamp_min, pointwise_ops.clamp_min_tensor, "low"),
    "max": (pointwise_ops.clamp_max, pointwise_ops.clamp_max_tensor, "high"),
})  # fmt: skip
"""For ``clamp_<side>``: the op by a number, the op by a tensor, the number's keyword."""


def _clamp_bound(input: Tensor, bound: Any, side: str) -> Tensor:
    """``clamp`` on one side, by a number or a tensor (see :data:`_CLAMP_SIDES`)."""
    scalar_op, tensor_op, keyword = _CLAMP_SIDES[side]
    if isinstance(bound, np.generic):
        bound = bound.item()
    if not (isinstance(bound, Tensor) or _is_number(bound)):
        raise _invalid_combination(f"clamp_{side}", side, input, bound)
    if isinstance(bound, Tensor):
        return apply(tensor_op, input, bound)
    promoted = _dtypes.promotion([input._storage[0], bound])
    if promoted is not None and promoted != input._storage[0].dtype:  # ints, 0.5: floats
        input = apply(ops.to_dtype, input, dtype=promoted)
    return apply(scalar_op, input, **{keyword: bound})


@torch_function
def clamp_min(input: Tensor, min: Any) -> Tensor:
    """``clamp(input, min=min)`` by a number (``ClampMinBackward0``) or a tensor
    (``ClampMinBackward1``); the gradient goes to ``input`` on the bound, NaN propagates.

    >>> import fdiff.torch as torch
    >>> torch.clamp_min(torch.tensor([-1.0, 2.0]), torch.tensor([0.0, 3.0]))
    tensor([0., 3.])
    """
    return _clamp_bound(input, min, "min")


@torch_function
def clamp_max(input: Tensor, max: Any) -> Tensor:
    """``clamp(input, max=max)``, as :func:`clamp_min` on the other side.

    >>> import fdiff.torch as torch
    >>> torch.clamp_max(torch.tensor([-1.0, 2.0]), 0.5)
    tensor([-1.0000,  0.5000])
    """
    return _clamp_bound(input, max, "max")


# --- ternary ----------------------------------------------------------------------------------


def _check_same_dtype(input: Tensor, name: str, other: Tensor) -> None:
    if other.dtype != input.dtype:
        raise RuntimeError(
            f"expected dtype {_dtypes.C_TYPE_NAMES[input.dtype.name]} for `{name}` but got "
            f"dtype {_dtypes.C_TYPE_NAMES[other.dtype.name]}"
        )


@torch_function
def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """``input + weight * (end - input)``, computed from ``end`` where ``|weight| >= 0.5`` as
    torch's kernel does; ``weight`` a number (``LerpBackward0``) or a tensor (``LerpBackward1``).

    >>> import fdiff.torch as torch
    >>> torch.lerp(torch.tensor([0.0, 1.0]), torch.tensor([10.0, 3.0]), 0.25)
    tensor([2.5000, 1.5000])
    """
    _check_same_dtype(input, "end", end)
    weighted = isinstance(weight, Tensor)
    if weighted:
        _check_same_dtype(input, "weight", weight)
    _floating_only("lerp_kernel_tensor" if weighted else "lerp_kernel_scalar", input)
    spec = pointwise_ops.lerp if weighted else pointwise_ops.lerp_scalar
    return apply(spec, input, end, weight)


def _pointwise_with_value(spec: OpSpec, formula: str, integer_check: Any):
    def function(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        integer_check(tensor1, tensor2)
        promoted = _dtypes.result_type([t._storage[0] for t in (input, tensor1, tensor2)])
        if isinstance(value, builtins.float) and not promoted.is_floating_point:
            raise UnsupportedError(f"torch.{spec.name}(value=float) of integer tensors")
        return apply(spec, input, tensor1, tensor2, value=value)

    function.__name__ = function.__qualname__ = spec.name
    function.__doc__ = (
        f"``torch.{spec.name}``: ``{formula}`` ({spec.grad_fn}); a float ``value`` with integer "
        "tensors is refused (torch truncates it)."
    )
    return torch_function(function)


def _no_check(tensor1: Tensor, tensor2: Tensor) -> None:
    """``addcmul`` takes any dtypes."""


def _no_integer_division(tensor1: Tensor, tensor2: Tensor) -> None:
    if not (tensor1.dtype.is_floating_point or tensor2.dtype.is_floating_point):
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))"
            ".to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for "
            "float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes."
        )


addcmul = _pointwise_with_value(
    pointwise_ops.addcmul, "input + value * tensor1 * tensor2", _no_check
)
addcdiv = _pointwise_with_value(
    pointwise_ops.addcdiv, "input + value * tensor1 / tensor2", _no_integer_division
)


# --- comparisons: the operators' ops, as functions ---------------------------------------------


def _comparison(spec: OpSpec):
    def function(input: Tensor, other: Any) -> Tensor:
        if isinstance(other, np.generic):
            other = other.item()
        if not (isinstance(other, Tensor) or _is_number(other)):
            raise _invalid_combination(spec.name, "other", input, other)
        return apply(spec, input, other)

    function.__name__ = function.__qualname__ = spec.name
    function.__doc__ = f"``torch.{spec.name}``: the comparison as a bool tensor (never recorded)."
    return torch_function(function)


eq = _comparison(ops.eq)
ne = _comparison(ops.ne)
lt = _comparison(ops.lt)
le = _comparison(ops.le)
gt = _comparison(ops.gt)
ge = _comparison(ops.ge)


IN_PLACE = MappingProxyType({
    f"{function.__name__}_": in_place(function, f"{function.__name__}_")
    for function in (
        tan, erf, reciprocal, deg2rad, trunc, frac, logit, nan_to_num, remainder, fmod, atan2,
        hypot, xlogy, heaviside, clamp_min, clamp_max, lerp, addcmul, addcdiv,
    )
})  # fmt: skip
"""``tan_``, ``remainder_``, ``lerp_``...: the in-place methods, by name."""

__all__ = [
    "addcdiv", "addcmul", "arctan2", "atan2", "clamp_max", "clamp_min", "deg2rad", "eq", "erf",
    "fmod", "frac", "ge", "gt", "heaviside", "hypot", "isfinite", "isinf", "isnan", "le", "lerp",
    "logit", "lt", "nan_to_num", "ne", "reciprocal", "remainder", "tan", "trunc", "xlogy",
]  # fmt: skip
