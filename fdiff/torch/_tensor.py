"""``Tensor``: a jax.Array plus torch's autograd metadata, and :func:`apply`, the op dispatcher.

A tensor's value lives in a one-element list (its storage) so that ``detach()``, ``.data`` and
``Variable(t)`` share it with the original, as torch's views of one storage do: an in-place op on
either is seen by both. Everything a tensor computes goes through :func:`apply`, which runs the
op table's jitted implementation or, when grad mode is on and an input requires grad, records a
:class:`~fdiff.torch._graph.Node` and defers the computation: the storage then holds the node
until ``_value`` (or a backward) computes it, so every sharer of the storage sees the value.
"""

from __future__ import annotations

import builtins
import functools
import math
import warnings
import weakref
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fdiff.torch import _deferred, _dtypes
from fdiff.torch._graph import AccumulateGrad, Node, is_grad_enabled, materialize
from fdiff.torch._ops import ARRAY_INDEX, OPS, OpSpec
from fdiff.torch._printing import format_tensor


class Size(tuple):
    """torch.Size: a tuple of ints that prints as ``torch.Size([2, 2])``."""

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))


_NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See "
    "github.com/pytorch/pytorch/pull/30531 for more information."
)
_LEAF_INPLACE_MESSAGE = "a leaf Variable that requires grad is being used in an in-place operation."


