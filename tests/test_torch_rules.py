"""torch's autograd rules, one at a time, checked against real PyTorch.

Every test writes one torch-style program as a function of the ``torch`` module and runs it
under real torch and under ``fdiff.torch`` (``support.run_both``): values, gradients, flags,
exception types and message fragments must agree. The fragments are torch's own wording; each
is first checked against the message real torch raised.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from support import (
    BOX_MULLER_MAGNITUDE,
    assert_close,
    assert_same,
    assert_same_error,
    assert_same_random_draws,
    run_both,
)

import fdiff.torch

NON_LEAF_WARNING = "is not a leaf Tensor is being accessed"
SECOND_BACKWARD = "Trying to backward through the graph a second time"


# --- accumulation and retain_graph -------------------------------------------------------------


def test_gradients_accumulate_across_backward_calls(real_torch):
    def program(torch):
        x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
        (x * x).sum().backward()
        first = x.grad.clone()
        (3 * x).sum().backward()
        return first, x.grad

    assert_same(*run_both(real_torch, program))


def test_second_backward_without_retain_graph_raises(real_torch):
    def program(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward()
        y.backward()

    assert_same_error(real_torch, program, SECOND_BACKWARD)


def test_retain_graph_allows_a_second_backward_that_accumulates(real_torch):
    """Seed 003.3: three backward calls with ``retain_graph``, zeroing before the third."""

    def program(torch):
        inp = torch.eye(3, requires_grad=True)
        out = (inp + 1).pow(2)
        grads = []
        for zero_first in (False, False, True):
            if zero_first:
                inp.grad.zero_()
            out.backward(torch.ones_like(inp), retain_graph=True)
            grads.append(inp.grad.clone())
        return grads

    assert_same(*run_both(real_torch, program))


def _slice_assigned(torch, x):
    y = x + 0
    y[0:1] = 5.0
    return y


def _index_assigned(torch, x):
    y = x + 0
    y[torch.tensor([0])] = 5.0
    return y


def _copied_into_zeros(torch, x):
    return torch.zeros(3).copy_(x)


SECOND_BACKWARD_GRAPHS = {
    "add": lambda torch, x: x + 1,
    "sub": lambda torch, x: x - x.detach(),
    "rsub": lambda torch, x: 1 - x,
    "neg": lambda torch, x: -x,
    "mul_scalar": lambda torch, x: x * 2,
    "mul": lambda torch, x: x * x,
    "div_scalar": lambda torch, x: x / 2,
    "rdiv": lambda torch, x: 2 / x,
    "pow": lambda torch, x: x**2,
    "exp": lambda torch, x: x.exp(),
    "abs": lambda torch, x: x.abs(),
    "relu": lambda torch, x: torch.relu(x),
    "sigmoid": lambda torch, x: x.sigmoid(),
    "clamp": lambda torch, x: x.clamp(0, 1),
    "mean": lambda torch, x: x.mean(),
    "sum_dim": lambda torch, x: x.sum(0),
    "norm": lambda torch, x: x.norm(),
    "max": lambda torch, x: x.max(),
    "softmax": lambda torch, x: x.softmax(0),
    "view": lambda torch, x: x.view(3, 1),
    "transpose_unsqueeze": lambda torch, x: x.unsqueeze(0).t(),
    "expand": lambda torch, x: x.expand(2, 3),
    "slice": lambda torch, x: x[1:],
    "select": lambda torch, x: x[1],
    "index": lambda torch, x: x[torch.tensor([0, 0, 2])],
    "cat": lambda torch, x: torch.cat([x, x]),
    "stack": lambda torch, x: torch.stack([x, x]),
    "clone": lambda torch, x: x.clone(),
    "dot": lambda torch, x: x @ x,
    "add_then_mul": lambda torch, x: (x + 1) * 3,
    "mse": lambda torch, x: torch.nn.functional.mse_loss(x, torch.zeros(3)),
    "slice assignment": _slice_assigned,
    "index assignment": _index_assigned,
    "zero_": lambda torch, x: (x + 0).zero_(),
    "fill_": lambda torch, x: (x + 0).fill_(2.0),
    "copy_ into a plain tensor": _copied_into_zeros,
}


@pytest.mark.parametrize("build", SECOND_BACKWARD_GRAPHS.values(), ids=SECOND_BACKWARD_GRAPHS)
def test_which_graphs_survive_a_second_backward(real_torch, build):
    """torch frees only saved tensors: graphs whose nodes saved none can be backwarded twice."""

    def program(torch):
        x = torch.tensor([0.5, -1.5, 2.0], requires_grad=True)
        y = build(torch, x).sum()
        y.backward()
        try:
            y.backward()
        except RuntimeError as error:
            return "raised", SECOND_BACKWARD in str(error), x.grad
        return "accumulated", x.grad

    assert_same(*run_both(real_torch, program))


# --- what backward refuses ---------------------------------------------------------------------


def test_non_scalar_backward_needs_a_gradient(real_torch):
    def program(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        (x * 2).backward()

    assert_same_error(real_torch, program, "grad can be implicitly created only for scalar outputs")


def test_backward_on_a_tensor_that_does_not_require_grad(real_torch):
    def program(torch):
        torch.tensor([1.0, 2.0]).sum().backward()

    assert_same_error(real_torch, program, "does not require grad and does not have a grad_fn")


def test_backward_gradient_of_the_wrong_shape(real_torch):
    def program(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        (x * 2).backward(torch.ones(3))

    assert_same_error(real_torch, program, "Mismatch in shape: grad_output[0] has a shape of")


def test_backward_with_a_long_gradient(real_torch):
    """Seed 001.3: ``y.backward(tensor([1, 1, 1], dtype=long))`` after doubling to >= 1000."""

    def program(torch):
        torch.manual_seed(0)
        x = torch.randn(3, requires_grad=True)
        y = x * 2
        while y.data.norm() < 1000:
            y = y * 2
        y.backward(torch.tensor([1, 1, 1], dtype=torch.long))
        return y, x.grad

    actual, expected = run_both(real_torch, program)
    assert_same(actual, expected)
    assert_close(actual[1].numpy(), [512.0, 512.0, 512.0])


# --- in-place ops --------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["add_", "sub_", "mul_", "zero_", "copy_"])
def test_in_place_on_a_leaf_that_requires_grad_raises(real_torch, method):
    def program(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        args = () if method == "zero_" else (torch.ones(2),)
        getattr(x, method)(*args)

    assert_same_error(real_torch, program, "a leaf Variable that requires grad is being used in")


def test_in_place_on_a_leaf_is_allowed_under_no_grad(real_torch):
    def program(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        with torch.no_grad():
            x.add_(1).mul_(3).sub_(torch.tensor([1.0, 0.5]), alpha=2)
            x -= 0.5
        return x, x.is_leaf, x.requires_grad

    assert_same(*run_both(real_torch, program))


def test_grad_zero_keeps_the_grad_object(real_torch):
    def program(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        grad = x.grad
        x.grad.zero_()
        (x * 5).sum().backward()
        return grad is x.grad, x.grad

    assert_same(*run_both(real_torch, program))


def test_in_place_ops_on_plain_and_non_leaf_tensors(real_torch):
    def program(torch):
        a = torch.zeros(2, 3)
        a.copy_(torch.tensor([1.0, 2.0, 3.0]))  # copy_ broadcasts
        a.add_(torch.ones(2, 3), alpha=2).mul_(2).sub_(1)
        x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 1
        y.mul_(x).add_(1)  # in place on a non-leaf: recorded
        y.sum().backward()
        z = torch.zeros(3)
        z.copy_(x * 2)  # a plain tensor becomes part of the graph
        return a, y, y.grad_fn.name(), x.grad, z.requires_grad, z.grad_fn.name()

    assert_same(*run_both(real_torch, program))


def test_index_assignment_and_fill(real_torch):
    def program(torch):
        x = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        v = torch.tensor([10.0, 20.0], requires_grad=True)
        y = x * 2
        y[1:3] = v * v  # the overwritten part of x gets no gradient
        y[torch.tensor([0])] = 0.5
        z = x * 1
        z.fill_(7.0)
        (y * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
        return y, y.grad_fn.name(), z, z.grad_fn.name(), x.grad, v.grad

    assert_same(*run_both(real_torch, program))


def test_zero_on_a_non_leaf_cuts_the_gradient(real_torch):
    def program(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.zero_()
        (y + x).sum().backward()
        return y, y.grad_fn.name(), x.grad

    assert_same(*run_both(real_torch, program))


# --- leaves, non-leaves and .grad ----------------------------------------------------------


def test_grad_of_a_non_leaf_is_none_with_a_warning(real_torch):
    for torch in (real_torch, fdiff.torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.sum().backward()
        with pytest.warns(UserWarning, match=NON_LEAF_WARNING):
            assert y.grad is None


def test_retain_grad_keeps_a_non_leaf_grad_without_warning(real_torch):
    """Seed 004.2: ``b = a + 2; c = b**2; out = c.sum()`` with ``retain_grad`` on b and c."""

    def program(torch):
        a = torch.ones(2, 2, requires_grad=True)
        b = a + 2
        c = b**2
        b.retain_grad()
        c.retain_grad()
        c.sum().backward()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return a.grad, b.grad, c.grad, b.retains_grad, a.retains_grad

    assert_same(*run_both(real_torch, program))


def test_no_grad_results_are_leaves_that_do_not_require_grad(real_torch):
    def program(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        with torch.no_grad():
            y = x * 2
            inside = torch.is_grad_enabled()
        return y, y.requires_grad, y.is_leaf, y.grad_fn is None, inside, torch.is_grad_enabled()

    assert_same(*run_both(real_torch, program))


def test_enable_grad_inside_no_grad(real_torch):
    def program(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        with torch.no_grad():
            with torch.enable_grad():
                y = x * 2
            z = x * 2
        y.sum().backward()
        return y.requires_grad, y.grad_fn.name(), z.requires_grad, x.grad

    assert_same(*run_both(real_torch, program))


def test_set_grad_enabled_as_a_decorator(real_torch):
    def program(torch):
        @torch.set_grad_enabled(False)
        def doubled(t):
            return t * 2

        x = torch.tensor([1.0], requires_grad=True)
        return doubled(x).requires_grad, torch.is_grad_enabled()

    assert_same(*run_both(real_torch, program))


def test_detach_shares_storage_but_no_graph(real_torch):
    """Seed 000.2b: a detached factor contributes no gradient; in place on it shows in the base."""

    def program(torch):
        x = torch.tensor([7.0])
        params = torch.tensor([3.0], requires_grad=True)
        loss = (x * params) * (2 * params.detach())
        loss.backward()
        y = params * 1
        d = y.detach()
        d.add_(10)  # visible in y: they share storage
        return loss, params.grad, d.requires_grad, d.is_leaf, d.grad_fn is None, y

    assert_same(*run_both(real_torch, program))


def test_data_shares_storage_and_drops_the_graph(real_torch):
    def program(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        d = x.data
        d.mul_(3)  # allowed: .data is outside autograd
        return x, d.requires_grad, d.is_leaf

    assert_same(*run_both(real_torch, program))


def test_requires_grad_flags_and_is_leaf(real_torch):
    def program(torch):
        x = torch.tensor([1.0, 2.0])
        before = (x.requires_grad, x.is_leaf)
        same = x.requires_grad_() is x
        y = x * 2
        return before, same, x.requires_grad, x.is_leaf, y.requires_grad, y.is_leaf

    assert_same(*run_both(real_torch, program))


def test_requires_grad_on_an_integer_tensor_raises(real_torch):
    def program(torch):
        torch.tensor([1, 2]).requires_grad_()

    assert_same_error(real_torch, program, "floating point")


def test_requires_grad_false_on_a_non_leaf_raises(real_torch):
    def program(torch):
        x = torch.tensor([1.0], requires_grad=True)
        (x * 2).requires_grad_(False)

    assert_same_error(real_torch, program, "you can only change requires_grad flags of leaf")


# --- conversions and shapes ----------------------------------------------------------------


def test_item_tolist_numpy_shape_and_size(real_torch):
    def program(torch):
        x = torch.tensor([[1.5, -2.0, 0.25]], requires_grad=True)
        y = (x * 2).sum()
        return (
            y.item(),
            x.tolist(),
            x.detach().numpy().tolist(),
            x.shape,
            x.size(),
            x.size(1),
            x.size(-1),
            x.dim(),
            x.numel(),
            x.grad_fn is None,
            y.grad_fn.name(),
        )

    assert_same(*run_both(real_torch, program))


def test_numpy_of_a_tensor_that_requires_grad_raises(real_torch):
    def program(torch):
        torch.tensor([1.0], requires_grad=True).numpy()

    assert_same_error(real_torch, program, "Use tensor.detach().numpy() instead.")


def test_item_of_a_tensor_with_many_elements_raises(real_torch):
    def program(torch):
        torch.ones(2).item()

    assert_same_error(real_torch, program, "a Tensor with 2 elements cannot be converted to Scalar")


GRAD_FN_NAMES = {
    "x * 2": lambda torch, x, m: x * 2,
    "x + 1": lambda torch, x, m: x + 1,
    "1 - x": lambda torch, x, m: 1 - x,
    "x / 2": lambda torch, x, m: x / 2,
    "2 / x": lambda torch, x, m: 2 / x,
    "x ** 2": lambda torch, x, m: x**2,
    "x ** x": lambda torch, x, m: x**x,
    "2 ** x": lambda torch, x, m: 2**x,
    "x.sum()": lambda torch, x, m: x.sum(),
    "m.sum(0)": lambda torch, x, m: m.sum(0),
    "x.mean()": lambda torch, x, m: x.mean(),
    "x.norm()": lambda torch, x, m: x.norm(),
    "x.max()": lambda torch, x, m: x.max(),
    "m.max(1)": lambda torch, x, m: m.max(1)[0],
    "m.amax(0)": lambda torch, x, m: m.amax(0),
    "x.abs()": lambda torch, x, m: x.abs(),
    "x.clamp(0, 1)": lambda torch, x, m: x.clamp(0, 1),
    "relu": lambda torch, x, m: torch.relu(x),
    "x @ x": lambda torch, x, m: x @ x,
    "m @ x": lambda torch, x, m: m @ x,
    "m @ m": lambda torch, x, m: m @ m,
    "x[0]": lambda torch, x, m: x[0],
    "x[:1]": lambda torch, x, m: x[:1],
    "m[0, 1:]": lambda torch, x, m: m[0, 1:],
    "m[1:, 0]": lambda torch, x, m: m[1:, 0],
    "x[index]": lambda torch, x, m: x[torch.tensor([0, 0])],
    "view": lambda torch, x, m: m.view(4),
    "t": lambda torch, x, m: m.t(),
    "transpose": lambda torch, x, m: m.transpose(0, 1),
    "permute": lambda torch, x, m: m.permute(1, 0),
    "unsqueeze": lambda torch, x, m: x.unsqueeze(0),
    "squeeze": lambda torch, x, m: x.unsqueeze(0).squeeze(0),
    "expand": lambda torch, x, m: x.expand(2, 2),
    "cat": lambda torch, x, m: torch.cat([x, x]),
    "stack": lambda torch, x, m: torch.stack([x, x]),
    "where": lambda torch, x, m: torch.where(x > 1, x, 0.0),
    "maximum": lambda torch, x, m: torch.maximum(x, x),
    "softmax": lambda torch, x, m: x.softmax(0),
    "log_softmax": lambda torch, x, m: x.log_softmax(0),
    "mse_loss": lambda torch, x, m: torch.nn.functional.mse_loss(x, x.detach()),
    "linear": lambda torch, x, m: torch.nn.functional.linear(m, m, x),
    "cross_entropy": lambda torch, x, m: torch.nn.functional.cross_entropy(m, torch.tensor([0, 1])),
}


@pytest.mark.parametrize("build", GRAD_FN_NAMES.values(), ids=GRAD_FN_NAMES)
def test_grad_fn_name(real_torch, build):
    def program(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        m = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        return build(torch, x, m).grad_fn.name()

    assert_same(*run_both(real_torch, program))


# --- autograd.grad and functionalize ------------------------------------------------------


def test_autograd_grad_with_grad_outputs_leaves_grad_untouched(real_torch):
    def program(torch):
        x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = torch.tensor([2.0, -1.0], requires_grad=True)
        y = x[:2] * w
        gx, gw = torch.autograd.grad(y, [x, w], grad_outputs=torch.tensor([1.0, 0.5]))
        return gx, gw, x.grad, w.grad

    assert_same(*run_both(real_torch, program))


def test_second_derivative_with_create_graph(real_torch):
    """d/dx x**3 = 3x**2, then d/dx 3x**2 = 6x."""

    def program(torch):
        x = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
        (first,) = torch.autograd.grad((x**3).sum(), x, create_graph=True)
        (second,) = torch.autograd.grad(first.sum(), x)
        return first, second

    actual, expected = run_both(real_torch, program)
    assert_same(actual, expected)
    assert_close(actual[1].numpy(), [6.0, -12.0, 3.0])


def test_hessian_vector_product(real_torch):
    def program(torch):
        x = torch.tensor([1.0, 2.0, -1.0], requires_grad=True)
        v = torch.tensor([0.5, -1.0, 2.0])
        f = (x.sin() * x**2).sum() + (x[0] * x[1] * x[2])
        (g,) = torch.autograd.grad(f, x, create_graph=True)
        (hv,) = torch.autograd.grad((g * v).sum(), x)
        return g.detach(), hv

    assert_same(*run_both(real_torch, program))


def test_create_graph_backward_warns_about_the_reference_cycle():
    import fdiff.torch as torch

    x = torch.tensor([2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="create_graph=True will create a reference cycle"):
        (x**3).sum().backward(create_graph=True)


def test_create_graph_backward_accumulates_a_differentiable_grad(real_torch):
    def program(torch):
        x = torch.tensor([2.0], requires_grad=True)
        with warnings.catch_warnings():  # real torch warns once per process: tested below
            warnings.simplefilter("ignore", UserWarning)
            (x**3).sum().backward(create_graph=True)
        first = x.grad.detach().clone()
        g = x.grad
        x.grad = None
        g.sum().backward()
        return first, g.requires_grad, x.grad

    assert_same(*run_both(real_torch, program))


def test_autograd_grad_allow_unused(real_torch):
    def program(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        unused = torch.tensor([3.0], requires_grad=True)
        return torch.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)

    assert_same(*run_both(real_torch, program))


def test_autograd_grad_unused_input_raises(real_torch):
    def program(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        unused = torch.tensor([3.0], requires_grad=True)
        torch.autograd.grad((x * 2).sum(), [x, unused])

    assert_same_error(real_torch, program, "appears to not have been used in the graph")


def test_autograd_grad_of_an_intermediate(real_torch):
    def program(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        y = (h**2).sum()
        return torch.autograd.grad(y, [h, x])

    assert_same(*run_both(real_torch, program))


def _program(torch, a, b):
    return (a.sin() * b**2).sum() + (a * b).exp().sum() / 4


@pytest.mark.slow
def test_functionalize_gives_torch_jacobian_and_hessian(real_torch):
    a0, b0 = np.array([0.5, -1.0], np.float32), np.array([2.0, 0.25], np.float32)
    a, b = (fdiff.torch.tensor(v, requires_grad=True) for v in (a0, b0))
    program = fdiff.torch.functionalize(_program(fdiff.torch, a, b))
    order = [next(i for i, t in enumerate(program.leaves) if t is leaf) for leaf in (a, b)]

    def fn(x, y):
        args = [None, None]
        args[order[0]], args[order[1]] = x, y
        return program.fn(*args)

    inputs = (jnp.asarray(a0), jnp.asarray(b0))
    torch_inputs = tuple(real_torch.tensor(v) for v in (a0, b0))
    expected_jac = real_torch.autograd.functional.jacobian(
        lambda x, y: _program(real_torch, x, y), torch_inputs
    )
    expected_hess = real_torch.autograd.functional.hessian(
        lambda x, y: _program(real_torch, x, y), torch_inputs
    )
    assert_close(fn(*inputs), _program(real_torch, *torch_inputs).numpy())
    for got, want in zip(jax.jacrev(fn, argnums=(0, 1))(*inputs), expected_jac, strict=True):
        assert_close(got, want.numpy())
    hessian = jax.hessian(fn, argnums=(0, 1))(*inputs)
    for i in range(2):
        for j in range(2):
            assert_close(hessian[i][j], expected_hess[i][j].numpy())


def test_functionalize_of_a_leaf_raises():
    with pytest.raises(ValueError, match="leaf"):
        fdiff.torch.functionalize(fdiff.torch.ones(2))


# --- gradients at non-differentiable points --------------------------------------------------

KINKS = {
    "abs at 0": (lambda torch, x: x.abs(), [0.0, -1.0, 2.0]),
    "relu at 0": (lambda torch, x: torch.relu(x), [0.0, -1.0, 2.0]),
    "clamp at both bounds": (lambda torch, x: x.clamp(-1, 1), [-1.0, 1.0, 0.0, 2.0, -2.0]),
    "clamp min at bound": (lambda torch, x: x.clamp(min=0), [0.0, 1.0, -1.0]),
    "clamp max at bound": (lambda torch, x: x.clamp(max=0), [0.0, 1.0, -1.0]),
    "clamp with min > max": (lambda torch, x: x.clamp(1, -1), [0.0, 1.0, -1.0, 2.0]),
    "pow 0.0 at 0": (lambda torch, x: x**0.0, [0.0, 1.0, -1.0]),
    "pow 0 at 0": (lambda torch, x: x**0, [0.0, 2.0]),
    "pow 1 at 0": (lambda torch, x: x**1, [0.0, 2.0]),
    "pow 0.5 at 0": (lambda torch, x: x**0.5, [0.0, 4.0]),
    "tensor exponent at base 0": (lambda torch, x: x ** torch.tensor([0.0, 2.0, 0.0]), [0.0] * 3),
    "exponent grad at base 0": (lambda torch, x: torch.tensor([0.0, 0.0, 2.0]) ** x, [0.0, 2, 1]),
    "scalar base": (lambda torch, x: 2**x, [0.0, -1.0, 3.0]),
    "norm of zeros": (lambda torch, x: x.norm(), [0.0, 0.0]),
    "norm p=1 of zeros": (lambda torch, x: x.norm(p=1), [0.0, 0.0]),
    "norm p=3 of zeros": (lambda torch, x: x.norm(p=3), [0.0, 0.0]),
    "norm dim with a zero row": (lambda torch, x: x.view(2, 2).norm(dim=1), [0.0, 0, 3, 4]),
    "norm inf with ties": (lambda torch, x: x.norm(p=float("inf")), [-2.0, 2.0, 1.0]),
    "max with ties": (lambda torch, x: x.max(), [1.0, 3.0, 3.0]),
    "min with ties": (lambda torch, x: x.min(), [1.0, 1.0, 3.0]),
    "amax with ties": (lambda torch, x: x.view(2, 2).amax(0), [1.0, 3.0, 1.0, 2.0]),
    "max(dim) with ties": (lambda torch, x: x.view(2, 3).max(dim=1)[0], [1.0, 3, 3, 2, 2, 1]),
    "min(dim) with ties": (lambda torch, x: x.view(2, 3).min(dim=0)[0], [1.0, 3, 1, 1, 2, 1]),
    "maximum tie": (lambda torch, x: torch.maximum(x, torch.ones(3)), [1.0, 2.0, 0.0]),
    "minimum tie": (lambda torch, x: torch.minimum(x, torch.ones(3)), [1.0, 2.0, 0.0]),
    "sqrt at 0": (lambda torch, x: x.sqrt(), [0.0, 4.0]),
    "sigmoid-BCE logits at 0": (
        lambda torch, x: torch.nn.functional.binary_cross_entropy_with_logits(
            x, torch.tensor([1.0, 0.0, 0.5])
        ),
        [0.0, 0.0, 0.0],
    ),
    "where picks a branch": (lambda torch, x: torch.where(x > 0, x, -x), [0.0, 2.0, -1.0]),
}


@pytest.mark.parametrize(("build", "values"), KINKS.values(), ids=KINKS)
def test_gradient_at_non_differentiable_points_is_torchs(real_torch, build, values):
    def program(torch):
        x = torch.tensor(values, requires_grad=True)
        y = build(torch, x)
        y.sum().backward()
        return y, x.grad

    assert_same(*run_both(real_torch, program))


# --- printing ----------------------------------------------------------------------------------


def test_repr_of_results_with_grad_fn(real_torch):
    def program(torch):
        x = torch.tensor([[1.0, -2.5], [0.125, 300.0]], requires_grad=True)
        v = torch.tensor([1.0, 2.0], requires_grad=True)
        results = [
            x * 2,
            (x**2).sum(),
            x.mean(),
            x[0],
            x.norm(),
            v @ v,
            x.t(),
            torch.tensor(3.0) * v,
            x.argmax(),
            x > 0,
            torch.nn.functional.mse_loss(x, torch.zeros(2, 2)),
        ]
        return [repr(r) for r in results]

    assert_same(*run_both(real_torch, program))


# --- errors for bad shapes -------------------------------------------------------------------

BAD_SHAPES = {
    "broadcast": (lambda torch: torch.ones(2, 3) + torch.ones(4, 3), "must match the size of"),
    "mm": (lambda torch: torch.ones(2, 3) @ torch.ones(2, 3), "shapes cannot be multiplied"),
    "vm": (lambda torch: torch.ones(3) @ torch.ones(2, 3), "shapes cannot be multiplied"),
    "mv": (lambda torch: torch.ones(2, 3) @ torch.ones(2), "size mismatch, got input (2)"),
    "dot": (lambda torch: torch.ones(3) @ torch.ones(2), "inconsistent tensor size"),
    "linear": (
        lambda torch: torch.nn.functional.linear(torch.ones(2, 3), torch.ones(4, 2)),
        "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x4)",
    ),
    "view": (lambda torch: torch.ones(2, 3).view(4), "shape '[4]' is invalid for input of size 6"),
    "cat": (
        lambda torch: torch.cat([torch.ones(2, 3), torch.ones(2, 4)]),
        "Sizes of tensors must match except in dimension 0",
    ),
    "cat ranks": (
        lambda torch: torch.cat([torch.ones(2, 3), torch.ones(3)]),
        "Tensors must have same number of dimensions",
    ),
    "stack": (
        lambda torch: torch.stack([torch.ones(2, 3), torch.ones(3, 2)]),
        "stack expects each tensor to be equal size",
    ),
    "expand": (lambda torch: torch.ones(2, 3).expand(3, 3), "The expanded size of the tensor (3)"),
    "sum dim": (lambda torch: torch.ones(2, 3).sum(2), "Dimension out of range"),
    "softmax dim": (lambda torch: torch.ones(2, 3).softmax(-3), "Dimension out of range"),
    "unsqueeze dim": (lambda torch: torch.ones(2, 3).unsqueeze(3), "Dimension out of range"),
    "transpose dim": (lambda torch: torch.ones(2, 3).transpose(0, 2), "Dimension out of range"),
    "index": (lambda torch: torch.ones(3)[3], "index 3 is out of bounds for dimension 0 with size"),
    "index column": (lambda torch: torch.ones(2, 3)[:, -4], "out of bounds for dimension 1"),
    "index array": (lambda torch: torch.ones(3)[torch.tensor([0, 5])], "out of bounds"),
    "too many indices": (lambda torch: torch.ones(3)[0, 0], "too many indices for tensor"),
    "t of 3-d": (lambda torch: torch.ones(1, 2, 3).t(), "expects a tensor with <= 2 dimensions"),
}


@pytest.mark.parametrize(("program", "fragment"), BAD_SHAPES.values(), ids=BAD_SHAPES)
def test_bad_shapes_raise_torchs_error(real_torch, program, fragment):
    assert_same_error(real_torch, program, fragment)


ZERO_DIM_REDUCTIONS = {
    "sum(0)": lambda torch, x: x.sum(0),
    "mean(-1, keepdim)": lambda torch, x: x.mean(-1, keepdim=True),
    "softmax(0)": lambda torch, x: torch.softmax(x, 0),
    "log_softmax(0)": lambda torch, x: torch.log_softmax(x, 0),
    "norm(dim=0)": lambda torch, x: x.norm(dim=0),
}


@pytest.mark.parametrize("reduce", ZERO_DIM_REDUCTIONS.values(), ids=ZERO_DIM_REDUCTIONS)
def test_reductions_of_a_0d_tensor_over_dim_0(real_torch, reduce):
    def program(torch):
        x = torch.tensor(-1.5, requires_grad=True)
        y = reduce(torch, x)
        y.backward()
        return y, x.grad

    assert_same(*run_both(real_torch, program))


DEGREES_OF_FREEDOM = {
    "var of one element": lambda torch: torch.tensor([2.0], requires_grad=True).var(),
    "std of one element": lambda torch: torch.tensor([2.0], requires_grad=True).std(),
    "without grad": lambda torch: torch.tensor([2.0]).var(),
    "over a dim of size 1": lambda torch: torch.ones(2, 1).var(dim=1),
    "correction 2 over 2": lambda torch: torch.var(torch.ones(2, 3), 0, correction=2),
    "0-d": lambda torch: torch.tensor(1.0).std(),
    "enough elements": lambda torch: torch.ones(2, 3).var(dim=1),
    "correction 0": lambda torch: torch.tensor([2.0]).var(correction=0),
}


@pytest.mark.parametrize("program", DEGREES_OF_FREEDOM.values(), ids=DEGREES_OF_FREEDOM)
def test_var_and_std_warn_when_degrees_of_freedom_are_not_positive(real_torch, program):
    """torch's UserWarning, same category, message (without its C++ source line) and caller."""
    results, warned = [], []
    for torch in (fdiff.torch, real_torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results.append(program(torch))
        warned.append(
            [(w.category, str(w.message).split(" (Triggered")[0], w.filename) for w in caught]
        )
    assert warned[0] == warned[1]
    assert_same(*results)  # nan where torch's is nan


# --- deferred forward: recorded ops compute on first read ---------------------------------------


def test_deferred_values_after_in_place_changes_outside_the_graph(real_torch):
    """A non-leaf changed under no_grad (or through .data) feeds later ops its new value."""

    def program(torch):
        x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x * 2
        with torch.no_grad():
            y.add_(1)
        z = y * y
        h = x + 1
        h.data = torch.tensor([5.0, 6.0, 7.0])
        u = (h * 3).sum()
        return z, u, y

    assert_same(*run_both(real_torch, program))


def test_deferred_intermediates_read_after_backward(real_torch):
    def program(torch):
        w = torch.tensor([0.5, -1.5], requires_grad=True)
        h = w * w
        twin = h.detach()
        loss = (h + 1).sum()
        loss.backward()
        return loss.item(), h, twin, repr(twin), f"{loss:.3f}", w.grad

    assert_same(*run_both(real_torch, program))


def test_python_control_flow_on_deferred_values(real_torch):
    def program(torch):
        x = torch.tensor([0.3, 0.4], requires_grad=True)
        y = x * 2
        steps = 0
        while y.data.norm() < 100:
            y = y * 2
            steps += 1
        y.sum().backward()
        return steps, y, x.grad, bool(y[0] > 1)

    assert_same(*run_both(real_torch, program))


def test_shape_errors_raise_at_the_recorded_op_every_time(real_torch):
    def program(torch):
        w = torch.tensor([[1.0, 2.0]], requires_grad=True)
        for _ in range(2):  # the second time, the output shape cache is warm
            w * torch.ones(3, 1)
        w * torch.ones(3, 3)

    assert_same_error(real_torch, program, "must match the size of tensor b")


def test_grads_accumulate_into_zeroed_and_kept_grad_objects(real_torch):
    def program(torch):
        w = torch.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        for step in range(3):
            loss = (w * w * (step + 1)).sum()
            loss.backward()
            grad = w.grad
            seen.append(grad.clone())
            if step == 1:
                w.grad.zero_()
                seen.append(w.grad is grad)
        return seen, loss

    assert_same(*run_both(real_torch, program))


# Inputs with zeros, ties, negatives and a constant stretch, so kinks and ties are exercised.
MIXED = [-2.0, -0.5, 0.0, 0.0, 1.0, 3.0, 3.0]
POSITIVE = [0.25, 1.0, 1.0, 2.0, 4.0]
MORE_OPS = {
    "square": (MIXED, lambda torch, x: x.square()),
    "rsqrt": (POSITIVE, lambda torch, x: torch.rsqrt(x)),
    "log1p": (POSITIVE, lambda torch, x: x.log1p()),
    "expm1": (MIXED, lambda torch, x: torch.expm1(x)),
    "sign": (MIXED, lambda torch, x: x.sign() * x),
    "floor": (MIXED, lambda torch, x: x.floor() + x),
    "ceil": (MIXED, lambda torch, x: torch.ceil(x * 0.5) + x),
    "round": (MIXED, lambda torch, x: (x * 0.3).round() + x),
    "prod": (POSITIVE, lambda torch, x: x.prod()),
    "prod with one zero": (MIXED[1:5:2], lambda torch, x: x.prod()),
    "prod with two zeros": (MIXED, lambda torch, x: x.prod()),
    "var": (MIXED, lambda torch, x: x.var()),
    "std": (MIXED, lambda torch, x: x.std()),
    "std of a constant": ([2.0, 2.0, 2.0], lambda torch, x: x.std()),
    "std(dim, keepdim)": (MIXED[:6], lambda torch, x: x.view(2, 3).std(dim=1, keepdim=True)),
    "var(correction=0)": (MIXED, lambda torch, x: torch.var(x, correction=0)),
    "logsumexp": (MIXED, lambda torch, x: x.view(1, 7).logsumexp(1)),
    "softplus": (MIXED, lambda torch, x: torch.nn.functional.softplus(x * 10, beta=2)),
    "leaky_relu": (MIXED, lambda torch, x: torch.nn.functional.leaky_relu(x, 0.1)),
    "bmm": (MIXED[:6], lambda torch, x: torch.bmm(x.view(2, 1, 3), x.view(2, 3, 1))),
}


@pytest.mark.parametrize(("values", "op"), MORE_OPS.values(), ids=MORE_OPS)
def test_more_ops_values_gradients_and_names(real_torch, values, op):
    def program(torch):
        x = torch.tensor(values, requires_grad=True)
        y = op(torch, x)
        y.sum().backward()
        return y, y.grad_fn.name(), x.grad

    assert_same(*run_both(real_torch, program))


@pytest.mark.parametrize(
    "fill",
    [
        lambda t: t.uniform_(),
        lambda t: t.uniform_(-2.0, 3.0),
        lambda t: t.normal_(),
        lambda t: t.normal_(1.5, 0.25),
    ],
    ids=["uniform_()", "uniform_(-2, 3)", "normal_()", "normal_(1.5, 0.25)"],
)
@pytest.mark.parametrize("size", [3, 40])  # both of torch's paths: < 16 and >= 16 elements
def test_in_place_random_fills_are_torch_exact(real_torch, fill, size):
    def program(torch):
        torch.manual_seed(7)
        first = fill(torch.empty(size))
        return first, fill(torch.zeros(2, size))

    ours, theirs = run_both(real_torch, program)
    for a, b in zip(ours, theirs, strict=True):
        # bounds the terms of every fill above: |low| + |high - low|, |mean| + std * radius ...
        magnitude = 5 + 1.5 + BOX_MULLER_MAGNITUDE
        assert_same_random_draws(real_torch, np.asarray(a.numpy()), b.numpy(), magnitude)


def test_random_fill_of_a_leaf_that_requires_grad(real_torch):
    def program(torch):
        w = torch.empty(4, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad") as caught:
            w.uniform_()
        with torch.no_grad():
            w.normal_()
        return str(caught.value).split(".")[0], w.requires_grad, w.is_leaf

    assert_same(*run_both(real_torch, program))


EMPTY_REDUCTIONS = {
    "max over an empty dim": lambda x: x.max(dim=-1),
    "min over all of nothing": lambda x: x.min(),
    "amax of nothing": lambda x: x.amax(),
    "amax over dims": lambda x: x.amax(dim=(0, 1)),
    "argmin of nothing": lambda x: x.argmin(),
    "argmax over an empty dim": lambda x: x.argmax(dim=1, keepdim=True),
}


@pytest.mark.parametrize("reduce", EMPTY_REDUCTIONS.values(), ids=EMPTY_REDUCTIONS)
def test_reducing_no_elements_raises_torchs_error(real_torch, reduce):
    assert_same_error(real_torch, lambda torch: reduce(torch.zeros(2, 0)))


def test_max_over_a_non_empty_dim_of_an_empty_tensor_is_empty(real_torch):
    assert_same(*run_both(real_torch, lambda torch: list(torch.zeros(2, 0).max(dim=0))))
