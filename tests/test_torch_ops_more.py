"""The tensor and torch-namespace surface real scripts use, against real torch in each test.

Each program runs under real torch and fdiff.torch (``run_both``): values, dtypes, shapes,
grad_fn names and gradients must agree; errors must have torch's type and message; random draws
must be torch's bits for the same seed. Where torch's result depends on its kernel's internals
(sort ties, scatter collisions), fdiff.torch must refuse with ``UnsupportedError`` instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support import (
    assert_same,
    assert_same_error,
    assert_same_random_draws,
    run_both,
    summation_bound,
    traced,
)

import fdiff.torch
from fdiff.compare import compare_script, format_report

RNG = np.random.default_rng(20261203)
A = RNG.standard_normal((3, 4)).astype(np.float32)
B = RNG.standard_normal((4, 5)).astype(np.float32)
V = RNG.standard_normal(4).astype(np.float32)
W = RNG.standard_normal(3).astype(np.float32)
S = RNG.standard_normal((4, 4)).astype(np.float32)
T3 = RNG.standard_normal((2, 3, 4)).astype(np.float32)
DISTINCT = RNG.permutation(12).reshape(3, 4).astype(np.float32) - 5.5  # no ties
INDEX = np.array([[0, 3], [2, 2], [1, 0]])  # per row of A, along dim 1
SCATTER_INDEX = np.array([[0, 3], [2, 1], [1, 0]])  # distinct within each row


# op, its inputs, and the summation terms of its output (None: elementwise or a selection)
DIFFERENTIABLE = {
    "cumsum": (lambda t, a: t.cumsum(a, 1), (A,), 4 + 12),
    "cumsum method dim=": (lambda t, a: a.cumsum(dim=0), (A,), 3 + 12),
    "cumprod": (lambda t, a: t.cumprod(a, dim=1), (A,), 8),
    "cumprod with a zero": (lambda t, a: (a * t.tensor([1.0, 0.0, 1.0, 1.0])).cumprod(1), (A,), 8),
    "prod dim": (lambda t, a: a.prod(1), (A,), 8),
    "prod dim keepdim": (lambda t, a: t.prod(a, 0, keepdim=True), (A,), 8),
    "log10": (lambda t, a: t.log10(a.abs() + 0.5), (A,), None),
    "log2": (lambda t, a: (a.abs() + 0.5).log2(), (A,), None),
    "tril": (lambda t, a: a.tril(), (S,), None),
    "triu -1": (lambda t, a: t.triu(a, -1), (S,), None),
    "tril batched": (lambda t, a: t.tril(a, diagonal=1), (T3,), None),
    "outer": (lambda t, a, b: t.outer(a, b), (V, W), None),
    "ger": (lambda t, a, b: t.ger(a, b), (W, V), None),
    "einsum matmul": (lambda t, a, b: t.einsum("ij,jk->ik", a, b), (A, B), 4 + 5),
    "einsum implicit": (lambda t, a, b: t.einsum("ij,jk", a, b), (A, B), 4 + 5),
    "einsum list": (lambda t, a, b: t.einsum("ij,jk->ki", [a, b]), (A, B), 4 + 5),
    "einsum trace": (lambda t, s: t.einsum("ii", s), (S,), 4),
    "einsum diagonal": (lambda t, s: t.einsum("ii->i", s), (S,), None),
    "einsum transpose": (lambda t, a: t.einsum("ij->ji", a), (A,), None),
    "einsum sum": (lambda t, a: t.einsum("ij->j", a), (A,), 3 + 4),
    "einsum outer": (lambda t, a, b: t.einsum("i,j->ij", a, b), (V, W), None),
    "einsum hadamard": (lambda t, a, b: t.einsum("ij,ij->ij", a, b), (A, A), None),
    "einsum dot": (lambda t, a, b: t.einsum("i,i->", a, b), (V, V), 8),
    "einsum batched": (lambda t, a, b: t.einsum("bij,bjk->bik", a, b), (T3, T3.swapaxes(1, 2)), 8),
    "einsum ellipsis": (lambda t, a, b: t.einsum("...j,j->...", a, b), (T3, V), 8),
    "einsum broadcast": (lambda t, a, b: t.einsum("i,i->", a, b), (V, V[:1]), 8),
    "einsum three": (lambda t, a, b, v: t.einsum("ij,jk,i->k", a, b, v), (A, B, W), 16),
    "gather": (lambda t, a, i: a.gather(1, i), (A, INDEX), None),
    "gather dim 0": (lambda t, a, i: t.gather(a, 0, i), (A, np.array([[0, 2], [1, 0]])), None),
    "scatter src": (lambda t, a, i, s: a.scatter(1, i, s), (A, SCATTER_INDEX, A[:, :2] * 3), None),
    "scatter value": (lambda t, a, i: t.scatter(a, 1, i, 7.0), (A, SCATTER_INDEX), None),
    "scatter_add": (lambda t, a, i, s: a.scatter_add(1, i, s), (A, INDEX, A[:, 1:3]), 3),
    "scatter_add larger constant src": (
        lambda t, a, i, s: a.scatter_add(1, i, s.detach()),
        (A, INDEX, A * 3),
        3,
    ),
    "index_select": (lambda t, a, i: a.index_select(1, i), (A, np.array([3, 0, 3])), None),
    "masked_fill": (lambda t, a: a.masked_fill(a > 0, 0.5), (A,), None),
    "masked_fill tensor": (lambda t, a, v: t.masked_fill(a, a < 0, v), (A, np.float32(2.0)), None),
    "where": (lambda t, a, b: t.where(a > 0, a, b), (A, A * 2), None),
    "sort": (lambda t, a: t.sort(a, dim=1).values, (DISTINCT,), None),
    "sort descending dim 0": (lambda t, a: a.sort(0, descending=True)[0], (DISTINCT,), None),
    "topk": (lambda t, a: a.topk(2).values, (DISTINCT,), None),
    "topk smallest": (lambda t, a: t.topk(a, 2, dim=0, largest=False)[0], (DISTINCT,), None),
    "max dim": (lambda t, a: t.max(a, 1).values, (DISTINCT,), None),
    "min dim keepdims": (lambda t, a: a.min(dim=0, keepdims=True)[0], (DISTINCT,), None),
    "sum axis keepdims": (lambda t, a: a.sum(axis=1, keepdims=True), (A,), 4),
    "sum dim=None keepdim": (lambda t, a: a.sum(dim=None, keepdim=True), (A,), 12),
    "sum None": (lambda t, a: t.sum(a, None), (A,), 12),
    "mean None keepdim": (lambda t, a: a.mean(None, True), (A,), 12),
    "var unbiased=False": (lambda t, a: a.var(1, unbiased=False), (A,), 16),
    "std unbiased positional": (lambda t, a: t.std(a, 0, False, True), (A,), 16),
    "var correction": (lambda t, a: a.var(correction=0), (A,), 30),
    "cat": (lambda t, a, b: t.cat([a, b.t()], dim=0), (A, B), None),
    "stack": (lambda t, a, b: t.stack((a, b), 1), (A, A * 2), None),
    "exp_ on a non-leaf": (lambda t, a: (a * 2).exp_(), (A,), None),
    "cos_ sin_ on non-leaves": (lambda t, a: (a + 1).cos_() + (a * 3).sin_(), (A,), None),
    "sqrt_ log_ on non-leaves": (lambda t, a: (a * a + 1).sqrt_() + (a * a + 2).log_(), (A,), None),
    "pow_ tanh_ on non-leaves": (lambda t, a: (a * 1).pow_(3) + (a - 1).tanh_(), (A,), None),
    "clamp_ on a non-leaf": (lambda t, a: (a * 1).clamp_(-0.5, 0.5), (A,), None),
    "masked_fill_ on a non-leaf": (lambda t, a: (a + 0).masked_fill_(a > 0, 1.0), (A,), None),
    "type_as": (lambda t, a, b: a.type_as(b) * b.sum(), (A, A.astype(np.float32)), 12),
    "type(dtype)": (lambda t, a: a.type(t.float32) * 2, (A,), None),
    "float": (lambda t, a: a.float() * 2, (A,), None),
}


@pytest.mark.parametrize("case", DIFFERENTIABLE)
def test_values_grad_fn_and_gradients_match_torch(real_torch, case):
    op, arrays, terms = DIFFERENTIABLE[case]
    ours, theirs = run_both(real_torch, lambda torch: traced(torch, op, *arrays))
    bounds = None
    if terms is not None:  # a sum or product: the bound of its terms' magnitude
        magnitudes = traced(real_torch, op, *(np.abs(a) for a in arrays))
        bounds = {key: summation_bound(magnitudes[key], terms) for key in ("out", "grads")}
        bounds["grad_fn"] = None
    assert_same(ours, theirs, bounds=bounds)


INDICES = {
    "max dim indices": lambda t, a: t.max(a, 1).indices,
    "sort indices": lambda t, a: t.sort(a, 1, descending=True).indices,
    "argsort": lambda t, a: a.argsort(dim=0),
    "topk indices": lambda t, a: a.topk(3, dim=1).indices,
    "argmax keepdims": lambda t, a: a.argmax(1, keepdims=True),
    "all": lambda t, a: t.all(a > -6),
    "any dim": lambda t, a: (a > 5).any(dim=1),
    "all keepdim": lambda t, a: (a > -3).all(1, keepdim=True),
    "masks": lambda t, a: (~(a > 0), (a > 0) & (a < 3), (a > 0) | (a < -3), (a > 0) ^ True),
    "bitwise ints": lambda t, a: (~a.long(), a.long() & 6, 3 | a.long(), a.long().bitwise_xor(5)),
    "logical": lambda t, a: (t.logical_not(a), t.logical_and(a, a > 0), a.logical_or(a < 0)),
    "isclose": lambda t, a: t.isclose(a, a + 1e-6),
    "isclose rtol": lambda t, a: a.isclose(a * 1.01, rtol=0.02, atol=0.0),
    "allclose": lambda t, a: t.allclose(a, a + 1e-9),
    "allclose no": lambda t, a: a.allclose(a + 1),
    "equal": lambda t, a: (t.equal(a, a.clone()), a.equal(a + 1), t.equal(a, a[:1])),
    "equal across dtypes": lambda t, a: (t.equal(a.round().long(), a.round()), a.equal(a > 0)),
    "equal nan and signed zero": lambda t, a: (
        t.equal(a * float("nan"), a * float("nan")),
        t.equal(t.tensor([0.0]), t.tensor([-0.0])),
    ),
    "cumsum int": lambda t, a: (a > 0).cumsum(0),
    "cumsum long": lambda t, a: a.long().cumsum(1),
    "sort stable ties": lambda t, a: t.sort(a.round() * 0, stable=True).indices,
    "sort small ties": lambda t, a: t.sort((a > 0).float(), descending=True).indices,
    "nelement": lambda t, a: a.nelement(),
    "type()": lambda t, a: a.type(),
    "type(name)": lambda t, a: a.type("torch.LongTensor"),
    "type(constructor)": lambda t, a: a.type(t.LongTensor),
    "type_as long": lambda t, a: a.type_as(t.tensor([1])),
    "long int bool": lambda t, a: (a.long(), a.bool()),
    "new_zeros": lambda t, a: a.new_zeros(2, 3),
    "new_ones size": lambda t, a: a.long().new_ones((2,)),
    "new_full": lambda t, a: a.long().new_full((2,), 1.5),
    "new_tensor": lambda t, a: a.new_tensor([1, 2]),
    "new_zeros requires_grad": lambda t, a: a.new_zeros(2, requires_grad=True),
    "LongTensor data": lambda t, a: t.LongTensor([1, 2]),
    "FloatTensor data": lambda t, a: t.FloatTensor([[1, 2]]),
    "LongTensor sizes": lambda t, a: t.LongTensor(2, 3).shape,
    "zeros size=": lambda t, a: t.zeros(size=(2, 3)),
    "ones size=": lambda t, a: t.ones(size=[2]),
    "rand size=": lambda t, a: (t.manual_seed(1), t.rand(size=(2,)))[1],
    "cat axis": lambda t, a: t.cat([a, a], axis=1),
    "default device": lambda t, a: (  # None ends torch's default-device mode again
        t.set_default_device("cpu"),
        repr(t.get_default_device()),
        t.set_default_device(None),
    ),
    "cpu": lambda t, a: a.cpu() is a,
    "to device": lambda t, a: a.to(t.device("cpu")) is a,
    "device repr": lambda t, a: (repr(a.device), str(t.device("cpu:0")), a.is_cuda),
    "device compare": lambda t, a: (a.device == t.device("cpu"), t.device("cpu") == "cpu"),
    "cuda available": lambda t, a: (t.cuda.is_available(), t.cuda.device_count()),
    "max repr": lambda t, a: repr(t.max(a, 0)),
    "sort repr": lambda t, a: repr(a.sort()),
    "return type fields": lambda t, a: (type(a.topk(1)).__name__, len(a.min(1)), a.min(1)[1]),
}


SORT_ORDERS = {
    "ties": [2.0, 1.0, 2.0, 0.0],
    "NaN and signed zeros": [float("nan"), 1.0, float("nan"), -0.0, 0.0, -1.0, 1.0],
    "16 elements with ties": [float(v) for v in RNG.integers(0, 3, 16)],
}


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("case", SORT_ORDERS)
def test_sort_order_is_torchs_where_torch_defines_it(real_torch, case, descending):
    def program(torch):
        data = torch.tensor(SORT_ORDERS[case])
        return torch.sort(data, descending=descending), data.argsort(descending=not descending)

    assert_same(*run_both(real_torch, program))


@pytest.mark.parametrize("case", INDICES)
def test_results_without_gradients_match_torch(real_torch, case):
    program = INDICES[case]
    ours, theirs = run_both(real_torch, lambda torch: program(torch, torch.tensor(DISTINCT)))
    assert_same(ours, theirs)


ERRORS = {
    "gather index out of range": lambda t: t.ones(2, 2).gather(1, t.tensor([[5]])),
    "gather negative index": lambda t: t.ones(2, 2).gather(1, t.tensor([[-1]])),
    "gather float index": lambda t: t.ones(2, 2).gather(1, t.tensor([[0.0]])),
    "gather index dims": lambda t: t.ones(2, 2).gather(1, t.tensor([0, 1])),
    "scatter out of range": lambda t: t.ones(2, 2).scatter(1, t.tensor([[3]]), 1.0),
    "scatter dtype": lambda t: t.ones(2, 2).scatter(1, t.tensor([[0]]), t.ones(2, 2).long()),
    "index_select out of range": lambda t: t.ones(2, 2).index_select(0, t.tensor([2])),
    "index_select negative": lambda t: t.ones(2, 2).index_select(0, t.tensor([-1])),
    "index_select matrix": lambda t: t.ones(2, 2).index_select(0, t.tensor([[0]])),
    "index_select float": lambda t: t.ones(2, 2).index_select(0, t.tensor([0.0])),
    "masked_fill float mask": lambda t: t.ones(2).masked_fill(t.ones(2), 1.0),
    "masked_fill vector value": lambda t: t.ones(2).masked_fill(t.ones(2) > 0, t.ones(2)),
    "isclose dtypes": lambda t: t.isclose(t.ones(2), t.ones(2).long()),
    "equal to a list": lambda t: t.equal(t.ones(2), [1.0, 1.0]),
    "equal of a list": lambda t: t.equal([1.0, 1.0], t.ones(2)),
    "topk k too large": lambda t: t.ones(2, 2).topk(3),
    "sort dim": lambda t: t.ones(2, 2).sort(dim=2),
    "cumsum dim": lambda t: t.ones(2, 2).cumsum(2),
    "tril of a vector": lambda t: t.ones(3).tril(),
    "outer of a matrix": lambda t: t.outer(t.ones(2, 2), t.ones(2)),
    "einsum operands": lambda t: t.einsum("ij", t.ones(2, 2), t.ones(2, 2)),
    "einsum fewer operands": lambda t: t.einsum("ij,jk", t.ones(2, 2)),
    "einsum sizes": lambda t: t.einsum("ij,jk", t.ones(2, 2), t.ones(3, 2)),
    "einsum subscripts": lambda t: t.einsum("ij", t.ones(2, 2, 2)),
    "einsum output label": lambda t: t.einsum("ij->k", t.ones(2, 2)),
    "exp_ on a bool tensor": lambda t: t.zeros(2, dtype=t.bool).exp_(),
    "~ of a float tensor": lambda t: ~t.ones(2),
    "& of float tensors": lambda t: t.ones(2) & t.ones(2),
    "sqrt_ on a long tensor": lambda t: t.zeros(2, dtype=t.int64).sqrt_(),
    "exp_ on a leaf": lambda t: t.ones(2, requires_grad=True).exp_(),
    "sum keepdims without dim": lambda t: t.ones(2).sum(keepdims=True),
    "max keepdim without dim": lambda t: t.ones(2).max(keepdim=True),
    "logsumexp dim None": lambda t: t.ones(2).logsumexp(None),
    "zeros size twice": lambda t: t.zeros(2, size=(2,)),
    "var unbiased and correction": lambda t: t.ones(3).var(unbiased=False, correction=0),
    "device name": lambda t: t.device("gpu"),
    "multinomial sum zero": lambda t: t.multinomial(t.zeros(2), 1),
    "multinomial too many": lambda t: t.multinomial(t.ones(2), 3),
    "multinomial negative": lambda t: t.multinomial(t.tensor([1.0, -1.0]), 1),
    "multinomial negative, kernel": lambda t: t.tensor([1.0, -1.0]).multinomial(2, True),
    "multinomial nan": lambda t: t.multinomial(t.tensor([1.0, float("nan")]), 2),
    "randperm negative": lambda t: t.randperm(-1),
    "bernoulli p > 1": lambda t: t.bernoulli(t.tensor([2.0])),
}

# torch's message for these lists its overloads: the first words are compared
FRAGMENTS = {
    "sum keepdims without dim": "received an invalid combination of arguments",
    "max keepdim without dim": "received an invalid combination of arguments",
    "logsumexp dim None": "must be tuple of ints, not NoneType",
    "var unbiased and correction": "received an invalid combination of arguments",
    "device name": "device type at start of device string: gpu",
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors_match_torch(real_torch, case):
    assert_same_error(real_torch, ERRORS[case], FRAGMENTS.get(case))


REFUSED = {
    "torch.sort (ties without stable=True)": lambda t: t.sort(t.zeros(17)),
    "torch.topk (ties)": lambda t: t.tensor([1.0, 3.0, 3.0, 2.0]).topk(2),
    "torch.scatter (two writes to one position)": (
        lambda t: t.zeros(3).scatter(0, t.tensor([1, 1]), t.ones(2))
    ),
    "torch.topk(sorted=False)": lambda t: t.tensor([1.0, 2.0, 3.0]).topk(2, sorted=False),
    "torch.cuda": lambda t: t.ones(2).to("cuda"),
    "torch.cuda as a method": lambda t: t.ones(2).cuda(),
    "torch.cuda as the default": lambda t: t.set_default_device(t.device("cuda")),
    "torch.multinomial (gradient)": lambda t: t.multinomial(t.ones(2, requires_grad=True), 1),
    "torch.cumsum(dtype=...)": lambda t: t.ones(2).cumsum(0, dtype=t.float64),
    "torch.randint(dtype=torch.float32) over more than 2**24 values": (
        lambda t: t.randint_like(t.zeros(2), 2**24 + 1)
    ),
    "torch.scatter_add (a src larger than index, with autograd)": (
        lambda t: t.zeros(3).scatter_add(0, t.tensor([1, 1]), t.ones(3, requires_grad=True))
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_what_torch_decides_by_its_kernel_is_refused(real_torch, case):
    """torch runs each (or, for CUDA, fails as a machine without a GPU does); fdiff.torch
    raises ``UnsupportedError`` naming the op instead of guessing."""
    if not case.startswith("torch.cuda"):
        REFUSED[case](real_torch)
    with pytest.raises(fdiff.torch.UnsupportedError) as caught:
        REFUSED[case](fdiff.torch)
    assert caught.value.op == case.removesuffix(" as a method").removesuffix(" as the default")


DRAWS = {
    "randperm": lambda t: t.randperm(37),
    "randperm 1": lambda t: t.randperm(1),
    "randperm generator": lambda t: t.randperm(10, generator=t.Generator().manual_seed(3)),
    "bernoulli": lambda t: t.bernoulli(t.rand(40)),
    "bernoulli p": lambda t: t.bernoulli(t.zeros(30), p=0.3),
    "bernoulli_": lambda t: t.zeros(5, 4).bernoulli_(0.7),
    "exponential_": lambda t: t.empty(25).exponential_(),
    "exponential_ rate": lambda t: t.empty(3).exponential_(2.5),
    "multinomial replacement": lambda t: t.multinomial(t.rand(3, 9), 50, replacement=True),
    "multinomial one": lambda t: t.multinomial(t.rand(4, 6), 1),
    "multinomial one with replacement": lambda t: t.rand(6).multinomial(1, True),
    "multinomial without replacement": lambda t: t.multinomial(t.rand(2, 30), 7),
    "normal numbers": lambda t: t.normal(2.0, 3.0, size=(20,)),
    "normal numbers small": lambda t: t.normal(2.0, 3.0, (3,)),
    "normal tensors": lambda t: t.normal(t.arange(20.0), t.rand(20) + 0.5),
    "normal tensor mean": lambda t: t.normal(t.arange(6.0).reshape(2, 3), 0.3),
    "randint_like": lambda t: t.randint_like(t.zeros(3, 4), 10),
    "randint_like low": lambda t: t.randint_like(t.zeros(5, dtype=t.int64), 3, 10),
    "randint_like float 2**24": lambda t: t.randint_like(t.zeros(40), -(2**23), 2**23),
    "rand_like": lambda t: t.rand_like(t.zeros(2, 20)),
    "randn_like": lambda t: t.randn_like(t.zeros(3)),
}


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("case", DRAWS)
def test_draws_are_torchs_bits(real_torch, case, seed):
    def program(torch):
        torch.manual_seed(seed)
        draws = DRAWS[case](torch)
        values = draws.numpy()  # int64 is int32 storage without JAX's x64: compare the values
        values = values.astype(np.int64) if values.dtype.kind in "iu" else values
        return values, torch.rand(3).numpy()  # the generator's state after the draws

    (ours, after), (theirs, expected_after) = run_both(real_torch, program)
    assert_same_random_draws(real_torch, ours, theirs, magnitude=50.0)
    np.testing.assert_array_equal(after, expected_after)


def test_torch_cannot_differentiate_scatter_from_a_larger_src(real_torch):
    """Why fdiff.torch refuses ``scatter``/``scatter_add`` from a larger src with autograd."""
    src = real_torch.ones(3, requires_grad=True)
    out = real_torch.zeros(3).scatter_add(0, real_torch.tensor([1, 2]), src)
    with pytest.raises(RuntimeError, match="returned an invalid gradient"):
        out.sum().backward()


def test_numpy_spellings_only_where_torch_has_its_argument_parser(real_torch):
    """``torch.norm`` is Python in torch: ``keepdims=`` is a TypeError there, never accepted."""
    with pytest.raises(TypeError, match="keepdims"):
        real_torch.ones(2).norm(dim=0, keepdims=True)
    with pytest.raises(fdiff.torch.UnsupportedError) as caught:
        fdiff.torch.ones(2).norm(dim=0, keepdims=True)
    assert caught.value.op == "torch.norm(keepdims=...)"


FILLS = {"exponential_": lambda y: y.exponential_(), "bernoulli_": lambda y: y.bernoulli_(0.5)}


@pytest.mark.parametrize("fill", FILLS)
def test_an_in_place_draw_on_a_non_leaf_is_recorded_as_torch_records_it(real_torch, fill):
    def program(torch):
        torch.manual_seed(3)
        x = torch.tensor(A, requires_grad=True)
        y = FILLS[fill](x * 2)
        (y * x).sum().backward()
        return y, y.grad_fn.name(), x.grad

    assert_same(*run_both(real_torch, program))


@pytest.mark.slow
def test_fdiff_compare_agrees_on_a_script_of_these_ops(real_torch):
    report = compare_script(Path(__file__).parent / "data" / "ops_more_script.py")
    assert report.agree, format_report(report)
    assert report.transcript and all(row.status == "same" for row in report.transcript)


def test_cumulative_and_selection_ops_of_a_0d_tensor(real_torch):
    """torch treats a 0-d tensor as one element along dim 0 (and gather a 0-d index or input
    as 1-d): values and gradients, and index_select's check of a scalar's index."""

    def program(torch):
        x = torch.tensor(2.0, requires_grad=True)
        v = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        outs = [
            torch.cumsum(x, 0),
            x.cumprod(-1),
            torch.index_select(x, 0, torch.tensor([0])),
            torch.gather(x, 0, torch.tensor(0)),
            torch.gather(x, 0, torch.tensor([0, 0])),
            torch.gather(v, 0, torch.tensor(2)),
        ]
        grads = torch.autograd.grad(sum(out.sum() * (i + 1) for i, out in enumerate(outs)), [x, v])
        return outs, grads

    assert_same(*run_both(real_torch, program))
    assert_same_error(real_torch, lambda t: t.index_select(t.tensor(1.0), 0, t.tensor([0, 0])))
    assert_same_error(real_torch, lambda t: t.gather(t.tensor(1.0), 0, t.tensor([[0]])))
