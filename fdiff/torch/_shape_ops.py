"""The op table's shape and indexing ops: ``view``, ``transpose``, ``cat``, ``index``... (see
``_ops``).

>>> select.grad_fn, index_put.grad_fn_name((3,), (), (1,))
('SelectBackward0', 'IndexPutBackward0')
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from fdiff.torch import _indexing
from fdiff.torch._opspec import OpSpec, Promotion, op

# --- shape and indexing ------------------------------------------------------------------------


@op("ViewBackward0", saves=False)
def view(a, *, shape):
    return jnp.reshape(a, shape)


@op("TBackward0", saves=False)
def t(a):
    return a.T


@op("TransposeBackward0", saves=False)
def transpose(a, *, dim0, dim1):
    return jnp.swapaxes(a, dim0, dim1) if a.ndim else a  # a 0-d tensor: dims 0 and -1 are it


@op("PermuteBackward0", saves=False)
def permute(a, *, dims):
    return jnp.transpose(a, dims)


@op("UnsqueezeBackward0", saves=False)
def unsqueeze(a, *, dim):
    return jnp.expand_dims(a, dim)


@op("SqueezeBackward0", saves=False)
def squeeze(a):
    return jnp.squeeze(a)


@op("SqueezeBackward1", saves=False)
def squeeze_dim(a, *, dim):
    return squeeze_dims.impl(a, dim=(dim,))


@op("SqueezeBackward2", saves=False)
def squeeze_dims(a, *, dim):
    """Squeeze the dims in ``dim`` whose size is 1; a 0-d tensor stays as it is."""
    dims = tuple(d for d in dim if a.ndim and a.shape[d] == 1)
    return jnp.squeeze(a, dims) if dims else a


@op("ExpandBackward0", saves=False)
def expand(a, *, shape):
    return jnp.broadcast_to(a, shape)


@op("SelectBackward0", saves=False)
def view_select(a, *, dim, index):
    """``torch.select``, and each output of ``unbind`` (see ``view_unbind``)."""
    return jnp.take(a, index, axis=dim)


@op("UnbindBackward0", saves=False)
def view_unbind(a, *, dim, index):
    return jnp.take(a, index, axis=dim)


def _dim_slice(a, dim, start, length):
    return a[(slice(None),) * dim + (slice(start, start + length),)]


@op("SliceBackward0", saves=False)
def view_narrow(a, *, dim, start, length):
    return _dim_slice(a, dim, start, length)


@op("SplitBackward0", saves=False)
def view_split(a, *, dim, start, length):
    """One output of ``split(size)`` or ``chunk``."""
    return _dim_slice(a, dim, start, length)


@op("SplitWithSizesBackward0", saves=False)
def view_split_sizes(a, *, dim, start, length):
    """One output of ``split([sizes])``."""
    return _dim_slice(a, dim, start, length)


@op("DiagonalBackward0", saves=False)
def view_diagonal(a, *, offset, dim1, dim2):
    return jnp.diagonal(a, offset, dim1, dim2)


@op("CatBackward0", saves=False)
def cat(*arrays, dim=0):
    return jnp.concatenate(arrays, axis=dim)


@op("StackBackward0", saves=False)
def stack(*arrays, dim=0):
    return jnp.stack(arrays, axis=dim)


def _basic_index(name: str, grad_fn: str) -> OpSpec:
    """A basic index (ints, slices, ``None``, ``...``; no index arrays), registered under
    ``name``: torch applies the index item by item, so its node is named after the last item
    that did something (see :func:`~fdiff.torch._indexing.basic_index_kind`)."""

    def impl(a, *, key):
        return a[_indexing.decode(key, ())]

    impl.__name__ = impl.__qualname__ = name
    return op(grad_fn, saves=False)(impl)


select = _basic_index("select", "SelectBackward0")
slice_ = _basic_index("slice", "SliceBackward0")
index_unsqueeze = _basic_index("index_unsqueeze", "UnsqueezeBackward0")
alias = _basic_index("alias", "AliasBackward0")


@op("IndexBackward0")
def index(a, *indices, key):
    return a[_indexing.decode(key, indices)]


def _index_put_name(a, value, *indices) -> str:
    """torch records ``x[i:j] = v`` as CopySlices, ``x[tensor] = v`` as IndexPutBackward0."""
    return "IndexPutBackward0" if indices else "torch::autograd::CopySlices"


@op(_index_put_name)
def index_put(a, value, *indices, key):
    return a.at[_indexing.decode(key, indices)].set(value)


# --- flips, rolls, tiles, diagonals (torch.flip, roll, tile, diag, ...) ------------------------


@op("FlipBackward0", saves=False)
def flip(a, *, dims):
    return jnp.flip(a, dims) if dims else a


@op("RollBackward0", saves=False)
def roll(a, *, shifts, dims):
    """``dims=None`` rolls the flattened tensor, as torch does."""
    return jnp.roll(a, shifts, axis=dims)


@op("RepeatBackward0", saves=False)
def repeat(a, *, repeats):
    """``Tensor.repeat`` and ``torch.tile`` (``repeats`` already as long as the result's dims)."""
    return jnp.tile(a, repeats)


@op("Rot90Backward0", saves=False)
def rot90(a, *, k, dims):
    return jnp.rot90(a, k, axes=dims)


@op("DiagEmbedBackward0", saves=False)
def diag_embed(a, *, offset):
    """``torch.diag`` of a vector: the matrix with it on diagonal ``offset``."""
    return jnp.diag(a, offset)


@op("DiagonalBackward0_copy", saves=False)
def diagonal_copy(a, *, offset):
    """``torch.diag`` of a matrix: a copy of its diagonal ``offset`` (not a view), indexed by
    constant positions: ``jnp.diagonal``'s VJP keeps a float residual of ``a``, which would make
    a ``create_graph`` gradient depend on ``a`` where torch's does not."""
    steps = np.arange(max(min(a.shape[0] + min(offset, 0), a.shape[1] - max(offset, 0)), 0))
    return a[steps - min(offset, 0), steps + max(offset, 0)]


@op("TraceBackward0", saves=False)
def trace(a):
    return jnp.trace(a)


@op("TakeBackward0")
def take(a, index):
    """``input.flatten()[index]``, shaped as ``index``."""
    return jnp.take(a.reshape(-1), index)


@op("BlockDiagBackward0", saves=False, promotes=Promotion())
def block_diag(*arrays):
    """The matrices (a vector is one row, a scalar a 1x1 matrix) along a block diagonal."""
    blocks = [jnp.reshape(a, (1, -1)) if a.ndim < 2 else a for a in arrays]
    rows = sum(b.shape[0] for b in blocks)
    dtype = jnp.result_type(*blocks) if blocks else jnp.float32
    out = jnp.zeros((rows, sum(b.shape[1] for b in blocks)), dtype)
    row = column = 0
    for b in blocks:
        out = out.at[row : row + b.shape[0], column : column + b.shape[1]].set(b)
        row, column = row + b.shape[0], column + b.shape[1]
    return out
