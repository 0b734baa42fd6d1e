"""Gradient fields of functions of two variables, and descent paths across them.

Both are built from one JAX program: ``jax.jit(jax.vmap(jax.value_and_grad(f)))`` (or, for a
field of gradients only, the same program with ``jax.grad`` in its place). The grid is
evaluated in chunks of rows (so memory stays bounded for large grids), each chunk sharded across
the available devices with :mod:`jax.sharding`. Descent paths run as one ``jax.lax.scan``.

A function is given either as ``f(a, b)`` (two scalars) or, with ``packed=True``, as
``f(params)`` (one 2-vector), the form of the seeds' ``params`` losses. It must return a scalar
(a one-element array, as torch losses of shape ``(1,)`` are, is accepted too).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any, NamedTuple, Protocol

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from fdiff.errors import InputError

__all__ = [
    "DescentPath",
    "GradientField",
    "HeavyBall",
    "Scalar",
    "UpdateRule",
    "check_starts",
    "descend",
    "descent_path",
    "descent_paths",
    "descent_results",
    "gradient_field",
]

DEFAULT_CHUNK = 1 << 22
"""Grid points evaluated per chunk (and held on the devices at once) by default."""


@dataclass(frozen=True, eq=False)
class GradientField:
    """Values and gradients of ``f`` on a grid (read-only NumPy float32 arrays).

    Arrays are indexed ``[row, column]`` = ``[j, i]`` for the point ``(x[i], y[j])``, the layout
    matplotlib's ``contour`` and ``quiver`` expect. They hold what ``f`` gave, ``inf`` and NaN
    included; :attr:`finite` masks every point where the value or either derivative is not
    finite (a log of a negative, a division by zero), and :meth:`report` says how many. A field
    computed with ``values=False`` has ``values=None``, and its mask covers the derivatives only.

    Attributes:
        x: grid coordinates of the first variable, shape ``(n,)``.
        y: grid coordinates of the second variable, shape ``(n,)``.
        values: ``f`` on the grid, shape ``(n, n)``; ``None`` for a gradient-only field.
        grad_x: derivative in the first variable, shape ``(n, n)``.
        grad_y: derivative in the second variable, shape ``(n, n)``.
    """

    x: np.ndarray
    y: np.ndarray
    values: np.ndarray | None
    grad_x: np.ndarray
    grad_y: np.ndarray

    def __repr__(self) -> str:
        """Shape, ranges and masked count; never the arrays themselves.

        >>> gradient_field(lambda a, b: a * b, (-1, 1), (0, 2), 3)
        GradientField(3x3, x in [-1, 1], y in [0, 2], f in [-2, 2], 0 masked)
        """
        parts = [f"{len(self.y)}x{len(self.x)}", f"x in [{self.x[0]:.4g}, {self.x[-1]:.4g}]"]
        parts.append(f"y in [{self.y[0]:.4g}, {self.y[-1]:.4g}]")
        if self.values is None:
            parts.append("gradient only")
        elif self.finite.any():
            shown = self.values[self.finite]
            parts.append(f"f in [{shown.min():.4g}, {shown.max():.4g}]")
        parts.append(f"{self.nonfinite} masked")
        return f"GradientField({', '.join(parts)})"

    @cached_property
    def finite(self) -> np.ndarray:
        """Boolean mask, shape ``(n, n)``: value (if computed) and both derivatives finite."""
        finite = np.isfinite(self.grad_x) & np.isfinite(self.grad_y)
        return finite if self.values is None else finite & np.isfinite(self.values)

    @cached_property
    def nonfinite(self) -> int:
        """How many grid points are masked."""
        return int(self.finite.size - np.count_nonzero(self.finite))

    def report(self) -> str:
        """One line saying how many points are masked (empty when none are)."""
        if not self.nonfinite:
            return ""
        total = self.finite.size
        what = "gradient" if self.values is None else "value or gradient"
        return (
            f"{self.nonfinite} of {total} grid points ({100 * self.nonfinite / total:.2g}%) have "
            f"a non-finite {what} (log of a negative? division by zero?) and are masked"
        )


class DescentPath(NamedTuple):
    """A gradient-descent trajectory: the points visited and the values of ``f`` there.

    Attributes:
        points: the iterates, shape ``(steps + 1, 2)``, starting with the start point (after a
            divergence, the last is the first point found outside ``max_norm`` or non-finite).
        values: ``f`` at each point, shape ``(steps + 1,)``; after a divergence the last one
            may be ``inf`` or NaN.
        diverged: whether the run stopped early because it diverged.
        message: a one-line report of how the run went.
    """

    points: np.ndarray
    values: np.ndarray
    diverged: bool
    message: str

    @property
    def steps(self) -> int:
        """The number of updates taken."""
        return len(self.points) - 1


def gradient_field(
    f: Callable[..., jax.Array],
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    n: int = 101,
    *,
    packed: bool = False,
    values: bool = True,
    chunk_size: int = DEFAULT_CHUNK,
    devices: Sequence[jax.Device] | None = None,
) -> GradientField:
    """Values and gradients of ``f`` on an ``n`` x ``n`` grid over ``xlim`` x ``ylim``.

    With ``values=False`` only the gradient is computed (``jax.grad`` in place of
    ``jax.value_and_grad``, about half the work for a cheap ``f``): enough for arrows or
    streamlines without contours, or for a field fed to further computation.

    Args:
        f: ``f(a, b) -> scalar``, or ``f(params) -> scalar`` with ``packed=True``.
        xlim: ``(low, high)`` of the first variable.
        ylim: ``(low, high)`` of the second variable.
        n: grid points per axis (at least 2).
        packed: ``f`` takes one 2-vector instead of two scalars.
        values: also compute ``f`` itself (needed for contours); ``False`` leaves
            ``field.values`` as ``None``.
        chunk_size: grid points evaluated at once; bounds the memory used on the devices.
        devices: devices to shard each chunk's rows across (default: all of ``jax.devices()``).

    Returns:
        A :class:`GradientField`; its ``finite`` mask and ``report()`` cover non-finite points.

    Raises:
        InputError: for a bad grid (``n < 2``, empty or non-finite limits, limits too close
            or too large for ``n`` distinct float32 points, ``chunk_size < 1``).

    >>> field = gradient_field(lambda a, b: 3 * a**3 + 2 * b**4, (0, 3), (0, 2), n=4)
    >>> float(field.values[-1, -1]), float(field.grad_x[-1, -1]), float(field.grad_y[-1, -1])
    (113.0, 81.0, 64.0)
    >>> grads = gradient_field(lambda a, b: 3 * a**3 + 2 * b**4, (0, 3), (0, 2), n=4, values=False)
    >>> grads.values is None, float(grads.grad_x[-1, -1]), float(grads.grad_y[-1, -1])
    (True, 81.0, 64.0)
    """
    x, y = _axis(xlim, n, "xlim"), _axis(ylim, n, "ylim")
    if chunk_size < 1:
        raise InputError(f"`chunk_size` must be at least 1, got {chunk_size}")
    mesh = Mesh(np.asarray(devices if devices is not None else jax.devices()), ("rows",))
    rows = _rows_per_chunk(n, chunk_size, mesh.size)
    arrays = _evaluate_in_chunks(Scalar(f, packed), bool(values), mesh, x, y, rows)
    return GradientField(x, y, *arrays) if values else GradientField(x, y, None, *arrays)


def descent_paths(
    f: Callable[..., jax.Array],
    starts: Sequence[Sequence[float]] | np.ndarray,
    *,
    learning_rate: float = 0.1,
    steps: int = 50,
    momentum: float = 0.0,
    packed: bool = False,
    max_norm: float = 1e6,
) -> tuple[DescentPath, ...]:
    """Gradient descent (with optional momentum) on ``f`` from each start point.

    The update is torch's ``SGD``: ``v = momentum * v + grad; p = p - learning_rate * v``. All
    starts run together in one ``jax.lax.scan``; a run stops early, and is reported as
    diverged, when ``f`` or its gradient stops being finite or ``|p|`` exceeds ``max_norm``.

    Args:
        f: ``f(a, b) -> scalar``, or ``f(params) -> scalar`` with ``packed=True``.
        starts: start points, shape ``(k, 2)``.
        learning_rate: the step size (the seeds use 0.1).
        steps: the most updates to take.
        momentum: heavy-ball momentum in ``[0, 1)``; 0 is plain gradient descent.
        packed: ``f`` takes one 2-vector instead of two scalars.
        max_norm: a run whose iterate grows past this norm has diverged.

    Returns:
        One :class:`DescentPath` per start.

    Raises:
        InputError: for a bad start array, learning rate, step count or momentum.

    >>> (path,) = descent_paths(lambda p: (2 * p[0] + p[1] - 3) ** 2, [(1.0, 3.0)], steps=1,
    ...                         packed=True)
    >>> path.points.astype(float).round(4).tolist(), path.values.tolist()
    ([[1.0, 3.0], [0.2, 2.6]], [4.0, 0.0])
    """
    points = check_starts(starts)
    _check_descent(learning_rate, steps, momentum, max_norm)
    rule = HeavyBall(float(learning_rate), float(momentum))
    return descent_results(*descend(Scalar(f, packed), rule, steps, points, max_norm), max_norm)


def descent_path(
    f: Callable[..., jax.Array], start: Sequence[float], **options: float | int | bool
) -> DescentPath:
    """Gradient descent from one start point: :func:`descent_paths` for a single start.

    Args:
        f: ``f(a, b) -> scalar``, or ``f(params) -> scalar`` with ``packed=True``.
        start: the start point ``(a, b)``.
        **options: ``learning_rate``, ``steps``, ``momentum``, ``packed``, ``max_norm``.

    Returns:
        The :class:`DescentPath`.

    >>> path = descent_path(lambda a, b: a**2 + b**2, (1.0, 1.0), steps=2)
    >>> path.points.astype(float).round(4).tolist(), path.diverged
    ([[1.0, 1.0], [0.8, 0.8], [0.64, 0.64]], False)
    """
    return descent_paths(f, [start], **options)[0]


@dataclass(frozen=True)
class Scalar:
    """``f`` as a scalar function of two scalars; hashable, so jit caches one compile per f."""

    f: Callable[..., jax.Array]
    packed: bool

    def __call__(self, a: jax.Array, b: jax.Array) -> jax.Array:
        out = jnp.asarray(self.f(jnp.stack([a, b])) if self.packed else self.f(a, b))
        if out.size != 1:
            raise ValueError(f"f must return a scalar (or one element), got shape {out.shape}")
        return out.reshape(())


@partial(jax.jit, static_argnums=(0, 1))
def _field_block(f: Scalar, values: bool, x: jax.Array, y: jax.Array) -> tuple[jax.Array, ...]:
    """``f`` (if ``values``) and its gradient on the grid ``x`` by ``y`` (rows follow ``y``)."""
    point = jax.value_and_grad(f, argnums=(0, 1)) if values else jax.grad(f, argnums=(0, 1))
    row = jax.vmap(point, in_axes=(0, None))
    return tuple(jax.tree.leaves(jax.vmap(row, in_axes=(None, 0))(x, y)))


def _evaluate_in_chunks(
    f: Scalar, values: bool, mesh: Mesh, x: np.ndarray, y: np.ndarray, rows: int
) -> list[np.ndarray]:
    """Run :func:`_field_block` on chunks of ``rows`` rows; gather (values and) gradients."""
    n = len(y)
    chunks = math.ceil(n / rows)
    padded = np.pad(y, (0, chunks * rows - n), mode="edge")  # every chunk the same shape
    row_sharding = NamedSharding(mesh, PartitionSpec("rows"))
    x_on_devices = jax.device_put(x, NamedSharding(mesh, PartitionSpec()))

    def chunk(index: int) -> tuple[jax.Array, ...]:
        y_chunk = jax.device_put(padded[index * rows : (index + 1) * rows], row_sharding)
        return _field_block(f, values, x_on_devices, y_chunk)

    if chunks == 1:  # on a CPU the result is a view of the devices' buffers, no copy
        return [np.asarray(out)[:n] for out in chunk(0)]
    out = [np.empty((n, n), np.float32) for _ in range(3 if values else 2)]
    pending = chunk(0)
    for index in range(chunks):  # one chunk computes while the previous one is copied out
        block, pending = pending, chunk(index + 1) if index + 1 < chunks else None
        start, stop = index * rows, min(n, (index + 1) * rows)
        for target, source in zip(out, block, strict=True):
            target[start:stop] = np.asarray(source)[: stop - start]
    for array in out:
        array.flags.writeable = False
    return out


class UpdateRule(Protocol):
    """An update rule with optax's signature (an ``optax.GradientTransformation`` is one)."""

    def init(self, params: jax.Array) -> Any: ...

    def update(self, grads: jax.Array, state: Any, params: jax.Array) -> tuple[jax.Array, Any]: ...


