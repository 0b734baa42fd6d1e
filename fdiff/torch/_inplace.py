"""torch's in-place methods: ``zero_``, ``fill_``, ``copy_``, ``add_``, ``x[i] = v``...

An in-place op computes its result like the out-of-place op, then :func:`assign` makes the
tensor hold it: the same storage (so ``detach()`` twins see the change) and, when recorded, the
new node as its grad_fn. A leaf that requires grad refuses, as in torch, unless grad mode is off.

>>> import fdiff.torch as torch
>>> x = torch.zeros(3)
>>> x[1] = 5.0
>>> x.add_(1)
tensor([1., 6., 1.])
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fdiff.torch import _caches, _dtypes, _indexing
from fdiff.torch import _ops as ops
from fdiff.torch import _shape_ops as shape_ops
from fdiff.torch._dispatch import apply
from fdiff.torch._errors import LEAF_IN_PLACE
from fdiff.torch._grad_mode import is_grad_enabled
from fdiff.torch._opspec import OpSpec
from fdiff.torch._tensor_base import TensorBase


def assign(self: Any, result: Any) -> Any:
    """Make ``self`` hold ``result`` in place (torch's in-place op semantics); returns ``self``."""
    if self._node is None and self._requires_grad and is_grad_enabled():
        raise RuntimeError(LEAF_IN_PLACE)
    value, dtype = result._storage[0], self._storage[0].dtype
    self._storage[0] = value if value.dtype == dtype else result._value.astype(dtype)
    if result._node is not None:
        self._node = result._node
    return self


@_caches.lru_cache(maxsize=256)
def _zeros(shape: tuple[int, ...], dtype: np.dtype) -> jax.Array:
    return jnp.zeros(shape, dtype)  # jax arrays are immutable: one per shape and dtype is enough


def zero_(self: Any) -> Any:
    """Fill with zeros in place (e.g. ``x.grad.zero_()``)."""
    if self._node is None and not self._requires_grad:  # outside every graph: no op to run
        self._storage[0] = _zeros(tuple(self.shape), self._storage[0].dtype)
        return self
    return assign(self, apply(ops.zero, self))


def fill_(self: Any, value: Any) -> Any:
    return assign(self, apply(ops.fill, self, value))


def copy_(self: Any, src: Any) -> Any:
    return assign(self, apply(ops.copy, self, src))


_SCALAR_TYPE_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int"}


def _arithmetic(spec: OpSpec, self: Any, other: Any, **static: Any) -> Any:
    """``self`` after ``self.<op>_(other)``: the result keeps ``self``'s dtype, so an operand
    that promotes further (float64 into float32) is cast first, inside the recorded op; a result
    of a higher category (a float into a long) is refused, as torch does."""
    own = self._storage[0].dtype
    operand = other._storage[0] if isinstance(other, TensorBase) else other
    result = _dtypes.promotion([self._storage[0], operand], spec.promotes.to_float)
    if result is not None and result != own:
        if "bif".index(result.kind) > "bif".index(own.kind):
            names = [_dtypes.from_storage(d).name for d in (result, own)]
            result_name, own_name = (_SCALAR_TYPE_NAMES.get(n, n.capitalize()) for n in names)
            raise RuntimeError(
                f"result type {result_name} can't be cast to the desired output type {own_name}"
            )
        static["promote_to"] = own
    return assign(self, apply(spec, self, other, **static))


def add_(self: Any, other: Any, alpha: float = 1) -> Any:
    return _arithmetic(ops.add, self, other, alpha=alpha)


def sub_(self: Any, other: Any, alpha: float = 1) -> Any:
    return _arithmetic(ops.sub, self, other, alpha=alpha)


def mul_(self: Any, other: Any) -> Any:
    return _arithmetic(ops.mul, self, other)


def div_(self: Any, other: Any) -> Any:
    return _arithmetic(ops.div, self, other)


def clamp_(self: Any, min: Any = None, max: Any = None) -> Any:
    return assign(self, apply(ops.clamp, self, low=min, high=max))


def setitem(self: Any, key: Any, value: Any) -> None:
    """``self[key] = value``: recorded as torch's CopySlices or IndexPutBackward0."""
    static_key, indices = _indexing.encode(key, self.shape)
    assign(self, apply(shape_ops.index_put, self, value, *indices, key=static_key))
