"""Custom ``torch.autograd.Function``: each program runs under real torch and fdiff.torch, and
the values, gradients, grad_fn names and errors must agree."""

from __future__ import annotations

import pytest
from support import assert_same, assert_same_error, run_both

import fdiff.torch


def _exp(torch):
    """torch's documentation example: the output is saved for backward."""

    class Exp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = x.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            (result,) = ctx.saved_tensors
            return grad_output * result

    return Exp


def _scaled_cube(torch):
    """``setup_context`` style, a non-tensor argument and ``needs_input_grad``."""

    class ScaledCube(torch.autograd.Function):
        @staticmethod
        def forward(x, w, scale):
            return scale * x**3 * w

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, w, scale = inputs
            ctx.save_for_backward(x, w)
            ctx.scale = scale

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            gx = 3 * ctx.scale * x**2 * w * grad if ctx.needs_input_grad[0] else None
            gw = ctx.scale * x**3 * grad if ctx.needs_input_grad[1] else None
            return gx, gw, None

    return ScaledCube


def test_exp_function_values_gradients_and_node(real_torch):
    def program(torch):
        x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = _exp(torch).apply(x)
        (y * y).sum().backward()
        names = (y.grad_fn.name(), len(y.grad_fn.next_functions))
        return y, x.grad, names, y.grad_fn.next_functions[0][0].name()

    assert_same(*run_both(real_torch, program))


def test_setup_context_style_with_a_constant_and_needs_input_grad(real_torch):
    def program(torch):
        x = torch.tensor([1.0, -2.0], requires_grad=True)
        w = torch.tensor([0.5, 3.0])  # does not require grad: backward sees needs_input_grad
        y = _scaled_cube(torch).apply(x, w, 2.0)
        y.sum().backward()
        return y, x.grad, [f is None for f, _ in y.grad_fn.next_functions]

    assert_same(*run_both(real_torch, program))


def test_custom_backward_is_differentiated_again(real_torch):
    def program(torch):
        x = torch.tensor([1.0, -2.0], requires_grad=True)
        w = torch.tensor([0.5, 3.0], requires_grad=True)
        y = _scaled_cube(torch).apply(x, w, 2.0)
        gx, gw = torch.autograd.grad(y.sum(), (x, w), create_graph=True)
        hx, hw = torch.autograd.grad((gx * gx).sum() + gw.sum(), (x, w))
        return gx, gw, hx, hw

    assert_same(*run_both(real_torch, program))


def test_function_in_a_training_loop_compiles_once(real_torch):
    """Three SGD steps through a custom Function and a Linear layer give torch's losses; the
    second and third step reuse the compiled backward of the first."""

    def program(torch):
        torch.manual_seed(0)
        layer = torch.nn.Linear(3, 2)
        opt = torch.optim.SGD(layer.parameters(), lr=0.1)
        x = torch.randn(4, 3)
        exp = _exp(torch)
        losses = []
        for _ in range(3):
            opt.zero_grad()
            loss = exp.apply(layer(x)).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses, layer.weight

    fdiff.torch.clear_caches()
    actual, expected = run_both(real_torch, program)
    assert_same(actual, expected, rtol=1e-5, atol=1e-6)
    assert fdiff.torch._graph.compiled_gradients.size() == 1  # 3 backwards, 1 compiled shape


