"""A plane in parameter space: an origin and two directions, and points on it.

The point at plane coordinates ``(a, b)`` is ``origin + a * x + b * y`` (leaf by leaf); the
landscape is the loss there as a function of ``(a, b)``.

>>> import jax.numpy as jnp
>>> plane = Plane({"w": jnp.array([1.0, 1.0])}, {"w": jnp.array([1.0, 0.0])},
...               {"w": jnp.array([0.0, 2.0])})
>>> plane.point(0.5, -1.0)["w"].tolist()
[1.5, -1.0]
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from fdiff.landscape.directions import (
    direction_to,
    filter_normalize,
    layer_normalize,
    random_direction,
)

__all__ = ["Plane", "interpolation_plane", "random_plane"]


class Plane(NamedTuple):
    """``origin + a * x + b * y``: a plane through ``origin`` spanned by directions ``x``, ``y``.

    Attributes:
        origin: the parameters at coordinates ``(0, 0)`` (a pytree).
        x: the first direction (a pytree like ``origin``).
        y: the second direction.
    """

    origin: Any
    x: Any
    y: Any

    def point(self, a: jax.Array | float, b: jax.Array | float) -> Any:
        """The parameters at plane coordinates ``(a, b)``."""
        return jax.tree.map(lambda o, u, v: o + a * u + b * v, self.origin, self.x, self.y)


def random_plane(
    seed: int | np.random.Generator,
    params: Any,
    *,
    normalization: Literal["filter", "layer", "none"] = "filter",
    filter_axis: int = 0,
) -> Plane:
    """A plane through ``params`` along two random Gaussian directions, normalized.

    The two draws follow each other from one generator; in many dimensions they are nearly
    orthogonal (the
    paper relies on this rather than orthogonalizing).

    Args:
        seed: an integer seed or a ``numpy.random.Generator`` (see
            :func:`~fdiff.landscape.directions.random_direction`).
        params: the origin.
        normalization: ``"filter"`` (:func:`~fdiff.landscape.directions.filter_normalize`,
            biases not moved), ``"layer"`` (per leaf) or ``"none"`` (raw Gaussian).
        filter_axis: the filter axis for filter normalization (0 for torch's layouts).

    Returns:
        The :class:`Plane`.

    >>> import jax.numpy as jnp
    >>> plane = random_plane(0, {"w": jnp.ones((3, 2)), "b": jnp.ones(3)})
    >>> [round(float(v), 4) for v in jnp.linalg.norm(plane.x["w"], axis=1)], plane.x["b"].tolist()
    ([1.4142, 1.4142, 1.4142], [0.0, 0.0, 0.0])
    """
    normalizers = {
        "filter": lambda d: filter_normalize(d, params, filter_axis=filter_axis),
        "layer": lambda d: layer_normalize(d, params),
        "none": lambda d: d,
    }
    if normalization not in normalizers:
        raise ValueError(
            f"`normalization` must be 'filter', 'layer' or 'none', got {normalization!r}"
        )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    normalize = normalizers[normalization]
    return Plane(
        params,
        normalize(random_direction(rng, params)),
        normalize(random_direction(rng, params)),
    )


def interpolation_plane(start: Any, end: Any, other: Any | None = None) -> Plane:
    """The plane through ``start`` with ``end`` at ``(1, 0)`` (and ``other`` at ``(0, 1)``).

    Without ``other`` the second direction is zero: a 1-D interpolation between checkpoints,
    drawn with :func:`~fdiff.landscape.surface.landscape_slice`. With it, the plane through
    three checkpoints (the ``loss-landscapes`` package's ``planar_interpolation``).

    >>> import jax.numpy as jnp
    >>> plane = interpolation_plane({"w": jnp.array([1.0])}, {"w": jnp.array([3.0])})
    >>> plane.point(1.0, 0.0)["w"].tolist()
    [3.0]
    """
    second = jax.tree.map(jnp.zeros_like, start) if other is None else direction_to(start, other)
    return Plane(start, direction_to(start, end), second)
