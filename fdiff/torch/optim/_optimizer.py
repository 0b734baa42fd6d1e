"""``torch.optim.Optimizer``: parameter groups, per-parameter state, ``state_dict``, and
:func:`~fdiff.torch._inplace.overwrite`, the one place a tensor's value is written.

An optimizer's update runs outside the graph, one jitted pure function per parameter (or per
group), and writes its results back with ``overwrite``.

>>> import fdiff.torch as torch
>>> w = torch.tensor([1.0], requires_grad=True)
>>> optimizer = torch.optim.SGD([w], lr=0.1)
>>> optimizer.state_dict()["param_groups"][0]["params"]
[0]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fdiff.torch import _caches
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._grad_mode import enable_grad
from fdiff.torch._inplace import overwrite as overwrite
from fdiff.torch._tensor import Tensor
from fdiff.torch._tensor_base import new_tensor

# Options torch's optimizers take that choose an implementation (multi-tensor, fused,
# CUDA-graph-safe, differentiable), with the values that mean torch's default CPU path.
_IMPLEMENTATION_OPTIONS = MappingProxyType(
    {
        "foreach": (None, False),
        "fused": (None, False),
        "capturable": (False,),
        "differentiable": (False,),
    }
)


def state_tensor(value: jax.Array) -> Tensor:
    """A new tensor for an optimizer's state (``exp_avg``, ``step``, ...)."""
    return new_tensor(value)


@_caches.lru_cache(maxsize=256)
def hyperparameters(values: tuple[float, ...], dtype: Any) -> jax.Array:
    """``values`` (Python floats, computed in double as torch computes them) as one array in
    ``dtype``, the parameters' dtype, as torch's kernels cast their scalar arguments; one
    device copy per set of values.

    >>> hyperparameters((0.5, 2.0), "float32")
    Array([0.5, 2. ], dtype=float32)
    """
    return jnp.asarray(values, dtype)


def lerp(start: jax.Array, end: jax.Array, weight: jax.Array) -> jax.Array:
    """torch's CPU ``lerp``: ``start + w (end - start)`` for ``|w| < 0.5``, else
    ``end - (end - start)(1 - w)``."""
    small = jnp.abs(weight) < 0.5
    return jnp.where(small, start + weight * (end - start), end - (end - start) * (1 - weight))


def check_implementation_options(optimizer: str, options: dict[str, Any]) -> None:
    """Refuse ``foreach=True``, ``fused=True``, ... (other implementations than the CPU one)."""
    for name, value in options.items():
        if value not in _IMPLEMENTATION_OPTIONS[name]:
            raise UnsupportedError(f"torch.optim.{optimizer}({name}={value!r})")


def check_non_negative(**options: float) -> None:
    """torch's ``Invalid <name> value: <value>`` checks (``learning rate`` for ``lr``,
    ``epsilon`` for ``eps``)."""
    for name, value in options.items():
        if isinstance(value, Tensor):
            raise UnsupportedError(f"torch.optim.Optimizer({name}=Tensor)")
        if not value >= 0.0:
            label = {"lr": "learning rate", "eps": "epsilon value"}.get(name, f"{name} value")
            raise ValueError(f"Invalid {label}: {value}")


class Optimizer:
    """Holds ``param_groups`` (lists of parameters with their options) and ``state``."""

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {_type_name(params)}"
            )
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group: its own options override the defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    f"{type(param).__module__}.{type(param).__name__}"
                )
            if not (param.is_leaf or param._retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append({**self.defaults, **param_group, "params": params})

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the grads of every parameter (to ``None`` by default, as torch 2.x does)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a grad; ``closure`` (re-evaluating the loss, under
        grad mode) runs first and its result is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._opt_called = True  # read by lr_scheduler's order warning
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if params:
                self._update_group(group, params)
        return loss

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """torch's layout: ``{"state": {index: {...}}, "param_groups": [{..., "params":
        [index, ...]}]}``, parameters numbered across groups in order."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: dict(s) for p, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore options and state saved by :meth:`state_dict` (of either engine's tensors:
        state values are copied in the parameter's dtype, ``step`` as saved)."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(
            len(g["params"]) != len(s["params"])
            for g, s in zip(self.param_groups, saved_groups, strict=True)
        ):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of "
                "optimizer's group"
            )
        by_index = {
            i: p
            for g, s in zip(self.param_groups, saved_groups, strict=True)
            for i, p in zip(s["params"], g["params"], strict=True)
        }
        self.state = {}
        for i, saved in state_dict["state"].items():
            param = by_index[i]
            self.state[param] = {
                key: _loaded(value, None if key == "step" else param._value.dtype)
                for key, value in saved.items()
            }
        self.param_groups = [
            {**s, "params": g["params"]}
            for g, s in zip(self.param_groups, saved_groups, strict=True)
        ]

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join([*lines, ")"])


def _type_name(tensor: Tensor) -> str:
    """torch's legacy type name of ``tensor`` (``torch.FloatTensor``)."""
    kind = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int"}
    return f"torch.{kind.get(str(tensor.dtype).removeprefix('torch.'), 'Bool')}Tensor"


def _loaded(value: Any, dtype: Any) -> Any:
    """A state entry from a state dict as a new fdiff tensor (a copy), or ``value`` itself."""
    if not hasattr(value, "detach"):
        return value
    array = np.array(value.detach().numpy())
    return state_tensor(jnp.asarray(array, dtype or array.dtype))


def check_betas(betas: tuple[float, float]) -> None:
    """torch's ``Invalid beta parameter at index i`` checks."""
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


def advance(
    optimizer: Optimizer, param: Tensor, names: tuple[str, ...], **scalars: float
) -> tuple[dict[str, Any], float]:
    """``param``'s state, created as torch creates it on the first step (``step`` and each of
    ``scalars`` a float32 scalar, each of ``names`` zeros like the parameter), with ``step``
    advanced by one; and the new step as a Python float."""
    state = optimizer.state.get(param)
    if state is None:
        state = {"step": state_tensor(jnp.zeros((), jnp.float32))}
        state |= {k: state_tensor(jnp.asarray(v, jnp.float32)) for k, v in scalars.items()}
        state |= {name: state_tensor(jnp.zeros_like(param._value)) for name in names}
        optimizer.state[param] = state
    step = float(state["step"]._value) + 1
    overwrite(state["step"], jnp.asarray(step, jnp.float32))
    return state, step


def write_back(param: Tensor, state: dict[str, Any], names: tuple[str, ...], new: tuple) -> None:
    """Write an update's results: the parameter's value, then the state ``names`` in order."""
    for tensor, value in zip((param, *(state[n] for n in names)), new, strict=True):
        overwrite(tensor, value)


def decay_mode(group: dict[str, Any]) -> str | None:
    """None without weight decay, else "decoupled" (AdamW's decay of the parameter) or
    "coupled" (added to the gradient)."""
    if group["weight_decay"] == 0:
        return None
    return "decoupled" if group["decoupled_weight_decay"] else "coupled"
