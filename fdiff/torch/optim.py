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

import jax
import jax.numpy as jnp
import numpy as np

from fdiff.torch import _caches
from fdiff.torch._inplace import overwrite
from fdiff.torch._missing import missing_names
from fdiff.torch._tensor import Tensor

__all__ = ["SGD", "Optimizer"]
__getattr__ = missing_names(__name__, "torch.optim", ("lr_scheduler", "swa_utils"))


class Optimizer:
    """Holds ``param_groups`` (lists of parameters with their options) and ``zero_grad``."""

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict) -> None:
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        self.defaults = defaults
        self.param_groups = [{**defaults, **g, "params": list(g["params"])} for g in groups]
        self.state: dict[int, dict[str, Any]] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the grads of every parameter (to ``None`` by default, as torch 2.x does)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.zero_()


def _sgd_update(params, grads, buffers, hyper, nesterov):
    """One SGD step for every parameter; ``hyper`` is ``[lr, momentum, dampening, decay]``."""
    lr, momentum, dampening, weight_decay = hyper[0], hyper[1], hyper[2], hyper[3]
    new_params, new_buffers = [], []
    for p, g, buf in zip(params, grads, buffers, strict=True):
        d_p = g + weight_decay * p
        buf = d_p if buf is None else momentum * buf + (1 - dampening) * d_p
        step = jnp.where(momentum == 0, d_p, d_p + momentum * buf if nesterov else buf)
        new_params.append((p - lr * step).astype(p.dtype))
        new_buffers.append(buf)
    return new_params, new_buffers


_sgd_update = _caches.jit(_sgd_update, static_argnames=("nesterov",))


@_caches.lru_cache(maxsize=64)
def _hyperparameters(key: tuple) -> jax.Array:
    """``key`` = ``(lr, momentum, dampening, weight_decay, dtype)``: the first four as one array
    (one jit argument) in ``dtype``, the parameters' float dtype, as torch's kernels use the
    options in the parameters' dtype; one device copy per set of options."""
    return jnp.asarray(key[:4], key[4])


class SGD(Optimizer):
    """Stochastic gradient descent with torch's momentum, dampening, weight decay, nesterov."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(
                f"Invalid SGD option: lr={lr}, momentum={momentum}, weight_decay={weight_decay} "
                "must all be >= 0"
            )
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
        }
        super().__init__(params, defaults)

    def step(self) -> None:
        """Update every parameter that has a grad, in place, outside the graph."""
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            use_buffers = group["momentum"] != 0
            buffers = [self.state.get(id(p), {}).get("momentum_buffer") for p in params]
            new_params, new_buffers = _sgd_update(
                [p._value for p in params],
                [p.grad._value for p in params],
                buffers if use_buffers else [None] * len(params),
                _hyperparameters(
                    (
                        group["lr"],
                        group["momentum"],
                        group["dampening"],
                        group["weight_decay"],
                        np.result_type(*(p._value.dtype for p in params)),
                    )
                ),
                bool(group["nesterov"]),
            )
            for p, value, buf in zip(params, new_params, new_buffers, strict=True):
                overwrite(p, value)  # bumps p._version, as torch's in-place update does
                if use_buffers:
                    self.state[id(p)] = {"momentum_buffer": buf}
