"""The layers, functions and Module methods of ``fdiff.torch.nn`` against real PyTorch:
dropout's random stream, norms, pooling, embedding, activations, losses, ``nn.init``.

Values compare at the float32 defaults: each result here is elementwise or a sum of at most
a few dozen terms of standard-normal inputs, whose reordering moves it by far less than
RTOL (n u |terms| with n <= 48 is under 3e-6 of the terms' magnitude, which is of the result's
order here). Random draws compare bit for bit (``assert_same_random_draws``).
"""

from __future__ import annotations

import numpy as np
import pytest
from support import assert_same, assert_same_error, assert_same_random_draws, run_both

import fdiff.torch


def _data(torch, *shape, seed=0, requires_grad=True):
    values = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    return torch.tensor(values, requires_grad=requires_grad)


def _grads(module):
    return {name: p.grad for name, p in module.named_parameters()}


def _sweep(cases: dict, default: tuple[str, ...]) -> list:
    """``cases`` as pytest params, those not named in ``default`` in the slow profile."""
    return [
        pytest.param(*v, id=k, marks=() if k in default else pytest.mark.slow)
        for k, v in cases.items()
    ]


# --- dropout -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("p", "shape"), [(0.1, (7,)), (0.5, (4, 33)), (0.9, (3, 2, 5, 5))])
def test_dropout_masks_equal_torchs_for_the_same_seed(real_torch, p, shape):
    def program(torch):
        torch.manual_seed(7)
        x = _data(torch, *shape)
        layer = torch.nn.Dropout(p)
        y = layer(x)
        z = torch.nn.functional.dropout(x, p)  # the next draws of the stream
        (y * z).sum().backward()
        after = torch.rand(3)  # the stream continues where torch's does
        return y, z, x.grad, after, y.grad_fn.name()

    actual, expected = run_both(real_torch, program)
    assert_same(actual, expected)
    assert_same_random_draws(real_torch, actual[3].numpy(), expected[3].numpy(), magnitude=3.0)


def test_dropout_in_eval_mode_and_edge_probabilities(real_torch):
    def program(torch):
        torch.manual_seed(0)
        x = _data(torch, 4, 3)
        layer = torch.nn.Dropout(0.5).eval()
        same = layer(x) is x
        zeros = torch.nn.functional.dropout(x, 1.0)
        kept = torch.nn.functional.dropout(x, 0.0)
        return same, zeros, kept is x, layer.training, torch.rand(2)

    assert_same(*run_both(real_torch, program))


def test_dropout_rejects_a_bad_probability(real_torch):
    assert_same_error(real_torch, lambda torch: torch.nn.Dropout(1.5))


# --- normalization -----------------------------------------------------------------------------


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm(real_torch, affine):
    def program(torch):
        layer = torch.nn.LayerNorm((3, 4), elementwise_affine=affine)
        if affine:
            with torch.no_grad():
                layer.weight.copy_(_data(torch, 3, 4, seed=2, requires_grad=False))
                layer.bias.copy_(_data(torch, 3, 4, seed=3, requires_grad=False))
        x = _data(torch, 2, 3, 4)
        y = layer(x)
        (y * _data(torch, 2, 3, 4, seed=4, requires_grad=False)).sum().backward()
        return y, x.grad, _grads(layer), y.grad_fn.name()

    assert_same(*run_both(real_torch, program))


def test_layer_norm_shape_mismatch_raises(real_torch):
    assert_same_error(
        real_torch, lambda torch: torch.nn.functional.layer_norm(torch.ones(3, 4), (3,))
    )


BATCH_NORMS = {
    "1d": ("BatchNorm1d", (6, 3), {}),
    "1d 3-D momentum": ("BatchNorm1d", (4, 3, 5), {"momentum": 0.3}),
    "2d": ("BatchNorm2d", (2, 3, 4, 4), {}),
    "2d cumulative": ("BatchNorm2d", (2, 3, 2, 2), {"momentum": None}),
    "2d no affine": ("BatchNorm2d", (2, 3, 2, 2), {"affine": False}),
    "1d untracked": ("BatchNorm1d", (5, 3), {"track_running_stats": False}),
}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "shape", "options"), _sweep(BATCH_NORMS, ("2d", "1d 3-D momentum", "1d untracked"))
)
def test_batch_norm_training_running_statistics_and_eval(real_torch, kind, shape, options):
    def program(torch):
        layer = getattr(torch.nn, kind)(3, **options)
        outputs = []
        for seed in range(3):
            x = _data(torch, *shape, seed=seed)
            y = layer(x)
            (y * y.detach().sin()).sum().backward()
            outputs.append((y, x.grad))
        layer.eval()
        x = _data(torch, *shape, seed=9)
        y = layer(x)
        y.sum().backward()
        buffers = dict(layer.named_buffers())
        return outputs, y, x.grad, _grads(layer), buffers, y.grad_fn.name()

    assert_same(*run_both(real_torch, program))


