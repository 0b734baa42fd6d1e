"""torch's selections whose size depends on the values (``nonzero``, ``argwhere``,
``masked_select``, ``unique``), ``count_nonzero``, ``diff``, ``amin`` and ``aminmax``.

A result whose shape depends on the values needs them in Python: under ``jax.jit``, ``vmap`` or
``scan`` these raise :class:`~fdiff.torch.TracedValueError` (under ``jax.grad`` alone the values
are known). Reading them also ends step capture's trace there, so a loop runs them eagerly.

>>> import fdiff.torch as torch
>>> torch.nonzero(torch.tensor([0.0, 2.0, 3.0]))
tensor([[1],
        [2]])
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from fdiff.torch import _dtypes, _interop, _math, _shape
from fdiff.torch import _ops_more as more_ops
from fdiff.torch import _return_types as return_types
from fdiff.torch._args import checked_dim
from fdiff.torch._dispatch import apply
from fdiff.torch._errors import UnsupportedError, describe_failure
from fdiff.torch._errors import refusing_unknown_keywords as torch_function
from fdiff.torch._grad_mode import is_grad_enabled
from fdiff.torch._graph import one_grad_fn
from fdiff.torch._tensor_base import TensorBase as Tensor
from fdiff.torch._tensor_base import new_tensor


def _known(input: Tensor, function: str) -> np.ndarray:
    """``input``'s values for Python (``TracedValueError`` under ``jit``/``vmap``/``scan``)."""
    return np.asarray(_interop.concrete(input, f"torch.{function}"))


def _long(values: np.ndarray) -> Tensor:
    return new_tensor(jnp.asarray(values, _dtypes.int64.storage()))


@torch_function
def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    """The indices of the nonzero elements, one row each (int64); with ``as_tuple=True`` one
    index vector per dim (a 0-d input counts as 1-d there, as in torch)."""
    found = np.argwhere(_known(input, "nonzero"))
    if not as_tuple:
        return _long(found)
    if input.dim() == 0:
        return (_long(np.zeros(len(found), np.int64)),)
    return tuple(_long(found[:, d]) for d in range(input.dim()))


@torch_function
def argwhere(input: Tensor) -> Tensor:
    """:func:`nonzero`'s rows of indices."""
    return nonzero(input)


@torch_function
def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    """How many elements are nonzero (int64), in all or along ``dim`` (an int or a tuple)."""
    nonzeros = input != 0
    return _math.sum(nonzeros) if dim is None else _math.sum(nonzeros, dim)


