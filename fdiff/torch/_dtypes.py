"""torch dtypes (``torch.float32``, ``torch.long``, ...) and their JAX storage types.

JAX stores 64-bit types only with ``jax_enable_x64``. Without it, ``torch.int64`` tensors are
stored as int32 (torch's integer semantics otherwise hold; values beyond 2**31 are out of
range), and asking for ``torch.float64`` raises instead of silently computing in float32.

:func:`promotion` is torch's type promotion (``torch.result_type``), which differs from JAX's
where a 0-d tensor or a Python scalar meets a tensor of another dtype:

>>> import jax.numpy as jnp
>>> promotion([jnp.ones(2, jnp.int32), 2.5])  # int tensor * Python float: the default float
dtype('float32')
>>> promotion([jnp.ones(2), 2.5]) is None  # JAX's own promotion gives torch's dtype
True
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np


class dtype:
    """A torch dtype: ``repr`` is torch's (``torch.float32``)."""

    __slots__ = ("category", "is_floating_point", "itemsize", "name", "numpy")

    def __init__(self, name: str, numpy_type: type) -> None:
        self.name = name
        self.numpy = np.dtype(numpy_type)
        self.is_floating_point = self.numpy.kind == "f"
        self.itemsize = self.numpy.itemsize
        self.category = "bif".index(self.numpy.kind)  # torch's order: bool < integer < float

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def storage(self) -> np.dtype:
        """The dtype JAX stores this torch dtype as (see the module docstring)."""
        if self.itemsize == 8 and not jax.config.jax_enable_x64:
            if self.is_floating_point:
                raise TypeError(
                    f"{self!r} needs JAX's 64-bit mode; {X64_HINT}, or use torch.float32"
                )
            return np.dtype(np.int32)
        return self.numpy


float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
int32 = dtype("int32", np.int32)
int64 = dtype("int64", np.int64)
bool_ = dtype("bool", np.bool_)
float = float32
double = float64
long = int64
int = int32

_BY_STORAGE = {d.numpy: d for d in (float32, float64, int32)}
BY_NUMPY = {d.numpy: d for d in (float32, float64, int32, int64, bool_)}
"""The torch dtype a NumPy array of each dtype becomes (``torch.from_numpy`` keeps it)."""


def from_storage(storage: np.dtype) -> dtype:
    """The torch dtype a JAX array of this dtype represents."""
    storage = np.dtype(storage)
    if storage == np.bool_:
        return bool_
    if storage == np.int64 or (storage == np.int32 and not jax.config.jax_enable_x64):
        return int64
    try:
        return _BY_STORAGE[storage]
    except KeyError:
        raise TypeError(f"fdiff.torch has no dtype for JAX arrays of type {storage}") from None


_INT32 = np.iinfo(np.int32)

X64_HINT = "call jax.config.update('jax_enable_x64', True) before creating tensors"


def check_storage_range(values: Any, torch_dtype: dtype) -> None:
    """Refuse ``values`` that ``torch_dtype``'s storage cannot hold: ``torch.int64`` is stored
    as int32 without JAX's 64-bit mode, and a value beyond int32's range would wrap silently.

    >>> check_storage_range(np.array([2**31 - 1]), int64)
    >>> check_storage_range([2**40], int64)
    Traceback (most recent call last):
    ...
    OverflowError: value 1099511627776 is out of range for torch.int64 without JAX's 64-bit mode \
(stored as int32, in [-2147483648, 2147483647]); call jax.config.update('jax_enable_x64', True) \
before creating tensors
    """
    if torch_dtype is not int64 or jax.config.jax_enable_x64:
        return
    array = np.asarray(values)
    if array.dtype.kind not in "iuf" or array.itemsize <= 4 or array.size == 0:
        return
    outside = (array < _INT32.min) | (array > _INT32.max)
    if outside.any():
        raise OverflowError(
            f"value {array[outside].flat[0]} is out of range for torch.int64 without JAX's 64-bit "
            f"mode (stored as int32, in [{_INT32.min}, {_INT32.max}]); {X64_HINT}"
        )


SCALAR_TYPE_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
                     "bool": "Bool"}  # fmt: skip
"""torch's ScalarType names, as most of its dtype messages spell a dtype."""
C_TYPE_NAMES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int",
                "bool": "bool"}  # fmt: skip
"""The C type names some of torch's messages use instead (``mm``, ``clamp_``)."""
NAMES = (SCALAR_TYPE_NAMES, C_TYPE_NAMES)