def test_batch_norm_wrong_dims_and_single_value_raise(real_torch):
    assert_same_error(real_torch, lambda torch: torch.nn.BatchNorm2d(3)(torch.ones(2, 3)))
    assert_same_error(real_torch, lambda torch: torch.nn.BatchNorm1d(3)(torch.ones(1, 3)))


# --- pooling -----------------------------------------------------------------------------------

POOLS = {
    "max 2": ("MaxPool2d", {"kernel_size": 2}),
    "max 3 stride 2 pad 1": ("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
    "max dilation": ("MaxPool2d", {"kernel_size": 2, "dilation": 2}),
    "max ceil": ("MaxPool2d", {"kernel_size": 2, "ceil_mode": True}),
    "max rectangle": ("MaxPool2d", {"kernel_size": (2, 3), "stride": (1, 2)}),
    "avg 2": ("AvgPool2d", {"kernel_size": 2}),
    "avg pad": ("AvgPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
    "avg pad excluded": (
        "AvgPool2d",
        {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
    ),
    "avg ceil": ("AvgPool2d", {"kernel_size": 2, "ceil_mode": True, "padding": 1}),
    "avg divisor": ("AvgPool2d", {"kernel_size": 2, "divisor_override": 3}),
    "adaptive avg (2, 3)": ("AdaptiveAvgPool2d", {"output_size": (2, 3)}),
    "adaptive avg overlapping": ("AdaptiveAvgPool2d", {"output_size": (4, 5)}),
    "adaptive avg (None, 4)": ("AdaptiveAvgPool2d", {"output_size": (None, 4)}),
    "adaptive avg 1": ("AdaptiveAvgPool2d", {"output_size": 1}),
    "adaptive avg larger": ("AdaptiveAvgPool2d", {"output_size": [7, 9]}),
}


POOL_CASES = {name: (*case, True) for name, case in POOLS.items()}
POOL_CASES["max unbatched"] = (*POOLS["max ceil"], False)
POOL_CASES["avg unbatched"] = (*POOLS["avg pad excluded"], False)
POOL_CASES["adaptive avg unbatched"] = (*POOLS["adaptive avg overlapping"], False)
DEFAULT_POOLS = (
    "max 3 stride 2 pad 1",
    "avg pad excluded",
    "max unbatched",
    "avg ceil",
    "adaptive avg overlapping",
    "adaptive avg 1",
    "adaptive avg unbatched",
)


@pytest.mark.parametrize(("kind", "options", "batched"), _sweep(POOL_CASES, DEFAULT_POOLS))
def test_pooling(real_torch, kind, options, batched):
    def program(torch):
        x = _data(torch, *((2,) if batched else ()), 3, 5, 7)
        layer = getattr(torch.nn, kind)(**options)
        y = layer(x)
        (y * _data(torch, *y.shape, seed=5, requires_grad=False)).sum().backward()
        return y, x.grad, y.grad_fn.name(), repr(layer)

    assert_same(*run_both(real_torch, program))


POOLS_1D = {
    "max": ("MaxPool1d", {"kernel_size": 3, "stride": 2, "padding": 1}),
    "max dilation ceil": ("MaxPool1d", {"kernel_size": (2,), "dilation": 2, "ceil_mode": True}),
    "avg": ("AvgPool1d", {"kernel_size": 3, "stride": 2, "padding": 1}),
    "avg pad excluded ceil": (
        "AvgPool1d",
        {"kernel_size": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    ),
}


@pytest.mark.parametrize(("kind", "options"), POOLS_1D.values(), ids=POOLS_1D)
@pytest.mark.parametrize("batched", [True, False])
def test_pooling_1d(real_torch, kind, options, batched):
    def program(torch):
        x = _data(torch, *((2,) if batched else ()), 3, 7)
        layer = getattr(torch.nn, kind)(**options)
        y = layer(x)
        (y * _data(torch, *y.shape, seed=5, requires_grad=False)).sum().backward()
        nodes = [y.grad_fn, y.grad_fn.next_functions[0][0]]
        return y, x.grad, [n.name() for n in nodes], repr(layer)

    assert_same(*run_both(real_torch, program))


@pytest.mark.parametrize(
    "program",
    [
        lambda t: t.nn.functional.max_pool1d(t.ones(2, 3, 4, 5), 2),
        lambda t: t.nn.functional.avg_pool1d(t.ones(2, 3, 4, 5), 2),
        lambda t: t.nn.functional.max_pool1d(t.ones(2, 3, 4), (2, 2)),
        lambda t: t.nn.functional.avg_pool1d(t.ones(2, 3, 4), (2, 2)),
        lambda t: t.nn.functional.max_pool1d(t.ones(2, 3, 4), 2, padding=2),
        lambda t: t.nn.functional.avg_pool1d(t.ones(2, 3, 4), 2, padding=2),
        lambda t: t.nn.functional.max_pool1d(t.ones(2, 3, 4), 0),
    ],
)
def test_pooling_1d_errors(real_torch, program):
    assert_same_error(real_torch, program)


@pytest.mark.parametrize("output_size", [3, (4,), 1, 9])
@pytest.mark.parametrize("batched", [True, False])
def test_adaptive_avg_pool1d(real_torch, output_size, batched):
    def program(torch):
        x = _data(torch, *((2,) if batched else ()), 3, 7)
        layer = torch.nn.AdaptiveAvgPool1d(output_size)
        y = layer(x)
        (y * _data(torch, *y.shape, seed=5, requires_grad=False)).sum().backward()
        return y, x.grad, y.grad_fn.name(), y.grad_fn.next_functions[0][0].name(), repr(layer)

    assert_same(*run_both(real_torch, program))


@pytest.mark.parametrize(
    "program",
    [
        lambda t: t.nn.functional.adaptive_avg_pool2d(t.ones(5), 2),
        lambda t: t.nn.functional.adaptive_avg_pool2d(t.ones(2, 3, 4, 5, 6), 2),
        lambda t: t.nn.functional.adaptive_avg_pool2d(t.ones(2, 3, 4), (2,)),
        lambda t: t.nn.functional.adaptive_avg_pool2d(t.ones(2, 3, 4), (2, 3, 4)),
        lambda t: t.nn.functional.adaptive_avg_pool2d(t.ones(2, 3, 4), (-1, 3)),
        lambda t: t.nn.functional.adaptive_avg_pool2d(t.ones(2, 3, 4), (True, 3)),
        lambda t: t.nn.functional.adaptive_avg_pool2d(t.ones(2, 3, 0, 3), 2),
        lambda t: t.nn.functional.adaptive_avg_pool1d(t.ones(5), 2),
        lambda t: t.nn.functional.adaptive_avg_pool1d(t.ones(2, 3, 4, 5), 2),
        lambda t: t.nn.functional.adaptive_avg_pool1d(t.ones(2, 3, 4), (2, 2)),
        lambda t: t.nn.functional.adaptive_avg_pool1d(t.ones(2, 3, 4), 2.0),
    ],
)
def test_adaptive_avg_pool_errors(real_torch, program):
    assert_same_error(real_torch, program)


PADS = {
    "constant": ((3, 4, 5), (1, 2), {}),
    "constant value, two dims": ((3, 4, 5), (1, 2, 0, 3), {"value": 2.5}),
    "constant crops": ((2, 3, 4, 5), (-1, 2, 1, -2, 0, 1), {}),
    "constant all dims": ((4, 5), (1, 0, 2, 1), {"mode": "constant"}),
    "reflect 1-d unbatched": ((3, 5), (2, 4), {"mode": "reflect"}),
    "reflect 2-d": ((2, 3, 4, 5), (1, 4, 3, 2), {"mode": "reflect"}),
    "reflect 2-d unbatched": ((3, 4, 5), (0, 2, 1, 0), {"mode": "reflect"}),
    "replicate 1-d": ((2, 3, 5), (3, 1), {"mode": "replicate"}),
    "replicate 2-d": ((2, 3, 4, 5), (2, 6, 1, 3), {"mode": "replicate"}),
}


@pytest.mark.parametrize(("shape", "widths", "options"), PADS.values(), ids=PADS)
def test_pad(real_torch, shape, widths, options):
    def program(torch):
        x = _data(torch, *shape)
        y = torch.nn.functional.pad(x, widths, **options)
        (y * _data(torch, *y.shape, seed=5, requires_grad=False)).sum().backward()
        return y, x.grad, y.grad_fn.name()

    assert_same(*run_both(real_torch, program))


PAD_MODULES = {
    "ZeroPad2d": ("ZeroPad2d", (2,), (2, 3, 4)),
    "ZeroPad2d tuple": ("ZeroPad2d", ((1, 2, 3, 0),), (2, 3, 4)),
    "ConstantPad1d": ("ConstantPad1d", (2, 3.5), (2, 3, 4)),
    "ConstantPad2d": ("ConstantPad2d", ((1, 2, 0, 1), -1.0), (1, 2, 3, 4)),
    "ReflectionPad1d": ("ReflectionPad1d", ((3, 1),), (2, 3, 4)),
    "ReflectionPad2d": ("ReflectionPad2d", (1,), (1, 2, 3, 4)),
    "ReplicationPad2d": ("ReplicationPad2d", ((1, 0, 2, 3),), (2, 3, 4)),
}


@pytest.mark.parametrize(("kind", "args", "shape"), PAD_MODULES.values(), ids=PAD_MODULES)
def test_pad_modules(real_torch, kind, args, shape):
    def program(torch):
        x = _data(torch, *shape)
        layer = getattr(torch.nn, kind)(*args)
        y = layer(x)
        (y * _data(torch, *y.shape, seed=5, requires_grad=False)).sum().backward()
        return y, x.grad, y.grad_fn.name(), repr(layer)

    assert_same(*run_both(real_torch, program))


@pytest.mark.parametrize(
    ("shape", "widths", "options"),
    [
        ((3, 4, 5), (1, 2, 3), {}),
        ((3, 4), (1, 1, 1, 1, 1, 1), {}),
        ((3, 4, 5), (1, 1, 1, 1, 1, 1), {"mode": "reflect"}),
        ((5,), (1, 1), {"mode": "reflect"}),
        ((3, 4, 5), (5, 1), {"mode": "reflect"}),
        ((3, 4, 5), (1, 1, 4, 0), {"mode": "reflect"}),
        ((3, 4, 5), (5, 1, 4, 0), {"mode": "reflect"}),
        ((3, 0, 5), (1, 1), {"mode": "replicate"}),
        ((3, 4, 5), (1, 1), {"mode": "bogus"}),
        ((3, 4, 5), (1, 1), {"mode": "reflect", "value": 2.0}),
        ((3, 4, 5), (1.0, 1), {}),
    ],
)
def test_pad_errors(real_torch, shape, widths, options):
    assert_same_error(real_torch, lambda t: t.nn.functional.pad(t.ones(*shape), widths, **options))


@pytest.mark.parametrize(
    ("widths", "mode"),
    [((1, 1), "circular"), ((1, 1, 1, 1, 1, 1), "reflect"), ((-1, 1), "replicate")],
)
def test_pad_refuses_what_it_cannot_match(widths, mode):
    x = fdiff.torch.ones(1, 2, 3, 4)[0] if len(widths) == 2 else fdiff.torch.ones(1, 2, 3, 4)
    with pytest.raises(fdiff.torch.UnsupportedError, match=r"torch\.nn\.functional\.pad\(mode="):
        fdiff.torch.nn.functional.pad(x, widths, mode=mode)


def test_max_pool_gradient_goes_to_the_first_maximum_of_a_tie(real_torch):
    def program(torch):
        x = torch.tensor(
            [[[[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]]]], requires_grad=True
        )
        torch.nn.functional.max_pool2d(x, 2, stride=1).sum().backward()
        return x.grad

    assert_same(*run_both(real_torch, program))


def test_pooling_padding_larger_than_half_the_kernel_raises(real_torch):
    assert_same_error(
        real_torch,
        lambda torch: torch.nn.functional.max_pool2d(torch.ones(1, 1, 4, 4), 2, padding=2),
    )


# --- embedding, one_hot, activations -------------------------------------------------------------


@pytest.mark.parametrize("padding_idx", [None, 0, -1])
def test_embedding_values_gradients_and_initialisation(real_torch, padding_idx):
    def program(torch):
        torch.manual_seed(3)
        layer = torch.nn.Embedding(5, 3, padding_idx=padding_idx)
        initial = layer.weight.detach().clone()
        indices = torch.tensor([[0, 4, 4], [2, 0, 1]])
        y = layer(indices)
        (y * _data(torch, 2, 3, 3, requires_grad=False)).sum().backward()
        return initial, y, layer.weight.grad, y.grad_fn.name(), repr(layer)

    actual, expected = run_both(real_torch, program)
    assert_same_random_draws(real_torch, actual[0].numpy(), expected[0].numpy(), magnitude=40.0)
    assert_same(actual[1:], expected[1:])


def test_embedding_index_out_of_range_raises(real_torch):
    assert_same_error(
        real_torch,
        lambda torch: torch.nn.functional.embedding(torch.tensor([5]), torch.ones(3, 2)),
    )


def test_one_hot(real_torch):
    def program(torch):
        F = torch.nn.functional
        return F.one_hot(torch.tensor([0, 3, 1])), F.one_hot(torch.tensor([[1], [0]]), 4)

    assert_same(*run_both(real_torch, program))


@pytest.mark.parametrize(
    "program",
    [
        lambda torch: torch.nn.functional.one_hot(torch.tensor([1.0])),
        lambda torch: torch.nn.functional.one_hot(torch.tensor([3]), 2),
        lambda torch: torch.nn.functional.one_hot(torch.tensor([-1])),
    ],
    ids=["float", "too large", "negative"],
)
def test_one_hot_errors(real_torch, program):
    assert_same_error(real_torch, program)


ACTIVATIONS = {
    "ReLU": lambda nn: nn.ReLU(),
    "GELU": lambda nn: nn.GELU(),
    "GELU tanh": lambda nn: nn.GELU(approximate="tanh"),
    "SiLU": lambda nn: nn.SiLU(),
    "Tanh": lambda nn: nn.Tanh(),
    "Sigmoid": lambda nn: nn.Sigmoid(),
    "LeakyReLU": lambda nn: nn.LeakyReLU(0.2),
    "Softplus": lambda nn: nn.Softplus(beta=2.0),
    "Softmax": lambda nn: nn.Softmax(dim=1),
    "LogSoftmax": lambda nn: nn.LogSoftmax(dim=0),
}


@pytest.mark.parametrize(
    "make", _sweep({k: (v,) for k, v in ACTIVATIONS.items()}, ("ReLU", "GELU tanh", "Softmax"))
)
def test_activation_modules(real_torch, make):
    def program(torch):
        layer = make(torch.nn)
        x = _data(torch, 4, 5)
        y = layer(x)
        (y * _data(torch, 4, 5, seed=1, requires_grad=False)).sum().backward()
        return y, x.grad, y.grad_fn.name(), repr(layer)

    assert_same(*run_both(real_torch, program))


# --- losses ------------------------------------------------------------------------------------

CLASS_LOSSES = {
    "plain": {},
    "weight": {"weight": [0.2, 1.0, 3.0]},
    "ignore_index": {"ignore_index": 1},
    "weight and ignore_index": {"weight": [0.2, 1.0, 3.0], "ignore_index": 2},
    "label smoothing": {"label_smoothing": 0.1},
    "everything": {"weight": [0.5, 2.0, 1.0], "ignore_index": 0, "label_smoothing": 0.3},
}


CLASS_LOSS_CASES = {
    f"{name} {len(shape)}-D": (options, shape)
    for name, options in CLASS_LOSSES.items()
    for shape in [(5, 3), (2, 3, 2, 2)]
}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("options", "shape"), _sweep(CLASS_LOSS_CASES, ("everything 2-D", "plain 4-D"))
)
def test_cross_entropy_and_nll_options(real_torch, options, shape):
    def program(torch):
        kwargs = dict(options)
        if "weight" in kwargs:
            kwargs["weight"] = torch.tensor(kwargs["weight"])
        labels = np.random.default_rng(1).integers(0, 3, (shape[0], *shape[2:]))
        target = torch.tensor(labels)
        results = []
        for reduction in ("mean", "sum", "none"):
            x = _data(torch, *shape)
            ce = torch.nn.CrossEntropyLoss(reduction=reduction, **kwargs)(x, target)
            nll_options = {k: v for k, v in kwargs.items() if k != "label_smoothing"}
            log_probs = torch.nn.functional.log_softmax(x, 1)
            nll = torch.nn.NLLLoss(reduction=reduction, **nll_options)(log_probs, target)
            (ce.sum() + nll.sum()).backward()
            results.append((ce, nll, x.grad, ce.grad_fn.name(), nll.grad_fn.name()))
        return results

    assert_same(*run_both(real_torch, program))


def test_nll_loss_on_one_sample_keeps_torchs_shape(real_torch):
    def program(torch):
        x = _data(torch, 3)
        loss = torch.nn.functional.nll_loss(x, torch.tensor(1), reduction="none")
        loss.backward()
        return loss, x.grad

    assert_same(*run_both(real_torch, program))


@pytest.mark.parametrize(
    "program",
    [
        lambda torch: torch.nn.functional.nll_loss(torch.ones(3, 4), torch.tensor([0, 1, 7])),
        lambda torch: torch.nn.functional.nll_loss(torch.ones(3, 4), torch.tensor([0, 1])),
        lambda torch: torch.nn.functional.cross_entropy(torch.ones(3, 4), torch.tensor([0, -1, 2])),
        lambda torch: torch.nn.functional.nll_loss(torch.ones(3, 4), torch.tensor([0.0, 1, 2])),
    ],
    ids=["target too large", "batch mismatch", "negative target", "float target"],
)
def test_class_loss_errors(real_torch, program):
    assert_same_error(real_torch, program)


@pytest.mark.parametrize("reduction", ["mean", pytest.param("sum", marks=pytest.mark.slow), "none"])
def test_regression_losses(real_torch, reduction):
    def program(torch):
        x = _data(torch, 4, 3) * 2
        target = _data(torch, 4, 3, seed=1, requires_grad=False)
        losses = {
            "smooth_l1": torch.nn.SmoothL1Loss(reduction=reduction)(x, target),
            "smooth_l1 beta": torch.nn.functional.smooth_l1_loss(
                x, target, reduction=reduction, beta=0.5
            ),
            "smooth_l1 beta 0": torch.nn.functional.smooth_l1_loss(
                x, target, reduction=reduction, beta=0.0
            ),
            "huber": torch.nn.HuberLoss(reduction=reduction, delta=0.7)(x, target),
            "l1": torch.nn.L1Loss(reduction=reduction)(x, target),
            "mse": torch.nn.MSELoss(reduction=reduction)(x, target),
        }
        grads = {}
        for name, loss in losses.items():
            x.grad = None
            x.retain_grad()
            loss.sum().backward(retain_graph=True)
            grads[name] = x.grad
        names = {name: loss.grad_fn.name() for name, loss in losses.items()}
        return losses, grads, names

    assert_same(*run_both(real_torch, program))


# --- init ----------------------------------------------------------------------------------------

INITS = {
    "uniform_": lambda init, t: init.uniform_(t, -0.5, 2.0),
    "normal_": lambda init, t: init.normal_(t, 1.0, 0.3),
    "constant_": lambda init, t: init.constant_(t, 0.25),
    "xavier_uniform_": lambda init, t: init.xavier_uniform_(t, gain=init.calculate_gain("tanh")),
    "xavier_normal_": lambda init, t: init.xavier_normal_(t),
    "kaiming_uniform_": lambda init, t: init.kaiming_uniform_(t, nonlinearity="relu"),
    "kaiming_normal_": lambda init, t: init.kaiming_normal_(t, mode="fan_out", a=0.1),
}


@pytest.mark.parametrize("fill", INITS.values(), ids=INITS)
def test_init_functions_draw_torchs_numbers(real_torch, fill):
    def program(torch):
        torch.manual_seed(11)
        weight = torch.nn.Parameter(torch.zeros(6, 4, 3, 3))
        fill(torch.nn.init, weight)
        return weight.detach().numpy().copy(), weight.requires_grad

    actual, expected = run_both(real_torch, program)
    assert actual[1] == expected[1]
    assert_same_random_draws(real_torch, actual[0], expected[0], magnitude=40.0)


def test_init_of_a_vector_raises_torchs_fan_error(real_torch):
    assert_same_error(real_torch, lambda torch: torch.nn.init.xavier_uniform_(torch.zeros(3)))


def test_in_place_activations_and_dropout(real_torch):
    def program(torch):
        torch.manual_seed(4)
        x = _data(torch, 3, 4)
        hidden = x * 2
        relu = torch.nn.ReLU(inplace=True)
        same = relu(hidden) is hidden
        leaky = torch.nn.functional.leaky_relu(x * 1, 0.1, inplace=True)
        dropped = torch.nn.Dropout(0.5, inplace=True)(x * 3)
        (hidden + leaky + dropped).sum().backward()
        names = [t.grad_fn.name() for t in (hidden, leaky, dropped)]
        return same, hidden, leaky, dropped, x.grad, names, repr(relu)

    assert_same(*run_both(real_torch, program))


def test_in_place_relu_of_a_leaf_that_requires_grad_raises(real_torch):
    assert_same_error(
        real_torch, lambda torch: torch.nn.functional.relu(torch.ones(2, requires_grad=True), True)
    )


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_bce_with_logits_weights(real_torch, reduction):
    def program(torch):
        x = _data(torch, 4, 3)
        target = torch.tensor([[1.0, 0.0, 0.3]] * 4)
        loss = torch.nn.BCEWithLogitsLoss(
            weight=torch.tensor([1.0, 2.0, 0.5]),
            pos_weight=torch.tensor([3.0, 0.5, 1.0]),
            reduction=reduction,
        )(x, target)
        loss.sum().backward()
        return loss, x.grad, loss.grad_fn.name()

    assert_same(*run_both(real_torch, program))


@pytest.mark.slow
def test_functional_int_pair_arguments_accept_one_int_in_a_sequence(real_torch):
    """torch's ``int[2]`` arguments of F.avg_pool2d/max_pool2d/conv2d expand ``(n,)`` to
    ``(n, n)``; pooling's ``stride=()`` means omitted. Conv data are small integers, so its
    sums are exact."""

    def program(torch):
        F = torch.nn.functional
        x = _data(torch, 1, 2, 5, 6)
        image = torch.arange(30.0).reshape(1, 1, 5, 6).requires_grad_()
        weight = torch.tensor([[[[1.0, -2.0], [0.0, 3.0]]]])
        outs = [
            F.avg_pool2d(x, 3, padding=(1,)),
            F.avg_pool2d(x, (2,), stride=()),
            F.max_pool2d(x, 3, stride=(2,), padding=[1], dilation=(1,)),
            F.conv2d(image, weight, stride=(2,), padding=(1,), dilation=[2]),
        ]
        total = sum(out.sum() * (i + 1) for i, out in enumerate(outs))
        return outs, torch.autograd.grad(total, [x, image])

    assert_same(*run_both(real_torch, program))


def test_batch_norm_of_an_empty_input_is_a_scaled_copy(real_torch):
    """torch's shortcut for an input without elements: ``input.clone() * weight[0] + bias[0]``
    (any rank), the running statistics untouched, no per-channel check."""

    def program(torch):
        F = torch.nn.functional
        x = torch.zeros(0, 3, requires_grad=True)
        weight = torch.tensor([2.0, 3.0, 4.0], requires_grad=True)
        bias = torch.tensor([1.0, 1.0, 1.0], requires_grad=True)
        mean, var = torch.ones(3), torch.ones(3)
        out = F.batch_norm(x, mean, var, weight, bias, training=True)
        bare = F.batch_norm(torch.zeros(0, requires_grad=True), torch.zeros(0), torch.zeros(0))
        grads = torch.autograd.grad((out.sum() + 1) * weight.sum(), [x, weight, bias])
        return out, out.grad_fn.name(), bare, mean, var, grads

    assert_same(*run_both(real_torch, program))


def test_max_pool1d_indices_are_refused_under_their_own_name():
    x = fdiff.torch.tensor([[1.0, 3.0, 2.0, 0.0]])
    for pool in (
        lambda: fdiff.torch.nn.functional.max_pool1d(x, 2, return_indices=True),
        lambda: fdiff.torch.nn.MaxPool1d(2, return_indices=True)(x),
    ):
        with pytest.raises(fdiff.torch.UnsupportedError) as info:
            pool()
        assert info.value.op == "torch.nn.functional.max_pool1d(return_indices=True)"
