"""More of the op table (see ``_ops``): scans, triangles, ``einsum``, selection and sorting.

Each entry is a jnp implementation and torch's grad_fn name; JAX differentiates every one. Ops
whose torch results come in pairs (``sort``, ``topk``) are two entries: the differentiable
values and the non-differentiable indices, computed from the same stable order.

>>> cumsum.grad_fn, gather.grad_fn, sort_indices.differentiable
('CumsumBackward0', 'GatherBackward0', False)
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from fdiff.torch import _torch_kinks as kinks
from fdiff.torch._opspec import OpSpec, Promotion, op

# --- elementwise and scans --------------------------------------------------------------------


@op("Log10Backward0")
def log10(a):
    return jnp.log10(a)


@op("Log2Backward0")
def log2(a):
    return jnp.log2(a)


@op("CumsumBackward0", saves=False)
def cumsum(a, *, dim):
    return a if a.ndim == 0 else jnp.cumsum(a, axis=dim)


@op("CumprodBackward0")
def cumprod(a, *, dim):
    return a if a.ndim == 0 else jnp.cumprod(a, axis=dim)


@op("ProdBackward1")
def prod_dim(a, *, dim, keepdim=False):
    return jnp.prod(a, axis=dim, keepdims=keepdim)


@op("TrilBackward0", saves=False)
def tril(a, *, diagonal=0):
    return jnp.tril(a, diagonal)


@op("TriuBackward0", saves=False)
def triu(a, *, diagonal=0):
    return jnp.triu(a, diagonal)


@op("MulBackward0", promotes=Promotion())
def outer(a, b):
    return jnp.outer(a, b)


def _einsum(name: str, grad_fn: str) -> OpSpec:
    """``einsum`` registered under ``name`` with the grad_fn torch's decomposition ends in (see
    :func:`~fdiff.torch._math_more.einsum`)."""

    def impl(*operands, equation):
        return jnp.einsum(equation, *operands, precision=jax.lax.Precision.HIGHEST)

    impl.__name__ = impl.__qualname__ = name
    return op(grad_fn)(impl)


einsum_permute = _einsum("einsum_permute", "PermuteBackward0")
einsum_sum = _einsum("einsum_sum", "SumBackward1")
einsum_mul = _einsum("einsum_mul", "MulBackward0")
einsum_view = _einsum("einsum_view", "ViewBackward0")


def _random_fill(name: str, grad_fn: str) -> OpSpec:
    """An in-place random fill (``x.exponential_()``) recorded as torch records it: the drawn
    ``values`` replace ``a``, whose gradient is then zero."""

    def impl(a, values):
        return values.astype(a.dtype)

    impl.__name__ = impl.__qualname__ = name
    return op(grad_fn, saves=False)(impl)


exponential_fill = _random_fill("exponential_fill", "ExponentialBackward0")
bernoulli_fill = _random_fill("bernoulli_fill", "BernoulliBackward2")


# --- comparisons and truth tests: never recorded -----------------------------------------------


@op("", saves=False, differentiable=False)
def isclose(a, b, *, rtol, atol, equal_nan):
    a, b = jnp.broadcast_arrays(a, b)
    return jnp.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan) | (a == b)


@op("", saves=False, differentiable=False)
def all_(a, *, dim=None, keepdim=False):
    return jnp.all(a, axis=dim, keepdims=keepdim)


@op("", saves=False, differentiable=False)
def any_(a, *, dim=None, keepdim=False):
    return jnp.any(a, axis=dim, keepdims=keepdim)


@op("", saves=False, differentiable=False)
def bitwise_not(a):
    return jnp.invert(a)


@op("", saves=False, differentiable=False, promotes=Promotion())
def bitwise_and(a, b):
    return jnp.bitwise_and(a, b)


@op("", saves=False, differentiable=False, promotes=Promotion())
def bitwise_or(a, b):
    return jnp.bitwise_or(a, b)


@op("", saves=False, differentiable=False, promotes=Promotion())
def bitwise_xor(a, b):
    return jnp.bitwise_xor(a, b)


@op("", saves=False, differentiable=False)
def logical_not(a):
    return jnp.logical_not(a)


@op("", saves=False, differentiable=False)
def logical_and(a, b):
    return jnp.logical_and(a, b)


@op("", saves=False, differentiable=False)
def logical_or(a, b):
    return jnp.logical_or(a, b)


# --- selection along a dim --------------------------------------------------------------------


def _grid(index, dim: int) -> tuple:
    """The full coordinates of ``index``'s elements, ``index`` itself along ``dim``: the key
    torch's ``gather``/``scatter`` use (``out[i][j] = a[i][index[i][j]]`` for dim 1)."""
    axes = jnp.meshgrid(*(jnp.arange(n) for n in index.shape), indexing="ij", sparse=True)
    return tuple(index if d == dim else axis for d, axis in enumerate(axes))


