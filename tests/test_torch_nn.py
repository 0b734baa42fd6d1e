"""``fdiff.torch.nn`` and ``fdiff.torch.optim`` against real PyTorch.

Each test runs one program under both engines (``support.run_both``); layers start from the
same weights, set from a NumPy generator inside the program, so only the engines differ.

Convolutions, linear layers and their gradients are sums, whose float32 value depends on the
summation order (oneDNN's AVX2 and AVX-512 kernels, XLA): ``assert_engines_agree`` compares them
within ``support.summation_bound``, with the magnitudes from the same program run by real torch
in float64 on the inputs' absolute values (``magnitude=True``).
"""

from __future__ import annotations

import numpy as np
import pytest
from support import (
    assert_close,
    assert_same,
    assert_same_error,
    assert_same_random_draws,
    run_both,
    summation_bound,
)

import fdiff.torch


def set_weights(torch, module, seed: int = 0, magnitude: bool = False) -> None:
    """Overwrite every parameter of ``module`` with the same NumPy draw in either engine
    (with ``magnitude``: the draw's absolute values, in float64)."""
    data = np.random.default_rng(seed)
    if magnitude:
        module.double()
    with torch.no_grad():
        for p in module.parameters():
            values = data.uniform(-1, 1, tuple(p.shape)).astype(np.float32)
            p.copy_(torch.tensor(np.abs(values).astype(np.float64) if magnitude else values))


def inputs(torch, *shape: int, seed: int = 1, requires_grad: bool = True, magnitude=False):
    values = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    if magnitude:
        values = np.abs(values).astype(np.float64)
    return torch.tensor(values, requires_grad=requires_grad)


def gradients(module) -> dict:
    return {name: p.grad for name, p in module.named_parameters()}


def majorant(t):
    """Stands in, in a magnitude run, for an activation f with |f(y)| <= |y|, |f'| <= 1 and
    |f''| <= 1 (sin, tanh): t + t^2/2 bounds |f|, and its slope 1 + t bounds |f'| plus the
    change of f' over the rounding error of y (which is a fraction of y's magnitude)."""
    return t + t * t / 2


# Roundings an elementwise step adds (the activation, its derivative, a product, up to 2 ulps
# each): added to the lengths of the sums a result goes through.
ELEMENTWISE_ROUNDINGS = 8


def assert_engines_agree(real_torch, program, terms: int) -> None:
    """``program(torch, magnitude=False)`` under both engines agrees within the summation bound
    of ``terms`` roundings (the longest chain of sums and elementwise steps to any result)."""
    actual, expected = run_both(real_torch, program)
    magnitudes = program(real_torch, magnitude=True)
    assert_same(actual, expected, bounds=summation_bound(magnitudes, terms))


# --- layers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch", [(), (4,), (2, 3)])
def test_linear_forward_and_gradients(real_torch, bias, batch):
    def program(torch, magnitude=False):
        layer = torch.nn.Linear(5, 3, bias=bias)
        set_weights(torch, layer, magnitude=magnitude)
        x = inputs(torch, *batch, 5, magnitude=magnitude)
        y = layer(x)
        (y * y).sum().backward()
        return y, x.grad, gradients(layer)

    # y: 5 products + bias; x.grad: 3 outputs; weight grads: up to 6 batch rows
    assert_engines_agree(real_torch, program, terms=6 + 6 + ELEMENTWISE_ROUNDINGS)


CONVOLUTIONS = {
    "plain": {"kernel_size": 3},
    "stride 2": {"kernel_size": 3, "stride": 2},
    "padding 1": {"kernel_size": 3, "padding": 1},
    "stride and padding pairs": {"kernel_size": (2, 3), "stride": (2, 1), "padding": (1, 2)},
    "padding same": {"kernel_size": 3, "padding": "same"},
    "dilation": {"kernel_size": 2, "dilation": 2},
    "no bias": {"kernel_size": 3, "bias": False},
}


