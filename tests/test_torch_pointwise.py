"""torch's pointwise math (``tan``, ``remainder``, ``lerp``, ``isnan``, ``torch.eq``...) against
real torch: values, dtypes, grad_fn names and gradients at special values (0, -0, negatives,
infinities, NaN, ties with a bound), integer and bool promotion, and torch's errors."""

from __future__ import annotations

import numpy as np
import pytest
from support import assert_same, assert_same_error, run_both, traced

import fdiff.torch

INF, NAN = np.inf, np.nan
SPECIAL = np.array([-INF, -2.5, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.5, INF, NAN], np.float32)
DIVISOR = np.array([2.0, -1.5, 0.0, 1.5, -0.0, 0.0, -2.0, 0.5, 0.5, 2.0, 1.0], np.float32)
UNIT = np.array([-0.5, 0.0, 0.1, 0.25, 0.5, 0.9, 1.0, 1.5, NAN], np.float32)
A = np.array([[1.0, -2.0, 0.0, 0.5], [3.0, -0.5, 2.0, 0.0]], np.float32)
B = np.array([[0.5, 0.5, 0.0, 0.5], [-1.0, 2.0, 2.0, -3.0]], np.float32)
C = np.array([[2.0, -1.0, 0.5, 4.0], [1.0, 0.25, -2.0, 3.0]], np.float32)
W = np.array([0.0, 0.25, 0.5, 1.5], np.float32)
INTS = np.array([3, -4, 0, 5, -7])
NONZERO_INTS = np.array([2, -3, 1, -2, 4])

# op and its inputs (float arrays require grad); each is traced in both engines
DIFFERENTIABLE = {
    "tan": (lambda t, a: t.tan(a), (SPECIAL,)),
    "tan near pi/2": (lambda t, a: a.tan(), (np.array([1.5707964, -1.5], np.float32),)),
    "erf": (lambda t, a: t.erf(a), (SPECIAL,)),
    "reciprocal": (lambda t, a: a.reciprocal(), (SPECIAL,)),
    "deg2rad": (lambda t, a: t.deg2rad(a), (SPECIAL,)),
    "trunc": (lambda t, a: t.trunc(a), (SPECIAL,)),
    "frac": (lambda t, a: a.frac(), (SPECIAL,)),
    "logit": (lambda t, a: t.logit(a), (UNIT,)),
    "logit eps": (lambda t, a: a.logit(0.1), (UNIT,)),
    "nan_to_num": (lambda t, a: t.nan_to_num(a), (SPECIAL,)),
    "nan_to_num values": (lambda t, a: a.nan_to_num(1.0, posinf=9.0, neginf=-9.0), (SPECIAL,)),
    "remainder": (lambda t, a, b: t.remainder(a, b), (SPECIAL, DIVISOR)),
    "remainder by a number": (lambda t, a: a.remainder(1.5), (SPECIAL,)),
    "remainder by a negative number": (lambda t, a: t.remainder(a, -1.5), (SPECIAL,)),
    "remainder broadcast": (lambda t, a, b: a.remainder(b), (A, B[1])),
    "fmod": (lambda t, a, b: t.fmod(a, b), (SPECIAL, DIVISOR)),
    "fmod by a number": (lambda t, a: a.fmod(-1.5), (SPECIAL,)),
    "atan2": (lambda t, a, b: t.atan2(a, b), (SPECIAL, DIVISOR)),
    "arctan2": (lambda t, a, b: a.arctan2(b), (A, B)),
    "hypot": (lambda t, a, b: t.hypot(a, b), (SPECIAL, DIVISOR)),
    "clamp_min": (lambda t, a: t.clamp_min(a, 0.5), (SPECIAL,)),
    "clamp_max": (lambda t, a: a.clamp_max(-0.5), (SPECIAL,)),
    "clamp_min tensor": (lambda t, a, b: t.clamp_min(a, b), (SPECIAL, DIVISOR)),
    "clamp_max tensor": (lambda t, a, b: a.clamp_max(max=b), (SPECIAL, DIVISOR)),
    "clamp_min tensor nan bound": (lambda t, a, b: a.clamp_min(b), (DIVISOR, SPECIAL)),
    "lerp": (lambda t, a, b: t.lerp(a, b, 0.3), (A, B)),
    "lerp weight 0.75": (lambda t, a, b: a.lerp(b, 0.75), (A, B)),
    "lerp weight -0.6": (lambda t, a, b: t.lerp(a, b, -0.6), (A, B)),
    "lerp tensor weight": (lambda t, a, b, w: t.lerp(a, b, w), (A, B, W)),
    "addcmul": (lambda t, a, b, c: t.addcmul(a, b, c), (A, B, C)),
    "addcmul value": (lambda t, a, b, c: a.addcmul(b, c, value=-2.5), (A, B, C)),
    "addcdiv": (lambda t, a, b, c: t.addcdiv(a, b, c, value=0.5), (A, B, C)),
    "addcdiv by zero": (lambda t, a, b, c: a.addcdiv(b, c), (A, C, B)),
    "xlogy": (lambda t, a, b: t.xlogy(a, b), (SPECIAL, DIVISOR)),
    "xlogy of a number": (lambda t, b: t.xlogy(2.0, b), (SPECIAL,)),
    "xlogy by a number": (lambda t, a: a.xlogy(0.5), (SPECIAL,)),
    "xlogy broadcast": (lambda t, a, b: t.xlogy(a, b), (A, np.abs(B[1]))),
    "xlogy zero gradient": (lambda t, a, b: t.where(b > 0, t.xlogy(a, b), 0.0), (A, B)),
    "tan_ on a non-leaf": (lambda t, a: (a * 1).tan_(), (A,)),
    "remainder_ fmod_ on non-leaves": (
        lambda t, a: (a * 1).remainder_(1.5) + (a * 1).fmod_(2),
        (A,),
    ),
    "lerp_ addcmul_ on non-leaves": (
        lambda t, a, b: (a * 1).lerp_(b, 0.75) + (a * 1).addcmul_(b, b, value=2),
        (A, B),
    ),
    "clamp_min_ nan_to_num_ on non-leaves": (
        lambda t, a: (a * 1).clamp_min_(0.0) + (a * 1).nan_to_num_(),
        (A,),
    ),
}


