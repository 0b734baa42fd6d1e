"""More of torch's math: ``log10``, ``cumsum``, ``einsum``, ``tril``, ``isclose``, ``all``...

As in :mod:`~fdiff.torch._math`, each function is ``torch.<name>`` and the method
``Tensor.<name>``; the op table (:mod:`~fdiff.torch._ops_more`) computes. The in-place forms
(``x.exp_()``, ``x.cos_()``...) compute the out-of-place result and make the tensor hold it
through :func:`~fdiff.torch._inplace.assign`, so torch's in-place rules apply.

>>> import fdiff.torch as torch
>>> torch.cumsum(torch.tensor([1.0, 2.0, 3.0]), dim=0)
tensor([1., 3., 6.])
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from fdiff.torch import _dtypes, _index_ops, _inplace, _math, _select_ops
from fdiff.torch import _ops_more as more_ops
from fdiff.torch._args import reduced_dims
from fdiff.torch._dispatch import apply
from fdiff.torch._errors import refusing_unknown_keywords as torch_function
from fdiff.torch._shape import to
from fdiff.torch._tensor_base import TensorBase as Tensor

log10 = _math._unary(more_ops.log10)
log2 = _math._unary(more_ops.log2)


def _counting(input: Tensor) -> Tensor:
    """``input`` as a scan's operand: torch sums and multiplies bools and integers in int64."""
    return input if input.dtype.is_floating_point else to(input, _dtypes.int64)


@torch_function
def cumsum(input: Tensor, dim: int) -> Tensor:
    """Running sums along ``dim`` (grad_fn ``CumsumBackward0``)."""
    return apply(more_ops.cumsum, _counting(input), dim=reduced_dims(input, dim))


@torch_function
def cumprod(input: Tensor, dim: int) -> Tensor:
    """Running products along ``dim``; the gradient is exact where inputs are zero."""
    return apply(more_ops.cumprod, _counting(input), dim=reduced_dims(input, dim))


def _triangle(spec):
    def function(input: Tensor, diagonal: int = 0) -> Tensor:
        if input.dim() < 2:
            raise RuntimeError(f"{spec.name}: input tensor must have at least 2 dimensions")
        return apply(spec, input, diagonal=diagonal)

    function.__name__ = function.__qualname__ = spec.name
    function.__doc__ = f"``torch.{spec.name}``: the matrix triangle (the last two dims)."
    return torch_function(function)


tril = _triangle(more_ops.tril)
triu = _triangle(more_ops.triu)


@torch_function
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product of two vectors (torch records it as ``MulBackward0``)."""
    for name, vector in (("self", input), ("vec2", vec2)):
        if vector.dim() != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {vector.dim()}-D")
    return apply(more_ops.outer, input, vec2)


@torch_function
def ger(input: Tensor, vec2: Tensor) -> Tensor:
    """torch's older name of :func:`outer`."""
    return outer(input, vec2)


def _einsum_labels(equation: str, count: int) -> tuple[list[str], str]:
    """The operands' label strings and the output's (torch's implicit output: the labels seen
    once, sorted, after the ellipsis); ``...`` counts as one label."""
    equation = equation.replace(" ", "").replace("...", ".")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) < count:
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    if len(terms) > count:
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if not arrow:
        seen = "".join(terms)
        once = sorted(c for c in set(seen) if seen.count(c) == 1 and c != ".")
        output = ("." if "." in seen else "") + "".join(once)
    return terms, output


def _check_einsum(terms: list[str], output: str, operands: tuple) -> None:
    """torch's checks: subscripts per operand, sizes that broadcast, output labels seen."""
    sizes: dict[str, int] = {}
    for i, (term, operand) in enumerate(zip(terms, operands, strict=True)):
        if "." not in term and len(term) != operand.dim():
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({len(term)}) does not match "
                f"the number of dimensions ({operand.dim()}) for operand {i} and no ellipsis was "
                "given"
            )
        if "." in term:
            continue
        for label, size in zip(term, operand.shape, strict=True):
            seen = sizes.setdefault(label, size)
            if size != seen and 1 not in (size, seen):
                raise RuntimeError(
                    f"einsum(): subscript {label} has size {size} for operand {i} which does not "
                    f"broadcast with previously seen size {seen}"
                )
            sizes[label] = max(size, seen)
    for label in output:
        if label not in "".join(terms):
            raise RuntimeError(
                f"einsum(): output subscript {label} does not appear in the equation for any "
                "input operand"
            )


@torch_function
def einsum(equation: str, *operands: Any) -> Tensor:
    """``torch.einsum`` (operands as arguments or one list), one op for JAX to differentiate.

    Its grad_fn is the node torch's decomposition ends in: for one operand ``SumBackward1``
    when a label is summed, else ``PermuteBackward0``; for more, ``ViewBackward0`` when a label
    is summed (a contraction), else ``MulBackward0``.

    >>> import fdiff.torch as torch
    >>> a = torch.ones(2, 3, requires_grad=True)
    >>> torch.einsum("ij,jk->ik", a, torch.ones(3, 1))
    tensor([[3.],
            [3.]], grad_fn=<ViewBackward0>)
    """
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    terms, output = _einsum_labels(equation, len(operands))
    _check_einsum(terms, output, operands)
    summed = bool(set("".join(terms)) - set(output))
    if len(operands) == 1:
        spec = more_ops.einsum_sum if summed else more_ops.einsum_permute
    else:
        spec = more_ops.einsum_view if summed else more_ops.einsum_mul
    return apply(spec, *operands, equation=equation)