@op("GatherBackward0")
def gather(a, index, *, dim):
    if a.ndim <= 1:  # a 0-d ``a`` or ``index`` counts as 1-d (its values are checked in range)
        return a.reshape(-1)[index]
    return a[_grid(index, dim)]


@op("ScatterBackward0")
def scatter(a, index, src, *, dim):
    src = src[tuple(slice(0, n) for n in index.shape)]
    return a.at[_grid(index, dim)].set(src.astype(a.dtype))


@op("ScatterBackward1")
def scatter_value(a, index, value, *, dim):
    return a.at[_grid(index, dim)].set(jnp.asarray(value, a.dtype))


@op("ScatterAddBackward0")
def scatter_add(a, index, src, *, dim):
    src = src[tuple(slice(0, n) for n in index.shape)]
    return a.at[_grid(index, dim)].add(src.astype(a.dtype))


@op("IndexSelectBackward0")
def index_select(a, index, *, dim):
    return a if a.ndim == 0 else jnp.take(a, index.reshape(-1), axis=dim)


@op("MaskedFillBackward0")
def masked_fill(a, mask, value):
    return jnp.where(mask, jnp.asarray(value, a.dtype), a)


@op("MaskedFillBackward1")
def masked_fill_tensor(a, mask, value):
    return jnp.where(mask, value.astype(a.dtype), a)


# --- sorting ----------------------------------------------------------------------------------


def _stable_order(a, dim: int, descending: bool):
    """The stable sort order along ``dim`` in torch's NaN convention: NaN is the largest value
    (last ascending, first descending); equal values keep their order either way."""
    a = jnp.moveaxis(a, dim, -1)
    positions = jnp.broadcast_to(jnp.arange(a.shape[-1]), a.shape)
    if a.dtype == jnp.bool_:
        a = a.astype(jnp.int8)
    if jnp.issubdtype(a.dtype, jnp.floating):
        nan = jnp.isnan(a)
        a = jnp.where(nan | (a == 0), jnp.zeros_like(a), a)  # -0.0 ties 0.0, NaN ties NaN
        keys = (~nan, -a) if descending else (nan, a)
    else:
        keys = (~a,) if descending else (a,)  # ~ reverses the order of signed integers
    order = jax.lax.sort((*keys, positions), dimension=a.ndim - 1, num_keys=len(keys))[-1]
    return jnp.moveaxis(order, -1, dim)


@op("SortBackward0")
def sort_values(a, *, dim, descending):
    if a.ndim == 0:
        return a
    return jnp.take_along_axis(a, _stable_order(a, dim, descending), axis=dim)


@op("", saves=False, differentiable=False)
def sort_indices(a, *, dim, descending):
    return _stable_order(a, dim, descending)


@op("TopkBackward0")
def topk_values(a, *, k, dim, largest):
    if a.ndim == 0:
        return a
    order = jax.lax.slice_in_dim(_stable_order(a, dim, largest), 0, k, axis=dim)
    return jnp.take_along_axis(a, order, axis=dim)


@op("", saves=False, differentiable=False)
def topk_indices(a, *, k, dim, largest):
    if a.ndim == 0:
        return jnp.zeros((), int)
    return jax.lax.slice_in_dim(_stable_order(a, dim, largest), 0, k, axis=dim)


# --- selections of data-dependent size and min/max reductions ----------------------------------


@op("MaskedSelectBackward0")
def masked_select(a, mask, *, count):
    """The ``count`` elements of ``a`` where ``mask`` (broadcast together) is True, in order."""
    a, mask = jnp.broadcast_arrays(a, mask)
    return a.reshape(-1)[jnp.flatnonzero(mask.reshape(-1), size=count)]


@op("AminBackward0")
def amin(a, *, dim, keepdim=False):
    return jnp.min(a, axis=None if a.ndim == 0 else dim, keepdims=keepdim)


@op("AminmaxBackward0")
def aminmax_min(a, *, dim, keepdim=False):
    return jnp.min(a, axis=None if a.ndim == 0 else dim, keepdims=keepdim)


@op("AminmaxBackward0")
def aminmax_max(a, *, dim, keepdim=False):
    return jnp.max(a, axis=None if a.ndim == 0 else dim, keepdims=keepdim)


def _lower_median_order(a, dim: int):
    """The position of each slice's lower median along ``dim`` (NaN last), kept as a dim."""
    order = _stable_order(a, dim, descending=False)
    middle = (a.shape[dim] - 1) // 2
    return jax.lax.slice_in_dim(order, middle, middle + 1, axis=dim)


