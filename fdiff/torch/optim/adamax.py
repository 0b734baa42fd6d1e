"""``torch.optim.Adamax``: torch's single-tensor CPU update (the infinity-norm Adam), one
jitted function per parameter.

>>> import fdiff.torch as torch
>>> w = torch.tensor([1.0, -2.0], requires_grad=True)
>>> optimizer = Adamax([w], lr=0.1)
>>> (w * w).sum().backward()
>>> optimizer.step()
>>> w
tensor([ 0.9000, -1.9000], requires_grad=True)
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
    hyperparameters,
    lerp,
    write_back,
)

_STATE = ("exp_avg", "exp_inf")


def _adamax_update(param, grad, exp_avg, exp_inf, hyper, maximize, decay):
    """``hyper``: ``[weight_decay, 1 - beta1, beta2, eps, -lr / (1 - beta1**step)]``."""
    weight_decay, one_minus_beta1, beta2, eps, neg_clr = (hyper[i] for i in range(5))
    grad = -grad if maximize else grad
    grad = grad + weight_decay * param if decay else grad
    exp_avg = lerp(exp_avg, grad, one_minus_beta1)
    exp_inf = jnp.maximum(exp_inf * beta2, jnp.abs(grad) + eps)
    return param + neg_clr * exp_avg / exp_inf, exp_avg, exp_inf


_adamax_update = _caches.jit(_adamax_update, static_argnames=("maximize", "decay"))


class Adamax(Optimizer):
    """Adamax (Kingma and Ba): Adam with the infinity norm of past gradients."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        check_non_negative(lr=lr, eps=eps)
        check_betas(betas)
        check_non_negative(weight_decay=weight_decay)
        options = {"foreach": foreach, "differentiable": differentiable, "capturable": capturable}
        check_implementation_options("Adamax", options)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        defaults |= {"foreach": foreach, "maximize": maximize}
        defaults |= {"differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        beta1, beta2 = group["betas"]
        for p in params:
            state, step = advance(self, p, _STATE)
            clr = group["lr"] / (1 - beta1**step)
            hyper = (group["weight_decay"], 1 - beta1, beta2, group["eps"], -clr)
            new = _adamax_update(
                p._value,
                p.grad._value,
                state["exp_avg"]._value,
                state["exp_inf"]._value,
                hyperparameters(hyper, p._value.dtype),
                bool(group["maximize"]),
                group["weight_decay"] != 0,
            )
            write_back(p, state, _STATE, new)
