"""Directions in parameter space: random, filter- and layer-normalized, toward a checkpoint.

A direction is a pytree with the structure, shapes and dtypes of the parameters it perturbs.
Filter normalization follows Li et al., "Visualizing the Loss Landscape of Neural Nets" (2018):
each filter of the direction is rescaled to the norm of the matching filter of the parameters,
so that the picture does not depend on the scale of each filter (a ReLU network computes the
same function after one filter is scaled up and the next layer's inputs scaled down).

>>> import jax.numpy as jnp
>>> params = {"w": jnp.array([[3.0, 4.0], [0.0, 1.0]]), "b": jnp.array([1.0, 2.0])}
>>> direction = {"w": jnp.array([[1.0, 0.0], [0.0, 2.0]]), "b": jnp.array([5.0, 5.0])}
>>> normalized = filter_normalize(direction, params)
>>> normalized["w"].tolist(), normalized["b"].tolist()
([[5.0, 0.0], [0.0, 1.0]], [0.0, 0.0])
"""

from __future__ import annotations

from functools import partial
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from fdiff.errors import InputError

__all__ = ["direction_to", "filter_normalize", "layer_normalize", "random_direction"]

_TINY = 1e-10  # the paper's code adds this to a filter's norm, so a zero filter stays zero


def random_direction(seed: int | np.random.Generator, params: Any) -> Any:
    """A direction of standard normal entries, one independent draw per parameter leaf.

    The draws come from NumPy's generator on the host (``np.random.default_rng(seed)``): the
    same numbers on every backend, and nothing to compile (JAX's threefry draws compile one
    program per shape, seconds for a model).

    Args:
        seed: an integer seed, or a ``numpy.random.Generator`` (drawn from in leaf order).
        params: the parameter pytree whose structure, shapes and dtypes the direction takes.

    Returns:
        The direction, a pytree like ``params`` of JAX arrays.

    >>> import jax.numpy as jnp
    >>> d = random_direction(0, {"w": jnp.zeros((2, 3)), "b": jnp.zeros(3)})
    >>> d["w"].shape, d["b"].dtype
    ((2, 3), dtype('float32'))
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return jax.tree.map(
        lambda leaf: jnp.asarray(rng.standard_normal(np.shape(leaf)).astype(jnp.result_type(leaf))),
        params,
    )


def filter_normalize(
    direction: Any,
    params: Any,
    *,
    filter_axis: int = 0,
    one_dimensional: Literal["zero", "copy"] = "zero",
) -> Any:
    """Rescale each filter of ``direction`` to the norm of the same filter of ``params``.

    A filter is one slice along ``filter_axis`` of a parameter with two or more dimensions: an
    output row of a torch ``Linear`` weight ``(out, in)``, one output channel of a ``Conv2d``
    weight ``(out, in, kh, kw)`` (``filter_axis=0``, torch's layout; use ``-1`` for a flax
    ``Dense`` kernel ``(in, out)``). ``d_f <- d_f / (|d_f| + 1e-10) * |theta_f|``.

    Parameters with fewer than two dimensions (biases, normalization scales) are handled as the
    paper's code does (its ``ignore="biasbn"`` option, the default of its plots): their
    direction is zero, so the plane never moves them (``one_dimensional="zero"``); or, with
    ``"copy"``, the direction is the parameter itself (its code without that option).

    Args:
        direction: the direction to normalize (a pytree like ``params``).
        params: the point the direction starts from.
        filter_axis: the axis that indexes filters in every parameter of 2 or more dimensions.
        one_dimensional: ``"zero"`` or ``"copy"``, for parameters of 0 or 1 dimensions.

    Returns:
        The normalized direction.

    Raises:
        InputError: for a ``direction`` whose structure or shapes differ from ``params``, or
            an unknown ``one_dimensional``.
    """
    if one_dimensional not in ("zero", "copy"):
        raise InputError(f"`one_dimensional` must be 'zero' or 'copy', got {one_dimensional!r}")
    return _filter_normalized(direction, params, filter_axis, one_dimensional)


@partial(jax.jit, static_argnums=(2, 3))
def _filter_normalized(direction: Any, params: Any, filter_axis: int, one_dimensional: str) -> Any:
    def normalize(d: jax.Array, p: jax.Array) -> jax.Array:
        if p.ndim < 2:
            return jnp.zeros_like(d) if one_dimensional == "zero" else jnp.asarray(p, d.dtype)
        axes = tuple(a for a in range(p.ndim) if a != filter_axis % p.ndim)
        d_norm = jnp.sqrt(jnp.sum(d * d, axis=axes, keepdims=True))
        p_norm = jnp.sqrt(jnp.sum(p * p, axis=axes, keepdims=True))
        return d / (d_norm + _TINY) * p_norm

    return _map_matching(normalize, direction, params)


def layer_normalize(direction: Any, params: Any) -> Any:
    """Rescale each leaf of ``direction`` to the norm of the same leaf of ``params``.

    Every leaf is one "layer" (a weight, a bias): ``d_l <- d_l / (|d_l| + 1e-10) * |theta_l|``,
    biases included (as the ``loss-landscapes`` package does).

    Args:
        direction: the direction to normalize (a pytree like ``params``).
        params: the point the direction starts from.

    Returns:
        The normalized direction.

    >>> import jax.numpy as jnp
    >>> layer_normalize({"w": jnp.array([1.0, 1.0])}, {"w": jnp.array([0.0, 2.0])})["w"].tolist()
    [1.4142135381698608, 1.4142135381698608]
    """

    return _layer_normalized(direction, params)


@jax.jit
def _layer_normalized(direction: Any, params: Any) -> Any:
    def normalize(d: jax.Array, p: jax.Array) -> jax.Array:
        return d / (jnp.sqrt(jnp.sum(d * d)) + _TINY) * jnp.sqrt(jnp.sum(p * p))

    return _map_matching(normalize, direction, params)


def direction_to(params: Any, target: Any) -> Any:
    """The direction from ``params`` to ``target`` (``target - params``, leaf by leaf).

    Along it, coordinate 0 is ``params`` and 1 is ``target``: the interpolation between two
    checkpoints (Goodfellow et al. 2015), or one axis of a plane through three.

    >>> import jax.numpy as jnp
    >>> direction_to({"w": jnp.array([1.0])}, {"w": jnp.array([4.0])})["w"].tolist()
    [3.0]
    """
    return _difference(params, target)


@jax.jit
def _difference(params: Any, target: Any) -> Any:
    return _map_matching(lambda p, t: t - p, params, target)


def _map_matching(fn: Any, first: Any, second: Any) -> Any:
    """``fn`` leaf by leaf over two pytrees that must have one structure and shapes."""
    first_leaves, first_def = jax.tree.flatten(first)
    second_leaves, second_def = jax.tree.flatten(second)
    if first_def != second_def:
        raise InputError(
            f"the two parameter trees differ in structure: {first_def} and {second_def}"
        )
    out = []
    for a, b in zip(first_leaves, second_leaves, strict=True):
        a, b = jnp.asarray(a), jnp.asarray(b)
        if a.shape != b.shape:
            raise InputError(f"a leaf of shape {a.shape} is matched with one of shape {b.shape}")
        out.append(fn(a, b))
    return jax.tree.unflatten(first_def, out)