@pytest.mark.parametrize("options", CONVOLUTIONS.values(), ids=CONVOLUTIONS)
def test_conv2d_forward_and_gradients(real_torch, options):
    def program(torch, magnitude=False):
        conv = torch.nn.Conv2d(2, 3, **options)
        set_weights(torch, conv, magnitude=magnitude)
        x = inputs(torch, 2, 2, 6, 5, magnitude=magnitude)
        y = conv(x)
        (y * y).sum().backward()
        return y, x.grad, gradients(conv)

    # y: 2 channels x 3x3 kernel + bias; x.grad: 3 channels x 3x3; weight and bias grads:
    # 2 images x 6x5 positions at most
    assert_engines_agree(real_torch, program, terms=19 + 60 + ELEMENTWISE_ROUNDINGS)


def test_conv2d_seed_example(real_torch):
    """Seed 000.4: a 3x3 kernel over a 4x4 image; the documented sums and gradients."""
    image = [[2.0, 2, 1, 3], [4, 3, 1, 2], [1, 2, 2, 2], [1, 1, 2, 4]]
    kernel = [[3.0, 4, 5], [1, 2, 5], [1, 4, 5]]

    def program(torch):
        conv = torch.nn.Conv2d(1, 1, 3)
        with torch.no_grad():
            conv.weight.copy_(torch.tensor([[kernel]]))
            conv.bias.zero_()
        result = conv(torch.tensor([[image]]))
        loss = result.sum()
        loss.backward()
        return result, loss, repr(loss), conv.weight.grad, conv.bias.grad

    actual, expected = run_both(real_torch, program)
    assert_same(actual, expected)
    assert_close(actual[0].detach().numpy()[0, 0], [[53, 60], [59, 68]])
    assert actual[2] == "tensor(240., grad_fn=<SumBackward0>)"


def test_conv2d_unbatched_input(real_torch):
    def program(torch, magnitude=False):
        conv = torch.nn.Conv2d(2, 1, 2)
        set_weights(torch, conv, magnitude=magnitude)
        x = inputs(torch, 2, 3, 3, magnitude=magnitude)
        y = conv(x)
        y.sum().backward()
        return y, x.grad

    # y: 2 channels x 2x2 kernel + bias; x.grad: 1 channel x 2x2
    assert_engines_agree(real_torch, program, terms=9 + 4 + ELEMENTWISE_ROUNDINGS)


def test_conv2d_channel_mismatch_raises(real_torch):
    for torch in (real_torch, fdiff.torch):
        conv = torch.nn.Conv2d(3, 1, 2)
        with pytest.raises(RuntimeError, match="to have 3 channels, but got 2 channels instead"):
            conv(torch.ones(1, 2, 4, 4))


CONVOLUTIONS_1D = {
    "plain": {"kernel_size": 3},
    "stride, padding, dilation tuples": {
        "kernel_size": (2,),
        "stride": (2,),
        "padding": (1,),
        "dilation": (2,),
    },
    "padding same": {"kernel_size": 3, "padding": "same", "dilation": 2},
    "padding valid, no bias": {"kernel_size": 2, "padding": "valid", "bias": False},
    "groups": {"kernel_size": 3, "groups": 2, "out_channels": 4},
}


@pytest.mark.parametrize("options", CONVOLUTIONS_1D.values(), ids=CONVOLUTIONS_1D)
@pytest.mark.parametrize("batch", [(2,), ()])
def test_conv1d_forward_gradients_and_repr(real_torch, options, batch):
    def program(torch, magnitude=False):
        conv = torch.nn.Conv1d(2, **{"out_channels": 3, **options})
        set_weights(torch, conv, magnitude=magnitude)
        x = inputs(torch, *batch, 2, 9, magnitude=magnitude)
        y = conv(x)
        (y * y).sum().backward()
        names = None if magnitude else (y.grad_fn.name(), repr(conv))  # compared exactly
        return y, x.grad, gradients(conv), names

    # y: 2 channels x 3 taps + bias; x.grad: 4 channels x 3 taps; weight and bias grads:
    # 2 sequences x 9 positions at most
    assert_engines_agree(real_torch, program, terms=7 + 12 + 18 + ELEMENTWISE_ROUNDINGS)


