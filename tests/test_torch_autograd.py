"""fdiff.torch's autograd internals against real torch: the cases a single program per rule in
test_torch_rules.py does not reach (each kills a mutant of ``_dispatch``, ``_autograd`` or the op
table that every other test lets live)."""

from __future__ import annotations

import warnings

import pytest
from support import assert_same, run_both


def test_backward_through_a_tensor_changed_in_place_under_no_grad(real_torch):
    """The op after the change reads the new value; the gradient flows to the old node: the
    replayed forward (and ``loss.item()`` after backward) must use the value the op read."""

    def program(torch):
        w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = w * 2
        with torch.no_grad():
            y.add_(1)
        loss = (y * y).sum()
        loss.backward()
        return loss.item(), w.grad

    assert_same(*run_both(real_torch, program))


def test_backward_through_a_tensor_whose_data_was_replaced(real_torch):
    def program(torch):
        w = torch.tensor([1.0, -2.0], requires_grad=True)
        h = w + 1
        h.data = torch.tensor([5.0, 6.0])
        loss = (h * w).sum()
        loss.backward()
        return loss.item(), w.grad, loss

    assert_same(*run_both(real_torch, program))


def test_a_leaf_changed_under_no_grad_between_two_uses_gets_both_gradients(real_torch):
    """Two reads of one leaf with different values: two gradient slots, added eagerly."""

    def program(torch):
        w = torch.tensor([1.0, 1.0], requires_grad=True)
        a = w * 2
        with torch.no_grad():
            w.add_(1)
        b = w * 3
        (a + b).sum().backward()
        return w.grad

    assert_same(*run_both(real_torch, program))


def test_a_leafs_own_backward_accumulates(real_torch):
    def program(torch):
        w = torch.tensor([1.0, 1.0], requires_grad=True)
        w.backward(torch.tensor([2.0, 2.0]))
        w.backward(torch.tensor([3.0, 3.0]))
        return w.grad

    assert_same(*run_both(real_torch, program))


def test_create_graph_backward_twice_accumulates_a_differentiable_grad(real_torch):
    def program(torch):
        w = torch.tensor([1.0, 2.0], requires_grad=True)
        with warnings.catch_warnings():  # torch warns once per process: see test_torch_rules
            warnings.simplefilter("ignore", UserWarning)
            (w**3).sum().backward(create_graph=True)
            (w**2).sum().backward(create_graph=True)
        (second,) = torch.autograd.grad(w.grad.sum(), w)
        return w.grad, w.grad.requires_grad, second

    assert_same(*run_both(real_torch, program))


@pytest.mark.parametrize("op", ["floor", "ceil", "round", "sign", "neg"])
def test_a_second_backward_through_an_op_that_saves_nothing_is_allowed(real_torch, op):
    def program(torch):
        x = torch.tensor([1.5, -0.5], requires_grad=True)
        y = getattr(x, op)()
        y.sum().backward()
        y.sum().backward()  # nothing saved, nothing freed: torch allows it
        return x.grad

    assert_same(*run_both(real_torch, program))


MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 2)),
    ((2, 3), (3, 2)),
    ((4, 2, 3), (3, 2)),
    ((3,), (4, 3, 2)),
    ((4, 2, 3), (4, 3, 2)),
]


@pytest.mark.parametrize("a, b", MATMUL_SHAPES)
def test_matmul_grad_fn_names(real_torch, a, b):
    def program(torch):
        x = torch.ones(*a, requires_grad=True)
        return (x @ torch.ones(*b, requires_grad=True)).grad_fn.name()

    assert_same(*run_both(real_torch, program))


@pytest.mark.parametrize("shape", [(3,), (2, 3), (4, 2, 3), (2, 4, 2, 3)])
@pytest.mark.parametrize("bias", [False, True])
def test_linear_grad_fn_names(real_torch, shape, bias):
    def program(torch):
        x = torch.ones(*shape, requires_grad=True)
        w = torch.ones(5, 3, requires_grad=True)
        b = torch.ones(5, requires_grad=True) if bias else None
        return torch.nn.functional.linear(x, w, b).grad_fn.name()

    assert_same(*run_both(real_torch, program))
