"""torch's type and shape rules that fdiff.torch once bent silently, checked against real torch.

In-place results must be castable to the destination's dtype and broadcast to its shape; an
integer tensor to a negative integer power raises; the matrix products refuse mixed dtypes;
int64 values that int32 storage cannot hold (no x64) are refused at creation; NumPy operands
follow torch's operators. Each error's type and message are torch's own (``assert_same_error``
checks the message against real torch's first).
"""

from __future__ import annotations

import numpy as np
import pytest
from support import assert_same, assert_same_error, run_both

import fdiff.torch

# --- in-place results: castable to the destination dtype, broadcast to its shape ---------------

NOT_CASTABLE = {
    "a /= 2 on a long tensor": lambda t: t.tensor([1, 2]).__itruediv__(2),
    "add_ of a float into a long": lambda t: t.tensor([1, 2]).add_(1.5),
    "add_ of an int into a bool": lambda t: t.tensor([True]).add_(1),
    "clamp_ of a long to float bounds": lambda t: t.tensor([1, 2]).clamp_(0.5, 1.5),
    "clamp_ of a long to a float min": lambda t: t.tensor([1, 2]).clamp_(min=0.5),
    "clamp_ of a bool": lambda t: t.tensor([True]).clamp_(0.5),
}


@pytest.mark.parametrize("program", NOT_CASTABLE.values(), ids=NOT_CASTABLE)
def test_an_in_place_result_must_be_castable_to_the_destination(real_torch, program):
    assert_same_error(real_torch, program)


NOT_BROADCASTING = {
    "a += b of a larger shape": lambda t: t.zeros(3).__iadd__(t.ones(2, 3)),
    "add_ of a larger shape": lambda t: t.zeros(3).add_(t.ones(2, 3)),
    "mul_ of one more dim": lambda t: t.zeros(3).mul_(t.ones(1, 3)),
    "sub_ widening a size-1 dim": lambda t: t.zeros(3, 1).sub_(t.ones(3)),
    "div_ of sizes that do not broadcast": lambda t: t.zeros(3).div_(t.ones(2)),
    "copy_ of a larger shape": lambda t: t.zeros(3).copy_(t.ones(2, 3)),
    "copy_ of sizes that do not broadcast": lambda t: t.zeros(3).copy_(t.ones(2)),
    "setitem of a value with more dims": lambda t: t.zeros(2, 3).__setitem__(0, t.ones(2, 3)),
    "setitem of a long value with more dims": lambda t: t.zeros(2, 3, dtype=t.long).__setitem__(
        0, t.ones(2, 3, dtype=t.long)
    ),
    "setitem of a value of another size": lambda t: t.zeros(3).__setitem__(slice(None), t.ones(2)),
    "setitem into a column": lambda t: t.zeros(2, 3).__setitem__((slice(None), 0), t.ones(3)),
    "setitem by an index tensor": lambda t: t.zeros(2, 3).__setitem__(
        t.tensor([0, 1]), t.ones(2, 2)
    ),
}


@pytest.mark.parametrize("program", NOT_BROADCASTING.values(), ids=NOT_BROADCASTING)
def test_an_in_place_result_must_have_the_destination_shape(real_torch, program):
    assert_same_error(real_torch, program)


def test_the_destination_keeps_its_shape_and_dtype_where_torch_accepts(real_torch):
    def program(torch):
        x = torch.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        a = torch.zeros(2, 3)
        a += x  # broadcast into the destination's shape
        b = torch.tensor([1, 2])
        b.clamp_(0, 1)  # integer bounds keep the long dtype
        c = torch.zeros(2, 3)
        c[0] = x * 2  # a leading size-1 dim is dropped
        c[1] = 5
        (a.sum() + c.sum()).backward()
        return a, b, c, x.grad

    assert_same(*run_both(real_torch, program))


def test_out_of_place_clamp_of_integers_to_float_bounds_promotes(real_torch):
    assert_same(*run_both(real_torch, lambda t: t.clamp(t.tensor([1, 2, 3]), 1.5, 2.5)))


# --- integer powers ---------------------------------------------------------------------------

