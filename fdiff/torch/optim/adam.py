"""``torch.optim.Adam`` and ``AdamW``: torch's single-tensor CPU update, one jitted function
per parameter (bias corrections computed in double, as torch computes them).

>>> import fdiff.torch as torch
>>> w = torch.tensor([1.0, -2.0], requires_grad=True)
>>> optimizer = Adam([w], lr=0.1)
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
    check_betas,
    check_implementation_options,
    check_non_negative,
    decay_mode,
    hyperparameters,
    lerp,
    overwrite,
    state_tensor,
)


def _adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, hyper, amsgrad, maximize, decay):
    """``hyper``: ``[weight_decay, 1 - beta1, beta2, 1 - beta2, sqrt(bias_correction2), eps,
    -step_size, 1 - lr * weight_decay]``; ``decay`` is None, "coupled" or "decoupled"."""
    weight_decay, one_minus_beta1, beta2, one_minus_beta2 = hyper[0], hyper[1], hyper[2], hyper[3]
    correction2_sqrt, eps, neg_step_size, decay_factor = hyper[4], hyper[5], hyper[6], hyper[7]
    grad = -grad if maximize else grad
    if decay == "decoupled":
        param = param * decay_factor
    elif decay == "coupled":
        grad = grad + weight_decay * param
    exp_avg = lerp(exp_avg, grad, one_minus_beta1)
    exp_avg_sq = exp_avg_sq * beta2 + one_minus_beta2 * grad * grad
    if amsgrad:
        max_exp_avg_sq = jnp.maximum(max_exp_avg_sq, exp_avg_sq)
    second = max_exp_avg_sq if amsgrad else exp_avg_sq
    denom = jnp.sqrt(second) / correction2_sqrt + eps
    param = param + neg_step_size * exp_avg / denom
    return param, exp_avg, exp_avg_sq, max_exp_avg_sq


_adam_update = _caches.jit(_adam_update, static_argnames=("amsgrad", "maximize", "decay"))


class Adam(Optimizer):
    """Adam (Kingma and Ba) with torch's ``amsgrad``, ``weight_decay`` (added to the gradient,
    or, with ``decoupled_weight_decay``, AdamW's decay of the parameter) and ``maximize``."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        check_non_negative(lr=lr, eps=eps)
        check_betas(betas)
        check_non_negative(weight_decay=weight_decay)
        options = {"foreach": foreach, "capturable": capturable}
        options |= {"differentiable": differentiable, "fused": fused}
        check_implementation_options(type(self).__name__, options)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            **options,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        beta1, beta2 = group["betas"]
        lr, weight_decay = group["lr"], group["weight_decay"]
        for p in params:
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = _initial_state(p, group["amsgrad"])
            step = float(state["step"]._value) + 1
            overwrite(state["step"], jnp.asarray(step, jnp.float32))
            hyper = hyperparameters(
                (
                    weight_decay,
                    1 - beta1,
                    beta2,
                    1 - beta2,
                    (1 - beta2**step) ** 0.5,
                    group["eps"],
                    -(lr / (1 - beta1**step)),
                    1 - lr * weight_decay,
                ),
                p._value.dtype,
            )
            amsgrad = bool(group["amsgrad"])
            new = _adam_update(
                p._value,
                p.grad._value,
                state["exp_avg"]._value,
                state["exp_avg_sq"]._value,
                state["max_exp_avg_sq"]._value if amsgrad else None,
                hyper,
                amsgrad,
                bool(group["maximize"]),
                decay_mode(group),
            )
            names = (
                ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
                if amsgrad
                else ("exp_avg", "exp_avg_sq")
            )
            for tensor, value in zip((p, *(state[n] for n in names)), new, strict=False):
                overwrite(tensor, value)


def _initial_state(param: Tensor, amsgrad: bool) -> dict[str, Tensor]:
    """torch's: ``step`` a float32 scalar, the moments zeros like the parameter."""
    names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if amsgrad else ("exp_avg", "exp_avg_sq")
    state = {"step": state_tensor(jnp.zeros((), jnp.float32))}
    state |= {name: state_tensor(jnp.zeros_like(param._value)) for name in names}
    return state


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): the parameter is multiplied
    by ``1 - lr * weight_decay`` before the Adam step."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )
