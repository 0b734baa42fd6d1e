"""The learning-rate schedulers added after the first five (LinearLR, ConstantLR, PolynomialLR,
CosineAnnealingWarmRestarts, OneCycleLR, SequentialLR, ReduceLROnPlateau) against real
PyTorch: every learning rate (and OneCycleLR's momentum or beta1) over many steps equals
torch's double bit for bit, so all comparisons here are exact.
"""

from __future__ import annotations

import pytest
from support import assert_same_error, run_both

import fdiff.torch

SCHEDULERS = {
    "LinearLR": ("LinearLR", {"start_factor": 0.25, "end_factor": 0.9, "total_iters": 17}),
    "LinearLR decreasing": ("LinearLR", {"start_factor": 1.0, "end_factor": 0.1}),
    "ConstantLR": ("ConstantLR", {"factor": 0.3, "total_iters": 7}),
    "PolynomialLR": ("PolynomialLR", {"total_iters": 23, "power": 1.7}),
    "CosineAnnealingWarmRestarts": ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 2}),
    "CosineAnnealingWarmRestarts eta_min": (
        "CosineAnnealingWarmRestarts",
        {"T_0": 7, "eta_min": 0.001},
    ),
    "OneCycleLR cos": ("OneCycleLR", {"max_lr": [0.5, 1.0], "total_steps": 40}),
    "OneCycleLR linear three phase": (
        "OneCycleLR",
        {
            "max_lr": 0.4,
            "epochs": 4,
            "steps_per_epoch": 10,
            "anneal_strategy": "linear",
            "three_phase": True,
            "pct_start": 0.25,
            "base_momentum": [0.8, 0.7],
        },
    ),
    "OneCycleLR no momentum": (
        "OneCycleLR",
        {"max_lr": 0.3, "total_steps": 45, "cycle_momentum": False, "div_factor": 3.0},
    ),
}


def _groups(torch):
    a, b = torch.ones(2, requires_grad=True), torch.ones(1, requires_grad=True)
    return [{"params": [a]}, {"params": [b], "lr": 0.3}]


def _optimizer(torch, kind: str):
    if kind == "Adam":
        return torch.optim.Adam(_groups(torch), lr=0.1, betas=(0.9, 0.99))
    return torch.optim.SGD(_groups(torch), lr=0.1, momentum=0.9)


def _schedule(torch, optimizer, scheduler, steps: int) -> list:
    """Every step's rates, and each group's lr and momentum entries afterwards."""
    lrs = [scheduler.get_last_lr()]
    for _ in range(steps):
        optimizer.step()  # no gradients: only the schedule moves
        scheduler.step()
        lrs.append(scheduler.get_last_lr())
    keys = ("lr", "momentum", "betas", "initial_lr", "max_lr", "min_lr", "max_momentum")
    groups = [{k: g[k] for k in keys if k in g} for g in optimizer.param_groups]
    return [lrs, groups, scheduler.last_epoch]


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize(("name", "options"), SCHEDULERS.values(), ids=SCHEDULERS)
def test_learning_rates_equal_torchs_for_40_steps(real_torch, name, options, kind):
    def program(torch):
        optimizer = _optimizer(torch, kind)
        scheduler = getattr(torch.optim.lr_scheduler, name)(optimizer, **options)
        return _schedule(torch, optimizer, scheduler, steps=40)

    actual, expected = run_both(real_torch, program)
    assert actual == expected  # the same doubles, bit for bit


def test_one_cycle_stepping_past_total_steps_raises_torchs_error(real_torch):
    def program(torch):
        optimizer = _optimizer(torch, "SGD")
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=3)
        for _ in range(4):
            optimizer.step()
            scheduler.step()

    assert_same_error(real_torch, program)


def test_cosine_warm_restarts_step_with_fractional_epochs(real_torch):
    def program(torch):
        optimizer = _optimizer(torch, "SGD")
        scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            optimizer, T_0=2, T_mult=3, eta_min=0.01
        )
        lrs = []
        for epoch in (0.5, 1.25, 2.0, 3.7, 7.9, 8.0, 8.3, 30.1, 0.2, 5):
            optimizer.step()
            scheduler.step(epoch)
            lrs.append((scheduler.get_last_lr(), scheduler.last_epoch, scheduler.T_i))
        return lrs

    actual, expected = run_both(real_torch, program)
    assert actual == expected


SEQUENCES = {
    "warmup then cosine": (
        [
            ("LinearLR", {"start_factor": 0.1, "total_iters": 5}),
            ("CosineAnnealingLR", {"T_max": 20}),
        ],
        [5],
    ),
    "closed forms at the milestones": (
        [
            ("ConstantLR", {"factor": 0.5, "total_iters": 3}),
            ("ExponentialLR", {"gamma": 0.9}),
            ("StepLR", {"step_size": 4, "gamma": 0.5}),
            ("MultiStepLR", {"milestones": [1, 3, 3], "gamma": 0.7}),
            ("PolynomialLR", {"total_iters": 6, "power": 2.0}),
        ],
        [4, 11, 19, 27],
    ),
    "lambda and warmup": (
        [
            ("LambdaLR", {"lr_lambda": lambda epoch: 0.9**epoch}),
            ("LinearLR", {"start_factor": 0.5, "end_factor": 0.2, "total_iters": 6}),
        ],
        [9],
    ),
}


@pytest.mark.parametrize(("parts", "milestones"), SEQUENCES.values(), ids=SEQUENCES)
def test_sequential_lr_equals_torchs(real_torch, parts, milestones):
    def program(torch):
        optimizer = _optimizer(torch, "SGD")
        schedulers = [
            getattr(torch.optim.lr_scheduler, name)(optimizer, **options) for name, options in parts
        ]
        sequential = torch.optim.lr_scheduler.SequentialLR(optimizer, schedulers, milestones)
        result = _schedule(torch, optimizer, sequential, steps=40)
        return [*result, [s.last_epoch for s in schedulers]]

    actual, expected = run_both(real_torch, program)
    assert actual == expected


def test_sequential_lr_state_dict_resumes_as_torch(real_torch):
    def program(torch):
        def build(optimizer):
            warmup = torch.optim.lr_scheduler.LinearLR(optimizer, 0.2, total_iters=4)
            decay = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.8)
            return torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, decay], [4])

        optimizer = _optimizer(torch, "SGD")
        first = build(optimizer)
        _schedule(torch, optimizer, first, steps=6)
        saved = first.state_dict()
        second = build(_optimizer(torch, "SGD"))
        second.load_state_dict(saved)
        second.optimizer = optimizer
        for inner in second._schedulers:
            inner.optimizer = optimizer
        return _schedule(torch, optimizer, second, steps=5), sorted(saved)

    actual, expected = run_both(real_torch, program)
    assert actual == expected


PLATEAUS = {
    "min rel": {"factor": 0.5, "patience": 2},
    "min abs cooldown": {"threshold": 0.05, "threshold_mode": "abs", "cooldown": 2, "patience": 1},
    "max rel min_lr": {"mode": "max", "factor": 0.3, "patience": 0, "min_lr": [0.01, 0.05]},
    "max abs eps": {"mode": "max", "threshold_mode": "abs", "patience": 1, "eps": 0.02},
}
METRICS = [1.0, 0.9, 0.95, 0.9, 0.91, 0.899, 0.8999, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0]


@pytest.mark.parametrize("options", PLATEAUS.values(), ids=PLATEAUS)
def test_reduce_lr_on_plateau_equals_torchs(real_torch, options):
    def program(torch):
        optimizer = _optimizer(torch, "SGD")
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **options)
        trace = [scheduler.get_last_lr()]
        for metric in METRICS * 3:
            optimizer.step()
            scheduler.step(torch.tensor(metric))
            trace.append(
                (
                    scheduler.get_last_lr(),
                    scheduler.best,
                    scheduler.num_bad_epochs,
                    scheduler.cooldown_counter,
                    scheduler.last_epoch,
                )
            )
        return trace

    actual, expected = run_both(real_torch, program)
    assert actual == expected