@pytest.mark.parametrize(
    "program",
    [
        lambda t: t.nn.functional.conv1d(t.ones(2, 3, 4, 5), t.ones(4, 3, 2)),
        lambda t: t.nn.functional.conv1d(t.ones(2, 3, 4), t.ones(4, 3, 2, 2)),
        lambda t: t.nn.functional.conv1d(t.ones(2, 3, 4), t.ones(4, 3, 2), stride=(1, 1)),
        lambda t: t.nn.functional.conv1d(t.ones(2, 3, 4), t.ones(4, 2, 2)),
        lambda t: t.nn.functional.conv2d(t.ones(2, 3, 4, 4), t.ones(4, 3, 2)),
    ],
    ids=["4-D input", "4-D weight", "two strides", "channels", "conv2d of a 1-D kernel"],
)
def test_conv1d_errors(real_torch, program):
    assert_same_error(real_torch, program)


def test_conv1d_initial_weights_equal_torchs_bit_for_bit(real_torch):
    def program(torch):
        torch.manual_seed(3)
        return [p.detach().numpy().copy() for p in torch.nn.Conv1d(2, 4, 3).parameters()]

    actual, expected = run_both(real_torch, program)
    for a, e in zip(actual, expected, strict=True):
        # uniform(-b, b) with b = 1 / sqrt(fan_in) <= 1: |low| + |high - low| <= 3
        assert_same_random_draws(real_torch, a, e, magnitude=3.0)


# --- functional ----------------------------------------------------------------------------


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("padding", [0, 1, (0, 2)])
def test_functional_conv2d(real_torch, stride, padding):
    def program(torch, magnitude=False):
        x = inputs(torch, 1, 2, 5, 5, magnitude=magnitude)
        w, b = (
            inputs(torch, 4, 2, 3, 3, seed=2, magnitude=magnitude),
            inputs(torch, 4, magnitude=magnitude),
        )
        y = torch.nn.functional.conv2d(x, w, b, stride=stride, padding=padding)
        (majorant(y) if magnitude else y.sin()).sum().backward()
        return y, x.grad, w.grad, b.grad

    # y: 2 channels x 3x3 + bias; x.grad: 4 channels x 3x3; w.grad, b.grad: 5x7 positions at most
    assert_engines_agree(real_torch, program, terms=19 + 36 + ELEMENTWISE_ROUNDINGS)


def test_functional_linear(real_torch):
    def program(torch, magnitude=False):
        x = inputs(torch, 3, 4, magnitude=magnitude)
        w = inputs(torch, 2, 4, seed=2, magnitude=magnitude)
        b = inputs(torch, 2, seed=3, magnitude=magnitude)
        y = torch.nn.functional.linear(x, w, b)
        z = torch.nn.functional.linear(x, w)
        ((majorant(y) if magnitude else y.tanh()) + z).sum().backward()
        return y, z, x.grad, w.grad, b.grad

    # y: 4 products + bias; x.grad: 2 outputs, twice; w.grad, b.grad: 3 rows, twice
    assert_engines_agree(real_torch, program, terms=5 + 6 + ELEMENTWISE_ROUNDINGS)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses(real_torch, reduction):
    def program(torch):
        F = torch.nn.functional
        x = inputs(torch, 4, 3)
        target = inputs(torch, 4, 3, seed=5, requires_grad=False)
        probabilities = torch.tensor([[0.0, 1.0, 0.5]] * 4)
        labels = torch.tensor([2, 0, 1, 1])
        losses = {
            "mse": F.mse_loss(x, target, reduction=reduction),
            "bce": F.binary_cross_entropy_with_logits(x, probabilities, reduction=reduction),
            "ce": F.cross_entropy(x, labels, reduction=reduction),
            "nll": F.nll_loss(F.log_softmax(x, 1), labels, reduction=reduction),
        }
        grads = {}
        for name, loss in losses.items():
            (loss.sum() if reduction == "none" else loss).backward()
            grads[name] = x.grad
            x.grad = None
        return losses, grads

    # The float32 defaults, not a summation bound: each loss sums at most 12 terms (4 x 3), so
    # reordering moves it by at most 12 u = 7e-7 of the sum of |terms|, which is a few times
    # the loss itself here (standard-normal inputs): inside RTOL; the gradients are elementwise.
    assert_same(*run_both(real_torch, program))