class Tensor:
    """A torch-style tensor on JAX: ``requires_grad``, ``grad``, ``grad_fn``, ``backward()``.

    >>> import fdiff.torch as torch
    >>> x = torch.tensor([2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([4., 6.])
    """

    __array_priority__ = 1000  # numpy scalars defer to our reflected operators

    def __init__(self, data: Any = ()) -> None:
        # torch.Tensor(data) always makes a float32 leaf.
        value = jnp.asarray(np.asarray(data, dtype=np.float32))
        self._init(value, None, False)

    def _init(self, value: jax.Array, node: Node | None, requires_grad: bool) -> None:
        self._storage = [value]
        self._node = node
        self._requires_grad = requires_grad
        self._grad: Tensor | None = None
        self._retains_grad = False

    @classmethod
    def _make(cls, value: jax.Array, node: Node | None = None, requires_grad: bool = False):
        tensor = object.__new__(cls)
        tensor._init(value, node, requires_grad)
        return tensor

    @property
    def _value(self) -> jax.Array:
        value = self._storage[0]
        if value.__class__ is Node:  # a deferred result: compute it now, for every sharer
            value = self._storage[0] = materialize(value)
        return value

    # --- autograd metadata --------------------------------------------------------------------

    @property
    def requires_grad(self) -> bool:
        return self._node is not None or self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Start (or stop) recording ops on this leaf; returns ``self``."""
        if self._node is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach()."
                )
            return self
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients"
            )
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self) -> Node | None:
        return self._node

    @property
    def grad(self) -> Tensor | None:
        if self._node is not None and not self._retains_grad:
            warnings.warn(_NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None and value.shape != self.shape:
            raise RuntimeError(
                f"assigned grad has data of a different size: {value.shape} vs {self.shape}"
            )
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor on the next backward (no-op on leaves)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._node is not None:
            self._retains_grad = True
            self._node.retained = weakref.ref(self)

    def detach(self) -> Tensor:
        """A leaf sharing this tensor's storage, outside every graph (torch's ``detach``)."""
        twin = Tensor._make(self._storage[0])
        twin._storage = self._storage
        return twin

    def detach_(self) -> Tensor:
        self._node = None
        self._requires_grad = False
        return self

    @property
    def data(self) -> Tensor:
        return self.detach()

    @data.setter
    def data(self, value: Tensor) -> None:
        self._storage[0] = value._value

    def backward(
        self,
        gradient: Tensor | None = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see ``torch.autograd``)."""
        from fdiff.torch._autograd import backward

        backward(self, gradient, retain_graph, create_graph, inputs)

    # --- shape and conversion -----------------------------------------------------------------

    @property
    def shape(self) -> Size:
        return Size(self._storage[0].shape)  # a deferred result's node knows its shape

    def size(self, dim: int | None = None) -> Size | int:
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return len(self._storage[0].shape)

    ndim = property(dim)

    def numel(self) -> int:
        return math.prod(self._storage[0].shape)

    @property
    def dtype(self) -> _dtypes.dtype:
        return _dtypes.from_storage(self._storage[0].dtype)

    @property
    def device(self) -> str:
        return "cpu"

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def item(self) -> builtins.float | builtins.int | builtins.bool:
        """The single value as a Python number."""
        if self.numel() != 1:
            raise RuntimeError(
                f"a Tensor with {self.numel()} elements cannot be converted to Scalar"
            )
        return np.asarray(self._value).reshape(()).item()

    def tolist(self) -> Any:
        return np.asarray(self._value).tolist()

    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. "
                "Use tensor.detach().numpy() instead."
            )
        return np.asarray(self._value)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        array = np.asarray(self._value)
        return array if dtype is None else array.astype(dtype)

    def __len__(self) -> int:
        if self.dim() == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.dim() == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return builtins.bool(self.item())

    def __float__(self) -> builtins.float:
        return builtins.float(self.item())

    def __int__(self) -> builtins.int:
        return builtins.int(self.item())

    def __index__(self) -> builtins.int:
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    __hash__ = object.__hash__

    # --- printing -----------------------------------------------------------------------------

    def __repr__(self) -> str:
        return format_tensor(
            np.asarray(self._value),
            dtype=self.dtype.name,
            requires_grad=self.requires_grad,
            grad_fn=None if self._node is None else self._node._class_name(),
        )

    def __format__(self, spec: str) -> str:
        # torch formats a 0-d plain tensor as its Python number: f"{loss}" prints 4.0
        if self.dim() == 0 and type(self) is Tensor:
            return format(self.item(), spec)
        return format(str(self), spec)

    # --- in-place -----------------------------------------------------------------------------

    def _assign(self, result: Tensor) -> Tensor:
        """Make ``self`` hold ``result`` in place (torch's in-place op semantics)."""
        if self._node is None and self._requires_grad and is_grad_enabled():
            raise RuntimeError(_LEAF_INPLACE_MESSAGE)
        value, dtype = result._storage[0], self._storage[0].dtype
        self._storage[0] = value if value.dtype == dtype else result._value.astype(dtype)
        if result._node is not None:
            self._node = result._node
        return self

    def zero_(self) -> Tensor:
        """Fill with zeros in place (e.g. ``x.grad.zero_()``)."""
        if self._node is None and not self._requires_grad:  # outside every graph: no op to run
            self._storage[0] = _zeros(tuple(self.shape), self._storage[0].dtype)
            return self
        return self._assign(apply(OPS["zero"], self))

    def fill_(self, value: Any) -> Tensor:
        return self._assign(apply(OPS["fill"], self, value))

    def copy_(self, src: Tensor) -> Tensor:
        return self._assign(apply(OPS["copy"], self, src))

    def add_(self, other: Any, alpha: builtins.float = 1) -> Tensor:
        return self._assign(apply(OPS["add"], self, other, alpha=alpha))

    def sub_(self, other: Any, alpha: builtins.float = 1) -> Tensor:
        return self._assign(apply(OPS["sub"], self, other, alpha=alpha))

    def mul_(self, other: Any) -> Tensor:
        return self._assign(apply(OPS["mul"], self, other))

    def div_(self, other: Any) -> Tensor:
        return self._assign(apply(OPS["div"], self, other))

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        return self._assign(apply(OPS["clamp"], self, low=min, high=max))

    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    def __setitem__(self, key: Any, value: Any) -> None:
        static_key, indices = _index_key(key, self.shape)
        self._assign(apply(OPS["index_put"], self, value, *indices, key=static_key))

    # --- operators ----------------------------------------------------------------------------

    def __add__(self, other):
        return apply(OPS["add"], self, other)

    __radd__ = __add__

    def __sub__(self, other):
        return apply(OPS["sub"], self, other)

    def __rsub__(self, other):
        return apply(OPS["rsub"], self, other)

    def __mul__(self, other):
        return apply(OPS["mul"], self, other)

    __rmul__ = __mul__

    def __truediv__(self, other):
        return apply(OPS["div"], self, other)

    def __rtruediv__(self, other):
        return apply(OPS["rdiv"], self, other)

    def __pow__(self, exponent):
        name = "pow_tensor" if isinstance(exponent, Tensor) else "pow_scalar"
        return apply(OPS[name], self, exponent)

    def __rpow__(self, base):
        return apply(OPS["rpow"], self, base)

    def __matmul__(self, other):
        return apply(OPS["matmul"], self, other)

    def __rmatmul__(self, other):
        return apply(OPS["matmul"], other, self)

    def __neg__(self):
        return apply(OPS["neg"], self)

    def __abs__(self):
        return apply(OPS["abs"], self)

    def __eq__(self, other):  # type: ignore[override]
        return apply(OPS["eq"], self, other)

    def __ne__(self, other):  # type: ignore[override]
        return apply(OPS["ne"], self, other)

    def __lt__(self, other):
        return apply(OPS["lt"], self, other)

    def __le__(self, other):
        return apply(OPS["le"], self, other)

    def __gt__(self, other):
        return apply(OPS["gt"], self, other)

    def __ge__(self, other):
        return apply(OPS["ge"], self, other)

    def __getitem__(self, key: Any) -> Tensor:
        static_key, indices = _index_key(key, self.shape)
        if indices:
            return apply(OPS["index"], self, *indices, key=static_key)
        return apply(OPS[_basic_index_op(static_key)], self, key=static_key)


