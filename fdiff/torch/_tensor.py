"""``Tensor``: torch's tensor API on JAX. Every method is defined or bound in the class body.

The state (shared storage, graph link) is :class:`~fdiff.torch._tensor_base.TensorBase`'s; the
methods that compute come from the function modules (``_math``, ``_shape``, ``_inplace``,
``_creation``, ``_autograd``) and are bound in one table at the end of the class, so
``x.sum`` is ``torch.sum``. Everything a tensor computes goes through
:func:`~fdiff.torch._dispatch.apply`. A public name torch has and this class lacks raises
:class:`~fdiff.torch.UnsupportedError` (an ``AttributeError``, so ``hasattr`` is False).
"""

from __future__ import annotations

import builtins
import math
import warnings
import weakref
from typing import Any

import jax.numpy as jnp
import numpy as np

from fdiff.torch import (
    _autograd,
    _creation,
    _dtypes,
    _hooks,
    _indexing,
    _inplace,
    _math,
    _shape,
    _views,
)
from fdiff.torch import _conversions as conversions
from fdiff.torch import _counting as counting
from fdiff.torch import _device as device_
from fdiff.torch import _index_ops as index_ops
from fdiff.torch import _interop as interop
from fdiff.torch import _math_more as math_more
from fdiff.torch import _ops as ops
from fdiff.torch import _pointwise as pointwise
from fdiff.torch import _python_reads as python_reads
from fdiff.torch import _random_draws as random_draws
from fdiff.torch import _select_more as select_more
from fdiff.torch import _select_ops as select_ops
from fdiff.torch import _shape_more as shape_more
from fdiff.torch import _shape_ops as shape_ops
from fdiff.torch import _stats as stats
from fdiff.torch._args import binary_operator
from fdiff.torch._dispatch import apply
from fdiff.torch._errors import NON_LEAF_GRAD, missing_attribute
from fdiff.torch._graph import Node
from fdiff.torch._printing import format_tensor
from fdiff.torch._saving import counter_of
from fdiff.torch._tensor_base import TensorBase, new_tensor


class Size(tuple):
    """torch.Size: a tuple of ints that prints as ``torch.Size([2, 2])``."""

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))


_BASIC_INDEX = {
    "select": shape_ops.select,
    "slice": shape_ops.slice_,
    "unsqueeze": shape_ops.index_unsqueeze,
    "alias": shape_ops.alias,
}
"""The op recording ``x[key]`` for each :func:`~fdiff.torch._indexing.basic_index_kind`."""