def test_loss_modules(real_torch):
    def program(torch):
        x = inputs(torch, 3, 2)
        target = inputs(torch, 3, 2, seed=4, requires_grad=False)
        mse = torch.nn.MSELoss(reduction="sum")(x, target)
        bce = torch.nn.BCEWithLogitsLoss()(x, target.sigmoid())
        ce = torch.nn.CrossEntropyLoss()(x, torch.tensor([1, 0, 1]))
        (mse + bce + ce).backward()
        return mse, bce, ce, x.grad

    assert_same(*run_both(real_torch, program))


def test_large_logits_stay_finite(real_torch):
    def program(torch):
        x = torch.tensor([-100.0, -30.0, 0.0, 30.0, 100.0], requires_grad=True)
        y = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0])
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x, y, reduction="sum")
        loss.backward()
        return loss, x.grad

    assert_same(*run_both(real_torch, program))


# --- modules -------------------------------------------------------------------------------


def _model(torch, magnitude: bool = False):
    """A small network; with ``magnitude``, tanh becomes ``majorant`` (same parameters)."""

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            activation = torch.nn.Identity() if magnitude else torch.nn.Tanh()
            self.body = torch.nn.Sequential(torch.nn.Linear(3, 4), activation)
            self.head = torch.nn.Linear(4, 2, bias=False)
            self.scale = torch.nn.Parameter(torch.tensor([2.0]))
            self.not_a_parameter = torch.tensor([1.0])

        def forward(self, x):
            hidden = majorant(self.body(x)) if magnitude else self.body(x)
            return self.head(hidden) * self.scale

    return Net()


def test_parameters_and_named_parameters(real_torch):
    def program(torch):
        model = _model(torch)
        named = [(name, tuple(p.shape), p.requires_grad) for name, p in model.named_parameters()]
        return named, len(list(model.parameters())), [type(m).__name__ for m in model.children()]

    assert_same(*run_both(real_torch, program))


def test_module_gradients_and_zero_grad(real_torch):
    def program(torch, magnitude=False):
        model = _model(torch, magnitude)
        set_weights(torch, model, magnitude=magnitude)
        x = inputs(torch, 5, 3, requires_grad=False, magnitude=magnitude)
        model(x).pow(2).mean().backward()
        grads = gradients(model)
        model.zero_grad()
        cleared = [p.grad is None for p in model.parameters()]
        return grads, cleared

    # forward: 3 products + bias, 4 products, a mean of 10; backward: sums over 2 outputs and
    # 5 rows, and the scale's gradient over all 10
    assert_engines_agree(real_torch, program, terms=4 + 4 + 10 + 2 + 5 + 10 + ELEMENTWISE_ROUNDINGS)


def test_optimizer_zero_grad_keeping_tensors(real_torch):
    def program(torch):
        w = torch.tensor([1.0, -1.0], requires_grad=True)
        optimizer = torch.optim.SGD([w], lr=0.1)
        (w * 3).sum().backward()
        optimizer.zero_grad(set_to_none=False)
        return w.grad

    assert_same(*run_both(real_torch, program))


# --- optimizer -----------------------------------------------------------------------------

SGD_OPTIONS = {
    "plain": {"lr": 0.1},
    "momentum": {"lr": 0.05, "momentum": 0.9},
    "dampening": {"lr": 0.05, "momentum": 0.9, "dampening": 0.5},
    "weight decay": {"lr": 0.1, "weight_decay": 0.01},
    "nesterov": {"lr": 0.05, "momentum": 0.8, "nesterov": True},
    "everything": {"lr": 0.02, "momentum": 0.5, "weight_decay": 0.1, "nesterov": True},
}


@pytest.mark.parametrize("options", SGD_OPTIONS.values(), ids=SGD_OPTIONS)
def test_sgd_steps_match_torch(real_torch, options):
    def program(torch):
        model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 1))
        set_weights(torch, model)
        x = inputs(torch, 8, 3, requires_grad=False)
        y = inputs(torch, 8, 1, seed=7, requires_grad=False)
        optimizer = torch.optim.SGD(model.parameters(), **options)
        history = []
        for _ in range(6):
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            history.append((loss.detach(), [p.detach().clone() for p in model.parameters()]))
        return history

    # The float32 defaults, not a summation bound: 6 steps of sums of at most 8 terms; a bound
    # would need how each step's rounding error grows through the next (the loss's Hessian).
    assert_same(*run_both(real_torch, program))


