"""torch's math functions (``torch.exp(x)``, ``x.sum(dim=0)``, ``torch.max(x, 1)``...).

Each function is defined once and serves both as ``torch.<name>`` and as the method
``Tensor.<name>`` (bound in :class:`~fdiff.torch._tensor.Tensor`'s class body). Arguments are
normalised here (``dim`` lists, ``p='fro'``); the op table does the computing. A keyword
argument torch takes and fdiff.torch does not (``torch.sum(x, dtype=...)``) raises
:class:`~fdiff.torch.UnsupportedError`.

>>> import fdiff.torch as torch
>>> sum(torch.ones(2, 3), dim=1)
tensor([3., 3.])
"""

from __future__ import annotations

import builtins
import math
import warnings
from typing import Any, NamedTuple

from fdiff.torch import _dtypes
from fdiff.torch import _ops as ops
from fdiff.torch import _ops_more as more_ops
from fdiff.torch import _return_types as return_types
from fdiff.torch._args import checked_dim, reduced_dims
from fdiff.torch._dispatch import apply
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._errors import refusing_unknown_keywords as torch_function
from fdiff.torch._opspec import OpSpec
from fdiff.torch._tensor_base import TensorBase as Tensor


def _unary(spec: OpSpec):
    def function(input: Tensor) -> Tensor:
        return apply(spec, input)

    function.__name__ = function.__qualname__ = spec.name
    function.__doc__ = f"Elementwise ``torch.{spec.name}`` (grad_fn {spec.grad_fn})."
    return torch_function(function)


exp = _unary(ops.exp)
log = _unary(ops.log)
sqrt = _unary(ops.sqrt)
sin = _unary(ops.sin)
cos = _unary(ops.cos)
tanh = _unary(ops.tanh)
sigmoid = _unary(ops.sigmoid)
relu = _unary(ops.relu)
abs = _unary(ops.abs_)
neg = _unary(ops.neg)
square = _unary(ops.square)
rsqrt = _unary(ops.rsqrt)
log1p = _unary(ops.log1p)
expm1 = _unary(ops.expm1)
sign = _unary(ops.sign)
floor = _unary(ops.floor)
ceil = _unary(ops.ceil)
round = _unary(ops.round_)


@torch_function
def add(input: Tensor, other: Any, *, alpha: float = 1) -> Tensor:
    return apply(ops.add, input, other, alpha=alpha)


@torch_function
def sub(input: Tensor, other: Any, *, alpha: float = 1) -> Tensor:
    return apply(ops.sub, input, other, alpha=alpha)


@torch_function
def mul(input: Tensor, other: Any) -> Tensor:
    return input * other


@torch_function
def div(input: Tensor, other: Any) -> Tensor:
    return input / other


@torch_function
def pow(input: Any, exponent: Any) -> Tensor:
    """``input ** exponent``; an integer tensor to a negative integer power raises, as in torch.

    >>> import fdiff.torch as torch
    >>> torch.tensor([2]) ** -1
    Traceback (most recent call last):
    ...
    RuntimeError: Integers to negative integer powers are not allowed.
    """
    if not isinstance(input, Tensor):
        return apply(ops.rpow, exponent, input)
    if isinstance(exponent, Tensor):
        return apply(ops.pow_tensor, input, exponent)
    if isinstance(exponent, builtins.int) and not input.dtype.is_floating_point and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if exponent == 0:  # torch's gradient is a constant zero: it never requires grad
        return apply(ops.pow_zero, input)
    # Static: torch's kernel picks its formula by the exponent's value (x * x for 2, ...).
    promote_to = _dtypes.promotion([input._storage[0], exponent])
    return apply(ops.pow_scalar, input, exponent=exponent, promote_to=promote_to)


@torch_function
def matmul(input: Tensor, other: Tensor) -> Tensor:
    _dtypes.check_matmul_dtypes("matmul", input, other)
    return apply(ops.matmul, input, other)


@torch_function
def mm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError(f"mm expects 2-D tensors, got {input.dim()}-D and {mat2.dim()}-D")
    _dtypes.check_matmul_dtypes("mm", input, mat2)
    return apply(ops.matmul, input, mat2)


@torch_function
def dot(input: Tensor, tensor: Tensor) -> Tensor:
    if input.dim() != 1 or tensor.dim() != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input.dim()}D and {tensor.dim()}D tensors"
        )
    _dtypes.check_matmul_dtypes("dot", input, tensor)
    return apply(ops.dot, input, tensor)


class _Omitted:
    """The default of an argument whose absence torch tells from ``None``: ``x.sum()`` is
    ``SumBackward0``, ``x.sum(dim=None)`` ``SumBackward1`` (and takes ``keepdim``)."""

    def __repr__(self) -> str:
        return "None"


