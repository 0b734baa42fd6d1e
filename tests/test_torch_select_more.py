"""``nonzero``, ``argwhere``, ``masked_select``, ``count_nonzero``, ``unique``, ``diff``,
``amin``, ``aminmax``, ``median``, ``var_mean``/``std_mean``, ``cov``/``corrcoef``, ``dist``,
``cdist``, ``scatter_reduce`` and
``index_add``/``index_copy``/``index_fill``, ``searchsorted``/``bucketize``, ``bincount`` and
``histc`` against real torch: values, dtypes, grad_fn names,
gradients (ties included), errors; the value-dependent shapes under JAX transforms and step
capture."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from support import assert_same, assert_same_error, run_both

import fdiff.torch

RNG = np.random.default_rng(20261203)
A = RNG.standard_normal((3, 4)).astype(np.float32)
TIES = np.array([[1.0, 0.0, 2.0, 2.0], [0.0, 0.0, -1.0, 3.0], [5.0, 5.0, 5.0, 5.0]], np.float32)
NAN = float("nan")
DISTINCT = RNG.permutation(12).reshape(3, 4).astype(np.float32) - 5.5  # no ties
B = RNG.standard_normal((5, 4)).astype(np.float32)


def traced(torch, op, array):
    """``op`` on a leaf from ``array``; the output, grad_fn name and gradient of a weighted
    sum of the output (the first of a tuple of outputs: all of them)."""
    leaf = torch.tensor(array, requires_grad=True)
    out = op(torch, leaf)
    outs = out if isinstance(out, tuple) else (out,)
    total = 0
    for i, o in enumerate(outs):
        weights = torch.linspace(-1.0, 2.0 + i, o.numel()).reshape(o.shape)
        total = total + (o * weights).sum()
    total.backward()
    return {"out": out, "grad_fn": [o.grad_fn.name() for o in outs], "grad": leaf.grad}


DIFFERENTIABLE = {
    "masked_select": (lambda t, a: t.masked_select(a, a > 0), A),
    "masked_select method broadcast mask": (
        lambda t, a: a.masked_select(t.tensor([True, False, True, True])),
        A,
    ),
    "masked_select broadcast input": (lambda t, a: t.masked_select(a[:, :1], a > 0), A),
    "masked_select none": (lambda t, a: t.masked_select(a, a > 9), A),
    "masked_select 0-d": (lambda t, a: t.masked_select(a[0, 0], t.tensor(True)), A),
    "diff": (lambda t, a: t.diff(a), A),
    "diff n=2 dim 0": (lambda t, a: a.diff(n=2, dim=0), A),
    "diff prepend append": (
        lambda t, a: t.diff(a, dim=1, prepend=a[:, :2] * 2, append=a[:, :1]),
        A,
    ),
    "diff n past the length": (lambda t, a: t.diff(a, n=5), A),
    "amin": (lambda t, a: t.amin(a), TIES),
    "amin dim ties": (lambda t, a: a.amin(1), TIES),
    "amin dims keepdim": (lambda t, a: t.amin(a, (0, 1), keepdim=True), TIES),
    "aminmax": (lambda t, a: tuple(t.aminmax(a)), TIES),
    "aminmax dim ties": (lambda t, a: tuple(a.aminmax(dim=1)), TIES),
    "aminmax dim keepdim": (lambda t, a: tuple(t.aminmax(a, dim=0, keepdim=True)), TIES),
    "median ties": (lambda t, a: t.median(a), TIES),
    "median nan": (lambda t, a: t.median(a * t.tensor([1.0, NAN, 1.0, 1.0])), TIES),
    "median dim": (lambda t, a: t.median(a, 1).values, DISTINCT),
    "median dim 0 keepdim": (lambda t, a: a.median(0, keepdim=True)[0], DISTINCT),
    "var_mean": (lambda t, a: t.var_mean(a), A),
    "var_mean dim unbiased=False": (lambda t, a: t.var_mean(a, 1, unbiased=False), A),
    "std_mean correction keepdim": (
        lambda t, a: t.std_mean(a, (0,), keepdim=True, correction=0),
        A,
    ),
    "std_mean of a constant row": (
        lambda t, a: t.std_mean(a * t.tensor([[1.0], [0.0], [1.0]]), 1),
        A,
    ),
    "dist": (lambda t, a: t.dist(a, t.tensor(B[:3])), A),
    "dist p=1 broadcast": (lambda t, a: a.dist(t.tensor(B[0]), 1), A),
    "dist p=inf with a zero": (
        lambda t, a: t.dist(a, a.detach() * t.tensor([[1.0], [0.5], [1.0]]), float("inf")),
        A,
    ),
    "dist of equal tensors": (lambda t, a: t.dist(a, a.detach()), A),
    "cdist": (lambda t, a: t.cdist(a, t.tensor(B)), A),
    "cdist p=1": (lambda t, a: t.cdist(a, t.tensor(B), p=1), A),
    "cdist p=3 batched": (lambda t, a: t.cdist(a[None], t.tensor(B)[None], 3.0), A),
    "cdist zero distance": (lambda t, a: t.cdist(a, a.detach()[:2]), A),
    "cdist donot_use_mm": (
        lambda t, a: t.cdist(
            t.cat([a] * 9), a.detach(), compute_mode="donot_use_mm_for_euclid_dist"
        ),
        A,
    ),
    "cov": (lambda t, a: t.cov(a), A),
    "cov of a vector correction 0": (lambda t, a: a[0].cov(correction=0), A),
    "cov correction 2": (lambda t, a: t.cov(a.t(), correction=2), A),
    "corrcoef": (lambda t, a: t.corrcoef(a), A),
    "corrcoef of a vector": (lambda t, a: a[1].corrcoef(), A),
    "corrcoef of perfectly correlated rows": (
        lambda t, a: t.corrcoef(t.stack([a[0], a[0] * 2])),
        A,
    ),
    **{
        f"scatter_reduce {reduce} include_self={include}": (
            lambda t, a, reduce=reduce, include=include: a.scatter_reduce(
                1,
                t.tensor([[0, 0, 1], [2, 2, 2], [3, 1, 3]]),
                a.round()[:, 1:] * 2,
                reduce,
                include_self=include,
            ),
            TIES,
        )
        for reduce in ("sum", "mean", "amax", "amin")
        for include in (True, False)
    },
    "scatter_reduce_ on a non-leaf": (
        lambda t, a: (a * 1).scatter_reduce_(0, t.tensor([[1, 0, 1, 1]]), a[:1], "amax"),
        TIES,
    ),
    "index_add": (lambda t, a: a.index_add(1, t.tensor([3, 0]), a[:, :2] * 3), A),
    "index_add repeats alpha": (
        lambda t, a: t.index_add(a, 0, t.tensor([2, 2, 0]), a * 2, alpha=-0.5),
        A,
    ),
    "index_add_ on a non-leaf": (lambda t, a: (a * 1).index_add_(1, t.tensor([1]), a[:, :1]), A),
    "index_add 0-d": (lambda t, a: a[0, 0].index_add(0, t.tensor([0]), a[1, 1]), A),
    "index_copy": (lambda t, a: a.index_copy(1, t.tensor([3, 0]), a[:, :2] * 3), A),
    "index_copy_ on a non-leaf": (
        lambda t, a: t.Tensor.index_copy_(a + 1, 0, t.tensor([1]), a[:1] * 2),
        A,
    ),
    "index_fill": (lambda t, a: a.index_fill(1, t.tensor([3, 0, 3]), -2.0), A),
    "index_fill negative": (lambda t, a: t.index_fill(a, 1, t.tensor([-1]), 3.0), A),
    "index_fill tensor value": (lambda t, a: a.index_fill(0, t.tensor([2, 2]), a[0, 0] * 2), A),
    "index_fill_ on a non-leaf": (lambda t, a: (a * 1).index_fill_(1, t.tensor(2), 0.5), A),
}


@pytest.mark.parametrize("case", DIFFERENTIABLE)
def test_values_grad_fn_and_gradients_match_torch(real_torch, case):
    op, array = DIFFERENTIABLE[case]
    assert_same(*run_both(real_torch, lambda torch: traced(torch, op, array)))


VALUES = {
    "nonzero": lambda t, a: t.nonzero(a > 0),
    "nonzero method floats": lambda t, a: (a * (a > 0)).nonzero(),
    "nonzero as_tuple": lambda t, a: t.nonzero(a > 0, as_tuple=True),
    "nonzero 0-d": lambda t, a: (t.nonzero(a[0, 0] + 9), t.nonzero(a[0, 0] * 0)),
    "nonzero 0-d as_tuple": lambda t, a: (
        t.nonzero(t.tensor(3.0), as_tuple=True),
        t.nonzero(t.tensor(0), as_tuple=True),
    ),
    "nonzero empty": lambda t, a: t.nonzero(a > 9),
    "argwhere": lambda t, a: (t.argwhere(a > 0), (a < 0).argwhere()),
    "count_nonzero": lambda t, a: (t.count_nonzero(a > 0), (a > 0).count_nonzero(dim=1)),
    "count_nonzero dims": lambda t, a: t.count_nonzero(a.round(), (0, 1)),
    "unique": lambda t, a: t.unique(a.round()),
    "unique inverse counts": lambda t, a: a.round().unique(return_inverse=True, return_counts=True),
    "unique ints counts": lambda t, a: t.unique(a.round().long(), return_counts=True),
    "unique nan and signed zeros": lambda t, a: t.unique(
        t.tensor([NAN, 1.0, NAN, 0.0, -0.0, 1.0]), return_inverse=True, return_counts=True
    ),
    "unique: the first of -0.0 and 0.0": lambda t, a: (
        1 / t.unique(t.tensor([-0.0, 0.0])),
        1 / t.unique(t.tensor([0.0, -0.0])),
    ),
    "unique bools": lambda t, a: t.unique(a > 0, return_inverse=True),
    "diff bools": lambda t, a: t.diff(a > 0),
    "diff ints with a float append": lambda t, a: t.diff(a.round().long(), append=t.ones(3, 1)),
    "diff n=0": lambda t, a: t.diff(a, n=0),
    "amin ints": lambda t, a: a.round().long().amin(0),
    "aminmax repr": lambda t, a: repr(t.aminmax(a.round())),
    "aminmax fields": lambda t, a: (type(t.aminmax(a)).__name__, t.aminmax(a).max, t.aminmax(a)[0]),
    "aminmax 0-d dim": lambda t, a: tuple(t.aminmax(a[0, 0], dim=0)),
    "median indices": lambda t, a: (t.median(a, 1), a.median(dim=0, keepdim=True)),
    "median ints": lambda t, a: (
        t.median(a.round().long()),
        t.median(a.long() * 0 + t.arange(4), 1),
    ),
    "median 0-d": lambda t, a: (t.median(a[0, 0]), tuple(t.median(a[0, 0], 0))),
    "median of empty slices": lambda t, a: tuple(t.median(t.ones(2, 0), 0)),
    "median repr": lambda t, a: repr(t.median(a, 1)),
    "index_fill long with a float": lambda t, a: a.long().index_fill(1, t.tensor([0]), 2.7),
    "index_fill long with a float tensor": lambda t, a: a.long().index_fill(
        0, t.tensor([1]), t.tensor(-2.5)
    ),
    "index_add ints": lambda t, a: a.long().index_add(0, t.tensor([1, 1]), a.long()[:2]),
    "scatter_reduce prod": lambda t, a: tuple(
        a.round().scatter_reduce(
            0, t.tensor([[1, 0, 1, 1], [1, 2, 2, 0]]), a[:2], "prod", include_self=i
        )
        for i in (True, False)
    ),
    "scatter_reduce ints": lambda t, a: tuple(
        a.long().scatter_reduce(1, t.tensor([[0, 0, 1]]), a.long()[:1] + 7, r, include_self=False)
        for r in ("sum", "prod", "mean", "amax", "amin")
    ),
    "cov and corrcoef of ints": lambda t, a: (
        t.cov(t.tensor([[1, 2, 4], [0, 1, 1]])),
        t.corrcoef(t.tensor([[1, 2, 4], [0, 1, 1]])),
    ),
    "corrcoef of a constant": lambda t, a: (t.corrcoef(t.ones(3)), t.corrcoef(t.ones(2, 3))),
    "searchsorted": lambda t, a: (
        t.searchsorted(t.tensor([-1.0, 0.0, 0.0, 1.0]), a.round()),
        t.searchsorted(t.tensor([-1.0, 0.0, 0.0, 1.0]), a.round(), right=True),
        t.searchsorted(t.tensor([-1.0, 0.0, 0.0, 1.0]), a.round(), side="right"),
    ),
    "searchsorted a number and ints": lambda t, a: (
        t.searchsorted(t.tensor([1, 3, 5]), 3),
        t.searchsorted(t.tensor([1, 3, 5]), t.tensor([2.5, 9.0])),
    ),
    "searchsorted batched": lambda t, a: t.searchsorted(a.sort().values, a[:, :2] * 0.5),
    "searchsorted nan": lambda t, a: (
        t.searchsorted(t.tensor([1.0, 3.0, NAN]), t.tensor([NAN, 2.0, 4.0])),
        t.searchsorted(t.tensor([1.0, 3.0, NAN]), t.tensor([NAN, 3.0]), right=True),
    ),
    "searchsorted empty": lambda t, a: t.searchsorted(t.ones(0), t.ones(2)),
    "bucketize": lambda t, a: (
        t.bucketize(a, t.tensor([-1.0, 0.0, 1.0])),
        t.bucketize(a.round(), t.tensor([-1.0, 0.0, 1.0]), right=True),
        t.bucketize(0.0, t.tensor([-1.0, 0.0, 1.0])),
    ),
    "bincount": lambda t, a: (
        t.bincount(t.tensor([1, 3, 1])),
        t.tensor([0, 0]).bincount(minlength=4),
        t.bincount(t.tensor([], dtype=t.long)),
    ),
    "bincount weights": lambda t, a: t.bincount(t.tensor([2, 0, 2]), a[0, :3], 5),
    "histc": lambda t, a: (t.histc(a, 4), a.histc(bins=3, min=-1, max=1)),
    "histc one value": lambda t, a: t.histc(t.tensor([2.0, 2.0]), 4),
    "histc range from the data": lambda t, a: t.histc(t.tensor([2.0, 5.0]), 3, min=3, max=3),
    "histc nan left out": lambda t, a: t.histc(t.tensor([NAN, 5.0, 0.0]), 3, min=0, max=6),
    "histc requires grad": lambda t, a: t.histc(a.requires_grad_(), 3),
}


@pytest.mark.parametrize("case", VALUES)
def test_results_without_gradients_match_torch(real_torch, case):
    program = VALUES[case]
    assert_same(*run_both(real_torch, lambda torch: program(torch, torch.tensor(A))))


@pytest.mark.parametrize("function", ["aminmax", "var_mean", "std_mean"])
def test_both_outputs_share_one_grad_fn(real_torch, function):
    def program(torch):
        first, second = getattr(torch, function)(torch.tensor(A, requires_grad=True), dim=0)
        return first.grad_fn is second.grad_fn, second.grad_fn.name(), second.output_nr

    assert_same(*run_both(real_torch, program))


def test_var_mean_warns_as_torch_does_without_degrees_of_freedom(real_torch):
    for torch in (real_torch, fdiff.torch):
        with pytest.warns(UserWarning, match="var_mean\\(\\): degrees of freedom is <= 0") as seen:
            torch.var_mean(torch.ones(1))
        assert seen[0].filename == __file__


ERRORS = {
    "masked_select float mask": lambda t: t.masked_select(t.ones(2), t.ones(2)),
    "masked_select shapes": lambda t: t.masked_select(t.ones(2), t.tensor([True, False, True])),
    "diff 0-d": lambda t: t.diff(t.tensor(1.0)),
    "diff negative n": lambda t: t.diff(t.ones(3), n=-1),
    "diff prepend dims": lambda t: t.diff(t.ones(2, 3), prepend=t.ones(3)),
    "diff append shape": lambda t: t.diff(t.ones(2, 3), dim=0, append=t.ones(1, 2)),
    "diff dim": lambda t: t.diff(t.ones(2, 3), dim=2),
    "amin of nothing": lambda t: t.amin(t.ones(0)),
    "amin empty dim": lambda t: t.amin(t.ones(2, 0), dim=1),
    "aminmax of nothing": lambda t: t.aminmax(t.ones(0)),
    "aminmax empty dim": lambda t: t.aminmax(t.ones(2, 0), dim=1),
    "count_nonzero dim": lambda t: t.count_nonzero(t.ones(2), dim=3),
    "median empty dim": lambda t: t.median(t.ones(2, 0), 1),
    "median dim": lambda t: t.median(t.ones(2, 3), 2),
    "var_mean of ints": lambda t: t.var_mean(t.ones(2).long()),
    "dist of ints": lambda t: t.dist(t.ones(2).long(), t.ones(2).long()),
    "dist shapes": lambda t: t.dist(t.ones(2, 3), t.ones(2, 4)),
    "cdist compute_mode": lambda t: t.cdist(t.ones(2, 3), t.ones(2, 3), compute_mode="x"),
    "cdist negative p": lambda t: t.cdist(t.ones(2, 3), t.ones(2, 3), p=-1),
    "cdist of a vector": lambda t: t.cdist(t.ones(3), t.ones(2, 3)),
    "cdist columns": lambda t: t.cdist(t.ones(2, 3), t.ones(2, 4)),
    "cdist of ints": lambda t: t.cdist(t.ones(2, 3).long(), t.ones(2, 3)),
    "index_add out of range": lambda t: t.ones(3, 4).index_add(1, t.tensor([0, 5]), t.ones(3, 2)),
    "index_add negative": lambda t: t.ones(3, 4).index_add(1, t.tensor([-1, 0]), t.ones(3, 2)),
    "index_add float index": lambda t: t.ones(3, 4).index_add(1, t.tensor([0.0, 1]), t.ones(3, 2)),
    "index_add count": lambda t: t.ones(3, 4).index_add(1, t.tensor([0, 1, 2]), t.ones(3, 2)),
    "index_add matrix": lambda t: t.ones(3, 4).index_add(1, t.tensor([[0, 1]]), t.ones(3, 2)),
    "index_add dtypes": lambda t: t.ones(3).index_add(0, t.tensor([0, 1]), t.ones(2).long()),
    "index_add shapes": lambda t: t.ones(3, 4).index_add(0, t.tensor([0, 1]), t.ones(2, 3)),
    "index_add dim": lambda t: t.ones(3, 4).index_add(2, t.tensor([0]), t.ones(3, 1)),
    "index_copy out of range": lambda t: t.ones(3, 4).index_copy(1, t.tensor([0, 5]), t.ones(3, 2)),
    "index_copy negative": lambda t: t.ones(3, 4).index_copy(1, t.tensor([-1, 0]), t.ones(3, 2)),
    "index_copy float index": lambda t: t.ones(3).index_copy(0, t.tensor([0.0]), t.ones(1)),
    "index_copy matrix": lambda t: t.ones(3, 4).index_copy(1, t.tensor([[0, 1]]), t.ones(3, 2)),
    "index_copy count": lambda t: t.ones(3, 4).index_copy(1, t.tensor([0, 1, 2]), t.ones(3, 2)),
    "index_copy dtypes": lambda t: t.ones(3).index_copy(0, t.tensor([0]), t.ones(1).long()),
    "index_fill float index": lambda t: t.ones(3).index_fill(0, t.tensor([0.0]), 1.0),
    "index_fill matrix": lambda t: t.ones(3, 4).index_fill(1, t.tensor([[0, 1]]), 1.0),
    "index_fill out of range": lambda t: t.ones(3, 4).index_fill(1, t.tensor([-5]), 1.0),
    "index_fill vector value": lambda t: t.ones(3).index_fill(0, t.tensor([0]), t.ones(2)),
    "index_fill_ on a leaf": lambda t: t.ones(3, requires_grad=True).index_fill_(0, t.tensor(0), 1),
    "scatter_reduce dtypes": lambda t: t.ones(2).scatter_reduce(
        0, t.tensor([0]), t.ones(1).long(), "sum"
    ),
    "scatter_reduce out of range": lambda t: t.ones(2).scatter_reduce(
        0, t.tensor([2]), t.ones(1), "amax"
    ),
    "cov of 3 dims": lambda t: t.cov(t.ones(2, 2, 2)),
    "cov of bools": lambda t: t.cov(t.ones(2, 2).bool()),
    "corrcoef of 3 dims": lambda t: t.corrcoef(t.ones(2, 2, 2)),
    "searchsorted side": lambda t: t.searchsorted(t.ones(2), t.ones(2), side="middle"),
    "searchsorted side and right": lambda t: t.searchsorted(
        t.ones(2), t.ones(2), side="left", right=True
    ),
    "searchsorted 0-d": lambda t: t.searchsorted(t.tensor(1.0), t.ones(2)),
    "searchsorted shapes": lambda t: t.searchsorted(t.ones(2, 2), t.ones(1)),
    "bucketize matrix": lambda t: t.bucketize(t.ones(2), t.ones(2, 2)),
    "bincount floats": lambda t: t.bincount(t.tensor([1.0])),
    "bincount bools": lambda t: t.bincount(t.tensor([True])),
    "bincount negative": lambda t: t.bincount(t.tensor([-1])),
    "bincount matrix": lambda t: t.bincount(t.tensor([[1]])),
    "bincount minlength": lambda t: t.bincount(t.tensor([1]), minlength=-1),
    "bincount weights": lambda t: t.bincount(t.tensor([1]), weights=t.ones(2)),
    "histc ints": lambda t: t.histc(t.tensor([1, 2]), 4),
    "histc range": lambda t: t.histc(t.ones(2), 4, min=3, max=1),
    "histc bins": lambda t: t.histc(t.ones(2), -1),
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors_match_torch(real_torch, case):
    assert_same_error(real_torch, ERRORS[case])


def test_index_copy_checks_slice_shapes(real_torch):
    assert_same_error(
        real_torch,
        lambda t: t.ones(3, 4).index_copy(1, t.tensor([0, 1]), t.ones(2, 2)),
        "index_copy_(): Source/destination tensor must have same slice shapes.",
    )


def test_cov_warns_as_torch_does_without_degrees_of_freedom(real_torch):
    def program(torch):
        with pytest.warns(UserWarning, match="cov\\(\\): degrees of freedom is <= 0") as seen:
            result = torch.cov(torch.ones(2, 1))
        return result, seen[0].filename == __file__

    assert_same(*run_both(real_torch, program))


def test_histc_refuses_a_range_that_is_not_finite(real_torch):
    assert_same_error(real_torch, lambda t: t.histc(t.tensor([NAN, 5.0]), 3), "] is not finite")


def test_std_mean_refuses_unbiased_with_correction(real_torch):
    assert_same_error(
        real_torch,
        lambda t: t.std_mean(t.ones(3), unbiased=True, correction=0),
        "std_mean() received an invalid combination of arguments",
    )


REFUSED = {
    "torch.unique(sorted=False)": lambda t: t.unique(t.ones(2), sorted=False),
    "torch.unique(dim=...)": lambda t: t.unique(t.ones(2, 2), dim=0),
    "torch.unique of a tensor that requires grad": lambda t: t.ones(2, requires_grad=True).unique(),
    "torch.median(dim=...) with ties at the median": lambda t: t.tensor([[1.0, 2, 2, 3]]).median(1),
    "torch.median(dim=...) of a slice holding NaN": lambda t: t.tensor([1.0, NAN]).median(0),
    "torch.median of an empty tensor": lambda t: t.ones(0).median(),
    "torch.cdist(p=inf)": lambda t: t.cdist(t.ones(2, 3), t.ones(2, 3), p=float("inf")),
    "torch.cdist(p=1.5)": lambda t: t.cdist(t.ones(2, 3), t.ones(2, 3), p=1.5),
    "torch.cdist (p=2 by torch's matrix-product path)": lambda t: t.cdist(
        t.ones(26, 3), t.ones(2, 3)
    ),
    "torch.dist(p=0)": lambda t: t.dist(t.ones(2), t.ones(2), 0),
    "torch.scatter_reduce(reduce='prod') with autograd": lambda t: t.ones(
        2, requires_grad=True
    ).scatter_reduce(0, t.tensor([0]), t.ones(1), "prod"),
    "torch.scatter_reduce(reduce='max')": lambda t: t.ones(2).scatter_reduce(
        0, t.tensor([0]), t.ones(1), "max"
    ),
    "torch.cov(fweights=..., aweights=...)": lambda t: t.cov(t.ones(2, 3), fweights=t.ones(3)),
    "torch.searchsorted(sorter=...)": lambda t: t.searchsorted(t.ones(2), 1.0, sorter=t.ones(2)),
    "torch.bincount with weights that require grad": lambda t: t.bincount(
        t.tensor([0]), t.ones(1, requires_grad=True)
    ),
    "torch.index_copy (two copies to one slice)": lambda t: t.ones(3).index_copy(
        0, t.tensor([1, 1]), t.ones(2)
    ),
}


@pytest.mark.parametrize("name", REFUSED)
def test_refusals_name_the_op(name):
    with pytest.raises(
        fdiff.torch.UnsupportedError, match=name.replace("(", r"\(").replace(")", r"\)")
    ):
        REFUSED[name](fdiff.torch)


@pytest.mark.parametrize("op", [
    lambda t: t.round().long().abs().reshape(-1).bincount(),
    lambda t: t.histc(4),
    lambda t: t.nonzero(),
    lambda t: t.masked_select(t > 0),
    lambda t: t.unique(),
    lambda t: t.argwhere(),
])  # fmt: skip
def test_value_dependent_shapes_raise_under_jit_and_vmap(op):
    x = fdiff.torch.tensor(A)
    with pytest.raises(fdiff.torch.TracedValueError):
        jax.jit(op)(x)
    with pytest.raises(fdiff.torch.TracedValueError):
        jax.vmap(op)(x)


def test_masked_select_under_grad_alone_matches_eager():
    def loss(t):
        return (t.masked_select(t > 0) ** 2).sum().jax()

    x = fdiff.torch.tensor(A)
    expected = np.where(A > 0, 2 * A, 0)
    np.testing.assert_allclose(jax.grad(lambda v: loss(fdiff.torch.from_jax(v)))(x.jax()), expected)


def test_a_captured_loop_runs_them_eagerly_each_time(real_torch):
    def program(torch):
        w = torch.tensor(A)
        seen = []
        for _ in range(2):
            with torch.no_grad():
                w -= 0.5 * w.sign()
                seen += [w.nonzero(), w.masked_select(w > 0), w.round().unique(), w.diff()]
                seen += [w.histc(3), (w.round().long().abs() + 1).reshape(-1).bincount()]
        return seen

    assert_same(*run_both(real_torch, program))


def test_searchsorted_runs_under_jit(real_torch):
    def program(torch, boundaries, values):
        return torch.searchsorted(boundaries, values, right=True)

    boundaries, values = np.array([-1.0, 0.0, 0.0, 1.0], np.float32), A.round()
    jitted = jax.jit(lambda b, v: program(fdiff.torch, b, v))
    ours = jitted(fdiff.torch.tensor(boundaries), fdiff.torch.tensor(values))
    theirs = program(real_torch, real_torch.tensor(boundaries), real_torch.tensor(values))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
