"""``torch.optim.NAdam``: torch's single-tensor CPU update (Adam with Nesterov momentum and
torch's momentum decay), one jitted function per parameter; ``mu_product`` is a float32 state
scalar, as torch keeps it.

>>> import fdiff.torch as torch
>>> w = torch.tensor([1.0], requires_grad=True)
>>> optimizer = NAdam([w], lr=0.1)
>>> (w * w).sum().backward()
>>> optimizer.step()
>>> w
tensor([0.8944], requires_grad=True)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jax.numpy as jnp
import numpy as np

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
    overwrite,
    write_back,
)

_STATE = ("exp_avg", "exp_avg_sq")


def _nadam_update(param, grad, exp_avg, exp_avg_sq, hyper, maximize, decay):
    """``hyper``: ``[weight_decay, 1 - beta1, beta2, 1 - beta2, bias_correction2, eps,
    grad_value, exp_avg_value, 1 - lr * weight_decay]`` (the two ``addcdiv`` values)."""
    weight_decay, one_minus_beta1, beta2, one_minus_beta2 = (hyper[i] for i in range(4))
    correction2, eps, grad_value, exp_avg_value, decay_factor = (hyper[i] for i in range(4, 9))
    grad = -grad if maximize else grad
    if decay == "decoupled":
        param = param * decay_factor
    elif decay == "coupled":
        grad = grad + weight_decay * param
    exp_avg = lerp(exp_avg, grad, one_minus_beta1)
    exp_avg_sq = exp_avg_sq * beta2 + one_minus_beta2 * grad * grad
    denom = jnp.sqrt(exp_avg_sq / correction2) + eps
    param = param + grad_value * grad / denom
    return param + exp_avg_value * exp_avg / denom, exp_avg, exp_avg_sq


_nadam_update = _caches.jit(_nadam_update, static_argnames=("maximize", "decay"))


class NAdam(Optimizer):
    """NAdam (Dozat) with torch's ``momentum_decay``, ``weight_decay`` (coupled, or decoupled
    as AdamW's) and ``maximize``."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_non_negative(lr=lr, eps=eps)
        check_betas(betas)
        check_non_negative(weight_decay=weight_decay, momentum_decay=momentum_decay)
        options = {"foreach": foreach, "capturable": capturable, "differentiable": differentiable}
        check_implementation_options("NAdam", options)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        defaults |= {"momentum_decay": momentum_decay}
        defaults |= {"decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize}
        super().__init__(params, defaults | options)

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        beta1, beta2 = group["betas"]
        lr, weight_decay = group["lr"], group["weight_decay"]
        for p in params:
            state, step = advance(self, p, _STATE, mu_product=1.0)
            mu, mu_next = (
                beta1 * (1.0 - 0.5 * 0.96 ** (s * group["momentum_decay"]))
                for s in (step, step + 1)
            )
            # torch: mu_product *= mu, a float32 tensor times the scalar in float32
            mu_product = float(np.float32(state["mu_product"]._value) * np.float32(mu))
            overwrite(state["mu_product"], jnp.asarray(mu_product, jnp.float32))
            grad_value = -lr * (1.0 - mu) / (1.0 - mu_product)
            exp_avg_value = -lr * mu_next / (1.0 - mu_product * mu_next)
            hyper = (weight_decay, 1 - beta1, beta2, 1 - beta2, 1 - beta2**step, group["eps"])
            hyper += (grad_value, exp_avg_value, 1 - lr * weight_decay)
            new = _nadam_update(
                p._value,
                p.grad._value,
                state["exp_avg"]._value,
                state["exp_avg_sq"]._value,
                hyperparameters(hyper, p._value.dtype),
                bool(group["maximize"]),
                decay_mode(group),
            )
            write_back(p, state, _STATE, new)