NEGATIVE_POWERS = {
    "long ** -1": lambda t: t.tensor([2]) ** -1,
    "0-d long ** -2": lambda t: t.tensor(2) ** -2,
    "bool ** -1": lambda t: t.tensor([True]) ** -1,
    "torch.pow(long, -1)": lambda t: t.pow(t.tensor([2, 3]), -1),
    "Tensor.pow(long, -3)": lambda t: t.tensor([2, 3]).pow(-3),
}


@pytest.mark.parametrize("program", NEGATIVE_POWERS.values(), ids=NEGATIVE_POWERS)
def test_integers_to_negative_integer_powers_raise(real_torch, program):
    assert_same_error(real_torch, program, "Integers to negative integer powers are not allowed.")


def test_integer_powers_torch_accepts(real_torch):
    def program(torch):
        x = torch.tensor([2, 3])
        return [x**2, x**0, x**-1.0, x ** torch.tensor([-1, 2]), 2 ** torch.tensor([-1, 2])]

    assert_same(*run_both(real_torch, program))


def test_the_gradient_of_a_zeroth_power_is_a_constant(real_torch):
    """torch's gradient of ``x ** 0`` is zeros that do not require grad, so differentiating it
    again raises (the second derivative at 0 is not JAX's)."""

    def first(torch):
        x = torch.tensor([0.0, 1.0, -2.0], requires_grad=True)
        y = x**0.0
        (grad,) = torch.autograd.grad(y.sum(), x, create_graph=True)
        return y, grad

    assert_same(*run_both(real_torch, first))

    def second(torch):
        grad = first(torch)[1]
        torch.autograd.grad(grad.sum(), grad)

    assert_same_error(real_torch, second, "does not require grad and does not have a grad_fn")


# --- matrix products: no promotion between dtypes ----------------------------------------------

MIXED_PRODUCTS = {
    "Linear on a long input": lambda t: t.nn.Linear(3, 2)(t.tensor([1, 2, 3])),
    "linear without bias, long weight": lambda t: t.nn.functional.linear(
        t.ones(4, 3), t.ones(2, 3, dtype=t.long)
    ),
    "linear with a long bias": lambda t: t.nn.functional.linear(
        t.ones(3), t.ones(2, 3), t.ones(2, dtype=t.long)
    ),
    "vector @ long vector": lambda t: t.ones(3) @ t.ones(3, dtype=t.long),
    "matrix @ long vector": lambda t: t.ones(2, 3) @ t.ones(3, dtype=t.long),
    "long matrix @ vector": lambda t: t.ones(2, 3, dtype=t.long) @ t.ones(3),
    "vector @ long matrix": lambda t: t.ones(3) @ t.ones(3, 2, dtype=t.long),
    "matrix @ long matrix": lambda t: t.ones(2, 3) @ t.ones(3, 2, dtype=t.long),
    "batch @ long matrix": lambda t: t.ones(4, 2, 3) @ t.ones(3, 2, dtype=t.long),
    "long batch @ batch": lambda t: t.ones(4, 2, 3, dtype=t.long) @ t.ones(4, 3, 2),
    "torch.matmul": lambda t: t.matmul(t.ones(2, 3), t.ones(3, 2, dtype=t.bool)),
    "torch.mm": lambda t: t.mm(t.ones(2, 3, dtype=t.long), t.ones(3, 2)),
    "torch.bmm": lambda t: t.bmm(t.ones(1, 2, 3, dtype=t.long), t.ones(1, 3, 2)),
    "torch.dot": lambda t: t.dot(t.ones(3, dtype=t.long), t.ones(3)),
}


@pytest.mark.parametrize("program", MIXED_PRODUCTS.values(), ids=MIXED_PRODUCTS)
def test_matrix_products_refuse_mixed_dtypes(real_torch, program):
    assert_same_error(real_torch, program)


def test_integer_matrix_products_torch_accepts(real_torch):
    def program(torch):
        a, b = torch.tensor([[1, 2], [3, 4]]), torch.tensor([5, 6])
        return [a @ a, a @ b, b @ b, torch.nn.functional.linear(a, a)]

    assert_same(*run_both(real_torch, program))


# --- int64 stored as int32 without x64 ---------------------------------------------------------

