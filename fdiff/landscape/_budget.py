"""How many plane points fit in a memory budget: a per-point cost measured off the compiled chunk.

Under ``vmap`` every point of a chunk holds its own perturbed parameters, activations and
backward buffers, so a chunk's memory is ``base + per_point * points`` (``base``: the
parameters, directions and data, held once per device). Both numbers come from XLA's own
account of two compiled probe chunks (``compiled.memory_analysis()``: arguments + outputs +
temporaries - aliased buffers), 8 and 16 points per device, fitted as a line; nothing is run.
Where a backend gives no memory analysis, ``per_point`` falls back to four copies of the
parameters plus the point's outputs (from ``jax.eval_shape``), ``base`` to the arguments' size.

>>> plan_chunk(total=1000, base=1_000, per_point=100, budget=21_000, devices=2)  # 6 x (2 x 84)
168
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import numpy as np

from fdiff.errors import InputError

__all__ = ["SMALL_JOB", "ChunkCost", "bytes_used", "measure_cost", "plan_chunk"]

_PROBE = 8  # points per device in the smaller probe; the larger has twice as many
SMALL_JOB = 2 * _PROBE
"""Points per device up to which a job is checked whole rather than probed."""


class ChunkCost(NamedTuple):
    """A chunk's bytes on one device: ``base + per_point * points``."""

    base: int
    per_point: int


def measure_cost(
    chunk: Callable[..., Any], static: Any, arguments: tuple[Any, ...], coordinates: Any
) -> ChunkCost:
    """The memory cost of ``chunk(static, *arguments, coordinates)`` on one device.

    Args:
        chunk: the jitted chunk function (``static`` is its static first argument).
        static: its static argument.
        arguments: the arrays every chunk receives whole (parameters, directions, data).
        coordinates: a ``jax.ShapeDtypeStruct`` of one point's coordinates.
    """
    abstract = jax.tree.map(lambda a: jax.ShapeDtypeStruct(np.shape(a), a.dtype), arguments)
    totals = []
    for points in (_PROBE, 2 * _PROBE):
        probe = jax.ShapeDtypeStruct((points, *coordinates.shape), coordinates.dtype)
        analysis = chunk.lower(static, *abstract, probe).compile().memory_analysis()
        if analysis is None:
            return _fallback_cost(chunk, static, abstract, coordinates)
        totals.append(bytes_used(analysis))
    per_point = max(1, math.ceil((totals[1] - totals[0]) / _PROBE))
    return ChunkCost(max(0, totals[0] - per_point * _PROBE), per_point)


def bytes_used(analysis: Any) -> int:
    """A compiled program's bytes on one device, from its ``memory_analysis()``."""
    return (
        analysis.argument_size_in_bytes
        + analysis.output_size_in_bytes
        + analysis.temp_size_in_bytes
        - analysis.alias_size_in_bytes
    )


def plan_chunk(
    total: int,
    base: int,
    per_point: int,
    budget: int,
    devices: int,
    prefer: int | None = None,
) -> int:
    """Points per chunk: as many as fit ``budget`` bytes in all (split evenly over ``devices``),
    a multiple of ``devices``, and chunks of near-equal size. With ``prefer``, no more points
    per device than ``prefer`` bytes of per-point memory hold (at least one): the size that
    runs fastest, where larger chunks only miss the caches.

    Raises:
        InputError: when even one point per device does not fit the budget.
    """
    fit = (budget // devices - base) // per_point
    if fit < 1:
        needed = devices * (base + per_point)
        raise InputError(
            f"`memory_budget` of {budget} bytes is too small: one point on each of {devices} "
            f"device(s) needs {needed} bytes; raise the budget to at least that"
        )
    if prefer is not None:
        fit = min(fit, max(1, prefer // per_point))
    needed_per_device = math.ceil(total / devices)
    chunks = math.ceil(needed_per_device / min(fit, needed_per_device))
    return math.ceil(needed_per_device / chunks) * devices


def _fallback_cost(
    chunk: Callable[..., Any], static: Any, abstract: tuple[Any, ...], coordinates: Any
) -> ChunkCost:
    """Without XLA's analysis: four copies of the parameters and the outputs, per point."""
    one = jax.ShapeDtypeStruct((1, *coordinates.shape), coordinates.dtype)
    outputs = jax.eval_shape(lambda *a: chunk(static, *a), *abstract, one)
    argument_bytes = sum(_bytes(leaf) for leaf in jax.tree.leaves(abstract))
    params_bytes = sum(_bytes(leaf) for leaf in jax.tree.leaves(abstract[0]))
    output_bytes = sum(_bytes(leaf) for leaf in jax.tree.leaves(outputs))
    return ChunkCost(argument_bytes, 4 * params_bytes + output_bytes)


def _bytes(leaf: Any) -> int:
    return int(np.prod(leaf.shape, dtype=np.int64)) * np.dtype(leaf.dtype).itemsize
