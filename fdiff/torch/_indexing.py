"""Index keys: ``x[...]`` split into a hashable static key and index arrays, and back.

An op's static arguments must be hashable (they are jit-static and part of graph keys), so
:func:`encode` turns an index into a tuple (slices as ``("slice", start, stop, step)``, each
index array replaced by :data:`ARRAY_INDEX`) plus the index arrays, which enter the op as
inputs; :func:`decode` rebuilds the numpy-style index inside the op.

>>> key, arrays = encode((slice(1, None), [0, 2]), (3, 4))
>>> key
(('slice', 1, None, None), '<array>')
>>> decode(key, tuple(arrays))
(slice(1, None, None), Array([0, 2], dtype=int32))
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

ARRAY_INDEX = "<array>"  # marks where an index array (an op input) goes in a static key


def encode(key: Any, shape: tuple[int, ...]) -> tuple[tuple, list[jax.Array]]:
    """Split an index into a hashable static key and the index arrays it holds.

    Boolean masks become integer indices (their count must be concrete, as in eager torch).
    Integer indices are checked against ``shape``: JAX would clamp them silently. Tensors
    used as indices are read through ``numpy.asarray``.
    """
    items = key if isinstance(key, tuple) else (key,)
    static: list[Any] = []
    arrays: list[np.ndarray] = []
    for item in items:
        if isinstance(item, slice):
            if item.step is not None and item.step <= 0:
                raise ValueError("step must be greater than zero")
            static.append(("slice", item.start, item.stop, item.step))
        elif item is None or item is Ellipsis or isinstance(item, int):
            static.append(item)
        else:
            array = np.asarray(item)
            if array.dtype == np.bool_:
                static.extend([ARRAY_INDEX] * array.ndim)
                arrays.extend(np.nonzero(array))
                continue
            if array.dtype.kind not in "iu":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            static.append(ARRAY_INDEX)
            arrays.append(array)
    _check_bounds(tuple(static), arrays, shape)
    return tuple(static), [jnp.asarray(a) for a in arrays]


def _check_bounds(key: tuple, arrays: list[np.ndarray], shape: tuple[int, ...]) -> None:
    """Raise torch's IndexError for too many indices or an integer index outside its dim."""
    consumed = sum(1 for item in key if item is not None and item is not Ellipsis)
    if consumed > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    dim, pending = 0, iter(arrays)
    for item in key:
        if item is Ellipsis:
            dim += len(shape) - consumed
            continue
        if item is None:
            continue
        if isinstance(item, int) or item == ARRAY_INDEX:
            values = np.asarray(item if isinstance(item, int) else next(pending))
            size = shape[dim]
            outside = values[(values >= size) | (values < -size)]
            if outside.size:
                raise IndexError(
                    f"index {outside.flat[0]} is out of bounds for dimension {dim} with size {size}"
                )
        dim += 1


def basic_index_kind(key: Any, static_key: tuple, shape: tuple[int, ...]) -> str:
    """How torch records a basic index (no index arrays): ``"select"``, ``"slice"``,
    ``"unsqueeze"`` or ``"alias"``.

    A lone item is one op (a lone slice always a slice). A tuple is applied item by item: an
    int selects, ``None`` unsqueezes, a slice that keeps the whole dim (``:``, ``0:``, ``:n``)
    and ``...`` do nothing, so the last item that did something names the node, and a tuple
    that did nothing records an alias.

    >>> keys = (slice(0, None), (0, slice(0, None)), (slice(None), slice(0, None)))
    >>> [basic_index_kind(key, encode(key, (3, 4))[0], (3, 4)) for key in keys]
    ['slice', 'select', 'alias']
    """
    if not isinstance(key, tuple):
        return _LONE_ITEM.get(key.__class__, "select")
    consumed = sum(1 for item in static_key if item is not None and item is not Ellipsis)
    kind, dim = "alias", 0
    for item in static_key:
        if item is Ellipsis:
            dim += len(shape) - consumed
            continue
        if item is None:
            kind = "unsqueeze"
            continue
        if isinstance(item, tuple):
            _, start, stop, step = item
            if (
                start not in (None, 0)
                or step not in (None, 1)
                or (stop is not None and stop < shape[dim])
            ):
                kind = "slice"
        else:
            kind = "select"
        dim += 1
    return kind


_LONE_ITEM = {slice: "slice", type(None): "unsqueeze", type(Ellipsis): "alias"}


def decode(key: tuple, indices: tuple) -> tuple:
    """Rebuild a numpy-style index from a static key: slices and the index-array inputs."""
    arrays = iter(indices)
    decoded = []
    for item in key:
        if isinstance(item, tuple):
            decoded.append(slice(*item[1:]))
        elif isinstance(item, str):
            decoded.append(next(arrays))
        else:
            decoded.append(item)
    return tuple(decoded)