BEYOND_INT32 = {
    "tensor of a NumPy int64 array": lambda t: t.tensor(np.array([2**40])),
    "tensor of a Python int": lambda t: t.tensor([1, 2**40]),
    "tensor of a negative Python int": lambda t: t.tensor(-(2**31) - 1),
    "full with a long fill": lambda t: t.full((2,), 2**40, dtype=t.int64),
    "from_numpy": lambda t: t.from_numpy(np.array([-(2**35)])),
    "tensor of floats as long": lambda t: t.tensor([3e10], dtype=t.long),
    "a NumPy int64 operand": lambda t: t.ones(2, dtype=t.long) + np.array([2**33, 1]),
}


@pytest.mark.parametrize("program", BEYOND_INT32.values(), ids=BEYOND_INT32)
def test_int64_values_beyond_int32_raise_at_creation_without_x64(program):
    """torch holds these (its int64 is 64-bit); without x64 they would wrap silently."""
    with pytest.raises(OverflowError, match="jax_enable_x64") as info:
        program(fdiff.torch)
    assert "out of range for torch.int64" in str(info.value)


def test_int64_values_at_the_int32_limits_are_kept(real_torch):
    limits = [-(2**31), 2**31 - 1]
    assert_same(*run_both(real_torch, lambda t: [t.tensor(limits), t.tensor(np.array(limits))]))


# --- NumPy operands ------------------------------------------------------------------------------

# real torch's tensors warn, under NumPy 2, that their __array_wrap__ signature is old
TORCH_ARRAY_WRAP = "ignore:__array_wrap__ must accept context:DeprecationWarning"

ARRAY_OPERANDS = {
    "tensor + float32 array": lambda t: t.ones(2) + np.ones(2, dtype=np.float32),
    "long tensor * int array": lambda t: t.tensor([1, 2]) * np.array([3, 4]),
    "long tensor - 0-d int array": lambda t: t.tensor([1, 2]) - np.array(3),
    "float32 array / tensor": lambda t: np.array([1.0, 2.0], dtype=np.float32) / t.ones(2),
    "tensor @ float32 array": lambda t: t.ones(2, 2) @ np.ones((2, 2), dtype=np.float32),
    "tensor == array": lambda t: t.ones(2) == np.array([1.0, 2.0], dtype=np.float32),
    "a NumPy function of a tensor": lambda t: np.exp(t.ones(2)),
    "NumPy float64 scalar keeps the tensor's dtype": lambda t: np.float64(2.5) * t.ones(2),
    "NumPy int scalar keeps the long dtype": lambda t: t.tensor([1, 2]) + np.int64(3),
    "NumPy bool scalar": lambda t: t.ones(2) * np.bool_(True),
}


@pytest.mark.filterwarnings(TORCH_ARRAY_WRAP)
@pytest.mark.parametrize("program", ARRAY_OPERANDS.values(), ids=ARRAY_OPERANDS)
def test_numpy_operands_as_torch_takes_them(real_torch, program):
    """A tensor declines a NumPy array operand: NumPy computes the result with its promotion
    rules and hands back a tensor that does not require grad."""
    assert_same(*run_both(real_torch, program))


ARRAY_REFUSED = {
    "array + tensor": lambda t: np.ones(2, dtype=np.float32) + t.ones(2),
    "array - tensor": lambda t: np.ones(2) - t.ones(2),
    "array * tensor": lambda t: np.ones(2) * t.ones(2),
    "array ** tensor": lambda t: np.ones(2) ** t.ones(2),
    "array @ tensor": lambda t: np.ones((2, 2)) @ t.ones(2, 2),
    "tensor < array": lambda t: t.ones(2) < np.ones(2),
    "array >= tensor": lambda t: np.ones(2) >= t.ones(2),
    "a tensor that requires grad": lambda t: t.ones(2, requires_grad=True) * np.ones(2),
    "an array over one that requires grad": lambda t: np.ones(2) / t.ones(2, requires_grad=True),
}


