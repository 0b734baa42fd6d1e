"""The loss (and its gradient in plane coordinates) at many plane points: one jitted ``vmap``.

Points are evaluated in chunks of one fixed size (the last padded), each chunk one call of a
jitted ``vmap`` over its points, sharded over the devices along the points (parameters,
directions and data replicated), so a landscape compiles once. The chunk size comes from a
memory budget in bytes (:mod:`fdiff.landscape._budget`). While one chunk computes, the previous
one is copied out. With several processes (``jax.distributed.initialize()`` on each host),
``jax.devices()`` spans every host: inputs are placed shard by shard
(``jax.make_array_from_callback``) and results gathered with ``process_allgather``, so every
process gets the whole landscape.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from fdiff.errors import InputError
from fdiff.landscape._budget import SMALL_JOB, ChunkCost, bytes_used, measure_cost, plan_chunk
from fdiff.landscape._progress import progress_bar
from fdiff.landscape.plane import Plane

__all__ = ["DEFAULT_MEMORY_BUDGET", "evaluate_points"]

DEFAULT_MEMORY_BUDGET = 1 << 30
"""Bytes a landscape may hold on all its devices together at once, by default (1 GiB)."""

CPU_CHUNK_BYTES = 8 << 20
"""On a CPU, a chunk holds at most this many bytes of per-point memory per device (or one
point): larger chunks run slower, their buffers missing the caches (on the benchmark's MLP,
1 GiB chunks took 4-8x as long as 8 MiB ones). Other backends fill the budget."""


@dataclass(frozen=True)
class _PlaneLoss:
    """The loss at one plane point; hashable (by the loss function), so a jit compiles once."""

    loss: Callable[..., jax.Array]
    with_data: bool
    gradient: bool

    def at(self, origin: Any, x: Any, y: Any, data: Any, point: jax.Array) -> Any:
        def loss_at(a: jax.Array, b: jax.Array) -> jax.Array:
            params = jax.tree.map(lambda o, u, v: o + a * u + b * v, origin, x, y)
            out = jnp.asarray(self.loss(params, data) if self.with_data else self.loss(params))
            if out.size != 1:
                raise InputError(f"the loss must return a scalar, got shape {out.shape}")
            return out.reshape(())

        if not self.gradient:
            return loss_at(point[0], point[1])
        value, grads = jax.value_and_grad(loss_at, argnums=(0, 1))(point[0], point[1])
        return value, jnp.stack(grads)


@partial(jax.jit, static_argnums=0)
def _chunk(plane_loss: _PlaneLoss, origin: Any, x: Any, y: Any, data: Any, points: jax.Array):
    return jax.vmap(plane_loss.at, in_axes=(None, None, None, None, 0))(origin, x, y, data, points)


@lru_cache(maxsize=64)
def _cost(plane_loss: _PlaneLoss, structure: Any, leaves: tuple[Any, ...]) -> ChunkCost:
    arguments = jax.tree.unflatten(structure, leaves)
    point = jax.ShapeDtypeStruct((2,), jnp.float32)
    return measure_cost(_chunk, plane_loss, arguments, point)


@lru_cache(maxsize=16)
def _compiled(plane_loss: _PlaneLoss, structure: Any, leaves: tuple[Any, ...], block: Any) -> Any:
    """The chunk program for these argument shapes and shardings, compiled ahead of time."""
    return _chunk.lower(plane_loss, *jax.tree.unflatten(structure, leaves), block).compile()


def _chunk_size(
    plane_loss: _PlaneLoss,
    structure: Any,
    leaves: tuple[Any, ...],
    total: int,
    budget: int,
    spread: NamedSharding,
) -> int:
    """Points per chunk (a multiple of the devices). A small job (up to twice the probes'
    points per device) is checked whole against XLA's account of its own program: one compile,
    no probes. A larger one is planned from the probes' cost per point."""
    devices = spread.mesh.size
    per_device = math.ceil(total / devices)
    if per_device <= SMALL_JOB:
        block = jax.ShapeDtypeStruct((per_device * devices, 2), jnp.float32, sharding=spread)
        analysis = _compiled(plane_loss, structure, leaves, block).memory_analysis()
        if analysis is not None and bytes_used(analysis) <= budget // devices:
            return per_device * devices
    unsharded = tuple(jax.ShapeDtypeStruct(leaf.shape, leaf.dtype) for leaf in leaves)
    cost = _cost(plane_loss, structure, unsharded)
    prefer = CPU_CHUNK_BYTES if spread.mesh.devices.flat[0].platform == "cpu" else None
    return plan_chunk(total, cost.base, cost.per_point, budget, devices, prefer)


def evaluate_points(
    loss: Callable[..., jax.Array],
    plane: Plane,
    points: np.ndarray,
    *,
    data: Any = None,
    gradient: bool = True,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    devices: Sequence[jax.Device] | None = None,
    progress: bool | None = None,
    description: str = "landscape",
) -> tuple[np.ndarray, np.ndarray | None]:
    """The loss at each plane point ``points[k] = (a, b)``, and its gradient in ``(a, b)``.

    Returns:
        ``(values, gradients)``: shapes ``(k,)`` and ``(k, 2)`` (``None`` without ``gradient``).
    """
    if isinstance(memory_budget, bool) or not isinstance(memory_budget, int | np.integer):
        raise InputError(f"`memory_budget` must be a number of bytes, got {memory_budget!r}")
    mesh = Mesh(np.asarray(devices if devices is not None else jax.devices()), ("points",))
    plane_loss = _PlaneLoss(loss, data is not None, bool(gradient))
    replicated = NamedSharding(mesh, PartitionSpec())
    arguments = jax.tree.map(lambda a: _place(np.asarray(a), replicated), (*plane, data))
    leaves, structure = jax.tree.flatten(arguments)
    shapes = tuple(
        jax.ShapeDtypeStruct(leaf.shape, leaf.dtype, sharding=replicated) for leaf in leaves
    )
    spread = NamedSharding(mesh, PartitionSpec("points"))
    total = len(points)
    size = _chunk_size(plane_loss, structure, shapes, total, int(memory_budget), spread)
    chunks = math.ceil(total / size)
    padded = np.pad(points, ((0, chunks * size - total), (0, 0)), mode="edge")
    block = jax.ShapeDtypeStruct((size, 2), jnp.float32, sharding=spread)
    compiled = _compiled(plane_loss, structure, shapes, block)

    def launch(index: int) -> Any:
        return compiled(*arguments, _place(padded[index * size : (index + 1) * size], spread))

    values = np.empty(total, np.float32)
    grads = np.empty((total, 2), np.float32) if gradient else None
    with progress_bar(total, progress if chunks > 1 else False, description) as bar:
        pending = launch(0)
        for index in range(chunks):  # one chunk computes while the previous one is copied out
            done, pending = pending, launch(index + 1) if index + 1 < chunks else None
            start, stop = index * size, min(total, (index + 1) * size)
            outputs = done if gradient else (done,)
            values[start:stop] = _to_host(outputs[0])[: stop - start]
            if grads is not None:
                grads[start:stop] = _to_host(outputs[1])[: stop - start]
            bar.update(stop - start)
    return values, grads


def _place(array: np.ndarray, sharding: NamedSharding) -> jax.Array:
    """``array`` laid out as ``sharding`` says, each process supplying its own shards."""
    return jax.make_array_from_callback(array.shape, sharding, lambda index: array[index])


def _to_host(array: jax.Array) -> np.ndarray:
    if jax.process_count() > 1:
        return np.asarray(multihost_utils.process_allgather(array, tiled=True))
    return np.asarray(array)
