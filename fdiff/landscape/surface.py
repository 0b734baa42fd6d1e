"""Loss landscapes: the loss on a plane's grid (a gradient field), along a line, at given points.

All three evaluate ``loss(origin + a * x + b * y)`` with :mod:`fdiff.landscape._evaluate`: one
jitted ``vmap`` over points, chunked by a memory budget in bytes, sharded over the devices.

>>> import jax.numpy as jnp
>>> from fdiff.landscape.plane import Plane
>>> plane = Plane(jnp.zeros(2), jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0]))
>>> field = loss_landscape(lambda p: p[0] ** 2 + 3 * p[1], plane, (0, 2), (0, 1), n=3)
>>> field.values[-1].tolist(), field.grad_x[-1].tolist(), field.grad_y[-1].tolist()
([3.0, 4.0, 7.0], [0.0, 2.0, 4.0], [3.0, 3.0, 3.0])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from fdiff.errors import InputError
from fdiff.fields.field import GradientField, _axis
from fdiff.landscape._evaluate import DEFAULT_MEMORY_BUDGET, evaluate_points
from fdiff.landscape.plane import Plane

__all__ = ["PlaneValues", "Slice", "landscape_slice", "loss_landscape", "plane_values"]


class PlaneValues(NamedTuple):
    """The loss at plane points, and its gradient in plane coordinates.

    Attributes:
        values: the loss at each point, shape ``(k,)``.
        gradients: ``(dL/da, dL/db)`` at each point, shape ``(k, 2)``; ``None`` when not asked.
    """

    values: np.ndarray
    gradients: np.ndarray | None


class Slice(NamedTuple):
    """The loss along one direction: ``loss(origin + t * direction)``.

    Attributes:
        t: the coordinates along the direction, shape ``(n,)``.
        values: the loss at each, shape ``(n,)``.
        slopes: its derivative in ``t`` (the gradient's component along the direction).
    """

    t: np.ndarray
    values: np.ndarray
    slopes: np.ndarray


def plane_values(
    loss: Callable[..., jax.Array],
    plane: Plane,
    points: Sequence[Sequence[float]] | np.ndarray,
    *,
    data: Any = None,
    gradient: bool = True,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    devices: Sequence[jax.Device] | None = None,
    progress: bool | None = None,
) -> PlaneValues:
    """The loss at arbitrary plane coordinates ``points[k] = (a, b)``.

    Args:
        loss: ``loss(params) -> scalar``, or ``loss(params, data)`` when ``data`` is given
            (data passed this way is an argument of the compiled program, not a constant
            baked into it: better for large data sets).
        plane: the :class:`~fdiff.landscape.plane.Plane`.
        points: plane coordinates, shape ``(k, 2)``.
        data: the second argument of ``loss``, if it takes one (any pytree of arrays).
        gradient: also compute ``(dL/da, dL/db)`` (one backward pass per point).
        memory_budget: bytes all devices together may hold for one chunk of points (the
            parameters, directions and data included); default 1 GiB.
        devices: devices to shard the points over (default: all of ``jax.devices()``).
        progress: a tqdm bar on a terminal: ``None`` if tqdm is installed, ``True`` (tqdm
            required: ``pip install 'fdiff[progress]'``), ``False`` never.

    Returns:
        :class:`PlaneValues`.

    Raises:
        InputError: bad points, a loss that is not scalar, a budget too small for one point
            per device.

    >>> import jax.numpy as jnp
    >>> plane = Plane(jnp.ones(2), jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0]))
    >>> plane_values(lambda p: p @ p, plane, [(0.0, 0.0), (1.0, -1.0)]).gradients.tolist()
    [[2.0, 2.0], [4.0, 0.0]]
    """
    coordinates = np.asarray(points, dtype=np.float32)
    if coordinates.ndim != 2 or coordinates.shape[1] != 2 or not len(coordinates):
        raise InputError(f"`points` must have shape (k, 2), got {coordinates.shape}")
    if not np.isfinite(coordinates).all():
        raise InputError("`points` must be finite")
    values, gradients = evaluate_points(
        loss,
        plane,
        coordinates,
        data=data,
        gradient=gradient,
        memory_budget=memory_budget,
        devices=devices,
        progress=progress,
    )
    return PlaneValues(values, gradients)


def loss_landscape(
    loss: Callable[..., jax.Array],
    plane: Plane,
    xlim: tuple[float, float] = (-1.0, 1.0),
    ylim: tuple[float, float] = (-1.0, 1.0),
    n: int = 51,
    **options: Any,
) -> GradientField:
    """The loss and its gradient on an ``n`` x ``n`` grid of plane coordinates.

    The gradient is the loss's gradient projected on the plane, in plane coordinates:
    ``(dL/da, dL/db) = (<grad L, x>, <grad L, y>)``; so the field's arrows and descent paths
    are those of the 2-D function the picture shows.

    Args:
        loss: ``loss(params)``, or ``loss(params, data)`` with ``data=`` (see
            :func:`plane_values`).
        plane: the :class:`~fdiff.landscape.plane.Plane`.
        xlim: ``(low, high)`` of the first coordinate ``a``.
        ylim: ``(low, high)`` of the second coordinate ``b``.
        n: grid points per axis.
        **options: ``data``, ``memory_budget``, ``devices``, ``progress`` (see
            :func:`plane_values`).

    Returns:
        A :class:`~fdiff.fields.GradientField` (arrays indexed ``[j, i]`` for ``(x[i], y[j])``)
        that :func:`fdiff.fields.plot.plot_field` draws.
    """
    x, y = _axis(xlim, n, "xlim"), _axis(ylim, n, "ylim")
    grid = np.stack(np.meshgrid(x, y), axis=-1).reshape(-1, 2)  # row j, column i: (x[i], y[j])
    values, gradients = plane_values(loss, plane, grid, **options)
    arrays = [values.reshape(n, n), gradients[:, 0].reshape(n, n), gradients[:, 1].reshape(n, n)]
    for array in arrays:
        array.flags.writeable = False
    return GradientField(x, y, *arrays)


def landscape_slice(
    loss: Callable[..., jax.Array],
    origin: Any,
    direction: Any,
    tlim: tuple[float, float] = (-1.0, 1.0),
    n: int = 101,
    **options: Any,
) -> Slice:
    """The loss along one direction: ``loss(origin + t * direction)`` for ``n`` values of ``t``.

    Between two checkpoints, ``direction = direction_to(start, end)`` puts ``start`` at
    ``t = 0`` and ``end`` at ``t = 1``.

    Args:
        loss: ``loss(params)``, or ``loss(params, data)`` with ``data=``.
        origin: the parameters at ``t = 0``.
        direction: the direction (a pytree like ``origin``).
        tlim: ``(low, high)`` of ``t``.
        n: the number of points.
        **options: ``data``, ``memory_budget``, ``devices``, ``progress`` (see
            :func:`plane_values`).

    Returns:
        A :class:`Slice`.

    >>> import jax.numpy as jnp
    >>> line = landscape_slice(lambda p: jnp.sum(p**2), jnp.zeros(2), jnp.ones(2), (0, 1), n=3)
    >>> line.values.tolist(), line.slopes.tolist()
    ([0.0, 0.5, 2.0], [0.0, 2.0, 4.0])
    """
    t = _axis(tlim, n, "tlim")
    plane = Plane(origin, direction, jax.tree.map(jnp.zeros_like, direction))
    values, gradients = plane_values(loss, plane, np.stack([t, np.zeros_like(t)], 1), **options)
    return Slice(t, values, gradients[:, 0])