def test_once_differentiable_first_order_and_double_backward_error(real_torch):
    def function(torch):
        class Square(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @torch.autograd.function.once_differentiable
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return 2 * x * grad

        return Square

    def first(torch):
        x = torch.tensor([1.5, -2.0], requires_grad=True)
        (g,) = torch.autograd.grad(function(torch).apply(x).sum(), x, create_graph=True)
        return g.detach(), g.requires_grad

    def second(torch, through_grad_output):
        x = torch.tensor([1.5, -2.0], requires_grad=True)
        v = torch.ones(2, requires_grad=through_grad_output)
        (g,) = torch.autograd.grad(function(torch).apply(x), x, v, create_graph=True)
        g.sum().backward()

    assert_same(*run_both(real_torch, first))
    # without a grad_output that requires grad the gradient does not require grad ...
    assert_same_error(real_torch, lambda torch: second(torch, False))
    # ... with one, differentiating it again raises the once_differentiable error
    assert_same_error(real_torch, lambda torch: second(torch, True), "@once_differentiable")


@pytest.mark.slow
def test_multiple_outputs_non_differentiable_indices_and_materialized_grads(real_torch):
    def program(torch):
        class MaxAndIndex(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                values, indices = x.max(dim=1)
                doubled = 2 * x
                ctx.mark_non_differentiable(indices)
                ctx.save_for_backward(x, indices)
                return values, indices, doubled

            @staticmethod
            def backward(ctx, grad_values, grad_indices, grad_doubled):
                x, indices = ctx.saved_tensors
                grad = torch.zeros_like(x)
                rows = torch.arange(x.shape[0])
                grad[rows, indices] = grad_values
                return grad + 2 * grad_doubled

        x = torch.tensor([[1.0, 3.0, 2.0], [4.0, -1.0, 0.5]], requires_grad=True)
        values, indices, doubled = MaxAndIndex.apply(x)
        (values * torch.tensor([1.0, 10.0])).sum().backward(retain_graph=True)
        first = x.grad.clone()
        doubled.sum().backward()
        return values, indices, indices.requires_grad, first, x.grad

    assert_same(*run_both(real_torch, program))


@pytest.mark.parametrize("host", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_set_materialize_grads_false_passes_none_for_an_unreached_output(real_torch, host):
    """torch hands ``backward`` zeros for an output the gradient does not reach, or ``None``
    after ``ctx.set_materialize_grads(False)``; the gradient says which it saw (also for a
    backward that reads values in Python, run on the host)."""

    def program(torch):
        class Split(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, materialize):
                ctx.set_materialize_grads(materialize)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g2, g3):
                if host:
                    assert float(g3.sum()) == 2.0
                unreached = 1000.0 if g2 is None else g2 * 2
                return g3 * 3 + unreached, None

        x = torch.tensor([1.0, 2.0], requires_grad=True)
        return [torch.autograd.grad(Split.apply(x, m)[1].sum(), x) for m in (True, False)]

    assert_same(*run_both(real_torch, program))


def test_mark_dirty_rebases_the_input_onto_the_function(real_torch):
    def program(torch):
        class AddOneInPlace(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad * 3  # not the true derivative: shows that it is the one used

        w = torch.tensor([1.0, 2.0], requires_grad=True)
        h = w * w
        out = AddOneInPlace.apply(h)
        (out * 2).sum().backward()
        return out is h, h, h.grad_fn.name(), w.grad

    assert_same(*run_both(real_torch, program))


@pytest.mark.parametrize(
    "wrong",
    ["count", "shape"],
)
def test_wrong_gradients_raise_torchs_error(real_torch, wrong):
    def program(torch):
        class Bad(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                return x * y

            @staticmethod
            def backward(ctx, grad):
                if wrong == "count":
                    return (grad,)
                return torch.ones(5), None

        x = torch.ones(3, requires_grad=True)
        Bad.apply(x, torch.ones(3)).sum().backward()

    assert_same_error(real_torch, program)


def test_no_grad_inputs_return_forward_output_unrecorded(real_torch):
    def program(torch):
        x = torch.tensor([0.5, 1.0])
        y = _exp(torch).apply(x)
        with torch.no_grad():
            z = _exp(torch).apply(x.requires_grad_())
        return y, y.grad_fn is None, z.requires_grad

    assert_same(*run_both(real_torch, program))


def _thresholded(torch):
    """A backward that reads a tensor value in Python: JAX cannot trace it."""

    class Thresholded(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            scale = 2.0 if float(x.max()) > 1.0 else 1.0
            return scale * 2 * x * grad

    return Thresholded


def test_a_backward_reading_python_values_runs_on_the_host(real_torch):
    def program(torch):
        x = torch.tensor([0.5, 1.5], requires_grad=True)
        y = _thresholded(torch).apply(x)
        (y * 3).sum().backward()
        return y, x.grad

    assert_same(*run_both(real_torch, program))


def test_host_functions_are_first_order_only():
    torch = fdiff.torch
    x = torch.tensor([0.5, 1.5], requires_grad=True)
    (g,) = torch.autograd.grad(_thresholded(torch).apply(x).sum(), x, create_graph=True)
    with pytest.raises(torch.UnsupportedError, match="double backward"):
        g.sum().backward()
