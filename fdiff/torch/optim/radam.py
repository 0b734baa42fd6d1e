"""``torch.optim.RAdam``: torch's single-tensor CPU update (rectified Adam), one jitted function
per parameter; whether a step is rectified (``rho_t > 5``) is decided in double, as torch.

>>> import fdiff.torch as torch
>>> w = torch.tensor([1.0], requires_grad=True)
>>> optimizer = RAdam([w], lr=0.1)
>>> (w * w).sum().backward()
>>> optimizer.step()
>>> w
tensor([0.8000], requires_grad=True)
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
    check_betas,
    check_implementation_options,
    check_non_negative,
    decay_mode,
    hyperparameters,
    lerp,
    write_back,
)

_STATE = ("exp_avg", "exp_avg_sq")


def _radam_update(param, grad, exp_avg, exp_avg_sq, hyper, maximize, decay, rectified):
    """``hyper``: ``[weight_decay, 1 - beta1, beta2, 1 - beta2, bias_correction1,
    sqrt(bias_correction2), eps, lr, rect, 1 - lr * weight_decay]``."""
    weight_decay, one_minus_beta1, beta2, one_minus_beta2 = (hyper[i] for i in range(4))
    correction1, correction2_sqrt, eps, lr, rect, decay_factor = (hyper[i] for i in range(4, 10))
    grad = -grad if maximize else grad
    if decay == "decoupled":
        param = param * decay_factor
    elif decay == "coupled":
        grad = grad + weight_decay * param
    exp_avg = lerp(exp_avg, grad, one_minus_beta1)
    exp_avg_sq = exp_avg_sq * beta2 + one_minus_beta2 * grad * grad
    update = exp_avg / correction1 * lr
    if rectified:
        adaptive = 1 / (jnp.sqrt(exp_avg_sq) + eps) * correction2_sqrt  # torch's rdiv
        update = update * adaptive * rect
    return param - update, exp_avg, exp_avg_sq


_radam_update = _caches.jit(_radam_update, static_argnames=("maximize", "decay", "rectified"))


def _rectification(beta2: float, step: float) -> float | None:
    """RAdam's rectification term in double, or None where torch skips the adaptive step."""
    correction2 = 1 - beta2**step
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * beta2**step / correction2
    if not rho_t > 5.0:
        return None
    return ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5


class RAdam(Optimizer):
    """RAdam (Liu et al.) with torch's ``weight_decay`` (coupled, or decoupled as AdamW's) and
    ``maximize``."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_non_negative(lr=lr, eps=eps)
        check_betas(betas)
        check_non_negative(weight_decay=weight_decay)
        options = {"foreach": foreach, "capturable": capturable, "differentiable": differentiable}
        check_implementation_options("RAdam", options)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        defaults |= {"maximize": maximize, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults | options)

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        beta1, beta2 = group["betas"]
        lr, weight_decay = group["lr"], group["weight_decay"]
        for p in params:
            state, step = advance(self, p, _STATE)
            rect = _rectification(beta2, step)
            hyper = (weight_decay, 1 - beta1, beta2, 1 - beta2, 1 - beta1**step)
            hyper += ((1 - beta2**step) ** 0.5, group["eps"], lr, rect or 0.0)
            new = _radam_update(
                p._value,
                p.grad._value,
                state["exp_avg"]._value,
                state["exp_avg_sq"]._value,
                hyperparameters((*hyper, 1 - lr * weight_decay), p._value.dtype),
                bool(group["maximize"]),
                decay_mode(group),
                rect is not None,
            )
            write_back(p, state, _STATE, new)
