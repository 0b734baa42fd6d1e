"""torch.flip, roll, tile, broadcast_to, meshgrid, vstack, movedim, diag, trace, take, rot90,
block_diag and the rest of ``_shape_more``: fdiff.torch against real torch.

Each program runs under both engines (``run_both``): values, dtypes, grad_fn names, gradients,
whether the result is a view of its input, and strides; errors by type and whole message.
"""

from __future__ import annotations

import warnings

import pytest
from support import assert_same, assert_same_error, run_both


def _leaf(torch):
    return torch.tensor([[1.0, -2.0, 0.5], [3.0, 0.0, -1.5]], requires_grad=True)


def _described(results, base, leaf, weights):
    """What a program compares: each result's value, grad_fn name, view-ness and strides, and
    the leaf's gradient of a weighted sum of them (weights break symmetries)."""
    loss = sum((r * weights[: r.numel()].reshape(r.shape)).sum() for r in results)
    loss.backward()
    names = [None if r.grad_fn is None else r.grad_fn.name() for r in results]
    return (
        [r.detach() for r in results],
        names,
        [r._base is base for r in results],
        [r.stride() for r in results],
        leaf.grad,
    )


def _run(torch, make):
    leaf = _leaf(torch)
    base = leaf * 1
    weights = torch.arange(1.0, 64.0)
    return _described(make(torch, base), base, leaf, weights)