def test_reduce_lr_on_plateau_state_dict_resumes_as_torch(real_torch):
    def program(torch):
        optimizer = _optimizer(torch, "SGD")
        first = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=1, mode="max")
        for metric in METRICS[:6]:
            first.step(metric)
        second = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer)
        second.load_state_dict(first.state_dict())
        for metric in METRICS[6:]:
            second.step(metric)
        return second.get_last_lr(), second.best, second.mode_worse, sorted(first.state_dict())

    actual, expected = run_both(real_torch, program)
    assert actual == expected


def test_reduce_lr_on_plateau_epoch_warns_as_torch(real_torch):
    for torch in (real_torch, fdiff.torch):
        optimizer = _optimizer(torch, "SGD")
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer)
        with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)`"):
            scheduler.step(1.0, epoch=3)
        assert scheduler.last_epoch == 3


INVALID = {
    "LinearLR start": ("LinearLR", {"start_factor": 0.0}),
    "LinearLR end": ("LinearLR", {"end_factor": 1.5}),
    "ConstantLR factor": ("ConstantLR", {"factor": 2.0}),
    "warm restarts T_0": ("CosineAnnealingWarmRestarts", {"T_0": 0}),
    "warm restarts T_mult": ("CosineAnnealingWarmRestarts", {"T_0": 2, "T_mult": 1.5}),
    "warm restarts eta_min": ("CosineAnnealingWarmRestarts", {"T_0": 2, "eta_min": "0"}),
    "OneCycleLR no steps": ("OneCycleLR", {"max_lr": 1.0}),
    "OneCycleLR total_steps": ("OneCycleLR", {"max_lr": 1.0, "total_steps": 0}),
    "OneCycleLR epochs": ("OneCycleLR", {"max_lr": 1.0, "epochs": 0, "steps_per_epoch": 2}),
    "OneCycleLR pct_start": ("OneCycleLR", {"max_lr": 1.0, "total_steps": 5, "pct_start": 1}),
    "OneCycleLR anneal": (
        "OneCycleLR",
        {"max_lr": 1.0, "total_steps": 5, "anneal_strategy": "exp"},
    ),
    "OneCycleLR max_lr list": ("OneCycleLR", {"max_lr": [1.0], "total_steps": 5}),
    "plateau factor": ("ReduceLROnPlateau", {"factor": 1.0}),
    "plateau mode": ("ReduceLROnPlateau", {"mode": "up"}),
    "plateau threshold mode": ("ReduceLROnPlateau", {"threshold_mode": "log"}),
    "plateau min_lr": ("ReduceLROnPlateau", {"min_lr": [0.1]}),
}


@pytest.mark.parametrize(("name", "options"), INVALID.values(), ids=INVALID)
def test_invalid_options_raise_torchs_error(real_torch, name, options):
    def program(torch):
        getattr(torch.optim.lr_scheduler, name)(_optimizer(torch, "SGD"), **options)

    assert_same_error(real_torch, program)


def test_one_cycle_momentum_needs_an_optimizer_with_momentum(real_torch):
    def program(torch):
        optimizer = torch.optim.Adagrad([torch.ones(1, requires_grad=True)])
        torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=5)

    assert_same_error(real_torch, program)


def test_sequential_lr_checks_as_torch(real_torch):
    def program(torch):
        optimizer = _optimizer(torch, "SGD")
        first = torch.optim.lr_scheduler.ConstantLR(optimizer)
        second = torch.optim.lr_scheduler.ConstantLR(optimizer)
        torch.optim.lr_scheduler.SequentialLR(optimizer, [first, second], [2, 3])

    assert_same_error(real_torch, program)

    def plateau(torch):
        optimizer = _optimizer(torch, "SGD")
        first = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer)
        torch.optim.lr_scheduler.SequentialLR(optimizer, [first], [])

    assert_same_error(real_torch, plateau)