def _same_dtype(input: Tensor, other: Tensor) -> None:
    if input.dtype != other.dtype:
        names = (_dtypes.SCALAR_TYPE_NAMES.get(t.dtype.name, t.dtype.name.capitalize())
                 for t in (input, other))  # fmt: skip
        raise RuntimeError("{} did not match {}".format(*names))


@torch_function
def isclose(
    input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:
    """``|input - other| <= atol + rtol |other|`` elementwise (or equal), as a bool tensor."""
    _same_dtype(input, other)
    return apply(more_ops.isclose, input, other, rtol=rtol, atol=atol, equal_nan=equal_nan)


@torch_function
def allclose(
    input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """Whether :func:`isclose` holds everywhere, as a Python bool.

    >>> import fdiff.torch as torch
    >>> torch.allclose(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0 + 1e-6]))
    True
    """
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


@torch_function
def equal(input: Tensor, other: Tensor) -> bool:
    """Whether ``input`` and ``other`` have the same shape and equal elements, as a Python bool
    (compared after torch's type promotion: NaN equals nothing, ``-0.0`` equals ``0.0``).

    >>> import fdiff.torch as torch
    >>> torch.equal(torch.tensor([1, 2]), torch.tensor([1.0, 2.0]))
    True
    """
    for position, (name, value) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(value, Tensor):
            raise TypeError(
                f"equal(): argument '{name}' (position {position}) must be Tensor, "
                f"not {type(value).__name__}"
            )
    return input.shape == other.shape and bool((input == other).all())


def _truth_test(spec):
    def function(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
        dims = None if dim is None else reduced_dims(input, dim)
        return apply(spec, input, dim=dims, keepdim=keepdim)

    function.__name__ = function.__qualname__ = spec.name
    function.__doc__ = f"``torch.{spec.name}``: a bool tensor, over all elements or ``dim``."
    return torch_function(function)


all = _truth_test(more_ops.all_)
any = _truth_test(more_ops.any_)


# --- bitwise and logical: masks ----------------------------------------------------------------


def _integral(value: Any) -> bool:
    if isinstance(value, Tensor):
        return not value.dtype.is_floating_point
    return isinstance(value, builtins.int)  # bool is an int


@torch_function
def bitwise_not(input: Tensor) -> Tensor:
    """``~input`` for bool (logical not) and integer tensors."""
    if input.dtype.is_floating_point:
        raise TypeError(
            "~ (operator.invert) is only implemented on integer and Boolean-type tensors"
        )
    return apply(more_ops.bitwise_not, input)


def _bitwise(spec):
    def function(input: Tensor, other: Any) -> Tensor:
        if not (_integral(input) and _integral(other)):
            raise NotImplementedError(f"\"{spec.name}_cpu\" not implemented for 'Float'")
        return apply(spec, input, other)

    function.__name__ = function.__qualname__ = spec.name
    function.__doc__ = f"``torch.{spec.name}`` of bool or integer tensors (``&``, ``|``, ``^``)."
    return torch_function(function)


bitwise_and = _bitwise(more_ops.bitwise_and)
bitwise_or = _bitwise(more_ops.bitwise_or)
bitwise_xor = _bitwise(more_ops.bitwise_xor)


@torch_function
def logical_not(input: Tensor) -> Tensor:
    """``input == 0`` as a bool tensor."""
    return apply(more_ops.logical_not, input)


@torch_function
def logical_and(input: Tensor, other: Tensor) -> Tensor:
    return apply(more_ops.logical_and, input, other)


@torch_function
def logical_or(input: Tensor, other: Tensor) -> Tensor:
    return apply(more_ops.logical_or, input, other)


# --- in place: torch's `x.exp_()` on non-leaves -----------------------------------------------


def in_place(function: Callable[..., Tensor], name: str) -> Callable[..., Tensor]:
    """The in-place method ``Tensor.<name>`` of ``function``: its result kept in ``self`` (same
    dtype; torch refuses a float result for an integer tensor)."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        result = function(self, *args, **kwargs)
        if result.shape != self.shape:
            raise RuntimeError(
                f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                f"{list(result.shape)}"
            )
        if result.dtype.is_floating_point and not self.dtype.is_floating_point:
            names = (_dtypes.SCALAR_TYPE_NAMES.get(t.dtype.name, t.dtype.name.capitalize())
                     for t in (result, self))  # fmt: skip
            raise RuntimeError(
                "result type {} can't be cast to the desired output type {}".format(*names)
            )
        return _inplace.assign(self, result)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``Tensor.{name}``: ``{function.__name__}`` in place."
    return method


IN_PLACE = MappingProxyType({
    f"{function.__name__}_": in_place(function, f"{function.__name__}_")
    for function in (
        _math.abs, _math.neg, _math.exp, _math.log, _math.sqrt, _math.sin, _math.cos, _math.tanh,
        _math.sigmoid, _math.relu, _math.square, _math.rsqrt, _math.log1p, _math.expm1,
        _math.sign, _math.floor, _math.ceil, _math.round, _math.pow, log10, log2, cumsum, cumprod,
        tril, triu, _select_ops.masked_fill, _select_ops.scatter, _select_ops.scatter_add,
        _select_ops.scatter_reduce, _index_ops.index_add, _index_ops.index_copy,
        _index_ops.index_fill,
    )
})  # fmt: skip
"""``abs_``, ``exp_``, ``masked_fill_``...: the in-place methods, by name."""

__all__ = [
    "all",
    "allclose",
    "any",
    "bitwise_and",
    "bitwise_not",
    "bitwise_or",
    "bitwise_xor",
    "cumprod",
    "cumsum",
    "einsum",
    "equal",
    "ger",
    "isclose",
    "log2",
    "log10",
    "logical_and",
    "logical_not",
    "logical_or",
    "outer",
    "tril",
    "triu",
]  # fmt: skip
