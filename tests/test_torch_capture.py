"""Step capture (``fdiff.torch._capture``): training loops run as one compiled program per cut,
with the values and gradients torch's eager execution gives."""

import threading

import jax
import numpy as np
import pytest
from support import assert_close

import fdiff.torch
from fdiff.torch import _caches, _capture
from fdiff.torch._graph import Node


def _linreg(torch, steps, lr=lambda step: 0.1):
    """The seeds' linear regression with a manual update; the losses and final state."""
    data = np.random.default_rng(0)
    x_np = data.uniform(-1, 1, (100, 1)).astype(np.float32)
    x, y = torch.tensor(x_np), torch.tensor(3 * x_np + 2)
    w = torch.tensor([0.5], requires_grad=True)
    b = torch.tensor([0.0], requires_grad=True)
    losses = []
    for step in range(steps):
        loss = ((x * w + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr(step) * w.grad
            b -= lr(step) * b.grad
        w.grad.zero_()
        b.grad.zero_()
        losses.append(loss.item())
    return losses, [w, b]


def _mlp_manual(torch, steps):
    """The tutorials' MLP loop: manual update under ``no_grad``; losses, params and grads."""
    data = np.random.default_rng(1)
    x = torch.tensor(data.normal(size=(64, 10)).astype(np.float32))
    y = torch.tensor(data.normal(size=(64, 1)).astype(np.float32))
    model = torch.nn.Sequential(torch.nn.Linear(10, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    params = list(model.parameters())
    with torch.no_grad():
        for p in params:
            p.copy_(torch.tensor(data.uniform(-0.3, 0.3, tuple(p.shape)).astype(np.float32)))
    losses = []
    for _ in range(steps):
        for p in params:
            p.grad = None if p.grad is None else p.grad.zero_()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        grads = [p.grad.clone() for p in params]
        with torch.no_grad():
            for p in params:
                p -= 0.05 * p.grad
        losses.append(loss.item())
    return losses, params, grads


def _compiled_programs():
    return _caches.sizes()["fdiff.torch._capture.programs"]


def test_a_repeated_step_is_one_program_and_compiles_once():
    w = fdiff.torch.tensor([0.5, 1.0], requires_grad=True)
    x = fdiff.torch.tensor([1.0, 2.0])
    fdiff.torch.clear_caches()
    for step in range(6):
        loss = ((x * w - 1) ** 2).mean()
        loss.backward()
        with fdiff.torch.no_grad():
            w -= 0.1 * w.grad
        w.grad.zero_()
        assert w._storage[0].__class__ is Node  # pending until the cut
        loss.item()
        if step == 2:
            compiled = _compiled_programs()
    assert _compiled_programs() == compiled
    w.tolist()  # a cut (if ``item()`` was not one: a hook registered anywhere keeps backward eager)
    assert w._storage[0].__class__ is not Node  # the cut stored the live values back


def test_a_new_batch_size_compiles_one_program():
    """XLA compiles per shape; a step with a new batch size must compile its one program and
    nothing else (folding its constant parts eagerly compiled a broadcast per shape too)."""
    compiles = []

    def count(event, duration, **_):
        compiles.append(event == "/jax/core/compile/backend_compile_duration")

    torch = fdiff.torch
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    jax.monitoring.register_event_duration_secs_listener(count)
    try:
        for batch in (5, 6, 7, 8):
            compiles.clear()
            x, y = torch.randn(batch, 3), torch.randn(batch, 1)
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()
    finally:
        jax.monitoring.unregister_event_duration_listener(count)
    assert sum(compiles) == 1


def test_a_changing_learning_rate_becomes_an_argument():
    fdiff.torch.clear_caches()
    _linreg(fdiff.torch, 12, lr=lambda step: 0.1 / (1 + step))
    assert _compiled_programs() <= 4  # a few steps by value, then one program for all


@pytest.mark.slow
def test_captured_loops_give_the_eager_paths_values():
    """Capture runs the same ops as the eager path, fused: the same values up to the rounding
    of fused float32 arithmetic (one ulp here, at most a few after compounding)."""
    captured = _mlp_manual(fdiff.torch, 5)
    _capture.STATE.enabled = False
    try:
        eager = _mlp_manual(fdiff.torch, 5)
    finally:
        _capture.STATE.enabled = True
    assert_close(captured[0], eager[0], rtol=1e-5, atol=1e-6)
    for got, expected in zip(captured[1] + captured[2], eager[1] + eager[2], strict=True):
        assert_close(got, expected, rtol=1e-5, atol=1e-6)


def test_a_pending_value_read_from_another_thread():
    w = fdiff.torch.ones(3)
    with fdiff.torch.no_grad():
        w -= 0.5 * w
    seen = []
    thread = threading.Thread(target=lambda: seen.append(w.tolist()))
    thread.start()
    thread.join()
    assert seen == [[0.5, 0.5, 0.5]]
    assert w.tolist() == [0.5, 0.5, 0.5]


def test_hooks_and_retain_grad_leave_backward_to_the_eager_path(real_torch):
    def program(torch):
        w = torch.tensor([1.0, -2.0], requires_grad=True)
        seen = []
        w.register_hook(lambda g: seen.append(g.tolist()))
        h = w * 3
        h.retain_grad()
        (h**2).sum().backward()
        return seen, h.grad.tolist(), w.grad.tolist()

    assert program(fdiff.torch) == program(real_torch)


def test_a_hook_elsewhere_does_not_stop_capture_and_a_hook_in_the_graph_runs():
    """Only a hook on the backward's own graph sends it to the eager path."""
    torch = fdiff.torch
    unrelated = torch.ones(2, requires_grad=True)
    handle = unrelated.register_hook(lambda g: g)
    w = torch.tensor([0.5, 1.0], requires_grad=True)
    seen = []
    torch.clear_caches()
    for step in range(3):
        if step == 2:
            w.register_hook(lambda g: seen.append(g.tolist()))
        loss = (w * w).sum()
        loss.backward()
        loss.item()
        if step == 1:
            assert _compiled_programs() >= 1  # captured despite ``unrelated``'s hook
    assert seen == [[1.0, 2.0]]  # d(sum w^2)/dw = 2w, the hook's gradient on step 3
    assert w.grad.tolist() == [3.0, 6.0]  # three steps accumulated
    handle.remove()


@pytest.mark.slow
@pytest.mark.parametrize("loop", [_linreg, _mlp_manual])
def test_200_captured_steps_match_torch(real_torch, loop):
    """200 steps: the first 20 losses within float32 rounding of torch's; all of them, and the
    final parameters, within 1e-4 (rounding compounds over the steps, as between any two
    float32 implementations)."""
    ours, theirs = loop(fdiff.torch, 200), loop(real_torch, 200)
    assert_close(ours[0][:20], theirs[0][:20], rtol=1e-5, atol=1e-6)
    assert_close(ours[0], theirs[0], rtol=1e-4, atol=1e-6)
    for got, expected in zip(ours[1], theirs[1], strict=True):
        assert_close(got, expected, rtol=1e-4, atol=1e-6)
