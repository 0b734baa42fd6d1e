"""``torch.autograd.graph.saved_tensors_hooks`` against real torch: which tensors each op packs,
in which order, when unpack runs, and that the backward reads what unpack returns."""

from __future__ import annotations

import pytest
from support import assert_same, assert_same_error, run_both

import fdiff.torch

OPS = {
    "x * x": lambda torch, x, c: x * x,
    "x * constant": lambda torch, x, c: x * c,
    "x / (x + 1)": lambda torch, x, c: x / (x + 1),
    "exp": lambda torch, x, c: x.exp(),
    "sin": lambda torch, x, c: x.sin(),
    "pow": lambda torch, x, c: x**2,
    "relu": lambda torch, x, c: x.relu(),
    "tanh": lambda torch, x, c: x.tanh(),
    "softmax": lambda torch, x, c: x.softmax(1),
    "sum and mean": lambda torch, x, c: x.sum() + x.mean(),
    "matmul": lambda torch, x, c: x @ c.t(),
    "where": lambda torch, x, c: torch.where(c > 0, x, -x),
    "gather": lambda torch, x, c: x.gather(1, torch.tensor([[0], [1]])),
    "x ** tensor": lambda torch, x, c: x**c,
}


def _logged(torch, log):
    def pack(t):
        log.append(("pack", tuple(t.shape), t.requires_grad, t.grad_fn is not None))
        return t

    def unpack(t):
        log.append(("unpack", tuple(t.shape)))
        return t

    return torch.autograd.graph.saved_tensors_hooks(pack, unpack)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(OPS))
def test_ops_pack_and_unpack_what_torch_saves(real_torch, name):
    def program(torch):
        log = []
        x = torch.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], requires_grad=True)
        c = torch.tensor([[2.0, -1.0, 0.5], [1.0, 3.0, -2.0]])
        with _logged(torch, log):
            y = OPS[name](torch, x, c)
        log.append("backward")
        y.sum().backward()
        return log, x.grad

    assert_same(*run_both(real_torch, program))


@pytest.mark.slow
@pytest.mark.parametrize("input_requires_grad", [False, True])
def test_a_linear_layer_packs_as_torch_does(real_torch, input_requires_grad):
    def program(torch):
        log = []
        torch.manual_seed(0)
        layer = torch.nn.Linear(3, 2)
        x = torch.randn(4, 3, requires_grad=input_requires_grad)
        with _logged(torch, log):
            y = layer(x)
        log.append("backward")
        y.sum().backward(retain_graph=True)
        log.append("again")
        y.sum().backward()
        return log, layer.weight.grad, layer.bias.grad

    assert_same(*run_both(real_torch, program))


def test_backward_reads_what_unpack_returns(real_torch):
    """The saved inputs of ``x * x`` unpack as ``10 x``: torch's gradient is ``2 * 10 x``; a
    saved tensor changed in place is read as it is now, without torch's version check."""

    def program(torch):
        x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t * 10):
            y = x * x
        y.sum().backward()
        scaled = x.grad.clone()
        x.grad = None
        with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            h = x * 2
            z = h * h
        with torch.no_grad():
            h.add_(1)
        z.sum().backward()
        return scaled, x.grad

    assert_same(*run_both(real_torch, program))


@pytest.mark.slow
def test_packed_values_need_not_be_tensors_and_hooks_nest(real_torch):
    def program(torch):
        calls = []
        x = torch.tensor([1.0, 2.0], requires_grad=True)

        def outer(t):
            calls.append("outer")
            return t

        hooks = torch.autograd.graph.saved_tensors_hooks
        with hooks(outer, lambda t: t), hooks(lambda t: t.tolist(), lambda t: torch.tensor(t)):
            y = (x * x).sum()
        y.backward()
        with torch.autograd.graph.save_on_cpu():
            z = x.exp().sum()
        z.backward()
        return calls, x.grad

    assert_same(*run_both(real_torch, program))


@pytest.mark.slow
@pytest.mark.parametrize(
    "program",
    [
        lambda torch: _unpack_returning(torch, 3),
        lambda torch: _enter_disabled(torch),
    ],
)
def test_errors_match_torch(real_torch, program):
    assert_same_error(real_torch, program)


def _unpack_returning(torch, value):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: value):
        y = x * x
    y.sum().backward()


def _enter_disabled(torch):
    graph = torch.autograd.graph
    with (
        graph.disable_saved_tensors_hooks("no saved tensor hooks here"),
        graph.saved_tensors_hooks(lambda t: t, lambda t: t),
    ):
        pass


@pytest.mark.slow
def test_create_graph_through_identity_hooks(real_torch):
    def program(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            y = (x * x * x).sum()
        (g,) = torch.autograd.grad(y, x, create_graph=True)
        return g, torch.autograd.grad(g.sum(), x)

    assert_same(*run_both(real_torch, program))


def test_what_the_replay_cannot_read_raises_unsupported():
    torch = fdiff.torch
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t * 10):
        y = x.exp()  # a saved output: the replay differentiates exp from its input
        z = x * x
    with pytest.raises(torch.UnsupportedError, match="saved output of ExpBackward0"):
        y.sum().backward()
    with pytest.raises(torch.UnsupportedError, match="create_graph"):
        torch.autograd.grad(z.sum(), x, create_graph=True)

    class Double(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    with (
        torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t),
        pytest.raises(torch.UnsupportedError, match=r"custom autograd\.Function"),
    ):
        Double.apply(x)