class Tensor(TensorBase, returned_by_ops=True):
    """A torch-style tensor on JAX: ``requires_grad``, ``grad``, ``grad_fn``, ``backward()``.

    >>> import fdiff.torch as torch
    >>> x = torch.tensor([2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([4., 6.])
    """

    def __init__(self, data: Any = ()) -> None:
        # torch.Tensor(data) always makes a float32 leaf.
        value = jnp.asarray(np.asarray(data, dtype=np.float32))
        self._init(value, None, False)

    def __getattr__(self, name: str) -> Any:
        """Only called when ``name`` is not found: torch's public names are unsupported ops."""
        raise missing_attribute("Tensor", name, self)

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
        _views.check_usable(self)
        node = self._node
        return node if node is None or node.output_of is None else node.output_of[0]

    @property
    def output_nr(self) -> builtins.int:
        """Which output of its grad_fn this tensor is (``unbind``'s ``i``-th: ``i``)."""
        node = self._node
        return 0 if node is None or node.output_of is None else node.output_of[1]

    @property
    def grad(self) -> Tensor | None:
        if self._node is not None and not self._retains_grad:
            warnings.warn(NON_LEAF_GRAD, UserWarning, stacklevel=2)
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

    register_hook = _hooks.register_hook
    register_post_accumulate_grad_hook = _hooks.register_post_accumulate_grad_hook

    def detach(self) -> Tensor:
        """A leaf sharing this tensor's storage and version counter, outside every graph."""
        twin = new_tensor(self._storage[0])
        twin._storage = self._storage
        return _views.detached_twin(self, twin)

    def detach_(self) -> Tensor:
        self._node = None
        self._requires_grad = False
        return self

    @property
    def data(self) -> Tensor:
        """Like ``detach()``, but with a version counter of its own: in-place changes through
        it are not seen by the checks of saved tensors (torch's ``.data``)."""
        twin = self.detach()
        twin._counter = None
        return twin

    @data.setter
    def data(self, value: Tensor) -> None:
        self._storage[0] = value._value

    @property
    def _version(self) -> builtins.int:
        """How many in-place changes this tensor's storage has seen (shared with its views)."""
        return counter_of(self).version

    @property
    def _base(self) -> Tensor | None:
        view = self._view
        return None if view is None or view.detached else view.base

    def _is_view(self) -> builtins.bool:
        return self._base is not None

    def is_contiguous(self) -> builtins.bool:
        return _views.is_contiguous(self)

    def stride(self, dim: builtins.int | None = None) -> tuple[builtins.int, ...] | builtins.int:
        strides = _views.strides(self)
        return strides if dim is None else strides[dim]

    def backward(
        self,
        gradient: Tensor | None = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see ``torch.autograd``)."""
        _autograd.backward(self, gradient, retain_graph, create_graph, inputs)

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
    def device(self) -> device_.device:
        return device_.CPU

    is_cuda = False

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def item(self) -> builtins.float | builtins.int | builtins.bool:
        """The single value as a Python number."""
        python_reads.note_read(self)
        if self.numel() != 1:
            raise RuntimeError(
                f"a Tensor with {self.numel()} elements cannot be converted to Scalar"
            )
        return np.asarray(interop.concrete(self, "Tensor.item()")).reshape(()).item()

    def tolist(self) -> Any:
        python_reads.note_read(self)
        return np.asarray(interop.concrete(self, "Tensor.tolist()")).tolist()

    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. "
                "Use tensor.detach().numpy() instead."
            )
        return np.asarray(interop.concrete(self, "Tensor.numpy()"))

    jax = interop.to_jax

    def __jax_array__(self) -> Any:
        """``jnp.asarray(t)`` is ``t.jax()`` (JAX's other functions take ``jnp.asarray(t)``)."""
        return self._value

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        array = self.numpy()  # refuses a tensor that requires grad, as torch's does
        return array if dtype is None else array.astype(dtype)

    def __array_wrap__(self, array: np.ndarray, context: Any = None, return_scalar: bool = False):
        """A NumPy result computed from this tensor is a tensor (``x + np.ones(2)``: tensors
        decline NumPy arrays, as torch's do, so NumPy computes it with its own promotion)."""
        return _creation.tensor(array)

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
        interop.concrete(self, "bool(tensor)")
        return builtins.bool(self.item())

    def __float__(self) -> builtins.float:
        interop.concrete(self, "float(tensor)")
        return builtins.float(self.item())

    def __int__(self) -> builtins.int:
        interop.concrete(self, "int(tensor)")
        return builtins.int(self.item())

    def __index__(self) -> builtins.int:
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        interop.concrete(self, "tensor as an index")
        return builtins.int(self.item())

    __hash__ = object.__hash__

    # --- printing -----------------------------------------------------------------------------

    def __repr__(self) -> str:
        if not interop.is_concrete_array(self._value):  # a tracer, or a pytree placeholder
            return f"tensor({self._value!r})"  # as JAX prints a tracer: jax.debug.print for values
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

    # --- operators ----------------------------------------------------------------------------

    @binary_operator
    def __add__(self, other):
        return apply(ops.add, self, other)

    __radd__ = __add__

    @binary_operator
    def __sub__(self, other):
        return apply(ops.sub, self, other)

    @binary_operator
    def __rsub__(self, other):
        return apply(ops.rsub, self, other)

    @binary_operator
    def __mul__(self, other):
        return apply(ops.mul, self, other)

    __rmul__ = __mul__

    @binary_operator
    def __truediv__(self, other):
        return apply(ops.div, self, other)

    def __rtruediv__(self, other):
        if isinstance(other, np.ndarray):  # torch's is self.reciprocal() * other: NumPy's then
            return (1 / self) * other
        return self._rdiv(other)

    @binary_operator
    def _rdiv(self, other):
        return apply(ops.rdiv, self, other)

    @binary_operator
    def __pow__(self, exponent):
        return _math.pow(self, exponent)

    @binary_operator
    def __rpow__(self, base):
        return apply(ops.rpow, self, base)

    @binary_operator
    def __matmul__(self, other):
        return _math.matmul(self, other)

    @binary_operator
    def __rmatmul__(self, other):
        return _math.matmul(other, self)

    def __neg__(self):
        return apply(ops.neg, self)

    def __abs__(self):
        return apply(ops.abs_, self)

    def __eq__(self, other):  # type: ignore[override]
        if isinstance(other, np.ndarray):  # torch's eq takes an array as a tensor of its values
            return _creation.tensor(np.asarray(self._value) == other)
        return self._eq(other)

    @binary_operator
    def _eq(self, other):
        return apply(ops.eq, self, other)

    @binary_operator
    def __ne__(self, other):  # type: ignore[override]
        return apply(ops.ne, self, other)

    @binary_operator
    def __lt__(self, other):
        return apply(ops.lt, self, other)

    @binary_operator
    def __le__(self, other):
        return apply(ops.le, self, other)

    @binary_operator
    def __gt__(self, other):
        return apply(ops.gt, self, other)

    @binary_operator
    def __ge__(self, other):
        return apply(ops.ge, self, other)

    def __getitem__(self, key: Any) -> Tensor:
        static_key, indices = _indexing.encode(key, self.shape)
        if indices:
            return apply(shape_ops.index, self, *indices, key=static_key)
        basic = _BASIC_INDEX[_indexing.basic_index_kind(key, static_key, self.shape)]
        return apply(basic, self, key=static_key)

    __setitem__ = _inplace.setitem

    def __iadd__(self, other: Any) -> Tensor:
        return _inplace.add_(self, other)

    def __isub__(self, other: Any) -> Tensor:
        return _inplace.sub_(self, other)

    def __imul__(self, other: Any) -> Tensor:
        return _inplace.mul_(self, other)

    def __itruediv__(self, other: Any) -> Tensor:
        return _inplace.div_(self, other)

    # --- the methods that compute, bound from their function modules --------------------------
    # (last in the body: names such as `float` and `abs` shadow the builtins from here on)

    zero_ = _inplace.zero_
    fill_ = _inplace.fill_
    copy_ = _inplace.copy_
    add_ = _inplace.add_
    sub_ = _inplace.sub_
    mul_ = _inplace.mul_
    div_ = _inplace.div_
    clamp_ = _inplace.clamp_
    uniform_ = _creation.uniform_
    normal_ = _creation.normal_
    abs = _math.abs
    add = _math.add
    amax = _math.amax
    argmax = _math.argmax
    argmin = _math.argmin
    bmm = _math.bmm
    ceil = _math.ceil
    clamp = _math.clamp
    clip = _math.clip
    cos = _math.cos
    div = _math.div
    dot = _math.dot
    exp = _math.exp
    expm1 = _math.expm1
    floor = _math.floor
    log = _math.log
    log1p = _math.log1p
    log_softmax = _math.log_softmax
    logsumexp = _math.logsumexp
    matmul = _math.matmul
    max = _math.max
    maximum = _math.maximum
    mean = _math.mean
    min = _math.min
    minimum = _math.minimum
    mm = _math.mm
    mul = _math.mul
    neg = _math.neg
    norm = _math.norm
    pow = _math.pow
    prod = _math.prod
    relu = _math.relu
    round = _math.round
    rsqrt = _math.rsqrt
    sigmoid = _math.sigmoid
    sign = _math.sign
    sin = _math.sin
    softmax = _math.softmax
    sqrt = _math.sqrt
    square = _math.square
    std = _math.std
    sub = _math.sub
    sum = _math.sum
    tanh = _math.tanh
    var = _math.var
    chunk = _shape.chunk
    clone = _shape.clone
    diagonal = _shape.diagonal
    narrow = _shape.narrow
    select = _shape.select
    split = _shape.split
    unbind = _shape.unbind
    contiguous = _shape.contiguous
    expand = _shape.expand
    flatten = _shape.flatten
    permute = _shape.permute
    reshape = _shape.reshape
    squeeze = _shape.squeeze
    t = _shape.t
    T = property(_shape.T)
    transpose = _shape.transpose
    unsqueeze = _shape.unsqueeze
    view = _shape.view
    to = _shape.to
    float = _shape.to_float
    double = _shape.to_double
    long = _shape.to_long
    int = _shape.to_int
    bool = _shape.to_bool
    # more shape ops (_shape_more)
    broadcast_to = shape_more.broadcast_to
    diag = shape_more.diag
    flip = shape_more.flip
    fliplr = shape_more.fliplr
    flipud = shape_more.flipud
    moveaxis = shape_more.moveaxis
    movedim = shape_more.movedim
    repeat = shape_more.repeat
    repeat_interleave = shape_more.repeat_interleave
    roll = shape_more.roll
    rot90 = shape_more.rot90
    swapaxes = shape_more.swapaxes
    swapdims = shape_more.swapdims
    take = shape_more.take
    take_along_dim = shape_more.take_along_dim
    tile = shape_more.tile
    trace = shape_more.trace
    unflatten = shape_more.unflatten
    # more ops (_math_more, _select_ops, _conversions, _random_draws)
    __invert__ = math_more.bitwise_not
    __and__ = __rand__ = binary_operator(math_more.bitwise_and)
    __or__ = __ror__ = binary_operator(math_more.bitwise_or)
    __xor__ = __rxor__ = binary_operator(math_more.bitwise_xor)
    bitwise_not = math_more.bitwise_not
    bitwise_and = math_more.bitwise_and
    bitwise_or = math_more.bitwise_or
    bitwise_xor = math_more.bitwise_xor
    logical_not = math_more.logical_not
    logical_and = math_more.logical_and
    logical_or = math_more.logical_or
    all = math_more.all
    allclose = math_more.allclose
    equal = math_more.equal
    any = math_more.any
    cumprod = math_more.cumprod
    cumsum = math_more.cumsum
    isclose = math_more.isclose
    log10 = math_more.log10
    log2 = math_more.log2
    outer = math_more.outer
    ger = math_more.ger
    tril = math_more.tril
    triu = math_more.triu
    argsort = select_ops.argsort
    gather = select_ops.gather
    index_select = select_ops.index_select
    masked_fill = select_ops.masked_fill
    scatter = select_ops.scatter
    scatter_add = select_ops.scatter_add
    scatter_reduce = select_ops.scatter_reduce
    sort = select_ops.sort
    topk = select_ops.topk
    amin = select_more.amin
    aminmax = select_more.aminmax
    argwhere = select_more.argwhere
    count_nonzero = select_more.count_nonzero
    diff = select_more.diff
    masked_select = select_more.masked_select
    median = select_more.median
    index_add = index_ops.index_add
    bincount = counting.bincount
    histc = counting.histc
    index_copy = index_ops.index_copy
    index_fill = index_ops.index_fill
    index_add_ = math_more.IN_PLACE["index_add_"]
    index_copy_ = math_more.IN_PLACE["index_copy_"]
    index_fill_ = math_more.IN_PLACE["index_fill_"]
    dist = stats.dist
    cov = stats.cov
    corrcoef = stats.corrcoef
    nonzero = select_more.nonzero
    unique = select_more.unique
    cpu = conversions.cpu
    cuda = conversions.cuda
    nelement = conversions.nelement
    new_empty = conversions.new_empty
    new_full = conversions.new_full
    new_ones = conversions.new_ones
    new_tensor = conversions.new_tensor
    new_zeros = conversions.new_zeros
    type = conversions.type
    type_as = conversions.type_as
    bernoulli = random_draws.bernoulli
    bernoulli_ = random_draws.bernoulli_
    exponential_ = random_draws.exponential_
    multinomial = random_draws.multinomial
    abs_ = math_more.IN_PLACE["abs_"]
    neg_ = math_more.IN_PLACE["neg_"]
    exp_ = math_more.IN_PLACE["exp_"]
    log_ = math_more.IN_PLACE["log_"]
    sqrt_ = math_more.IN_PLACE["sqrt_"]
    sin_ = math_more.IN_PLACE["sin_"]
    cos_ = math_more.IN_PLACE["cos_"]
    tanh_ = math_more.IN_PLACE["tanh_"]
    sigmoid_ = math_more.IN_PLACE["sigmoid_"]
    relu_ = math_more.IN_PLACE["relu_"]
    square_ = math_more.IN_PLACE["square_"]
    rsqrt_ = math_more.IN_PLACE["rsqrt_"]
    log1p_ = math_more.IN_PLACE["log1p_"]
    expm1_ = math_more.IN_PLACE["expm1_"]
    sign_ = math_more.IN_PLACE["sign_"]
    floor_ = math_more.IN_PLACE["floor_"]
    ceil_ = math_more.IN_PLACE["ceil_"]
    round_ = math_more.IN_PLACE["round_"]
    pow_ = math_more.IN_PLACE["pow_"]
    log10_ = math_more.IN_PLACE["log10_"]
    log2_ = math_more.IN_PLACE["log2_"]
    cumsum_ = math_more.IN_PLACE["cumsum_"]
    cumprod_ = math_more.IN_PLACE["cumprod_"]
    tril_ = math_more.IN_PLACE["tril_"]
    triu_ = math_more.IN_PLACE["triu_"]
    masked_fill_ = math_more.IN_PLACE["masked_fill_"]
    scatter_ = math_more.IN_PLACE["scatter_"]
    scatter_add_ = math_more.IN_PLACE["scatter_add_"]
    scatter_reduce_ = math_more.IN_PLACE["scatter_reduce_"]
    # pointwise math and comparisons (_pointwise)
    addcdiv = pointwise.addcdiv
    addcmul = pointwise.addcmul
    arctan2 = pointwise.arctan2
    atan2 = pointwise.atan2
    clamp_max = pointwise.clamp_max
    clamp_min = pointwise.clamp_min
    deg2rad = pointwise.deg2rad
    eq = pointwise.eq
    erf = pointwise.erf
    fmod = pointwise.fmod
    frac = pointwise.frac
    ge = pointwise.ge
    gt = pointwise.gt
    heaviside = pointwise.heaviside
    hypot = pointwise.hypot
    isfinite = pointwise.isfinite
    isinf = pointwise.isinf
    isnan = pointwise.isnan
    le = pointwise.le
    lerp = pointwise.lerp
    logit = pointwise.logit
    lt = pointwise.lt
    nan_to_num = pointwise.nan_to_num
    ne = pointwise.ne
    reciprocal = pointwise.reciprocal
    remainder = pointwise.remainder
    tan = pointwise.tan
    trunc = pointwise.trunc
    xlogy = pointwise.xlogy
    arctan2_ = pointwise.IN_PLACE["atan2_"]
    tan_ = pointwise.IN_PLACE["tan_"]
    erf_ = pointwise.IN_PLACE["erf_"]
    reciprocal_ = pointwise.IN_PLACE["reciprocal_"]
    deg2rad_ = pointwise.IN_PLACE["deg2rad_"]
    trunc_ = pointwise.IN_PLACE["trunc_"]
    xlogy_ = pointwise.IN_PLACE["xlogy_"]
    frac_ = pointwise.IN_PLACE["frac_"]
    logit_ = pointwise.IN_PLACE["logit_"]
    nan_to_num_ = pointwise.IN_PLACE["nan_to_num_"]
    remainder_ = pointwise.IN_PLACE["remainder_"]
    fmod_ = pointwise.IN_PLACE["fmod_"]
    atan2_ = pointwise.IN_PLACE["atan2_"]
    heaviside_ = pointwise.IN_PLACE["heaviside_"]
    hypot_ = pointwise.IN_PLACE["hypot_"]
    clamp_min_ = pointwise.IN_PLACE["clamp_min_"]
    clamp_max_ = pointwise.IN_PLACE["clamp_max_"]
    lerp_ = pointwise.IN_PLACE["lerp_"]
    addcmul_ = pointwise.IN_PLACE["addcmul_"]
    addcdiv_ = pointwise.IN_PLACE["addcdiv_"]


interop.register_pytree(Tensor)
