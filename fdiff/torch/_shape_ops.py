"""The op table's shape and indexing ops: ``view``, ``transpose``, ``cat``, ``index``... (see
``_ops``).

>>> select.grad_fn, index_put.grad_fn_name((3,), (), (1,))
('SelectBackward0', 'IndexPutBackward0')
"""

from __future__ import annotations

import jax.numpy as jnp

from fdiff.torch import _indexing
from fdiff.torch._opspec import OpSpec, op

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
