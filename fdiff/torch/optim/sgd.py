"""``torch.optim.SGD`` on JAX: the whole update is one jitted pure function per step.

>>> import fdiff.torch as torch
>>> w = torch.tensor([1.0], requires_grad=True)
>>> opt = SGD([w], lr=0.1)
>>> ((w * 3.0 - 6.0) ** 2).sum().backward()   # seed 004.1: w.grad = -18
>>> opt.step()
>>> w
tensor([2.8000], requires_grad=True)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

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


def _sgd_update(params, grads, buffers, hyper, nesterov, maximize):
    """One SGD step for every parameter; ``hyper`` is ``[lr, momentum, dampening, decay]``."""
    lr, momentum, dampening, weight_decay = hyper[0], hyper[1], hyper[2], hyper[3]
    new_params, new_buffers = [], []
    for p, g, buf in zip(params, grads, buffers, strict=True):
        d_p = (-g if maximize else g) + weight_decay * p
        buf = d_p if buf is None else momentum * buf + (1 - dampening) * d_p
        step = d_p + momentum * buf if nesterov else buf
        new_params.append((p - lr * step).astype(p.dtype))
        new_buffers.append(buf)
    return new_params, new_buffers


_sgd_update = _caches.jit(_sgd_update, static_argnames=("nesterov", "maximize"))


class SGD(Optimizer):
    """Stochastic gradient descent with torch's momentum, dampening, weight decay, nesterov,
    maximize."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_non_negative(lr=lr, momentum=momentum, weight_decay=weight_decay)
        check_implementation_options(
            "SGD", {"foreach": foreach, "differentiable": differentiable, "fused": fused}
        )
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        use_buffers = group["momentum"] != 0
        buffers = [self.state.get(p, {}).get("momentum_buffer") for p in params]
        new_params, new_buffers = _sgd_update(
            [p._value for p in params],
            [p.grad._value for p in params],
            [b if b is None else b._value for b in buffers]
            if use_buffers
            else [None] * len(params),
            hyperparameters(
                (group["lr"], group["momentum"], group["dampening"], group["weight_decay"]),
                np.result_type(*(p._value.dtype for p in params)),
            ),
            bool(group["nesterov"]),
            bool(group["maximize"]),
        )
        for p, value, buffer, new_buffer in zip(
            params, new_params, buffers, new_buffers, strict=True
        ):
            overwrite(p, value)
            if not use_buffers:
                continue
            if buffer is None:
                self.state[p] = {"momentum_buffer": state_tensor(new_buffer)}
            else:
                overwrite(buffer, new_buffer)