# --- dispatch ---------------------------------------------------------------------------------


def _as_value(x: Any) -> Any:
    if isinstance(x, Tensor):
        return x._value
    if isinstance(x, np.ndarray | np.generic | list | tuple):
        return jnp.asarray(x)
    return x


def apply(spec: OpSpec, *args: Any, **static: Any) -> Tensor:
    """Run one op of the table on tensors (or scalars); record it when grad mode says so.

    A recorded op is deferred: its result holds the node, with the output shape and dtype
    (:mod:`~fdiff.torch._deferred`), and is computed when first read (``_value``) or by the
    backward that replays it anyway.

    >>> import fdiff.torch as torch
    >>> from fdiff.torch._ops import OPS
    >>> apply(OPS["mul"], torch.tensor([3.0], requires_grad=True), 2)
    tensor([6.], grad_fn=<MulBackward0>)
    """
    # One pass over the arguments: this runs for every op, so it stays lean.
    values = []
    needs_grad = deferred = False
    for a in args:
        if isinstance(a, Tensor):
            value = a._storage[0]
            values.append(value)
            needs_grad = needs_grad or a._node is not None or a._requires_grad
            deferred = deferred or value.__class__ is Node
        else:
            values.append(_as_value(a))
    if needs_grad and spec.differentiable and is_grad_enabled():
        return _record(spec, args, values, static)
    if deferred:
        values = _materialized(args, values)
    return Tensor._make(_run(spec, values, static))


def _materialized(args: tuple, values: list) -> list:
    """The inputs' values, computing any deferred one."""
    return [a._value if isinstance(a, Tensor) else v for a, v in zip(args, values, strict=True)]


def _run(spec: OpSpec, values: list, static: dict) -> jax.Array:
    try:
        return spec.jitted(*values, **static)
    except (TypeError, ValueError) as error:
        raise RuntimeError(_describe_failure(spec, values, error)) from error


def _record(spec: OpSpec, args: tuple, values: list, static: dict) -> Tensor:
    """Record a node; defer its computation unless an input's storage left its graph."""
    static_items = tuple(sorted(static.items()))
    edges = []
    in_sync = exact = True
    for i, a in enumerate(args):
        if not isinstance(a, Tensor):
            edges.append(values[i])
            continue
        node = a._node
        if node is None:
            value = values[i] = a._value
            edges.append(AccumulateGrad(a, value) if a._requires_grad else value)
            continue
        # The node's output is what this tensor holds unless it was changed outside the graph
        # (an in-place op under no_grad, ``.data = ...``); then the replay would not see it.
        value = values[i]
        if value is not node and value is not node.value:
            in_sync = exact = False
        exact = exact and node.exact
        edges.append(node)
    aval = _deferred.output_aval(spec, static_items, static, values) if in_sync else None
    if aval is None:  # run it now
        values = _materialized(args, values)
        out = _run(spec, values, static)
        node = Node(spec, static_items, tuple(edges), out.aval, out, exact=exact)
        return Tensor._make(out, node)
    node = Node(spec, static_items, tuple(edges), aval, exact=exact)
    return Tensor._make(node, node)


