"""Tensor, grad_fn and Module hooks against real torch: each program records what its hooks saw
(and returns the gradients), under both engines."""

from __future__ import annotations

import warnings

import pytest
from support import assert_same, assert_same_error, run_both

import fdiff.torch


def test_tensor_hooks_order_replacement_and_retain_grad(real_torch):
    """Hooks on one tensor run in registration order, each seeing the previous one's result;
    retain_grad keeps the hooked gradient; grad_fn pre-hooks run after both."""

    def program(torch):
        seen = []
        x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x * x
        y.retain_grad()
        y.register_hook(lambda g: seen.append(g.clone()))
        y.register_hook(lambda g: g * 3)
        y.register_hook(lambda g: seen.append(g.clone()))
        y.grad_fn.register_prehook(lambda grads: (grads[0] + 1,))
        (y * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
        return seen, y.grad, x.grad

    assert_same(*run_both(real_torch, program))


def test_leaf_hooks_post_accumulate_hooks_and_removal(real_torch):
    def program(torch):
        seen = []
        w = torch.tensor([0.5, 2.0], requires_grad=True)
        handle = w.register_hook(lambda g: g * 10)
        w.register_hook(lambda g: seen.append(("hook", g.clone())))
        w.register_post_accumulate_grad_hook(lambda t: seen.append(("post", t.grad.clone())))
        (w**2).sum().backward()
        handle.remove()
        (w**2).sum().backward()
        return seen, w.grad

    assert_same(*run_both(real_torch, program))


def test_hook_clipping_gradients_in_a_training_loop(real_torch):
    """A hook registered once on each parameter runs at every step; the compiled backward is
    reused from the second step on."""

    def program(torch):
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 2)
        for p in model.parameters():
            p.register_hook(lambda g: g.clamp(-0.05, 0.05))
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        x, target = torch.randn(5, 3), torch.randn(5, 2)
        losses = []
        for _ in range(3):
            opt.zero_grad()
            loss = ((model(x) - target) ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses, model.weight.grad, model.bias

    fdiff.torch.clear_caches()
    assert_same(*run_both(real_torch, program))
    assert fdiff.torch._graph.compiled_gradients.size() == 1  # 3 backwards, 1 compiled shape


def test_a_hook_changing_the_size_raises_torchs_error(real_torch):
    def program(torch):
        x = torch.ones(2, requires_grad=True)
        y = x * 2

        def widen(grad):
            return torch.ones(3)

        y.register_hook(widen)
        y.sum().backward()

    assert_same_error(real_torch, program)


@pytest.mark.parametrize("kind", ["hook", "post accumulate on a non-leaf"])
def test_registration_errors_match_torch(real_torch, kind):
    def program(torch):
        if kind == "hook":
            torch.ones(2).register_hook(print)
        else:
            (torch.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(print)

    assert_same_error(real_torch, program)


def test_an_exception_in_a_hook_stops_backward(real_torch):
    def program(torch):
        x = torch.ones(2, requires_grad=True)

        def fail(grad):
            raise ValueError("no gradients today")

        x.register_hook(fail)
        (x * 2).sum().backward()

    assert_same_error(real_torch, program)


def test_leaf_hooks_under_create_graph_are_differentiated_again(real_torch):
    """With create_graph=True a leaf hook's result is part of the gradient's graph (and the hook
    runs again in the second backward); post-accumulate hooks see a .grad that requires grad."""

    def program(torch):
        seen = []
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g * 2)
        (g,) = torch.autograd.grad((x**3).sum(), x, create_graph=True)
        w = torch.tensor([1.0, -1.0], requires_grad=True)
        w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.requires_grad))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's warning on backward(create_graph=True)
            (w**3).sum().backward(create_graph=True)
        return g, g.requires_grad, torch.autograd.grad(g.sum(), x), seen, w.grad.detach()

    assert_same(*run_both(real_torch, program))


def test_grad_fn_hooks_the_compiled_backward_cannot_follow_raise_unsupported():
    torch = fdiff.torch
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    y = x * w
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: None)
    with pytest.raises(torch.UnsupportedError, match="create_graph"):
        torch.autograd.grad(y.sum(), x, create_graph=True)
    y = x**3  # torch's second backward through y runs y's hook again: fdiff's would not
    y.register_hook(lambda g: g * 2)
    with pytest.raises(torch.UnsupportedError, match="non-leaf"):
        torch.autograd.grad((y**2).sum(), x, create_graph=True)
    y = x * w  # torch: w gets no gradient at all; a compiled VJP has no "no gradient"
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0], None))
    with pytest.raises(torch.UnsupportedError, match="returning None"):
        y.sum().backward()


def test_module_forward_hooks_in_torchs_order(real_torch):
    def program(torch):
        torch.manual_seed(0)
        layer = torch.nn.Linear(2, 2)
        calls = []
        layer.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        layer.register_forward_pre_hook(lambda m, args: calls.append(("pre", args[0].clone())))
        layer.register_forward_hook(lambda m, args, out: calls.append(("first", out.clone())))
        layer.register_forward_hook(lambda m, args, out: out + 1, prepend=True)
        handle = layer.register_forward_hook(
            lambda m, args, kwargs, out: calls.append(("kw", sorted(kwargs))), with_kwargs=True
        )
        out = layer(torch.tensor([1.0, -1.0]))
        handle.remove()
        again = layer(torch.tensor([0.5, 0.5]))
        return calls, out, again

    assert_same(*run_both(real_torch, program))


def test_full_backward_hooks_see_and_replace_gradients(real_torch):
    def program(torch):
        torch.manual_seed(0)
        first, second = torch.nn.Linear(3, 2), torch.nn.Linear(2, 1)
        model = torch.nn.Sequential(first, second)
        seen = []
        second.register_full_backward_pre_hook(lambda m, go: seen.append(("pre", go)))
        second.register_full_backward_hook(lambda m, gi, go: seen.append(("full", gi, go)))
        second.register_full_backward_hook(lambda m, gi, go: (gi[0] * 10,))
        x = torch.tensor([[1.0, 2.0, -1.0], [0.5, 0.0, 1.0]], requires_grad=True)
        out = model(x)
        out.sum().backward()
        return seen, out.grad_fn.name(), x.grad, first.weight.grad

    assert_same(*run_both(real_torch, program))


def test_full_backward_hook_without_input_grads_warns_as_torch(real_torch):
    def program(torch):
        torch.manual_seed(0)
        layer = torch.nn.Linear(2, 1)
        seen = []
        layer.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go)))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            layer(torch.ones(2)).sum().backward()
        return seen, [str(w.message) for w in caught], layer.weight.grad

    assert_same(*run_both(real_torch, program))


def test_grad_fn_hooks_see_and_replace_input_gradients(real_torch):
    """``grad_fn.register_hook``: ``(grad_inputs, grad_outputs)``, one grad_input per
    ``next_functions`` entry (``None`` for a constant), and replaced grad_inputs flow on."""

    def program(torch):
        seen = []
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        w = torch.tensor([0.5, -1.0], requires_grad=True)
        y = x * 2
        y.grad_fn.register_hook(lambda gi, go: seen.append((gi, go)))
        z = (x * w).exp()
        product = z.grad_fn.next_functions[0][0]
        product.register_hook(lambda gi, go: (gi[0] * 3, gi[1] + 1))
        (y.sum() + z.sum()).backward()
        return seen, x.grad, w.grad

    assert_same(*run_both(real_torch, program))