OMITTED: Any = _Omitted()


@torch_function
def sum(input: Tensor, dim: Any = OMITTED, keepdim: bool = False) -> Tensor:
    if dim is OMITTED:
        _refuse_keepdim_without_dim("sum", keepdim)
        return apply(ops.sum_, input)
    return apply(ops.sum_dim, input, dim=reduced_dims(input, dim), keepdim=keepdim)


@torch_function
def mean(input: Tensor, dim: Any = OMITTED, keepdim: bool = False) -> Tensor:
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype.name.capitalize()}"
        )
    if dim is OMITTED:
        _refuse_keepdim_without_dim("mean", keepdim)
        return apply(ops.mean, input)
    return apply(ops.mean_dim, input, dim=reduced_dims(input, dim), keepdim=keepdim)


@torch_function
def prod(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The product of all elements, or along the one ``dim`` torch takes."""
    if dim is not None:
        return apply(more_ops.prod_dim, input, dim=reduced_dims(input, dim), keepdim=keepdim)
    _refuse_keepdim_without_dim("prod", keepdim)
    return apply(ops.prod, input)


def _refuse_keepdim_without_dim(function: str, keepdim: bool) -> None:
    """torch's ``TypeError`` for ``x.sum(keepdim=True)``: its overload without ``dim`` takes no
    ``keepdim`` (nor ``keepdims``), so the keyword is refused, never ignored."""
    if keepdim:
        raise TypeError(
            f"{function}() received an invalid combination of arguments - got (keepdim=bool, ), "
            "but expected one of: (*, torch.dtype dtype = None) or (tuple of ints dim, "
            "bool keepdim = False, *, torch.dtype dtype = None)"
        )


DEGREES_OF_FREEDOM = (
    "{}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
    "factor (input numel divided by output numel)."
)


def spread_arguments(
    name: str, input: Tensor, dim: Any, unbiased: bool | None, correction: float | None
) -> tuple[Any, float]:
    """``(dims, correction)`` from torch's ``var``/``std`` arguments (``var(x, True)`` is
    ``unbiased``; Bessel's correction 1 by default), warning as torch does when the degrees of
    freedom are not positive."""
    if isinstance(dim, bool):  # torch's overload var(unbiased)
        dim, unbiased = None, dim if unbiased is None else unbiased
    if unbiased is not None and correction is not None:
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got "
            "(correction=int, unbiased=bool, ): give `unbiased` or `correction`, not both"
        )
    if correction is None:
        correction = 0 if unbiased is False else 1
    dims = None if dim is None else reduced_dims(input, dim)
    axes = dims if isinstance(dims, tuple) else (dims,)
    reduced = input.shape if dims is None else [input.shape[d] for d in axes]
    if math.prod(reduced) - correction <= 0:
        warnings.warn(DEGREES_OF_FREEDOM.format(name), UserWarning, stacklevel=4)
    return dims, correction


def _spread(spec: OpSpec):
    def function(
        input: Tensor,
        dim: Any = None,
        unbiased: bool | None = None,
        keepdim: bool = False,
        *,
        correction: float | None = None,
    ) -> Tensor:
        dims, correction = spread_arguments(spec.name, input, dim, unbiased, correction)
        return apply(spec, input, dim=dims, correction=correction, keepdim=keepdim)

    function.__name__ = function.__qualname__ = spec.name
    function.__doc__ = (
        f"``torch.{spec.name}``: Bessel's correction 1 by default, as torch; ``unbiased=False`` "
        "is ``correction=0``."
    )
    return torch_function(function)


var = _spread(ops.var)
std = _spread(ops.std)


@torch_function
def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    if dim is None:
        raise TypeError("logsumexp(): argument 'dim' must be tuple of ints, not NoneType")
    return apply(ops.logsumexp, input, dim=reduced_dims(input, dim), keepdim=keepdim)


@torch_function
def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.dim() != 3 or mat2.dim() != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor; got {input.dim()}-D and {mat2.dim()}-D")
    _dtypes.check_matmul_dtypes("bmm", input, mat2)
    return apply(ops.bmm, input, mat2)


@torch_function
def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    if (isinstance(p, str) and p != "fro") or p in (0, -math.inf):
        raise UnsupportedError(f"torch.norm(p={p!r})")
    order = 2.0 if p in ("fro", None) else builtins.float(p)
    return apply(ops.norm, input, p=order, dim=reduced_dims(input, dim), keepdim=keepdim)


class _Extremum(NamedTuple):
    """The ops behind ``torch.max`` or ``torch.min``."""

    name: str
    of_all: OpSpec
    along_dim: OpSpec
    index: OpSpec
    elementwise: OpSpec
    result: type  # torch.return_types.max or .min


def _check_reducible(name: str, input: Tensor, dim: Any) -> None:
    """torch's errors for ``max``/``min``/``amax``/``argmax``/``argmin`` over no elements: an
    empty reduced dim is an ``IndexError``; no ``dim`` on an empty tensor is a ``RuntimeError``
    for the values, an ``IndexError`` for the indices.

    >>> import fdiff.torch as torch
    >>> _check_reducible("max", torch.ones(2, 0), 0)
    >>> _check_reducible("max", torch.ones(2, 0), -1)
    Traceback (most recent call last):
    ...
    IndexError: max(): Expected reduction dim 1 to have non-zero size.
    """
    shape = input.shape
    if 0 not in shape:
        return
    if dim is None or dim == ():
        message = f"{name}(): Expected reduction dim to be specified for input.numel() == 0."
        if name.startswith("arg"):
            raise IndexError(message)
        raise RuntimeError(f"{message} Specify the reduction dim with the 'dim' argument.")
    for d in dim if isinstance(dim, tuple) else (dim,):
        if shape[d] == 0:
            raise IndexError(
                f"{name}(): Expected reduction dim {d % len(shape)} to have non-zero size."
            )


def _extremum(spec: _Extremum):
    def function(input: Tensor, dim: Any = None, keepdim: bool = False):
        if isinstance(dim, Tensor):
            return apply(spec.elementwise, input, dim)
        dim = None if dim is None else checked_dim(input, dim)
        _check_reducible(spec.name, input, dim)
        if dim is None:
            _refuse_keepdim_without_dim(spec.name, keepdim)
            return apply(spec.of_all, input)
        values = apply(spec.along_dim, input, dim=dim, keepdim=keepdim)
        return spec.result(values, apply(spec.index, input, dim=dim, keepdim=keepdim))

    function.__name__ = function.__qualname__ = spec.name
    function.__doc__ = (
        f"``torch.{spec.name}``: of all elements (ties share the gradient evenly), or along "
        "``dim`` as ``(values, indices)`` (the gradient goes to the index returned)."
    )
    return torch_function(function)


max = _extremum(_Extremum("max", ops.max_, ops.max_dim, ops.argmax, ops.maximum, return_types.max))
min = _extremum(_Extremum("min", ops.min_, ops.min_dim, ops.argmin, ops.minimum, return_types.min))


@torch_function
def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    dim = checked_dim(input, dim)
    _check_reducible("amax", input, dim)
    return apply(ops.amax, input, dim=None if dim == () else dim, keepdim=keepdim)


@torch_function
def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    dim = None if dim is None else checked_dim(input, dim)
    _check_reducible("argmax", input, dim)
    return apply(ops.argmax, input, dim=dim, keepdim=keepdim)


@torch_function
def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    dim = None if dim is None else checked_dim(input, dim)
    _check_reducible("argmin", input, dim)
    return apply(ops.argmin, input, dim=dim, keepdim=keepdim)


@torch_function
def maximum(input: Tensor, other: Tensor) -> Tensor:
    return apply(ops.maximum, input, other)


@torch_function
def minimum(input: Tensor, other: Tensor) -> Tensor:
    return apply(ops.minimum, input, other)


@torch_function
def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        raise UnsupportedError("torch.clamp(min=Tensor, max=Tensor)")
    promoted = _dtypes.promotion([input._storage[0], *(b for b in (min, max) if b is not None)])
    if promoted is not None and promoted != input._storage[0].dtype:  # clamp(ints, 0.5): floats
        input = apply(ops.to_dtype, input, dtype=promoted)
    return apply(ops.clamp, input, low=min, high=max)


clip = clamp


@torch_function
def where(condition: Tensor, input: Any, other: Any) -> Tensor:
    return apply(ops.where, condition, input, other)


@torch_function
def softmax(input: Tensor, dim: int) -> Tensor:
    return apply(ops.softmax, input, dim=reduced_dims(input, dim))


@torch_function
def log_softmax(input: Tensor, dim: int) -> Tensor:
    return apply(ops.log_softmax, input, dim=reduced_dims(input, dim))


__all__ = [
    "abs", "add", "amax", "argmax", "argmin", "bmm", "ceil", "clamp", "clip", "cos", "div", "dot",
    "exp", "expm1", "floor", "log", "log1p", "log_softmax", "logsumexp", "matmul", "max",
    "maximum", "mean", "min", "minimum", "mm", "mul", "neg", "norm", "pow", "prod", "relu",
    "round", "rsqrt", "sigmoid", "sign", "sin", "softmax", "sqrt", "square", "std", "sub", "sum",
    "tanh", "var", "where",
]  # fmt: skip
