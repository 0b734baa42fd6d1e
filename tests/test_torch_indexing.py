"""Basic indexing and no-op views against real PyTorch: values, gradients and grad_fn names.

torch applies a tuple index item by item: an int selects (SelectBackward0), ``None`` unsqueezes
(UnsqueezeBackward0), a slice that keeps its whole dim and ``...`` do nothing, so the last item
that did something names the node, and a tuple that did nothing records AliasBackward0. A lone
slice is always a SliceBackward0, even ``x[:]``.
"""

from __future__ import annotations

import pytest
from support import assert_same, run_both

import fdiff.torch

KEYS = [
    "[0, 0:]", "[:, 0:]", "[...]", "[None]", "[0:]", "[:]", "[::1]", "[0:3]", "[0:10]", "[:, :]",
    "[..., 0:]", "[None, 0:]", "[0, :]", "[:, 0]", "[1:, 0:]", "[0:, 1:]", "[None, None]",
    "[..., None]", "[0, None]", "[None, 0]", "[..., 0]", "[:, None]", "[-3:]", "[:, ::1]", "[1]",
    "[0:1]", "[:, 0:4]", "[:, ...]", "[:, None, :]", "[(0,)]", "[()]", "[:, 0:100]", "[:, -4:]",
    "[:, :4:1]", "[0:,]", "[..., :]", "[(Ellipsis,)]", "[(None,)]", "[:, 0:4:2]", "[1:, 0]",
    "[0:2, 0:]", "[..., 1:]", "[None, ..., 0:]", "[0, ..., None]", "[:, 1:2]", "[-1, -4:]",
]  # fmt: skip


@pytest.mark.parametrize("key", KEYS)
def test_basic_index_grad_fn_values_and_gradient(real_torch, key):
    def program(torch):
        x = torch.arange(12.0).reshape(3, 4).requires_grad_()
        y = eval(f"(x * 2){key}")  # a non-leaf, as torch names a leaf's index the same way
        (y * y).sum().backward()
        return y, y.grad_fn.name(), x.grad

    assert_same(*run_both(real_torch, program))


FLATTENS = {
    "1-D": ((3,), ()),
    "one dim of 2-D": ((2, 3), (1,)),
    "start equals end": ((2, 3), (0, 0)),
    "negative start equals end": ((2, 1, 3), (-2, 1)),
}


@pytest.mark.parametrize(("shape", "dims"), FLATTENS.values(), ids=FLATTENS)
def test_a_flatten_that_merges_nothing_returns_its_input(real_torch, shape, dims):
    def program(torch):
        y = torch.ones(shape, requires_grad=True) * 3
        flat = y.flatten(*dims)
        return flat, flat is y, flat.grad_fn.name()

    actual, expected = run_both(real_torch, program)
    assert expected[1:] == (True, "MulBackward0")
    assert_same(actual, expected)


@pytest.mark.parametrize("shape", [(), (2, 1, 3)])
def test_a_flatten_that_merges_dims_is_a_view(real_torch, shape):
    def program(torch):
        flat = (torch.ones(shape, requires_grad=True) * 3).flatten()
        return flat, flat.grad_fn.name()

    assert_same(*run_both(real_torch, program))


def test_flatten_with_start_after_end_raises(real_torch):
    for torch in (real_torch, fdiff.torch):
        with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
            torch.ones(2, 3).flatten(1, 0)
