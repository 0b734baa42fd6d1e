"""``torch.optim.Adadelta``: torch's single-tensor CPU update, one jitted function per
parameter.

>>> import fdiff.torch as torch
>>> w = torch.tensor([1.0], requires_grad=True)
>>> optimizer = Adadelta([w], lr=1.0)
>>> (w * w).sum().backward()
>>> optimizer.step()
>>> w
tensor([0.9968], requires_grad=True)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jax.numpy as jnp

from fdiff.torch import _caches
from fdiff.torch._tensor import Tensor
from fdiff.torch.optim._optimizer import (
    Optimizer,
    advance,
    check_implementation_options,
    check_non_negative,
    hyperparameters,
    write_back,
)

_STATE = ("square_avg", "acc_delta")


def _adadelta_update(param, grad, square_avg, acc_delta, hyper, maximize, decay):
    """``hyper``: ``[weight_decay, rho, 1 - rho, eps, -lr]``."""
    weight_decay, rho, one_minus_rho, eps, neg_lr = (hyper[i] for i in range(5))
    grad = -grad if maximize else grad
    grad = grad + weight_decay * param if decay else grad
    square_avg = square_avg * rho + one_minus_rho * grad * grad
    std = jnp.sqrt(square_avg + eps)
    delta = jnp.sqrt(acc_delta + eps) / std * grad
    acc_delta = acc_delta * rho + one_minus_rho * delta * delta
    return param + neg_lr * delta, square_avg, acc_delta


_adadelta_update = _caches.jit(_adadelta_update, static_argnames=("maximize", "decay"))


class Adadelta(Optimizer):
    """Adadelta (Zeiler) with torch's ``lr`` scaling of the step, ``weight_decay`` and
    ``maximize``."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_non_negative(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_non_negative(eps=eps, weight_decay=weight_decay)
        options = {"capturable": capturable, "foreach": foreach, "differentiable": differentiable}
        check_implementation_options("Adadelta", options)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay}
        defaults |= {"maximize": maximize, **options}
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        rho = group["rho"]
        hyper = (group["weight_decay"], rho, 1 - rho, group["eps"], -group["lr"])
        for p in params:
            state, _ = advance(self, p, _STATE)
            new = _adadelta_update(
                p._value,
                p.grad._value,
                state["square_avg"]._value,
                state["acc_delta"]._value,
                hyperparameters(hyper, p._value.dtype),
                bool(group["maximize"]),
                group["weight_decay"] != 0,
            )
            write_back(p, state, _STATE, new)