@pytest.mark.parametrize("case", DIFFERENTIABLE)
def test_values_grad_fn_and_gradients_match_torch(real_torch, case):
    op, arrays = DIFFERENTIABLE[case]
    assert_same(*run_both(real_torch, lambda torch: traced(torch, op, *arrays)))


def test_second_derivatives_match_torch(real_torch):
    """``create_graph=True`` differentiates the rules again: torch's second derivatives."""
    x = np.array([0.3, -1.2, 0.7], np.float32)
    y = np.array([0.5, 2.0, -0.4], np.float32)

    def program(torch):
        a = torch.tensor(x, requires_grad=True)
        b = torch.tensor(y, requires_grad=True)
        outputs = (
            a.tan() + a.reciprocal() + a.erf() + torch.atan2(a, b) + torch.hypot(a, b)
            + a.sigmoid().logit() + a.remainder(b) + torch.lerp(a, b, 0.3) + a.addcdiv(a, b)
            + torch.xlogy(a, b.abs())
        )  # fmt: skip
        (grad_a, grad_b) = torch.autograd.grad(outputs.sum(), (a, b), create_graph=True)
        return torch.autograd.grad((grad_a * grad_a).sum() + grad_b.sum(), (a, b))

    assert_same(*run_both(real_torch, program))