def test_sgd_with_parameter_groups(real_torch):
    def program(torch):
        a = torch.tensor([1.0, 2.0], requires_grad=True)
        b = torch.tensor([-1.0], requires_grad=True)
        optimizer = torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
        for _ in range(3):
            optimizer.zero_grad()
            ((a**2).sum() + (b**3).sum()).backward()
            optimizer.step()
        return a, b

    assert_same(*run_both(real_torch, program))


def test_sgd_skips_parameters_without_grad(real_torch):
    def program(torch):
        used = torch.tensor([1.0], requires_grad=True)
        unused = torch.tensor([5.0], requires_grad=True)
        optimizer = torch.optim.SGD([used, unused], lr=0.1, momentum=0.9, weight_decay=0.1)
        (used * 2).sum().backward()
        optimizer.step()
        return used, unused

    assert_same(*run_both(real_torch, program))


@pytest.mark.parametrize(
    "options",
    [{"lr": -0.1}, {"lr": 0.1, "momentum": -1.0}, {"lr": 0.1, "nesterov": True}],
    ids=["negative lr", "negative momentum", "nesterov without momentum"],
)
def test_sgd_rejects_invalid_options(real_torch, options):
    for torch in (real_torch, fdiff.torch):
        with pytest.raises(ValueError):
            torch.optim.SGD([torch.tensor([1.0], requires_grad=True)], **options)


# --- initialisation ------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "features"), [(0, (3, 2)), (1, (10, 32)), (42, (1, 1))])
def test_linear_initial_weights_equal_torchs_bit_for_bit(real_torch, seed, features):
    def program(torch):
        torch.manual_seed(seed)
        layer = torch.nn.Linear(*features)
        return [p.detach().numpy().copy() for p in layer.parameters()]

    actual, expected = run_both(real_torch, program)
    for a, e in zip(actual, expected, strict=True):
        # uniform(-b, b) with b = 1 / sqrt(fan_in) <= 1: |low| + |high - low| <= 3
        assert_same_random_draws(real_torch, a, e, magnitude=3.0)


def test_conv2d_initial_weights_equal_torchs_bit_for_bit(real_torch):
    def program(torch):
        torch.manual_seed(3)
        conv = torch.nn.Conv2d(2, 4, 3)
        return [p.detach().numpy().copy() for p in conv.parameters()]

    actual, expected = run_both(real_torch, program)
    for a, e in zip(actual, expected, strict=True):
        # uniform(-b, b) with b = 1 / sqrt(fan_in) <= 1: |low| + |high - low| <= 3
        assert_same_random_draws(real_torch, a, e, magnitude=3.0)


# --- compilation ---------------------------------------------------------------------------


def test_a_training_loop_compiles_its_backward_once():
    """20 steps of one graph structure: one compiled program (step capture: forward, VJP and
    ``.grad``), traced once; SGD traced twice at most (the first step creates the momentum
    buffers)."""
    from fdiff.torch import _capture, _graph
    from fdiff.torch.optim import sgd

    torch = fdiff.torch
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    x, y = inputs(torch, 16, 4, requires_grad=False), inputs(torch, 16, 1, requires_grad=False)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    [p.tolist() for p in model.parameters()]  # their captured initialisation, run now
    _graph.compiled_gradients.clear()
    _capture.programs.clear()
    sgd_traces = sgd._sgd_update.compiled
    for _ in range(20):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
    assert _capture.programs.size() == 1  # compiled shapes, of every structure
    assert _graph.compiled_gradients.size() == 0  # the eager backward never ran
    assert sgd._sgd_update.compiled - sgd_traces <= 2


@pytest.mark.parametrize(
    ("shape", "dtype"), [((3, 3), "float32"), ((2, 4), "float32"), ((4, 1), "int64")]
)
def test_eye_init_equals_torchs(real_torch, shape, dtype):
    def program(torch):
        w = torch.full(shape, 7, dtype=getattr(torch, dtype))
        w.requires_grad_(dtype == "float32")
        out = torch.nn.init.eye_(w)
        return out is w, w

    assert_same(*run_both(real_torch, program))


def test_eye_init_refuses_other_ranks_as_torch(real_torch):
    assert_same_error(real_torch, lambda torch: torch.nn.init.eye_(torch.zeros(2, 2, 2)))
