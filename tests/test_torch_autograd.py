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


# Second derivatives at torch's kinks: each rule of _torch_kinks differentiated again. ``y``
# weighs the output, so the gradient also depends on it; points on the kink and off it.
KINKED = {
    "x * |x|": lambda torch, x, y: x * x.abs() * y,
    "x / (|x| + 1)": lambda torch, x, y: x / (x.abs() + 1),
    "pow(1.)": lambda torch, x, y: x.pow(1.0) * y,
    "pow(2.)": lambda torch, x, y: x.pow(2.0) * y,
    "pow(0.5) off 0": lambda torch, x, y: (x.abs() + 1).pow(0.5) * y,
    "x ** y": lambda torch, x, y: x**y,
    "y ** x": lambda torch, x, y: y**x,
    "norm": lambda torch, x, y: x.norm() * y,
    "norm(p=1)": lambda torch, x, y: x.norm(p=1) * y,
    "norm(p=inf)": lambda torch, x, y: x.norm(p=float("inf")) * y,
    "norm(p=3) off 0": lambda torch, x, y: (x + 1).norm(p=3) * y,
    "clamp": lambda torch, x, y: x.clamp(0.0, 1.0) * y,
    "max": lambda torch, x, y: x.max() * y,
    "maximum": lambda torch, x, y: torch.maximum(x, x * 0) * y,
    "relu": lambda torch, x, y: x.relu() * y,
    "leaky_relu": lambda torch, x, y: torch.nn.functional.leaky_relu(x, 0.25) * y,
    "std off constant": lambda torch, x, y: (x * y + torch.tensor([0.0, 1.0])).std() * x.sum(),
}


@pytest.mark.parametrize("point", [[0.0, 0.0], [0.0, 2.0], [-1.0, 0.5]])
@pytest.mark.parametrize("name", KINKED)
def test_second_derivative_at_a_kink_is_torchs(real_torch, name, point):
    """abs''(0) = 0 (torch's abs backward is grad * sgn(x)), d/dx x.pow(1.) = 1 at 0, nan
    where torch's masked formulas give nan (the Hessian of a zero 2-norm, 0 ** y)."""

    def program(torch):
        x = torch.tensor(point, requires_grad=True)
        y = torch.tensor([2.0], requires_grad=True)
        grads = torch.autograd.grad(
            KINKED[name](torch, x, y).sum(), [x, y], create_graph=True, allow_unused=True
        )
        sum(g.sum() for g in grads if g is not None and g.requires_grad).backward()
        return grads, x.grad, y.grad

    assert_same(*run_both(real_torch, program))


def test_a_second_backward_leaves_unreached_leaves_without_grad(real_torch):
    """torch's create_graph gradient records edges only to the leaves it depends on."""

    def program(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = torch.tensor([3.0], requires_grad=True)
        (g,) = torch.autograd.grad((x**3).sum() + (y * 2).sum(), [x], create_graph=True)
        g.sum().backward()
        return g, x.grad, y.grad

    assert_same(*run_both(real_torch, program))


def test_a_second_backward_through_layers_reaches_only_what_the_gradient_used(real_torch):
    """Of ``relu(x W1^T + b1) W2^T + b2``, the input gradient uses W1, W2 and (through the
    relu's mask, as torch's threshold_backward reads its output) b1, never b2."""

    def program(torch):
        hidden, out = torch.nn.Linear(2, 3), torch.nn.Linear(3, 1)
        with torch.no_grad():
            hidden.weight.copy_(torch.tensor([[1.0, -2.0], [0.5, 1.0], [-1.0, 0.25]]))
            hidden.bias.copy_(torch.tensor([0.5, -0.5, 0.0]))
            out.weight.copy_(torch.tensor([[1.0, 2.0, -1.0]]))
            out.bias.copy_(torch.tensor([0.1]))
        x = torch.tensor([[1.0, 0.5], [-1.0, 2.0]], requires_grad=True)
        (g,) = torch.autograd.grad(out(hidden(x).relu()).sum(), x, create_graph=True)
        (g * g).sum().backward()
        params = [hidden.weight, hidden.bias, out.weight, out.bias]
        return g, x.grad, [p.grad for p in params]

    assert_same(*run_both(real_torch, program))


def test_a_gradient_that_depends_on_no_input_does_not_require_grad(real_torch):
    def program(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        (linear,) = torch.autograd.grad((x * 3).sum(), x, create_graph=True)
        (masked,) = torch.autograd.grad(x.clamp(0.0, 1.5).sum(), x, create_graph=True)
        (squared,) = torch.autograd.grad((x * x).sum(), x, create_graph=True)
        grads = [linear, masked, squared]
        return grads, [g.grad_fn is None for g in grads]

    assert_same(*run_both(real_torch, program))


def test_a_gradient_depends_on_a_grad_output_that_requires_grad(real_torch):
    def program(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        v = torch.tensor([0.5, -1.0], requires_grad=True)
        (g,) = torch.autograd.grad(x * 3, x, grad_outputs=v, create_graph=True)
        g.sum().backward()
        return g, x.grad, v.grad

    assert_same(*run_both(real_torch, program))


def test_create_graph_backward_of_a_linear_loss_gives_a_constant_grad(real_torch):
    def program(torch):
        w = torch.tensor([1.0, 2.0], requires_grad=True)
        with warnings.catch_warnings():  # torch warns once per process: see test_torch_rules
            warnings.simplefilter("ignore", UserWarning)
            (w * 3).sum().backward(create_graph=True)
        return w.grad, w.grad.grad_fn is None

    assert_same(*run_both(real_torch, program))


def test_grad_of_an_output_that_is_the_input_leaf_is_its_cotangent(real_torch):
    """``x.contiguous()`` returns ``x`` itself: torch's grad passes the cotangent (implicit ones
    for one element) through, and adds it to the other outputs' gradients."""

    def program(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        s = torch.tensor(2.0, requires_grad=True)
        given = torch.tensor([3.0, 4.0])
        passed = torch.autograd.grad(x.contiguous(), x, given)
        both = torch.autograd.grad([x, (x * x).sum()], x, [given, None])
        mixed = torch.autograd.grad([s, s * 3], [s, x], allow_unused=True)
        return passed, passed[0] is given, both, mixed, torch.autograd.grad(s.flatten(), s)

    assert_same(*run_both(real_torch, program))