@pytest.mark.filterwarnings(TORCH_ARRAY_WRAP)
@pytest.mark.parametrize("program", ARRAY_REFUSED.values(), ids=ARRAY_REFUSED)
def test_numpy_arrays_torch_refuses_as_operands(real_torch, program):
    assert_same_error(real_torch, program)


@pytest.mark.filterwarnings(TORCH_ARRAY_WRAP)
def test_tensor_not_equal_to_an_array_is_pythons_identity_fallback(real_torch):
    """torch's ``!=`` declines an array, so Python compares identities: ``True``."""
    assert_same(*run_both(real_torch, lambda t: [t.ones(2) != np.ones(2), np.ones(2) != t.ones(2)]))


@pytest.mark.parametrize("array", [np.ones(2), np.array([1, 2])], ids=["float64", "int64"])
def test_a_numpy_result_in_float64_needs_x64_as_torch_float64_does(array):
    """NumPy promotes float32 with a float64 or int64 array to float64, which fdiff.torch stores
    only with x64 (test_torch_dtypes runs the same operand with x64 on)."""
    with pytest.raises(TypeError, match="jax_enable_x64"):
        fdiff.torch.ones(2) + array


# --- small silent differences ------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_nll_loss_of_one_sample_is_0_d(real_torch, reduction):
    def program(torch):
        x = torch.tensor([0.1, 0.2, 0.7], requires_grad=True)
        F = torch.nn.functional
        losses = [
            F.nll_loss(x.log_softmax(0), torch.tensor(2), reduction=reduction),
            F.cross_entropy(x, torch.tensor(1), reduction=reduction),
        ]
        sum(losses).backward()
        return losses, x.grad

    assert_same(*run_both(real_torch, program))


# --- found by the OpInfo sweep (tests/test_torch_opinfo.py) ------------------------------------

OPINFO_FINDINGS = {
    "max of a 0-d tensor along dim 0": lambda t: t.max(t.tensor(3.0), 0),
    "argmin of a 0-d tensor along dim -1 with keepdim": lambda t: t.argmin(t.tensor(3.0), -1, True),
    "amax of a 0-d tensor along dim 0": lambda t: t.amax(t.tensor(3.0), 0),
    "std's unbiased overload": lambda t: t.std(t.tensor([1.0, 2.0, 4.0]), False),
    "var with correction=None": lambda t: t.var(t.tensor([1.0, 2.0, 4.0]), correction=None),
    "squeeze of several dims": lambda t: t.ones(2, 1, 1).squeeze((1, 2)).shape,
    "transpose of a 0-d tensor": lambda t: t.tensor(2.0).transpose(0, -1),
    "squeeze of a 0-d tensor": lambda t: t.tensor(2.0).squeeze(0),
}


@pytest.mark.parametrize("program", OPINFO_FINDINGS.values(), ids=OPINFO_FINDINGS)
def test_what_the_opinfo_sweep_found_matches_torch(real_torch, program):
    assert_same(*run_both(real_torch, program))


def test_the_grad_fn_of_a_squeeze_of_several_dims(real_torch):
    def program(torch):
        x = torch.ones(2, 1, 1, requires_grad=True) * 2
        return x.squeeze((1, 2)).grad_fn.name()

    assert_same(*run_both(real_torch, program))


REFUSED = {
    "torch.norm(p=0)": lambda t: t.norm(t.ones(2), p=0),
    "torch.norm(p=-inf)": lambda t: t.norm(t.ones(2), p=float("-inf")),
    "torch.norm(p='nuc')": lambda t: t.norm(t.ones(2, 2), p="nuc"),
    "torch.clamp(min=Tensor, max=Tensor)": lambda t: t.clamp(t.ones(2), t.zeros(2), t.ones(2)),
    "torch.nn.functional.cross_entropy(target=class probabilities)": lambda t: (
        t.nn.functional.cross_entropy(t.ones(2, 3), t.ones(2, 3) / 3)
    ),
}


@pytest.mark.parametrize("name", REFUSED)
def test_what_fdiff_torch_lacks_is_refused_by_name(name):
    """torch computes these; fdiff.torch once raised a bare error or computed another norm."""
    with pytest.raises(fdiff.torch.UnsupportedError) as info:
        REFUSED[name](fdiff.torch)
    assert info.value.op == name