# results that never require grad: integer and bool inputs, comparisons, tests of the value
RESULTS = {
    "tan of ints": lambda t: t.tan(t.tensor(INTS)),
    "erf of bools": lambda t: t.tensor([True, False]).erf(),
    "reciprocal of ints": lambda t: t.reciprocal(t.tensor(INTS)),
    "deg2rad of ints": lambda t: t.tensor(INTS).deg2rad(),
    "trunc of ints": lambda t: t.trunc(t.tensor(INTS)),
    "logit of ints": lambda t: t.logit(t.tensor([0, 1, 2])),
    "nan_to_num of ints": lambda t: t.nan_to_num(t.tensor(INTS)),
    "remainder of ints": lambda t: t.remainder(t.tensor(INTS), t.tensor(NONZERO_INTS)),
    "remainder of ints by a number": lambda t: t.tensor(INTS).remainder(-3),
    "remainder of ints by a float": lambda t: t.tensor(INTS).remainder(1.5),
    "remainder of ints by floats": lambda t: t.remainder(t.tensor(INTS), t.tensor(SPECIAL[:5])),
    "fmod of ints": lambda t: t.fmod(t.tensor(INTS), t.tensor(NONZERO_INTS)),
    "fmod of ints by a float": lambda t: t.tensor(INTS).fmod(2.5),
    "atan2 of ints": lambda t: t.atan2(t.tensor(INTS), t.tensor(NONZERO_INTS)),
    "atan2 of an int and a float": lambda t: t.atan2(t.tensor(INTS), t.tensor(SPECIAL[:5])),
    "hypot of an int and a float": lambda t: t.hypot(t.tensor(INTS), t.tensor(SPECIAL[:5])),
    "clamp_min of ints": lambda t: t.clamp_min(t.tensor(INTS), 0),
    "clamp_min of ints by a float": lambda t: t.tensor(INTS).clamp_min(0.5),
    "clamp_max of ints by floats": lambda t: t.clamp_max(t.tensor(INTS), t.tensor(SPECIAL[:5])),
    "addcmul of ints": lambda t: t.addcmul(t.tensor(INTS), t.tensor(INTS), t.tensor(INTS), value=2),
    "addcmul of ints and floats": lambda t: t.addcmul(
        t.tensor(INTS), t.tensor(A[0, 0]), t.tensor(1)
    ),
    "addcdiv of an int by floats": lambda t: t.tensor(INTS).addcdiv(
        t.tensor(INTS), t.tensor(SPECIAL[:5])
    ),
    "heaviside": lambda t: t.heaviside(t.tensor(SPECIAL), t.tensor(DIVISOR)),
    "heaviside of ints": lambda t: t.tensor(INTS).heaviside(t.tensor(7)),
    "heaviside of a tensor requiring grad": lambda t: t.heaviside(
        t.tensor(SPECIAL, requires_grad=True), t.tensor(0.5)
    ),
    "xlogy of ints": lambda t: t.xlogy(t.tensor(INTS), t.tensor(NONZERO_INTS)),
    "xlogy of an int by a number": lambda t: t.tensor(INTS).xlogy(2),
    "isnan": lambda t: t.isnan(t.tensor(SPECIAL)),
    "isinf": lambda t: t.tensor(SPECIAL).isinf(),
    "isfinite": lambda t: t.isfinite(t.tensor(SPECIAL)),
    "isnan isinf isfinite of ints": lambda t: (
        t.isnan(t.tensor(INTS)),
        t.isinf(t.tensor(INTS)),
        t.tensor(INTS).isfinite(),
    ),
    "isnan of a tensor requiring grad": lambda t: t.isnan(t.tensor(SPECIAL, requires_grad=True)),
    "comparison functions": lambda t: [
        f(t.tensor(SPECIAL), t.tensor(DIVISOR)) for f in (t.eq, t.ne, t.lt, t.le, t.gt, t.ge)
    ],
    "comparison functions with numbers": lambda t: [
        f(t.tensor(SPECIAL), 0.5) for f in (t.eq, t.ne, t.lt, t.le, t.gt, t.ge)
    ],
    "comparison methods, ints and floats": lambda t: [
        t.tensor(INTS).eq(t.tensor(INTS) * 1.0),
        t.tensor(INTS).ne(0),
        t.tensor(INTS).lt(0.5),
        t.tensor(INTS).le(t.tensor(0)),
        t.tensor(INTS).gt(t.tensor([0.5])),
        t.tensor(INTS).ge(True),
    ],
    "comparison of a tensor requiring grad": lambda t: t.ge(t.tensor(A, requires_grad=True), 0),
}


@pytest.mark.parametrize("case", RESULTS)
def test_results_without_gradients_match_torch(real_torch, case):
    assert_same(*run_both(real_torch, RESULTS[case]))


def test_second_backward_fails_where_torch_saved_tensors(real_torch):
    """Nodes that save nothing (``remainder``/``fmod`` by a number, ``lerp`` by a number,
    ``trunc``, ``frac``, ``deg2rad``) backpropagate twice; ``remainder`` by a tensor requiring
    grad saves both and raises torch's error the second time."""

    def program(torch, divisor):
        a = torch.tensor(A, requires_grad=True)
        b = torch.tensor(C, requires_grad=True)
        out = a.remainder(b) if divisor else a.remainder(1.5) + a.fmod(2.0) + a.lerp(b, 0.5)
        out = (out + a.trunc() + a.frac() + a.deg2rad()).sum()
        out.backward()
        out.backward()
        return a.grad, b.grad

    assert_same(*run_both(real_torch, lambda torch: program(torch, False)))
    assert_same_error(
        real_torch, lambda torch: program(torch, True), "Trying to backward through the graph"
    )