def check_matmul_dtypes(function: str, *operands: Any) -> None:
    """torch's error where a matrix product's operands differ in dtype (torch does not promote
    there): ``function`` is ``"matmul"`` (worded by the operands' dimensions as torch dispatches
    them), ``"mm"``, ``"bmm"``, ``"dot"`` or ``"linear"`` (input, weight, bias or None).

    >>> import fdiff.torch as torch
    >>> check_matmul_dtypes("mm", torch.ones(2, 3), torch.ones(3, 2, dtype=torch.long))
    Traceback (most recent call last):
    ...
    RuntimeError: expected m1 and m2 to have the same dtype, but got: float != long int
    """
    a, b, *bias = operands
    bias = bias[0] if bias else None
    if not all(hasattr(t, "dim") for t in (a, b)):  # not tensors: running the op says why
        return
    if a.dtype is b.dtype and (bias is None or bias.dtype is b.dtype):
        return
    if function == "linear":
        if bias is not None:
            first, name = (a, "mat1") if a.dtype is not b.dtype else (bias, "self")
            first, second = SCALAR_TYPE_NAMES[first.dtype.name], SCALAR_TYPE_NAMES[b.dtype.name]
            raise RuntimeError(
                f"{name} and mat2 must have the same dtype, but got {first} and {second}"
            )
        function = "mm"
    elif function == "matmul":
        dims = a.dim(), b.dim()
        function = (
            "dot" if dims == (1, 1) else "mv" if dims[1] == 1 else "mm" if dims[1] == 2 else "bmm"
        )
    (a_name, b_name), (a_c, b_c) = ([n[t.dtype.name] for t in (a, b)] for n in NAMES)
    messages = {
        "dot": f"dot : expected both vectors to have same dtype, but found {a_name} and {b_name}",
        "mv": "addmv input tensors must have the same dtype, "
        f"but got {b_name}, {a_name}, and {b_name}",
        "mm": f"expected m1 and m2 to have the same dtype, but got: {a_c} != {b_c}",
        "bmm": f"expected scalar type {a_name} but found {b_name}",
    }
    raise RuntimeError(messages[function])


def resolve(value: dtype | None, default: dtype) -> dtype:
    """``value`` if given (a torch dtype), else ``default``; rejects anything else clearly."""
    if value is None:
        return default
    if not isinstance(value, dtype):
        raise TypeError(f"dtype must be a torch dtype such as torch.float32, got {value!r}")
    return value


# --- type promotion (torch.result_type) --------------------------------------------------------

_SCALAR_DTYPES = {builtins.bool: bool_, builtins.int: int64, builtins.float: float32}
"""A Python scalar's dtype in promotion: a float is the default dtype, an int is long."""


def _promote(a: dtype | None, b: dtype | None) -> dtype | None:
    """The dtype holding both (``None``: no operand of that kind): the higher category, else the
    wider type."""
    if a is None or b is None:
        return a or b
    if a.category != b.category:
        return a if a.category > b.category else b
    return a if a.itemsize >= b.itemsize else b


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    """A higher-priority operand kind's dtype wins unless the lower one's category is higher
    (c10's ``combine_categories``: a bool tensor meeting an int, an int meeting a float)."""
    if higher is None or higher.is_floating_point:
        return higher or lower
    if lower is not None and (higher is bool_ or lower.category > higher.category):
        return _promote(higher, lower)
    return higher


def result_type(values: Sequence[Any]) -> dtype | None:
    """torch's result dtype for op inputs (arrays, deferred nodes, Python scalars): dimensioned
    tensors win over 0-d ones, which win over Python scalars, within a category (bool < int <
    float). ``None`` when an input is of another kind (complex, an unsupported operand type).

    >>> import jax.numpy as jnp
    >>> result_type([jnp.ones((), jnp.float32), jnp.ones(2, jnp.int32)])
    torch.float32
    """
    dimensioned = zero_dim = scalar = None
    for value in values:
        kind = _SCALAR_DTYPES.get(value.__class__)
        if kind is not None:
            scalar = _promote(scalar, kind)
            continue
        shape = getattr(value, "shape", None)
        if shape is None:
            return None
        try:
            kind = from_storage(value.dtype)
        except TypeError:
            return None
        if shape:
            dimensioned = _promote(dimensioned, kind)
        else:
            zero_dim = _promote(zero_dim, kind)
    return _combine(dimensioned, _combine(zero_dim, scalar))


def promotion(values: Sequence[Any], to_float: bool = False) -> np.dtype | None:
    """The storage dtype to cast these op inputs to so the op computes in torch's result dtype
    (``to_float``: at least the default float, as torch's true division), or ``None`` when JAX's
    own promotion gives it: float arrays all of one dtype, with or without Python scalars."""
    common = None
    for value in values:  # runs for every arithmetic op: the common case stays cheap
        if value.__class__ not in _SCALAR_DTYPES:
            storage = getattr(value, "dtype", None)
            if storage is None:  # not an operand: running the op raises torch's error
                return None
            if common is None:
                common = storage
            elif storage is not common and storage != common:
                common = None
                break
    if common is not None and common.kind == "f":
        return None
    torch_dtype = result_type(values)
    if torch_dtype is None:
        return None
    if to_float and not torch_dtype.is_floating_point:
        torch_dtype = float32
    return torch_dtype.storage()
