"""``torch.optim.RMSprop``: torch's single-tensor CPU update (``centered``, ``momentum``,
``weight_decay``, ``maximize``), one jitted function per parameter.

>>> import fdiff.torch as torch
>>> w = torch.tensor([1.0], requires_grad=True)
>>> optimizer = RMSprop([w], lr=0.01)
>>> (w * w).sum().backward()
>>> optimizer.step()
>>> w
tensor([0.9000], requires_grad=True)
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
    lerp,
    overwrite,
    state_tensor,
)


def _rmsprop_update(param, grad, square_avg, grad_avg, buffer, hyper, centered, maximize, decay):
    """``hyper``: ``[-lr, alpha, 1 - alpha, eps, weight_decay, momentum]``; ``grad_avg`` and
    ``buffer`` are None unless ``centered`` / momentum is used."""
    neg_lr, alpha, one_minus_alpha, eps, weight_decay, momentum = (hyper[i] for i in range(6))
    grad = -grad if maximize else grad
    grad = grad + weight_decay * param if decay else grad
    square_avg = square_avg * alpha + one_minus_alpha * grad * grad
    if centered:
        grad_avg = lerp(grad_avg, grad, one_minus_alpha)
        avg = jnp.sqrt(square_avg + (-1 * grad_avg) * grad_avg) + eps
    else:
        avg = jnp.sqrt(square_avg) + eps
    if buffer is None:
        return param + neg_lr * grad / avg, square_avg, grad_avg, buffer
    buffer = buffer * momentum + grad / avg
    return param + neg_lr * buffer, square_avg, grad_avg, buffer


_rmsprop_update = _caches.jit(_rmsprop_update, static_argnames=("centered", "maximize", "decay"))


class RMSprop(Optimizer):
    """RMSprop as torch implements it (``eps`` added outside the square root)."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_non_negative(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay)
        check_non_negative(alpha=alpha)
        options = {"capturable": capturable, "foreach": foreach, "differentiable": differentiable}
        check_implementation_options("RMSprop", options)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        names = ["square_avg"]
        names += ["momentum_buffer"] if group["momentum"] > 0 else []
        names += ["grad_avg"] if group["centered"] else []
        for p in params:
            state = self.state.get(p)
            if state is None:
                state = {"step": state_tensor(jnp.zeros((), jnp.float32))}
                state |= {n: state_tensor(jnp.zeros_like(p._value)) for n in names}
                self.state[p] = state
            overwrite(state["step"], state["step"]._value + 1)
            alpha = group["alpha"]
            hyper = (-group["lr"], alpha, 1 - alpha, group["eps"], group["weight_decay"])
            param, square_avg, grad_avg, buffer = _rmsprop_update(
                p._value,
                p.grad._value,
                state["square_avg"]._value,
                state["grad_avg"]._value if "grad_avg" in state else None,
                state["momentum_buffer"]._value if "momentum_buffer" in state else None,
                hyperparameters((*hyper, group["momentum"]), p._value.dtype),
                bool(group["centered"]),
                bool(group["maximize"]),
                group["weight_decay"] != 0,
            )
            overwrite(p, param)
            new = {"square_avg": square_avg, "grad_avg": grad_avg, "momentum_buffer": buffer}
            for name in names:
                overwrite(state[name], new[name])
