"""Optimizer trajectories: their top-2 PCA plane, and their projection onto a plane.

Li et al. (2018, section 7) draw a training run on the plane of the first two principal
directions of ``M = [theta_0 - theta_n; ...; theta_{n-1} - theta_n]`` (the recorded parameters
minus the final ones): random directions are nearly orthogonal to a trajectory in many
dimensions, so it would project to a point. Coordinates on a plane are the least-squares fit
``theta - origin ~ a * x + b * y``; the part of the trajectory off the plane is reported.

>>> import jax.numpy as jnp
>>> import numpy as np
>>> run = [{"w": jnp.array([4.0, 0.0, 1.0])}, {"w": jnp.array([2.0, 1.0, 1.0])},
...        {"w": jnp.array([0.0, 0.0, 1.0])}]
>>> pca = pca_directions(run)  # the run lies in a plane: its distances to the end are kept
>>> np.linalg.norm(project_points(pca.plane, run), axis=1).astype(float).round(4).tolist()
[4.0, 2.2361, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import numpy as np
from jax.flatten_util import ravel_pytree

from fdiff.errors import InputError
from fdiff.fields.field import DescentPath
from fdiff.landscape.plane import Plane

__all__ = ["PCADirections", "pca_directions", "project_points", "project_trajectory"]


class PCADirections(NamedTuple):
    """The top-2 principal directions of a trajectory, and the plane they span.

    Attributes:
        plane: origin the final parameters, ``x`` and ``y`` the first two principal directions
            (unit vectors over all parameters, orthogonal to each other).
        explained: the fraction of the trajectory's squared deviation each direction explains.
    """

    plane: Plane
    explained: tuple[float, float]


def pca_directions(trajectory: Sequence[Any], *, center: bool = False) -> PCADirections:
    """The plane of the first two principal directions of ``trajectory`` (Li et al. 2018).

    The rows of ``M`` are each recorded point minus the last one; the directions are the first
    two right singular vectors of ``M`` (``center=True`` subtracts the rows' mean first, as
    scikit-learn's ``PCA`` in the paper's code does; the paper's text does not). Each
    direction's sign is chosen so that its largest-magnitude entry is positive.

    Args:
        trajectory: the recorded parameters, oldest first, the final point last (at least 3).
        center: centre the rows of ``M`` before the SVD.

    Returns:
        :class:`PCADirections`: the plane through the final point, and the explained fractions.

    Raises:
        InputError: for fewer than 3 points, points of different structures, or a trajectory
            that does not move in two independent directions.
    """
    matrix, unravel = _stack(trajectory)
    if len(matrix) < 3:
        raise InputError(f"a PCA plane needs at least 3 recorded points, got {len(matrix)}")
    deviations = matrix[:-1] - matrix[-1]
    if center:
        deviations = deviations - deviations.mean(axis=0)
    _, singular, vt = np.linalg.svd(deviations, full_matrices=False)
    total = float(np.sum(singular**2))
    if len(singular) < 2 or singular[1] <= singular[0] * np.finfo(np.float32).eps * 10:
        raise InputError(
            "the trajectory does not move in two independent directions (it is a point or a "
            "straight line): no PCA plane; draw a 1-D slice instead"
        )
    directions = []
    for row in vt[:2]:
        row = row if row[np.argmax(np.abs(row))] > 0 else -row
        directions.append(unravel(row.astype(np.float32)))
    plane = Plane(unravel(matrix[-1].astype(np.float32)), *directions)
    explained = (float(singular[0] ** 2 / total), float(singular[1] ** 2 / total))
    return PCADirections(plane, explained)


def project_points(plane: Plane, points: Sequence[Any]) -> np.ndarray:
    """Plane coordinates ``(a, b)`` of each parameter pytree in ``points``: the least-squares
    solution of ``point - origin ~ a * x + b * y`` (the dot products when ``x``, ``y`` are
    orthonormal, as PCA directions are).

    Args:
        plane: the plane.
        points: parameter pytrees like ``plane.origin``.

    Returns:
        An array of shape ``(len(points), 2)``.

    Raises:
        InputError: when ``x`` and ``y`` are parallel (or one is zero): no unique coordinates.
    """
    return _projection(plane, points)[0]


def project_trajectory(
    plane: Plane,
    trajectory: Sequence[Any],
    loss: Callable[..., jax.Array] | None = None,
    *,
    data: Any = None,
    name: str = "trajectory",
) -> DescentPath:
    """A recorded trajectory projected onto ``plane``, as a path the field plots can draw.

    Args:
        plane: the plane (for example ``pca_directions(trajectory).plane``).
        trajectory: the recorded parameters, in order.
        loss: the loss, ``loss(params)`` (or ``loss(params, data)``); its values along the
            recorded trajectory (not on the plane) become the path's ``values``. Without it
            they are NaN.
        data: the second argument of ``loss``, if it takes one.
        name: how the path's message names it.

    Returns:
        A :class:`~fdiff.fields.DescentPath`: ``points`` the plane coordinates, ``values`` the
        losses, ``diverged`` False, and a message with how far the run lies off the plane.
    """
    coordinates, residual = _projection(plane, trajectory)
    if loss is None:
        values = np.full(len(coordinates), np.nan, np.float32)
    else:
        call = loss if data is None else (lambda params: loss(params, data))
        values = np.array([float(call(point)) for point in trajectory], np.float32)
    message = (
        f"{name}: {len(coordinates) - 1} steps, from ({coordinates[0][0]:.3g}, "
        f"{coordinates[0][1]:.3g}) to ({coordinates[-1][0]:.3g}, {coordinates[-1][1]:.3g}); "
        f"{100 * residual:.1f}% of its movement lies off the plane"
    )
    return DescentPath(coordinates, values, False, message)


def _projection(plane: Plane, points: Sequence[Any]) -> tuple[np.ndarray, float]:
    """Coordinates of ``points``, and the fraction of their deviation from the origin that lies
    off the plane (the residual's norm over the deviations' norm)."""
    origin = ravel_pytree(plane.origin)[0]
    basis = np.stack(
        [np.asarray(ravel_pytree(plane.x)[0]), np.asarray(ravel_pytree(plane.y)[0])], axis=1
    ).astype(np.float64)
    matrix, _ = _stack(points)
    deviations = matrix - np.asarray(origin, np.float64)
    gram = basis.T @ basis
    if abs(np.linalg.det(gram)) <= np.finfo(np.float32).eps * np.trace(gram) ** 2:
        raise InputError("the plane's two directions are parallel (or zero): no coordinates")
    coordinates = np.linalg.solve(gram, basis.T @ deviations.T).T
    off = deviations - coordinates @ basis.T
    scale = float(np.linalg.norm(deviations))
    residual = float(np.linalg.norm(off)) / scale if scale > 0 else 0.0
    return coordinates.astype(np.float32), residual


def _stack(points: Sequence[Any]) -> tuple[np.ndarray, Callable[[np.ndarray], Any]]:
    """Each point flattened to a float64 row; the function that unflattens a row."""
    if not len(points):
        raise InputError("no points given")
    rows, unravel = [], None
    structure = jax.tree.structure(points[0])
    for point in points:
        if jax.tree.structure(point) != structure:
            raise InputError(
                f"the recorded points differ in structure: {structure} and "
                f"{jax.tree.structure(point)}"
            )
        flat, unravel = ravel_pytree(point)
        rows.append(np.asarray(flat, np.float64))
    if len({row.shape for row in rows}) != 1:
        raise InputError("the recorded points differ in shape")
    return np.stack(rows), unravel