@partial(
    jax.tree_util.register_dataclass, data_fields=["learning_rate", "momentum"], meta_fields=[]
)
@dataclass(frozen=True)
class HeavyBall:
    """torch's ``SGD`` with momentum as an update rule: ``v = m v + g``, update ``-lr v``.

    A pytree of its two numbers, so a new learning rate or momentum reuses the compiled run.
    """

    learning_rate: float
    momentum: float

    def init(self, params: jax.Array) -> jax.Array:
        return jnp.zeros_like(params)

    def update(self, grads: jax.Array, velocity: jax.Array, params: jax.Array):
        velocity = self.momentum * velocity + grads
        return -(self.learning_rate * velocity), velocity


def descend(f: Scalar, rule: UpdateRule, steps: int, starts: np.ndarray, max_norm: float):
    """Iterates, values and a status per step (0 ok, 1 non-finite, 2 too far, 3 stopped).

    All starts run together: ``rule`` is applied to each start's 2-vector under ``jax.vmap``,
    the steps in one ``jax.lax.scan``; a stopped run keeps its point and state.
    """
    run = _descend_traced_rule if isinstance(rule, HeavyBall) else _descend
    return run(f, rule, steps, jnp.asarray(starts), max_norm)


def _descend_program(f: Scalar, rule: UpdateRule, steps: int, starts, max_norm):
    value_and_grad = jax.value_and_grad(lambda p: f(p[0], p[1]))

    def step(carry, _):
        point, state, running = carry
        value, grad = value_and_grad(point)
        finite = jnp.isfinite(value) & jnp.all(jnp.isfinite(grad))
        status = jnp.where(finite, jnp.where(jnp.linalg.norm(point) > max_norm, 2, 0), 1)
        status = jnp.where(running, status, 3)
        go = status == 0
        updates, moved_state = rule.update(grad, state, point)
        state = jax.tree.map(lambda new, old: jnp.where(go, new, old), moved_state, state)
        moved = jnp.where(go, point + updates, point)
        return (moved, state, go), (point, value, status)

    def run(start):
        init = (start, rule.init(start), jnp.array(True))
        return jax.lax.scan(step, init, length=steps + 1)[1]

    return jax.vmap(run)(starts)


