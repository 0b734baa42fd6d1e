"""``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_``: torch's gradient clipping, in
place on the parameters' ``.grad``.

>>> import fdiff.torch as torch
>>> w = torch.tensor([3.0, 4.0], requires_grad=True)
>>> (w * w).sum().backward()
>>> clip_grad_norm_([w], max_norm=1.0)
tensor(10.)
>>> w.grad
tensor([0.6000, 0.8000])
"""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Iterable

from fdiff.torch._creation import tensor
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._grad_mode import no_grad
from fdiff.torch._math import clamp, norm
from fdiff.torch._shape import stack
from fdiff.torch._tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _parameter_list(parameters: Tensor | Iterable[Tensor], warn_if_empty: bool) -> list[Tensor]:
    """``parameters`` as a list (a lone tensor as a one-element list), with torch's warning
    for an empty generator."""
    if isinstance(parameters, Tensor):
        return [parameters]
    is_generator = isinstance(parameters, types.GeneratorType)
    parameters = list(parameters)
    if warn_if_empty and is_generator and not parameters:
        warnings.warn(
            "`parameters` is an empty generator, no gradient clipping will occur.",
            UserWarning,
            stacklevel=3,
        )
    return parameters


def _check_foreach(name: str, foreach: bool | None) -> None:
    if foreach not in (None, False):
        raise UnsupportedError(f"torch.nn.utils.{name}(foreach={foreach!r})")


def _total_norm(grads: list[Tensor], norm_type: float, error_if_nonfinite: bool) -> Tensor:
    """torch's ``_get_total_norm``: the norm of the per-gradient norms."""
    if not grads:
        return tensor(0.0)
    if norm_type in (0.0, -math.inf):
        raise UnsupportedError(f"torch.nn.utils.clip_grad_norm_(norm_type={norm_type})")
    norms = [norm(g, norm_type) for g in grads]
    total = norm(stack(norms), norm_type)
    if error_if_nonfinite and not math.isfinite(total.item()):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from "
            "`parameters` is non-finite, so it cannot be clipped. To disable "
            "this error and scale the gradients by the non-finite norm anyway, "
            "set `error_if_nonfinite=False`"
        )
    return total


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale the gradients by ``clamp(max_norm / (total_norm + 1e-6), max=1)``, where
    ``total_norm`` is the ``norm_type``-norm of the gradients' norms; return ``total_norm``.

    >>> import fdiff.torch as torch
    >>> w = torch.ones(4, requires_grad=True)
    >>> w.sum().backward()
    >>> clip_grad_norm_(w, 1.0, norm_type=float("inf"))
    tensor(1.)
    """
    _check_foreach("clip_grad_norm_", foreach)
    parameters = _parameter_list(parameters, warn_if_empty=True)
    with no_grad():
        grads = [p.grad for p in parameters if p.grad is not None]
        total = _total_norm(grads, float(norm_type), error_if_nonfinite)
        if grads:
            coefficient = clamp(float(max_norm) / (total + 1e-6), max=1.0)
            for grad in grads:
                grad.mul_(coefficient)
    return total


def clip_grad_value_(
    parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None
) -> None:
    """Clamp every gradient into ``[-clip_value, clip_value]`` in place.

    >>> import fdiff.torch as torch
    >>> w = torch.tensor([1.0, -3.0], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> clip_grad_value_([w], 0.5)
    >>> w.grad
    tensor([ 0.5000, -0.5000])
    """
    _check_foreach("clip_grad_value_", foreach)
    clip_value = float(clip_value)
    with no_grad():
        for p in _parameter_list(parameters, warn_if_empty=False):
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)