@functools.lru_cache(maxsize=256)
def _zeros(shape: tuple[int, ...], dtype: np.dtype) -> jax.Array:
    return jnp.zeros(shape, dtype)  # jax arrays are immutable: one per shape and dtype is enough


def _matmul_failure(a: tuple[int, ...], b: tuple[int, ...]) -> str | None:
    """torch's message for a matrix product of these shapes, for the 1-D and 2-D cases."""
    if len(a) == 1 and len(b) == 1:
        return (
            f"inconsistent tensor size, expected tensor [{a[0]}] and src [{b[0]}] to have the "
            f"same number of elements, but got {a[0]} and {b[0]} elements respectively"
        )
    if len(a) == 2 and len(b) == 1:
        return f"size mismatch, got input ({a[0]}), mat ({a[0]}x{a[1]}), vec ({b[0]})"
    if len(a) in (1, 2) and len(b) == 2:
        rows = a[0] if len(a) == 2 else 1
        return f"mat1 and mat2 shapes cannot be multiplied ({rows}x{a[-1]} and {b[0]}x{b[1]})"
    return None


def _describe_failure(spec: OpSpec, values: tuple, error: Exception) -> str:
    shapes = [tuple(v.shape) for v in values if hasattr(v, "shape")]
    if spec.name in ("matmul", "dot", "linear") and len(shapes) >= 2:
        a, b = shapes[:2]
        message = _matmul_failure(a, b[::-1] if spec.name == "linear" else b)  # linear: x @ w.T
        if message is not None:
            return message
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        if len(shapes) == 2:
            a, b = shapes
            for dim in range(1, builtins.max(len(a), len(b)) + 1):
                sa, sb = (a[-dim] if dim <= len(a) else 1), (b[-dim] if dim <= len(b) else 1)
                if sa != sb and 1 not in (sa, sb):
                    return (
                        f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) "
                        f"at non-singleton dimension {builtins.max(len(a), len(b)) - dim}"
                    )
    return f"{spec.name}: {error} (input shapes {shapes})"


# --- indexing keys ----------------------------------------------------------------------------


def _basic_index_op(static_key: tuple) -> str:
    """``select`` or ``slice``: torch indexes item by item, so the last int or ``a:b`` names it."""
    for item in reversed(static_key):
        if isinstance(item, builtins.int):
            return "select"
        if isinstance(item, tuple) and item[1:] != (None, None, None):
            return "slice"
    return "slice"


def _index_key(key: Any, shape: tuple[int, ...]) -> tuple[tuple, list[jax.Array]]:
    """Split an index into a hashable static key and the index arrays it holds.

    Slices become ``("slice", start, stop, step)`` (slices are unhashable before Python 3.12);
    boolean masks become integer indices (their count must be concrete, as in eager torch).
    Integer indices are checked against ``shape``: JAX would clamp them silently.
    """
    items = key if isinstance(key, tuple) else (key,)
    static: list[Any] = []
    arrays: list[np.ndarray] = []
    for item in items:
        if isinstance(item, slice):
            if item.step is not None and item.step <= 0:
                raise ValueError("step must be greater than zero")
            static.append(("slice", item.start, item.stop, item.step))
        elif item is None or item is Ellipsis or isinstance(item, builtins.int):
            static.append(item)
        else:
            array = np.asarray(item._value if isinstance(item, Tensor) else item)
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
    consumed = builtins.sum(1 for item in key if item is not None and item is not Ellipsis)
    if consumed > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    dim, pending = 0, iter(arrays)
    for item in key:
        if item is Ellipsis:
            dim += len(shape) - consumed
            continue
        if item is None:
            continue
        if isinstance(item, builtins.int) or item == ARRAY_INDEX:
            values = np.asarray(item if isinstance(item, builtins.int) else next(pending))
            size = shape[dim]
            outside = values[(values >= size) | (values < -size)]
            if outside.size:
                raise IndexError(
                    f"index {outside.flat[0]} is out of bounds for dimension {dim} with size {size}"
                )
        dim += 1