_descend = jax.jit(_descend_program, static_argnums=(0, 1, 2))
_descend_traced_rule = jax.jit(_descend_program, static_argnums=(0, 2))


def descent_results(
    trace: np.ndarray, values: np.ndarray, status: np.ndarray, max_norm: float
) -> tuple[DescentPath, ...]:
    """One :class:`DescentPath` per start from :func:`descend`'s stacked output."""
    return tuple(
        _descent_result(np.asarray(t), np.asarray(v), np.asarray(s), max_norm)
        for t, v, s in zip(trace, values, status, strict=True)
    )


def check_starts(starts: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """``starts`` as a float32 ``(k, 2)`` array; an :class:`InputError` when it is not one."""
    points = np.asarray(starts, dtype=np.float32)
    if points.ndim != 2 or points.shape[1] != 2 or not np.isfinite(points).all():
        raise InputError(f"`starts` must be finite points of shape (k, 2), got {points.tolist()}")
    return points


def _descent_result(
    points: np.ndarray, values: np.ndarray, status: np.ndarray, max_norm: float
) -> DescentPath:
    stops = np.flatnonzero(status != 0)
    start = _format_point(points[0])
    if not stops.size:
        message = (
            f"{len(points) - 1} steps from {start} to {_format_point(points[-1])}, "
            f"f {values[0]:.4g} -> {values[-1]:.4g}"
        )
        return DescentPath(points, values, False, message)
    stop = int(stops[0])
    reached = stop + int(np.isfinite(points[stop]).all())
    if status[stop] == 1:
        why = f"f or its gradient is not finite at {_format_point(points[stop])}"
    else:
        why = f"|p| = {np.linalg.norm(points[stop]):.3g} exceeds max_norm = {max_norm:.3g}"
    message = (
        f"diverged at step {stop} from {start}: {why} "
        "(learning rate too large, or f unbounded below?)"
    )
    return DescentPath(points[:reached], values[:reached], True, message)


def _check_descent(learning_rate: float, steps: int, momentum: float, max_norm: float) -> None:
    if not (math.isfinite(learning_rate) and learning_rate > 0):
        raise InputError(f"`learning_rate` must be positive and finite, got {learning_rate}")
    if not isinstance(steps, int) or steps < 0:
        raise InputError(f"`steps` must be a non-negative integer, got {steps!r}")
    if not 0 <= momentum < 1:
        raise InputError(f"`momentum` must be in [0, 1), got {momentum}")
    if not max_norm > 0:
        raise InputError(f"`max_norm` must be positive, got {max_norm}")


def _axis(limits: tuple[float, float], n: int, name: str) -> np.ndarray:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise InputError(f"`n` must be an integer of at least 2, got {n!r}")
    low, high = (float(v) for v in limits)
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise InputError(f"`{name}` must be finite with low < high, got ({low}, {high})")
    largest = float(np.finfo(np.float32).max)
    if max(abs(low), abs(high)) > largest:
        raise InputError(
            f"`{name}` ({low:g}, {high:g}) is outside float32's range (±{largest:.3g})"
        )
    axis = np.linspace(low, high, int(n), dtype=np.float32)
    if not np.all(np.diff(axis) >= np.finfo(np.float32).smallest_normal):
        raise InputError(
            f"`{name}` ({low:.9g}, {high:.9g}) is too narrow for {n} distinct float32 grid "
            f"points (float32 has about 7 significant digits); widen it"
        )
    axis.flags.writeable = False
    return axis


def _rows_per_chunk(n: int, chunk_size: int, device_count: int) -> int:
    """Rows per chunk: chunks of near-equal size, each row count a multiple of the devices."""
    chunks = math.ceil(n * n / chunk_size)
    rows = math.ceil(n / chunks)
    return math.ceil(rows / device_count) * device_count


def _format_point(point: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in point) + ")"
