"""``torch.optim.Adagrad``: torch's single-tensor CPU update (``lr_decay``,
``weight_decay``, ``initial_accumulator_value``, ``maximize``).

>>> import fdiff.torch as torch
>>> w = torch.tensor([1.0], requires_grad=True)
>>> optimizer = Adagrad([w], lr=0.5)
>>> (w * w).sum().backward()
>>> optimizer.step()
>>> w
tensor([0.5000], requires_grad=True)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jax.numpy as jnp

from fdiff.torch import _caches
from fdiff.torch._tensor import Tensor
from fdiff.torch.optim._optimizer import (
    Optimizer,
    check_implementation_options,
    check_non_negative,
    hyperparameters,
    overwrite,
    state_tensor,
)


def _adagrad_update(param, grad, state_sum, hyper, maximize, decay):
    """``hyper``: ``[-clr, eps, weight_decay]``, ``clr = lr / (1 + (step - 1) lr_decay)``."""
    neg_clr, eps, weight_decay = hyper[0], hyper[1], hyper[2]
    grad = -grad if maximize else grad
    grad = grad + weight_decay * param if decay else grad
    state_sum = state_sum + grad * grad
    return param + neg_clr * grad / (jnp.sqrt(state_sum) + eps), state_sum


_adagrad_update = _caches.jit(_adagrad_update, static_argnames=("maximize", "decay"))


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.); its state exists from construction on, as in torch."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_non_negative(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay)
        check_non_negative(initial_accumulator_value=initial_accumulator_value, eps=eps)
        options = {"foreach": foreach, "differentiable": differentiable, "fused": fused}
        check_implementation_options("Adagrad", options)
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = {
                    "step": state_tensor(jnp.zeros((), jnp.float32)),
                    "sum": state_tensor(
                        jnp.full_like(p._value, group["initial_accumulator_value"])
                    ),
                }

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        for p in params:
            state = self.state[p]
            step = float(state["step"]._value) + 1
            overwrite(state["step"], jnp.asarray(step, jnp.float32))
            clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
            param, state_sum = _adagrad_update(
                p._value,
                p.grad._value,
                state["sum"]._value,
                hyperparameters((-clr, group["eps"], group["weight_decay"]), p._value.dtype),
                bool(group["maximize"]),
                group["weight_decay"] != 0,
            )
            overwrite(p, param)
            overwrite(state["sum"], state_sum)