@op("MedianBackward0")
def median(a):
    """The lower median (NaN if any); ties share the gradient evenly, as torch's does."""
    flat = a.reshape(-1)
    middle = jnp.sort(jax.lax.stop_gradient(flat))[(flat.size - 1) // 2]
    if not jnp.issubdtype(a.dtype, jnp.floating):
        return middle
    value = jnp.where(jnp.isnan(flat).any(), jnp.nan, middle).astype(a.dtype)
    chosen = (flat == value) | (jnp.isnan(flat) & jnp.isnan(value))
    spread = jnp.where(chosen, flat - jax.lax.stop_gradient(flat), 0)
    return value + jnp.sum(spread) / jnp.sum(chosen)


@op("MedianBackward1")
def median_dim(a, *, dim, keepdim=False):
    if a.ndim == 0:
        return a
    picked = jnp.take_along_axis(a, _lower_median_order(a, dim), axis=dim)
    return picked if keepdim else jnp.squeeze(picked, dim)


@op("", saves=False, differentiable=False)
def median_indices(a, *, dim, keepdim=False):
    if a.ndim == 0:
        return jnp.zeros((), int)
    order = _lower_median_order(a, dim)
    return order if keepdim else jnp.squeeze(order, dim)


# --- statistics and distances -----------------------------------------------------------------


def _spread_and_mean(name: str, grad_fn: str, spread) -> tuple[OpSpec, OpSpec]:
    """The two outputs of ``var_mean``/``std_mean`` (one grad_fn ``grad_fn`` in torch)."""

    def spread_part(a, *, dim=None, correction=1, keepdim=False):
        return spread(a, dim=dim, correction=correction, keepdim=keepdim)

    def mean_part(a, *, dim=None, correction=1, keepdim=False):
        return jnp.mean(a, axis=dim, keepdims=keepdim)

    spread_part.__name__ = spread_part.__qualname__ = f"{name}_spread"
    mean_part.__name__ = mean_part.__qualname__ = f"{name}_mean"
    return op(grad_fn)(spread_part), op(grad_fn)(mean_part)


def _var(a, *, dim, correction, keepdim):
    return jnp.var(a, axis=dim, ddof=correction, keepdims=keepdim)


def _std(a, *, dim, correction, keepdim):
    return kinks.sqrt_zero_grad_at_zero(_var(a, dim=dim, correction=correction, keepdim=keepdim))


var_mean_spread, var_mean_mean = _spread_and_mean("var_mean", "VarMeanBackward0", _var)
std_mean_spread, std_mean_mean = _spread_and_mean("std_mean", "StdMeanBackward0", _std)


@op("DistBackward0", promotes=Promotion())
def dist(a, b, *, p):
    return kinks.vector_norm(a - b, p, None, False)


@op("CdistBackward0")
def cdist(a, b, *, p):
    return kinks.vector_norm(a[..., :, None, :] - b[..., None, :, :], p, -1, False)


# --- index_add, index_copy, index_fill ---------------------------------------------------------


def _along(a, dim: int, index) -> tuple:
    """The key selecting ``index`` along ``dim`` of ``a`` (a 0-d ``a`` counts as 1-d)."""
    return (*(slice(None),) * dim, index)


@op("IndexAddBackward0")
def index_add(a, index, source, *, dim, alpha):
    if a.ndim == 0:
        return a + alpha * source.reshape(())
    source = source.reshape(source.shape or (1,)).astype(a.dtype)
    return a.at[_along(a, dim, index.reshape(-1))].add(source if alpha == 1 else alpha * source)


@op("IndexCopyBackward0")
def index_copy(a, index, source, *, dim):
    if a.ndim == 0:
        return source.reshape(()).astype(a.dtype)
    source = source.reshape(source.shape or (1,)).astype(a.dtype)
    return a.at[_along(a, dim, index.reshape(-1))].set(source)


def _filled(a, index, dim: int):
    """Where ``index`` (in range, negatives counted from the end) marks ``a`` along ``dim``."""
    if a.ndim == 0:
        return jnp.asarray(index.size > 0)
    marked = jnp.zeros(a.shape[dim], bool).at[index.reshape(-1)].set(True)
    return marked.reshape((-1,) + (1,) * (a.ndim - dim - 1))


@op("IndexFillBackward0")
def index_fill(a, index, *, dim, value):
    return jnp.where(_filled(a, index, dim), jnp.asarray(value).astype(a.dtype), a)


@op("IndexFillBackward1")
def index_fill_tensor(a, index, value, *, dim):
    return jnp.where(_filled(a, index, dim), value.astype(a.dtype), a)


@op("", saves=False, differentiable=False)
def searchsorted(boundaries, values, *, right, out_int32):
    """torch's binary search, step for step: how many leading ``boundaries`` (along the last
    dim) satisfy ``not (b > v)`` (``right``) or ``not (b >= v)``, NaN included as torch's
    comparisons place it."""
    size = boundaries.shape[-1]
    start = jnp.zeros(values.shape, int)
    end = jnp.full(values.shape, size)
    for _ in range(size.bit_length()):
        mid = start + (end - start) // 2
        safe = jnp.minimum(mid, size - 1)
        if boundaries.ndim == 1:
            found = boundaries[safe]
        else:
            found = jnp.take_along_axis(boundaries, safe, axis=-1)
        onward = ~(found > values) if right else ~(found >= values)
        active = start < end
        start = jnp.where(active & onward, mid + 1, start)
        end = jnp.where(active & ~onward, mid, end)
    return start.astype(jnp.int32 if out_int32 else int)


# --- scatter_reduce -----------------------------------------------------------------------------


def _scatter_base(a, index, dim: int, include_self: bool, fill):
    """``a``, with the positions ``index`` scatters to set to ``fill`` unless ``include_self``."""
    if include_self:
        return a
    return a.at[_grid(index, dim)].set(jnp.asarray(fill, a.dtype))


def _trimmed(src, index):
    """The part of ``src`` that ``index`` scatters (torch reads no more of it)."""
    return src[tuple(slice(0, n) for n in index.shape)]


@op("ScatterReduceBackward0")
def scatter_reduce_sum(a, index, src, *, dim, include_self):
    base = _scatter_base(a, index, dim, include_self, 0)
    return base.at[_grid(index, dim)].add(_trimmed(src, index).astype(a.dtype))


@op("ScatterReduceBackward0")
def scatter_reduce_mean(a, index, src, *, dim, include_self):
    grid = _grid(index, dim)
    total = _scatter_base(a, index, dim, include_self, 0).at[grid].add(_trimmed(src, index))
    count = jnp.full(a.shape, int(include_self)).at[grid].add(1)
    count = jnp.where(count == 0, 1, count).astype(a.dtype)
    if jnp.issubdtype(a.dtype, jnp.floating):
        return total / count
    return jnp.floor_divide(total, count)


@op("", saves=False, differentiable=False)
def scatter_reduce_prod(a, index, src, *, dim, include_self):
    base = _scatter_base(a, index, dim, include_self, 1)
    return base.at[_grid(index, dim)].multiply(_trimmed(src, index))


def _extreme(dtype, largest: bool):
    """The identity of ``max`` (``largest``) or ``min`` for ``dtype``."""
    if jnp.issubdtype(dtype, jnp.floating):
        return -jnp.inf if largest else jnp.inf
    info = jnp.iinfo(dtype)
    return info.min if largest else info.max


@functools.partial(jax.custom_jvp, nondiff_argnums=(3, 4, 5))
def _scatter_extremum(a, index, src, dim, largest, include_self):
    base = _scatter_base(a, index, dim, include_self, _extreme(a.dtype, largest))
    scattered = base.at[_grid(index, dim)]
    src = _trimmed(src, index)
    return scattered.max(src) if largest else scattered.min(src)


@_scatter_extremum.defjvp
def _scatter_extremum_jvp(dim, largest, include_self, primals, tangents):
    """torch's gradient: split evenly among ``a``'s and ``src``'s elements equal to each
    result (``a``'s counted even where ``include_self=False`` leaves them out), and none to
    ``a`` where ``include_self=False`` scatters."""
    (a, index, src), (da, _, dsrc) = primals, tangents
    result = _scatter_extremum(a, index, src, dim, largest, include_self)
    grid = _grid(index, dim)
    src, dsrc = _trimmed(src, index), _trimmed(dsrc, index)
    self_is, src_is = a == result, src == result[grid]
    count = self_is.astype(a.dtype).at[grid].add(src_is.astype(a.dtype))  # before the masking
    if not include_self:
        self_is = self_is & ~jnp.zeros(a.shape, bool).at[grid].set(True)
    from_self = jnp.where(self_is, da, 0)
    tangent = (from_self + jnp.zeros_like(a).at[grid].add(jnp.where(src_is, dsrc, 0))) / count
    return result, tangent


@op("ScatterReduceBackward0")
def scatter_reduce_amax(a, index, src, *, dim, include_self):
    return _scatter_extremum(a, index, src, dim, True, include_self)


@op("ScatterReduceBackward0")
def scatter_reduce_amin(a, index, src, *, dim, include_self):
    return _scatter_extremum(a, index, src, dim, False, include_self)