def heaviside_values_gradient(torch):
    values = torch.ones(2, requires_grad=True)
    return torch.autograd.grad((torch.heaviside(torch.zeros(2), values) * 2).sum(), values)


ERRORS = {
    "remainder of ints by zero": lambda t: t.remainder(t.tensor(INTS), 0),
    "remainder of ints by a zero tensor": lambda t: t.tensor(INTS).remainder(t.tensor(INTS)),
    "fmod of ints by a zero tensor": lambda t: t.fmod(t.tensor(INTS), t.tensor([0])),
    "remainder_ of ints by a float": lambda t: t.tensor(INTS).remainder_(1.5),
    "frac of ints": lambda t: t.frac(t.tensor(INTS)),
    "frac of bools": lambda t: t.tensor([True]).frac(),
    "lerp of ints": lambda t: t.lerp(t.tensor(INTS), t.tensor(INTS), 0.5),
    "lerp of ints by a tensor": lambda t: t.lerp(t.tensor([1]), t.tensor([2]), t.tensor([1])),
    "lerp end dtype": lambda t: t.lerp(t.ones(2), t.ones(2).long(), 0.5),
    "lerp weight dtype": lambda t: t.ones(2).lerp(t.ones(2), t.ones(2).long()),
    "lerp_ broadcast": lambda t: t.ones(2).lerp_(t.ones(2, 2), 0.5),
    "addcmul shapes": lambda t: t.addcmul(t.ones(2), t.ones(2), t.ones(3)),
    "addcdiv of ints": lambda t: t.addcdiv(t.ones(2), t.tensor([1]), t.tensor([2])),
    "hypot of ints": lambda t: t.hypot(t.tensor(INTS), t.tensor(INTS)),
    "hypot by a number": lambda t: t.hypot(t.ones(2), 2.0),
    "atan2 by a number": lambda t: t.atan2(t.ones(2), 2.0),
    "atan2 shapes": lambda t: t.atan2(t.ones(2), t.ones(3)),
    "heaviside by a number": lambda t: t.heaviside(t.ones(2), 0.5),
    "heaviside dtypes": lambda t: t.heaviside(t.ones(2), t.ones(2).long()),
    "heaviside backward": lambda t: (
        t.heaviside(t.ones(2, requires_grad=True), t.ones(2)).sum().backward()
    ),
    "heaviside backward through values": heaviside_values_gradient,
    "xlogy of a string": lambda t: t.xlogy(t.ones(2), "a"),
    "xlogy of numbers": lambda t: t.xlogy(2.0, 3.0),
    "eq shapes": lambda t: t.eq(t.ones(2), t.ones(3)),
    "eq with None": lambda t: t.eq(t.ones(2), None),
    "lt of a string": lambda t: t.ones(2).lt("a"),
    "clamp_min of a string": lambda t: t.clamp_min(t.ones(2), "a"),
    "clamp_max of None": lambda t: t.clamp_max(t.ones(2), None),
    "fmod of a number": lambda t: t.fmod(2, t.ones(2)),
}

# torch's message for these lists its overloads: the first words are compared
FRAGMENTS = {
    "lt of a string": "received an invalid combination of arguments",
    "xlogy of a string": "received an invalid combination of arguments",
    "xlogy of numbers": "received an invalid combination of arguments",
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors_match_torch(real_torch, case):
    assert_same_error(real_torch, ERRORS[case], FRAGMENTS.get(case))


REFUSED = {
    "torch.remainder(Number, Tensor)": lambda t: t.remainder(2.0, t.ones(2)),
    "torch.addcmul(value=float) of integer tensors": (
        lambda t: t.addcmul(t.tensor([1]), t.tensor([2]), t.tensor([3]), value=1.5)
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_what_fdiff_cannot_match_is_refused(real_torch, case):
    """torch computes each; fdiff.torch raises ``UnsupportedError`` naming it instead."""
    REFUSED[case](real_torch)
    with pytest.raises(fdiff.torch.UnsupportedError) as caught:
        REFUSED[case](fdiff.torch)
    assert caught.value.op == case