PROGRAMS = {
    "flip": lambda torch, y: [
        y.flip(0),
        torch.flip(y, (0, 1)),
        y.t().flip(-1),
        y.flip([]),
        torch.flip(y, dims=[1]),
    ],
    "fliplr_flipud": lambda torch, y: [y.fliplr(), torch.flipud(y), torch.flipud(y[0])],
    "roll": lambda torch, y: [y.roll(1), torch.roll(y, (1, -1), (0, 1)), y.t().roll(2, 0)],
    "tile_repeat": lambda torch, y: [y.tile(2), torch.tile(y[0], (2, 1, 2)), y.repeat(1, 2, 1)],
    "repeat_interleave": lambda torch, y: [
        y.repeat_interleave(2),
        torch.repeat_interleave(y, 3, dim=1),
        y.repeat_interleave(torch.tensor([2, 0]), dim=0),
        y.t().repeat_interleave(torch.tensor(2), dim=-1),
    ],
    "broadcast": lambda torch, y: [
        torch.broadcast_to(y, (2, 2, 3)),
        y.broadcast_to((2, 3)),
        *torch.broadcast_tensors(y, y[:1], y[0, 0]),
    ],
    "meshgrid": lambda torch, y: [
        *torch.meshgrid(y[0], y[1, :2], indexing="ij"),
        *torch.meshgrid([y[0], y[1, :2], y[0, 0]], indexing="xy"),
    ],
    "stacks": lambda torch, y: [
        torch.vstack([y[0], y]),
        torch.row_stack((y[0], y[1])),
        torch.hstack([y, y[:, :1]]),
        torch.hstack([y[0], y[1], y[0, 0]]),
        torch.dstack([y, y]),
        torch.column_stack([y[0], y[1], y.t()]),
    ],
    "atleast": lambda torch, y: [
        torch.atleast_1d(y[0, 0]),
        *torch.atleast_2d(y[0, 0], y[0]),
        *torch.atleast_3d([y[0, 0], y[0], y]),
        torch.atleast_2d(y),
    ],
    "moved_dims": lambda torch, y: [
        y.movedim(0, 1),
        torch.moveaxis(y[None], (0, 2), (2, 0)),
        torch.movedim(y[None], [0, 1], [-1, 0]),
        y.swapaxes(0, 1),
        torch.swapdims(y, -1, 0),
        y.unflatten(1, (3, 1)),
        torch.unflatten(y.t(), 0, (-1, 1)),
    ],
    "diag_trace": lambda torch, y: [
        torch.diag(y[0]),
        y[1].diag(-1),
        torch.diag(y),
        y.diag(1),
        y.t().diag(-5),
        y.trace(),
        torch.trace(y.t()),
    ],
    "take": lambda torch, y: [
        y.take(torch.tensor([[0, 5], [-1, 0]])),
        torch.take_along_dim(y, torch.tensor([[0], [2]]), 1),
        y.take_along_dim(torch.tensor([[1, 1, 0]]), dim=0),
        torch.take_along_dim(y, torch.tensor([4, 4, 0])),
        torch.take_along_dim(y[:1], torch.tensor([[0, -1], [2, 1], [1, -3]]), 1),
        torch.take_along_dim(y[:, :1], torch.tensor([[0, 0]]), 0),
    ],
    "rot90": lambda torch, y: [
        y.rot90(),
        torch.rot90(y, 2),
        torch.rot90(y, -1, [1, 0]),
        y.t().rot90(1),
        y.t().rot90(4),
        y[None].rot90(1, (0, 2)),
    ],
    "products": lambda torch, y: [
        torch.cartesian_prod(y[0], y[1, :2]),
        torch.cartesian_prod(y[0]),
        torch.block_diag(y, y[0], y[1, 1], y[:1, :2].t()),
    ],
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_shape_functions_match_torch(real_torch, name):
    assert_same(*run_both(real_torch, lambda torch: _run(torch, PROGRAMS[name])))


def _new_tensors(torch):
    x = torch.arange(6.0).reshape(2, 3).t()
    i = torch.tensor([1, 2])
    made = [
        torch.full_like(x, 2.5),
        torch.full_like(i, 2.7),
        torch.full_like(x, 3, dtype=torch.int64),
        torch.full_like(x, 1.0, requires_grad=True),
        torch.empty_like(x).zero_(),
        torch.tril_indices(3, 4, 1),
        torch.triu_indices(4, 3, -1),
        torch.tril_indices(3, 3, -5),
        torch.block_diag(torch.ones(2), torch.ones(1, dtype=torch.int64)),
        torch.block_diag(),
        torch.trace(torch.arange(4).reshape(2, 2)),
        torch.trace(torch.tensor([[1.0, 2.0], [3.0, 4.0]]).t()),
        torch.diag(torch.tensor([1, 2])),
    ]
    return made, [t.stride() for t in made]


def test_new_tensors_match_torch(real_torch):
    assert_same(*run_both(real_torch, _new_tensors))


def test_meshgrid_without_indexing_warns_as_torch(real_torch):
    def program(torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            grids = torch.meshgrid(torch.tensor([1.0, 2.0]), torch.tensor([3.0]))
        return grids, [(w.category, str(w.message).split(" (Triggered")[0]) for w in caught]

    assert_same(*run_both(real_torch, program))


def test_empty_like_is_zeros():
    """torch leaves empty_like's values unspecified; fdiff.torch gives zeros (documented)."""
    import fdiff.torch as torch

    assert torch.empty_like(torch.ones(2, 3)).tolist() == [[0.0] * 3] * 2


ERRORS = {
    "flip_dim": "y.flip(2)",
    "flip_twice": "y.flip(0, 0)",
    "fliplr_vector": "torch.fliplr(y[0])",
    "flipud_scalar": "torch.flipud(y[0, 0])",
    "roll_dim": "y.roll(1, 2)",
    "roll_align": "y.roll((1, 2), (0,))",
    "roll_no_shifts": "y.roll([], [])",
    "tile_negative": "y.tile(-1)",
    "repeat_short": "y.repeat(2)",
    "repeat_interleave_negative": "y.repeat_interleave(-1)",
    "broadcast_to_size": "torch.broadcast_to(y, (3, 3))",
    "broadcast_tensors": "torch.broadcast_tensors(y, torch.ones(2))",
    "meshgrid_indexing": "torch.meshgrid(y[0], y[0], indexing='foo')",
    "meshgrid_empty": "torch.meshgrid(indexing='ij')",
    "vstack_empty": "torch.vstack([])",
    "hstack_dims": "torch.hstack([y, y[0]])",
    "dstack_sizes": "torch.dstack([y[0], y[0, :2]])",
    "movedim_count": "y.movedim((0, 1), (1,))",
    "movedim_range": "y.movedim(0, 5)",
    "movedim_repeated": "y.movedim((0, 0), (0, 1))",
    "swapaxes_range": "torch.swapaxes(y, 0, 2)",
    "unflatten_sizes": "y.unflatten(1, (2, 2))",
    "unflatten_empty": "y.unflatten(1, ())",
    "diag_3d": "torch.diag(y[None])",
    "diag_0d": "torch.diag(y[0, 0])",
    "trace_vector": "y[0].trace()",
    "take_range": "y.take(torch.tensor([6]))",
    "take_float": "y.take(torch.tensor([1.0]))",
    "take_along_dim_range": "torch.take_along_dim(y, torch.tensor([[0]]), 2)",
    "take_along_dim_view": "torch.take_along_dim(y.t(), torch.tensor([0]))",
    "rot90_same_dims": "y.rot90(1, [0, 0])",
    "rot90_one_dim": "y.rot90(1, [0])",
    "block_diag_3d": "torch.block_diag(y[None])",
    "cartesian_prod_2d": "torch.cartesian_prod(y)",
    "tril_indices_float": "torch.tril_indices(2, 2, dtype=torch.float32)",
    "triu_indices_bool": "torch.triu_indices(2, 2, dtype=torch.bool)",
    "meshgrid_dtypes": "torch.meshgrid(y[0], torch.tensor([1]), indexing='ij')",
    "trace_bool": "torch.trace(y > 0)",
}


@pytest.mark.parametrize("expression", ERRORS.values(), ids=ERRORS.keys())
def test_errors_match_torch(real_torch, expression):
    assert_same_error(
        real_torch, lambda torch: eval(expression, {"torch": torch, "y": torch.ones(2, 3)})
    )


def test_meshgrid_of_a_matrix_raises_as_torch(real_torch):
    """torch's message prints the tensor in C++'s format: the message up to it is compared."""
    assert_same_error(
        real_torch,
        lambda torch: torch.meshgrid(torch.ones(2, 3), torch.ones(2), indexing="ij"),
        "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got:",
    )


def _second_backward(make):
    def program(torch):
        x = _leaf(torch)
        out = make(torch, x).sum()
        out.backward()
        out.backward()  # torch: fine when the node saved no tensor
        return x.grad

    return program


@pytest.mark.parametrize(
    "make",
    [
        lambda torch, x: x.flip(0) + x.roll(1) + x.rot90(2),
        lambda torch, x: x.tile(2, 1)[:2] + torch.diag(x).sum() + x.trace(),
        lambda torch, x: torch.diag(x[0]).sum() + torch.block_diag(x, x[0]).sum(),
    ],
    ids=["flip_roll_rot90", "tile_diag_trace", "diag_embed_block_diag"],
)
def test_ops_that_save_nothing_allow_a_second_backward(real_torch, make):
    assert_same(*run_both(real_torch, _second_backward(make)))


def _take(torch, x):
    return x.take(torch.tensor([0, 4]))


def test_take_saves_its_inputs_as_torch(real_torch):
    assert_same_error(real_torch, _second_backward(_take))


def _diag_gradient(offset: int):
    def program(torch):
        x = torch.ones(3, 4, requires_grad=True)
        y = torch.diag(x, offset)
        (grad,) = torch.autograd.grad(y.sum(), x, create_graph=True)
        return grad

    return program


@pytest.mark.parametrize("offset", [0, 2, -1])
def test_diag_gradient_does_not_depend_on_the_input(real_torch, offset):
    """torch's ``create_graph`` gradient of ``diag`` uses no input: it does not require grad."""
    assert_same(*run_both(real_torch, _diag_gradient(offset)))
