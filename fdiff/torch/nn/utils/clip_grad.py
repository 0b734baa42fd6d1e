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

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]


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


def _check_norm_type(name: str, norm_type: float) -> None:
    """Refuse the norms fdiff's ``norm`` lacks (0 and -inf)."""
    if norm_type in (0.0, -math.inf):
        raise UnsupportedError(f"torch.nn.utils.{name}(norm_type={norm_type})")


def get_total_norm(
    tensors: Tensor | Iterable[Tensor],
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """The ``norm_type``-norm of the tensors' norms (torch's, for an empty list ``tensor(0.)``).

    >>> import fdiff.torch as torch
    >>> get_total_norm([torch.tensor([3.0]), torch.tensor([4.0])])
    tensor(5.)
    """
    _check_foreach("get_total_norm", foreach)
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    norm_type = float(norm_type)
    _check_norm_type("get_total_norm", norm_type)
    if not tensors:
        return tensor(0.0)
    with no_grad():
        total = norm(stack([norm(t, norm_type) for t in tensors]), norm_type)
    if error_if_nonfinite and not math.isfinite(total.item()):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from "
            "`parameters` is non-finite, so it cannot be clipped. To disable "
            "this error and scale the gradients by the non-finite norm anyway, "
            "set `error_if_nonfinite=False`"
        )
    return total


def clip_grads_with_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    total_norm: Tensor,
    foreach: bool | None = None,
) -> None:
    """Multiply the gradients by ``clamp(max_norm / (total_norm + 1e-6), max=1)``.

    >>> import fdiff.torch as torch
    >>> w = torch.tensor([3.0, 4.0], requires_grad=True)
    >>> w.sum().backward()
    >>> clip_grads_with_norm_([w], 0.5, torch.tensor(1.0))
    >>> w.grad
    tensor([0.5000, 0.5000])
    """
    _check_foreach("clip_grads_with_norm_", foreach)
    grads = [p.grad for p in _parameter_list(parameters, warn_if_empty=False)]
    grads = [g for g in grads if g is not None]
    if not grads:
        return
    with no_grad():
        coefficient = clamp(float(max_norm) / (total_norm + 1e-6), max=1.0)
        for grad in grads:
            grad.mul_(coefficient)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale the gradients by ``clamp(max_norm / (total_norm + 1e-6), max=1)``, where
    ``total_norm`` is the ``norm_type``-norm of the gradients' norms; return ``total_norm``
    (:func:`get_total_norm` then :func:`clip_grads_with_norm_`, as torch).

    >>> import fdiff.torch as torch
    >>> w = torch.ones(4, requires_grad=True)
    >>> w.sum().backward()
    >>> clip_grad_norm_(w, 1.0, norm_type=float("inf"))
    tensor(1.)
    """
    _check_foreach("clip_grad_norm_", foreach)
    parameters = _parameter_list(parameters, warn_if_empty=True)
    grads = [p.grad for p in parameters if p.grad is not None]
    _check_norm_type("clip_grad_norm_", float(norm_type))
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
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
