"""torch's math and shape functions (``torch.exp(x)``, ``x.sum(dim=0)``, ``x.view(2, 2)``...).

Each function is defined once and serves both as ``torch.<name>`` and as the method
``Tensor.<name>`` (attached at the bottom of this module). Arguments are normalised here
(torch's ``*shape`` varargs, ``dim`` lists, ``p='fro'``); the op table does the computing.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from fdiff.torch import _dtypes
from fdiff.torch._ops import OPS
from fdiff.torch._tensor import Tensor, apply


def _shape_args(shape: tuple) -> tuple[int, ...]:
    """torch accepts ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])``."""
    if len(shape) == 1 and isinstance(shape[0], Sequence):
        shape = tuple(shape[0])
    return tuple(builtins.int(s) for s in shape)


def _dim(dim: Any) -> Any:
    return tuple(dim) if isinstance(dim, list | tuple) else dim


def _checked(input: Tensor, dim: Any, new_axis: bool = False) -> Any:
    """``dim`` (an int, a tuple of ints or None), after torch's range check for ``input``.

    ``new_axis`` counts the axis that ``unsqueeze``/``stack`` insert.
    """
    dim = _dim(dim)
    n = builtins.max(input.dim() + new_axis, 1)
    for d in dim if isinstance(dim, tuple) else () if dim is None else (dim,):
        if not -n <= d < n:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})"
            )
    return dim


def _reduced(input: Tensor, dim: Any) -> Any:
    """Checked reduction dims; a 0-d tensor reduces over no axis (torch accepts dim 0 or -1)."""
    dims = _checked(input, dim)
    return () if input.dim() == 0 else dims


def _unary(name: str):
    spec = OPS[name]

    def function(input: Tensor) -> Tensor:
        return apply(spec, input)

    function.__name__ = function.__qualname__ = name.rstrip("_")
    function.__doc__ = f"Elementwise ``torch.{function.__name__}`` (grad_fn {spec.grad_fn})."
    return function


exp = _unary("exp")
log = _unary("log")
sqrt = _unary("sqrt")
sin = _unary("sin")
cos = _unary("cos")
tanh = _unary("tanh")
sigmoid = _unary("sigmoid")
relu = _unary("relu")
abs = _unary("abs")
neg = _unary("neg")
square = _unary("square")
rsqrt = _unary("rsqrt")
log1p = _unary("log1p")
expm1 = _unary("expm1")
sign = _unary("sign")
floor = _unary("floor")
ceil = _unary("ceil")
round = _unary("round")


def add(input: Tensor, other: Any, *, alpha: float = 1) -> Tensor:
    return apply(OPS["add"], input, other, alpha=alpha)


def sub(input: Tensor, other: Any, *, alpha: float = 1) -> Tensor:
    return apply(OPS["sub"], input, other, alpha=alpha)


def mul(input: Tensor, other: Any) -> Tensor:
    return input * other


def div(input: Tensor, other: Any) -> Tensor:
    return input / other


def pow(input: Any, exponent: Any) -> Tensor:
    if not isinstance(input, Tensor):
        return apply(OPS["rpow"], exponent, input)
    return input**exponent


def matmul(input: Tensor, other: Tensor) -> Tensor:
    return apply(OPS["matmul"], input, other)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError(f"mm expects 2-D tensors, got {input.dim()}-D and {mat2.dim()}-D")
    return matmul(input, mat2)


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    if input.dim() != 1 or tensor.dim() != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input.dim()}D and {tensor.dim()}D tensors"
        )
    return apply(OPS["dot"], input, tensor)


def sum(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    if dim is None:
        return apply(OPS["sum"], input)
    return apply(OPS["sum_dim"], input, dim=_reduced(input, dim), keepdim=keepdim)


def mean(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype.name.capitalize()}"
        )
    if dim is None:
        return apply(OPS["mean"], input)
    return apply(OPS["mean_dim"], input, dim=_reduced(input, dim), keepdim=keepdim)


def prod(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    if dim is not None:
        raise NotImplementedError(
            "fdiff.torch's prod reduces over all elements; prod(dim=...) is not supported, "
            "use x.log().sum(dim).exp() for positive x"
        )
    return apply(OPS["prod"], input)


def _spread(name: str):
    def function(
        input: Tensor, dim: Any = None, *, correction: int = 1, keepdim: bool = False
    ) -> Tensor:
        dims = None if dim is None else _reduced(input, dim)
        return apply(OPS[name], input, dim=dims, correction=correction, keepdim=keepdim)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``torch.{name}`` (Bessel's correction 1 by default, as torch)."
    return function


var = _spread("var")
std = _spread("std")


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    return apply(OPS["logsumexp"], input, dim=_reduced(input, dim), keepdim=keepdim)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.dim() != 3 or mat2.dim() != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor; got {input.dim()}-D and {mat2.dim()}-D")
    return apply(OPS["bmm"], input, mat2)


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    order = 2.0 if p in ("fro", None) else builtins.float(p)
    return apply(OPS["norm"], input, p=order, dim=_reduced(input, dim), keepdim=keepdim)


class _ValuesIndices(NamedTuple):
    values: Tensor
    indices: Tensor


def _extremum(name: str):
    def function(input: Tensor, dim: Any = None, keepdim: bool = False):
        if isinstance(dim, Tensor):
            return (maximum if name == "max" else minimum)(input, dim)
        if dim is None:
            return apply(OPS[name], input)
        arg = "argmax" if name == "max" else "argmin"
        dim = _checked(input, dim)
        values = apply(OPS[f"{name}_dim"], input, dim=dim, keepdim=keepdim)
        return _ValuesIndices(values, apply(OPS[arg], input, dim=dim, keepdim=keepdim))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (
        f"``torch.{name}``: of all elements (ties share the gradient evenly), or along ``dim`` "
        "as ``(values, indices)`` (the gradient goes to the index returned)."
    )
    return function


max = _extremum("max")
min = _extremum("min")


def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    dim = _checked(input, dim)
    return apply(OPS["amax"], input, dim=None if dim == () else dim, keepdim=keepdim)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    dim = None if dim is None else _checked(input, dim)
    return apply(OPS["argmax"], input, dim=dim, keepdim=keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    dim = None if dim is None else _checked(input, dim)
    return apply(OPS["argmin"], input, dim=dim, keepdim=keepdim)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    return apply(OPS["maximum"], input, other)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    return apply(OPS["minimum"], input, other)


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return apply(OPS["clamp"], input, low=min, high=max)


clip = clamp


def where(condition: Tensor, input: Any, other: Any) -> Tensor:
    return apply(OPS["where"], condition, input, other)


def softmax(input: Tensor, dim: int) -> Tensor:
    return apply(OPS["softmax"], input, dim=_reduced(input, dim))


def log_softmax(input: Tensor, dim: int) -> Tensor:
    return apply(OPS["log_softmax"], input, dim=_reduced(input, dim))


# --- shape ------------------------------------------------------------------------------------


def _resolved_shape(input: Tensor, shape: tuple) -> tuple[int, ...]:
    target = _shape_args(shape)
    known = int(np.prod([s for s in target if s != -1], dtype=np.int64))
    if (
        target.count(-1) > 1
        or (-1 not in target and known != input.numel())
        or (-1 in target and (known == 0 or input.numel() % known))
    ):
        raise RuntimeError(f"shape '{list(target)}' is invalid for input of size {input.numel()}")
    return target


def view(input: Tensor, *shape: Any) -> Tensor:
    return apply(OPS["view"], input, shape=_resolved_shape(input, shape))


def reshape(input: Tensor, *shape: Any) -> Tensor:
    return view(input, *shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if input.dim() == 0:
        return view(input, 1)
    dims = list(input.shape)
    start, end = start_dim % len(dims), end_dim % len(dims)
    merged = int(np.prod(dims[start : end + 1], dtype=np.int64))
    return view(input, *dims[:start], merged, *dims[end + 1 :])


def t(input: Tensor) -> Tensor:
    if input.dim() > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.dim()}D")
    return apply(OPS["t"], input)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    dim0, dim1 = _checked(input, dim0), _checked(input, dim1)
    return apply(OPS["transpose"], input, dim0=dim0, dim1=dim1)


def permute(input: Tensor, *dims: Any) -> Tensor:
    return apply(OPS["permute"], input, dims=_shape_args(dims))


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    return apply(OPS["unsqueeze"], input, dim=_checked(input, dim, new_axis=True))


def squeeze(input: Tensor, dim: int | None = None) -> Tensor:
    if dim is None:
        return apply(OPS["squeeze"], input)
    return apply(OPS["squeeze_dim"], input, dim=_checked(input, dim))


def expand(input: Tensor, *sizes: Any) -> Tensor:
    target = list(_shape_args(sizes))
    offset = len(target) - input.dim()
    if offset < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(target)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({input.dim()})"
        )
    for i, size in enumerate(input.shape):
        if target[offset + i] == -1:
            target[offset + i] = size
        elif size != 1 and target[offset + i] != size:
            raise RuntimeError(
                f"The expanded size of the tensor ({target[offset + i]}) must match the existing "
                f"size ({size}) at non-singleton dimension {offset + i}.  Target sizes: "
                f"{target}.  Tensor sizes: {list(input.shape)}"
            )
    return apply(OPS["expand"], input, shape=tuple(target))


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    first = tensors[0]
    if first.dim() == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    dim = _checked(first, dim)
    for i, other in enumerate(tensors[1:], start=1):
        if other.dim() != first.dim():
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {first.dim()} and {other.dim()}"
            )
        for d, (a, b) in enumerate(zip(first.shape, other.shape, strict=True)):
            if a != b and d != dim % first.dim():
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim % first.dim()}. "
                    f"Expected size {a} but got size {b} for tensor number {i} in the list."
                )
    return apply(OPS["cat"], *tensors, dim=dim)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    for i, other in enumerate(tensors[1:], start=1):
        if other.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} "
                f"at entry 0 and {list(other.shape)} at entry {i}"
            )
    return apply(OPS["stack"], *tensors, dim=_checked(tensors[0], dim, new_axis=True))


def clone(input: Tensor) -> Tensor:
    return apply(OPS["clone"], input)


def to(input: Tensor, *args: Any, dtype: _dtypes.dtype | None = None, **_: Any) -> Tensor:
    """``tensor.to(dtype)``; devices other than the CPU are not available."""
    for arg in args:
        if isinstance(arg, _dtypes.dtype):
            dtype = arg
        elif str(arg) != "cpu":
            raise RuntimeError(f"fdiff.torch runs on JAX's default device; cannot move to {arg}")
    if dtype is None or dtype is input.dtype:
        return input
    return apply(OPS["to_dtype"], input, dtype=dtype.storage())


def contiguous(input: Tensor) -> Tensor:
    return input


def _converter(target: _dtypes.dtype):
    def convert(input: Tensor) -> Tensor:
        return to(input, target)

    convert.__doc__ = f"``tensor.to({target!r})``."
    return convert


_METHODS = (
    exp, log, sqrt, sin, cos, tanh, sigmoid, relu, abs, neg, add, sub, mul, div, pow, matmul,
    mm, dot, sum, mean, norm, max, min, amax, argmax, argmin, maximum, minimum, clamp, clip,
    softmax, log_softmax, view, reshape, flatten, t, transpose, permute, unsqueeze, squeeze,
    expand, clone, to, contiguous, square, rsqrt, log1p, expm1, sign, floor, ceil, round, prod,
    var, std, logsumexp, bmm,
)  # fmt: skip
for _function in _METHODS:
    setattr(Tensor, _function.__name__, _function)
__all__ = [f.__name__ for f in _METHODS if f not in (to, contiguous)] + [
    "cat", "stack", "where",
]  # fmt: skip
Tensor.T = property(lambda self: permute(self, *reversed(range(self.dim()))))
Tensor.float = _converter(_dtypes.float32)
Tensor.double = _converter(_dtypes.float64)
Tensor.long = _converter(_dtypes.int64)
Tensor.int = _converter(_dtypes.int32)
Tensor.bool = _converter(_dtypes.bool_)
