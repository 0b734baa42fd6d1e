"""torch's statistics and distances: ``var_mean``, ``std_mean``, ``cov``, ``corrcoef``,
``dist``, ``cdist``.

``var_mean`` and ``std_mean`` return both results with one grad_fn, as torch does; ``dist`` and
``cdist`` take torch's subgradients (a zero distance has gradient 0).

>>> import fdiff.torch as torch
>>> torch.dist(torch.tensor([0.0, 0.0]), torch.tensor([3.0, 4.0]))
tensor(5.)
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from fdiff.torch import _creation, _dtypes, _math, _shape
from fdiff.torch import _ops_more as more_ops
from fdiff.torch._dispatch import apply
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._errors import refusing_unknown_keywords as torch_function
from fdiff.torch._graph import one_grad_fn
from fdiff.torch._opspec import OpSpec
from fdiff.torch._tensor_base import TensorBase as Tensor


def _with_mean(name: str, spread: OpSpec, mean: OpSpec):
    def function(
        input: Tensor,
        dim: Any = None,
        unbiased: bool | None = None,
        keepdim: bool = False,
        *,
        correction: float | None = None,
    ) -> tuple[Tensor, Tensor]:
        if not input.dtype.is_floating_point:
            raise RuntimeError(f"{name} only support floating point and complex dtypes")
        dims, correction = _math.spread_arguments(name, input, dim, unbiased, correction)
        static = {"dim": dims, "correction": correction, "keepdim": keepdim}
        return one_grad_fn((apply(spread, input, **static), apply(mean, input, **static)))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (
        f"``torch.{name}``: ``({name.partition('_')[0]}, mean)`` with one grad_fn; Bessel's "
        "correction 1 by default, ``unbiased=False`` is ``correction=0``."
    )
    return torch_function(function)


var_mean = _with_mean("var_mean", more_ops.var_mean_spread, more_ops.var_mean_mean)
std_mean = _with_mean("std_mean", more_ops.std_mean_spread, more_ops.std_mean_mean)


@torch_function
def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The ``p``-norm of ``input - other`` (broadcast; grad_fn ``DistBackward0``); ``p`` 0 and
    ``-inf`` raise :class:`~fdiff.torch.UnsupportedError`, as for :func:`~fdiff.torch.norm`."""
    if p in (0, -math.inf):
        raise UnsupportedError(f"torch.dist(p={p!r})")
    if not (input.dtype.is_floating_point or other.dtype.is_floating_point):
        raise RuntimeError(
            "norm(): input dtype should be either floating point or complex. Got "
            f"{_dtypes.SCALAR_TYPE_NAMES[input.dtype.name]} instead."
        )
    return apply(more_ops.dist, input, other, p=float(p))


MM_ROWS = 25
"""Past this many rows, torch's default ``cdist`` for ``p=2`` takes a matrix-product path."""


COMPUTE_MODES = (
    "use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist",
)  # fmt: skip


def _check_cdist(x1: Tensor, x2: Tensor) -> None:
    for name, x in (("X1", x1), ("X2", x2)):
        if x.dim() < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x.dim()}D")
        if not x.dtype.is_floating_point:
            raise RuntimeError(
                f"cdist only supports floating-point dtypes, {name} got: "
                f"{_dtypes.SCALAR_TYPE_NAMES[x.dtype.name]}"
            )
    if x1.dtype != x2.dtype:
        names = (_dtypes.SCALAR_TYPE_NAMES.get(t.dtype.name) for t in (x1, x2))
        raise RuntimeError("expected scalar type {} but found {}".format(*names))
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}"
        )


@torch_function
def cdist(
    x1: Tensor,
    x2: Tensor,
    p: float = 2.0,
    compute_mode: str = "use_mm_for_euclid_dist_if_necessary",
) -> Tensor:
    """The ``p``-norm distances between the rows of ``x1`` and ``x2`` (batched over leading
    dims; grad_fn ``CdistBackward0``). torch's matrix-product path for ``p=2`` (more than 25
    rows by default, or ``compute_mode="use_mm_for_euclid_dist"``) rounds differently and
    records other nodes: it raises :class:`~fdiff.torch.UnsupportedError`, as do ``p`` other
    than 1 and from 2 on (torch's own gradients at zero differences or at ties for ``inf``).

    >>> import fdiff.torch as torch
    >>> torch.cdist(torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0], [0.0, 1.0]]))
    tensor([[5., 1.]])
    """
    _check_cdist(x1, x2)
    if compute_mode not in COMPUTE_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if p != 1 and not 2 <= p < math.inf:
        raise UnsupportedError(f"torch.cdist(p={p!r})")
    order = float(p)
    if order == 2 and (
        compute_mode == "use_mm_for_euclid_dist"
        or (compute_mode == "use_mm_for_euclid_dist_if_necessary"
            and max(x1.shape[-2], x2.shape[-2]) > MM_ROWS)
    ):  # fmt: skip
        raise UnsupportedError("torch.cdist (p=2 by torch's matrix-product path)")
    return apply(more_ops.cdist, x1, x2, p=order)


def _observations(input: Tensor, function: str) -> Tensor:
    """``input`` as (variables, observations): a vector or a number is one variable."""
    if input.dim() > 2:
        raise RuntimeError(
            f"{function}(): expected input to have two or fewer dimensions but got an input with "
            f"{input.dim()} dimensions"
        )
    return input if input.dim() == 2 else _shape.view(input, 1, -1)


@torch_function
def cov(
    input: Tensor,
    *,
    correction: int = 1,
    fweights: Tensor | None = None,
    aweights: Tensor | None = None,
) -> Tensor:
    """The covariance matrix of the variables in ``input``'s rows (observations in columns), by
    torch's own steps (grad_fn ``SqueezeBackward0``); ``fweights``/``aweights`` raise
    :class:`~fdiff.torch.UnsupportedError`.

    >>> import fdiff.torch as torch
    >>> torch.cov(torch.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
    tensor([[ 1., -1.],
            [-1.,  1.]])
    """
    if fweights is not None or aweights is not None:
        raise UnsupportedError("torch.cov(fweights=..., aweights=...)")
    if input.dtype.name == "bool":
        raise RuntimeError("cov(): bool dtype is not supported for input")
    observations = _observations(input, "cov")
    count = observations.shape[1]
    mean = _math.sum(observations, 1) / _creation.tensor(count)
    norm = count - correction
    if norm <= 0:
        warnings.warn(
            "cov(): degrees of freedom is <= 0. Correction should be strictly less than the "
            "number of observations.",
            UserWarning,
            stacklevel=3,
        )
        norm = 0
    centred = observations - _shape.unsqueeze(mean, 1)
    return _shape.squeeze(_math.mm(centred, _shape.t(centred)) / _creation.tensor(norm))


@torch_function
def corrcoef(input: Tensor) -> Tensor:
    """Pearson's correlation coefficients of the variables in ``input``'s rows: :func:`cov`
    scaled by the standard deviations and clipped to ``[-1, 1]``, by torch's own steps.

    >>> import fdiff.torch as torch
    >>> torch.corrcoef(torch.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
    tensor([[ 1., -1.],
            [-1.,  1.]])
    """
    _observations(input, "corrcoef")
    covariance = cov(input)
    if covariance.dim() == 0:
        return covariance / covariance
    deviations = _math.sqrt(_shape.diagonal(covariance))
    covariance = covariance / _shape.view(deviations, -1, 1)
    covariance = covariance / _shape.view(deviations, 1, -1)
    return _math.clamp(covariance, -1, 1)


__all__ = ["cdist", "corrcoef", "cov", "dist", "std_mean", "var_mean"]