@torch_function
def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of ``input`` where ``mask`` (a bool tensor; both broadcast) is True, as a
    vector (grad_fn ``MaskedSelectBackward0``).

    >>> import fdiff.torch as torch
    >>> x = torch.tensor([[1.0, -2.0], [-3.0, 4.0]])
    >>> torch.masked_select(x, x > 0)
    tensor([1., 4.])
    """
    if not isinstance(mask, Tensor) or mask.dtype.name != "bool":
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    try:
        shape = np.broadcast_shapes(input.shape, mask.shape)  # torch names the mask "a"
    except ValueError as error:
        raise RuntimeError(describe_failure("masked_select", [mask, input], error)) from None
    count = int(np.count_nonzero(np.broadcast_to(_known(mask, "masked_select"), shape)))
    return apply(more_ops.masked_select, input, mask, count=count)


@torch_function
def unique(
    input: Tensor,
    sorted: bool = True,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Any:
    """The distinct values in ascending order (each NaN distinct, NaN last; of ``-0.0`` and
    ``0.0`` the first one met), with the inverse indices and counts when asked (int64).

    ``sorted=False`` (an order of torch's hash table), ``dim`` and an input that requires grad
    (torch records a node whose backward fails) raise :class:`~fdiff.torch.UnsupportedError`.

    >>> import fdiff.torch as torch
    >>> torch.unique(torch.tensor([3, 1, 3]), return_counts=True)
    (tensor([1, 3]), tensor([1, 2]))
    """
    if not sorted:
        raise UnsupportedError("torch.unique(sorted=False)")
    if dim is not None:
        raise UnsupportedError("torch.unique(dim=...)")
    if input.requires_grad and is_grad_enabled():
        raise UnsupportedError("torch.unique of a tensor that requires grad")
    values = _known(input, "unique").reshape(-1)
    order = np.argsort(values, kind="stable")  # NaN last, ties in their order
    ordered = values[order]
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    result = new_tensor(jnp.asarray(ordered[starts], input._value.dtype))
    extras = []
    if return_inverse:
        inverse = np.empty(values.size, np.int64)
        inverse[order] = np.cumsum(np.isin(np.arange(values.size), starts)) - 1
        extras.append(_long(inverse.reshape(input.shape)))
    if return_counts:
        extras.append(_long(np.diff(np.append(starts, values.size))))
    return (result, *extras) if extras else result


def _check_diff(input: Tensor, n: int, dim: int, others: list[Tensor]) -> None:
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    for other in others:
        if other.dim() != input.dim():
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
        for d, (size, got) in enumerate(zip(input.shape, other.shape, strict=True)):
            if d != dim and size != got:
                raise RuntimeError(
                    "diff expects the shape of tensor to prepend or append to match that of "
                    f"input except along the differencing dimension; input.size({d}) = {size}, "
                    f"but got tensor.size({d}) = {got}"
                )


@torch_function
def diff(
    input: Tensor,
    n: int = 1,
    dim: int = -1,
    prepend: Tensor | None = None,
    append: Tensor | None = None,
) -> Tensor:
    """The ``n``-th forward difference along ``dim`` after joining ``prepend`` and ``append``
    (torch's ``narrow``s and a ``sub``, grad_fn ``SubBackward0``; ``!=`` for bools).

    >>> import fdiff.torch as torch
    >>> torch.diff(torch.tensor([1.0, 4.0, 9.0]), prepend=torch.tensor([0.0]))
    tensor([1., 3., 5.])
    """
    dim = checked_dim(input, dim) % max(input.dim(), 1)
    others = [t for t in (prepend, append) if t is not None]
    _check_diff(input, n, dim, others)
    if others:
        input = _shape.cat([t for t in (prepend, input, append) if t is not None], dim)
    for _ in range(n):
        length = max(input.shape[dim] - 1, 0)
        later = _shape.narrow(input, dim, min(1, input.shape[dim]), length)
        earlier = _shape.narrow(input, dim, 0, length)
        input = later != earlier if input.dtype.name == "bool" else later - earlier
    return input


def _check_reduction(name: str, input: Tensor, dim: Any) -> Any:
    dim = checked_dim(input, dim)
    _math._check_reducible(name, input, dim)
    return None if dim == () else dim


@torch_function
def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """The smallest value, of all or along ``dim``; ties share the gradient evenly."""
    dim = _check_reduction("amin", input, dim)
    return apply(more_ops.amin, input, dim=dim, keepdim=keepdim)


@torch_function
def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Any:
    """``(min, max)`` of all elements or along ``dim``, one grad_fn ``AminmaxBackward0``; ties
    share the gradient evenly.

    >>> import fdiff.torch as torch
    >>> torch.aminmax(torch.tensor([3.0, 1.0, 2.0]))
    torch.return_types.aminmax(
    min=tensor(1.),
    max=tensor(3.))
    """
    if input.numel() == 0 and dim is None:
        raise RuntimeError(
            "aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
            "identity."
        )
    if dim is not None:
        dim = checked_dim(input, dim)
        if input.dim() and input.shape[dim] == 0:
            raise IndexError(
                f"aminmax: Expected reduction dim {dim % input.dim()} to have non-zero size."
            )
    pair = tuple(
        apply(spec, input, dim=dim, keepdim=keepdim)
        for spec in (more_ops.aminmax_min, more_ops.aminmax_max)
    )
    return return_types.aminmax(*one_grad_fn(pair))


def _check_median_slices(input: Tensor, dim: int) -> None:
    """Refuse a slice whose lower median ties another element or that holds NaN: which index
    torch's kernel returns then is its own (``[1, 2, 2, 3]`` gives 1, ``[4, 4, 1, 1]`` 3)."""
    values = np.moveaxis(_known(input, "median"), dim, -1)
    if np.isnan(values).any():
        raise UnsupportedError("torch.median(dim=...) of a slice holding NaN")
    ordered = np.sort(values, axis=-1)
    middle = ordered[..., (values.shape[-1] - 1) // 2, None]
    if ((values == middle).sum(axis=-1) > 1).any():
        raise UnsupportedError("torch.median(dim=...) with ties at the median")


@torch_function
def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower of the two middle values: of all elements (NaN if any; ties share the
    gradient), or along ``dim`` as ``(values, indices)``. A slice along ``dim`` holding NaN or
    ties at its median raises :class:`~fdiff.torch.UnsupportedError` (torch's index among them
    is its kernel's).

    >>> import fdiff.torch as torch
    >>> torch.median(torch.tensor([4.0, 1.0, 3.0, 2.0]))
    tensor(2.)
    """
    if dim is None:
        if input.numel() == 0:
            raise UnsupportedError("torch.median of an empty tensor")
        return apply(more_ops.median, input)
    dim = checked_dim(input, dim) % max(input.dim(), 1)
    if input.dim():
        if input.shape[dim] == 0:
            raise IndexError(f"median(): Expected reduction dim {dim} to have non-zero size.")
        _check_median_slices(input, dim)
    values = apply(more_ops.median_dim, input, dim=dim, keepdim=keepdim)
    indices = apply(more_ops.median_indices, input, dim=dim, keepdim=keepdim)
    return return_types.median(values, indices)


__all__ = [
    "amin", "aminmax", "argwhere", "count_nonzero", "diff", "masked_select", "median",
    "nonzero", "unique",
]  # fmt: skip
