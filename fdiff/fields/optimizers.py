"""Descent paths driven by optimizers: optax transformations or fdiff.torch optimizers.

Several optimizers run from the same start points, for a side-by-side picture
(:func:`fdiff.fields.plot.plot_comparison`). An optimizer is given as one of:

- an optax ``GradientTransformation`` (``optax.adam(0.1)``; the ``optax`` extra): all starts
  run together in one jitted ``jax.lax.scan``, exactly the updates optax makes step by step;
- a factory of an :mod:`fdiff.torch.optim` optimizer, called with the list of one 2-element
  parameter (``functools.partial(fdiff.torch.optim.Adam, lr=0.1)``): each start runs eagerly,
  the gradient of ``f`` (from JAX) written to ``param.grad`` before each ``step()``;
- a name: :data:`BUILTIN` names are fdiff.torch's optimizers (torch's update rules, no extra
  needed); ``"optax.NAME"`` is ``optax.NAME(learning_rate)``.

Every run stops, and is reported as diverged, where ``f`` or its gradient stops being finite
or the iterate leaves the ball of radius ``max_norm`` (as :func:`~fdiff.fields.descent_paths`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from types import MappingProxyType
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fdiff.errors import InputError
from fdiff.fields.field import (
    DescentPath,
    Scalar,
    check_starts,
    descend,
    descent_results,
)

__all__ = ["BUILTIN", "named_optimizer", "optimizer_paths"]

BUILTIN = MappingProxyType(
    {
        "sgd": ("SGD", MappingProxyType({})),
        "momentum": ("SGD", MappingProxyType({"momentum": 0.9})),
        "nesterov": ("SGD", MappingProxyType({"momentum": 0.9, "nesterov": True})),
        "adam": ("Adam", MappingProxyType({})),
        "adamw": ("AdamW", MappingProxyType({})),
        "rmsprop": ("RMSprop", MappingProxyType({})),
        "adagrad": ("Adagrad", MappingProxyType({})),
    }
)
"""Short optimizer names: the :mod:`fdiff.torch.optim` class and its options besides ``lr``."""

Optimizer = Any
"""An optax ``GradientTransformation``, a factory of an fdiff.torch optimizer, or a name."""


def named_optimizer(name: str, learning_rate: float) -> Optimizer:
    """The optimizer a short name stands for, at ``learning_rate``.

    Args:
        name: one of :data:`BUILTIN` (fdiff.torch's rules, e.g. ``"momentum"`` is
            ``SGD(lr, momentum=0.9)``), or ``"optax.NAME"`` for ``optax.NAME(learning_rate)``.
        learning_rate: the step size.

    Returns:
        A factory of an fdiff.torch optimizer, or an optax transformation.

    Raises:
        InputError: for an unknown name, or an optax name without optax installed.

    >>> named_optimizer("momentum", 0.1).keywords
    {'lr': 0.1, 'momentum': 0.9}
    """
    if name.startswith("optax."):
        optax = _optax()
        rule = getattr(optax, name.removeprefix("optax."), None)
        if not callable(rule):
            raise InputError(f"unknown optimizer {name!r}: optax has no such function")
        return rule(learning_rate)
    if name not in BUILTIN:
        known = ", ".join(BUILTIN)
        raise InputError(f"unknown optimizer {name!r}; known: {known}, or optax.NAME")
    from fdiff.torch import optim  # loaded only when a torch-style optimizer is asked for

    class_name, options = BUILTIN[name]
    return partial(getattr(optim, class_name), lr=learning_rate, **options)


def optimizer_paths(
    f: Callable[..., jax.Array],
    starts: Sequence[Sequence[float]] | np.ndarray,
    optimizers: Mapping[str, Optimizer],
    *,
    steps: int = 50,
    packed: bool = False,
    max_norm: float = 1e6,
) -> dict[str, tuple[DescentPath, ...]]:
    """Run each optimizer from each start point on ``f``.

    Args:
        f: ``f(a, b) -> scalar``, or ``f(params) -> scalar`` with ``packed=True``.
        starts: start points, shape ``(k, 2)``; every optimizer starts from all of them.
        optimizers: label -> optimizer (see the module's docstring for the three forms).
        steps: the most updates to take.
        packed: ``f`` takes one 2-vector instead of two scalars.
        max_norm: a run whose iterate grows past this norm has diverged.

    Returns:
        label -> one :class:`~fdiff.fields.DescentPath` per start, in the order given.

    Raises:
        InputError: for bad starts, steps, no optimizers, or an optimizer of none of the forms.

    >>> import fdiff.torch as torch
    >>> runs = optimizer_paths(lambda a, b: a**2 + b**2, [(1.0, 1.0)],
    ...                        {"sgd": partial(torch.optim.SGD, lr=0.25)}, steps=1)
    >>> runs["sgd"][0].points.tolist()
    [[1.0, 1.0], [0.5, 0.5]]
    """
    points = check_starts(starts)
    if not optimizers:
        raise InputError("give at least one optimizer")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise InputError(f"`steps` must be a non-negative integer, got {steps!r}")
    if not max_norm > 0:
        raise InputError(f"`max_norm` must be positive, got {max_norm}")
    scalar = Scalar(f, packed)
    runs = {}
    for label, optimizer in optimizers.items():
        if isinstance(optimizer, str):
            raise InputError(
                f"optimizer {label!r} is a name: resolve it with named_optimizer(name, lr)"
            )
        if hasattr(optimizer, "init") and hasattr(optimizer, "update"):
            traced = descend(scalar, optimizer, steps, points, max_norm)
            runs[label] = descent_results(*traced, max_norm)
        elif callable(optimizer):
            runs[label] = tuple(
                _torch_run(scalar, optimizer, start, steps, max_norm) for start in points
            )
        else:
            raise InputError(
                f"optimizer {label!r} is a {type(optimizer).__name__}: expected an optax "
                "GradientTransformation or a factory of an fdiff.torch optimizer"
            )
    return runs


def _torch_run(
    f: Scalar, factory: Callable[[list], Any], start: np.ndarray, steps: int, max_norm: float
) -> DescentPath:
    """One start under an fdiff.torch optimizer, with JAX's gradient of ``f`` as ``.grad``."""
    import fdiff.torch as torch  # loaded only when a torch-style optimizer is asked for

    param = torch.tensor(start, requires_grad=True)
    optimizer = factory([param])
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise InputError(
            f"the optimizer factory returned a {type(optimizer).__name__}, "
            "not an fdiff.torch.optim optimizer"
        )
    trace, values, status = [], [], []
    for _ in range(steps + 1):
        point = np.array(param.detach())
        value, grad = (np.asarray(out) for out in _value_and_grad(f, point))
        finite = np.isfinite(value) and np.isfinite(grad).all()
        stop = 1 if not finite else 2 if np.linalg.norm(point) > max_norm else 0
        trace.append(point)
        values.append(value)
        status.append(stop)
        if stop:
            break
        optimizer.zero_grad()
        param.grad = torch.tensor(grad)
        optimizer.step()
    (path,) = descent_results(
        np.stack(trace)[None], np.stack(values)[None], np.array(status)[None], max_norm
    )
    return path


@partial(jax.jit, static_argnums=0)
def _value_and_grad(f: Scalar, point: jax.Array) -> tuple[jax.Array, jax.Array]:
    return jax.value_and_grad(lambda p: f(p[0], p[1]))(jnp.asarray(point))


def _optax() -> Any:
    try:
        return importlib.import_module("optax")
    except ImportError:
        raise InputError("optax optimizers need optax: pip install 'fdiff[optax]'") from None
