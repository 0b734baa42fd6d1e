"""``fdiff.torch.optim`` against real PyTorch: Adam, AdamW, RMSprop, Adagrad, Adamax, NAdam, RAdam,
Adadelta, SGD's maximize,
state dicts, torch's errors, and the learning-rate schedulers.

Training runs compare at the float32 defaults, not a summation bound: a few steps of sums of
at most 8 terms; a bound would need how each step's rounding error grows through the next.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from support import assert_same, assert_same_error, run_both

import fdiff.torch

OPTIONS = {
    "SGD maximize": ("SGD", {"lr": 0.05, "momentum": 0.9, "maximize": True}),
    "Adam": ("Adam", {"lr": 0.01}),
    "Adam weight decay amsgrad": ("Adam", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    "Adam maximize betas": ("Adam", {"lr": 0.02, "betas": (0.5, 0.9), "maximize": True}),
    "AdamW": ("AdamW", {"lr": 0.01}),
    "AdamW amsgrad": ("AdamW", {"lr": 0.01, "weight_decay": 0.5, "amsgrad": True}),
    "RMSprop": ("RMSprop", {"lr": 0.01}),
    "RMSprop centered momentum": (
        "RMSprop",
        {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.1},
    ),
    "RMSprop maximize": ("RMSprop", {"lr": 0.01, "maximize": True}),
    "Adagrad": ("Adagrad", {"lr": 0.1}),
    "Adagrad decay": (
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5},
    ),
    "Adagrad maximize": ("Adagrad", {"lr": 0.1, "maximize": True}),
    "Adamax": ("Adamax", {"lr": 0.05}),
    "Adamax decay maximize": (
        "Adamax",
        {"lr": 0.05, "betas": (0.8, 0.9), "weight_decay": 0.1, "maximize": True},
    ),
    "NAdam": ("NAdam", {"lr": 0.05}),
    "NAdam decay": ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "momentum_decay": 0.01}),
    "NAdam decoupled maximize": (
        "NAdam",
        {"lr": 0.05, "weight_decay": 0.2, "decoupled_weight_decay": True, "maximize": True},
    ),
    "RAdam": ("RAdam", {"lr": 0.05, "betas": (0.9, 0.9)}),
    "RAdam decay": ("RAdam", {"lr": 0.05, "betas": (0.5, 0.8), "weight_decay": 0.1}),
    "RAdam decoupled maximize": (
        "RAdam",
        {
            "lr": 0.05,
            "betas": (0.9, 0.8),
            "weight_decay": 0.2,
            "decoupled_weight_decay": True,
            "maximize": True,
        },
    ),
    "Adadelta": ("Adadelta", {}),
    "Adadelta decay maximize": (
        "Adadelta",
        {"lr": 0.5, "rho": 0.5, "eps": 1e-4, "weight_decay": 0.1, "maximize": True},
    ),
}


def _data(torch, *shape, seed):
    return torch.tensor(np.random.default_rng(seed).normal(size=shape).astype(np.float32))


def _model(torch):
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(_data(torch, *p.shape, seed=i))
    return model


def _train(torch, model, optimizer, steps):
    x, y = _data(torch, 8, 3, seed=10), _data(torch, 8, 1, seed=11)
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        history.append((loss.detach(), [p.detach().clone() for p in model.parameters()]))
    return history


def _state(optimizer):
    """The state dict, its tensors copied (torch's alias the optimizer's state)."""
    saved = optimizer.state_dict()
    state = {
        i: {k: v.clone() if hasattr(v, "clone") else v for k, v in s.items()}
        for i, s in saved["state"].items()
    }
    return {"state": state, "param_groups": saved["param_groups"]}


def _sweep(cases: dict, default: tuple[str, ...]) -> list:
    """``cases`` as pytest params, those not named in ``default`` in the slow profile."""
    return [
        pytest.param(*v, id=k, marks=() if k in default else pytest.mark.slow)
        for k, v in cases.items()
    ]


DEFAULT_OPTIONS = (
    "SGD maximize",
    "Adam weight decay amsgrad",
    "AdamW amsgrad",
    "RMSprop centered momentum",
    "Adagrad decay",
    "Adamax decay maximize",
    "NAdam decay",
    "NAdam decoupled maximize",
    "RAdam decay",
    "RAdam decoupled maximize",
    "Adadelta decay maximize",
)


@pytest.mark.parametrize(("name", "options"), _sweep(OPTIONS, DEFAULT_OPTIONS))
def test_training_steps_and_state_match_torch(real_torch, name, options):
    def program(torch):
        model = _model(torch)
        optimizer = getattr(torch.optim, name)(model.parameters(), **options)
        history = _train(torch, model, optimizer, steps=5)
        return history, _state(optimizer)

    assert_same(*run_both(real_torch, program))


@pytest.mark.parametrize("decoupled", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_radam_rectified_steps_match_torch(real_torch, decoupled):
    """With beta2 = 0.8, rho_t passes 5 at step 7: steps 1-6 skip the adaptive term, 7-12 use
    it (the sweep above runs only the first kind)."""

    def program(torch):
        model = _model(torch)
        optimizer = torch.optim.RAdam(
            model.parameters(),
            lr=0.05,
            betas=(0.9, 0.8),
            weight_decay=0.1,
            decoupled_weight_decay=decoupled,
        )
        return _train(torch, model, optimizer, steps=12), _state(optimizer)

    assert_same(*run_both(real_torch, program))


@pytest.mark.parametrize(
    "name",
    ["Adam", "RMSprop", pytest.param("Adagrad", marks=pytest.mark.slow), "SGD", "NAdam"],
)
def test_load_state_dict_resumes_as_torch_does(real_torch, name):
    options = {"lr": 0.05, "momentum": 0.5} if name in ("SGD", "RMSprop") else {"lr": 0.05}

    def program(torch):
        model = _model(torch)
        first = getattr(torch.optim, name)(model.parameters(), **options)
        _train(torch, model, first, steps=3)
        saved = first.state_dict()
        second = getattr(torch.optim, name)(model.parameters(), lr=1.0)
        second.load_state_dict(saved)
        return _train(torch, model, second, steps=3), second.param_groups[0]["lr"]

    assert_same(*run_both(real_torch, program))


def test_parameter_groups_and_skipped_parameters(real_torch):
    def program(torch):
        a = torch.tensor([1.0, 2.0], requires_grad=True)
        b = torch.tensor([-1.0], requires_grad=True)
        unused = torch.tensor([3.0], requires_grad=True)
        groups = [{"params": [a]}, {"params": [b, unused], "lr": 0.5, "amsgrad": True}]
        optimizer = torch.optim.Adam(groups, lr=0.1)
        for _ in range(3):
            optimizer.zero_grad()
            ((a**2).sum() + (b**3).sum()).backward()
            optimizer.step()
        return a, b, unused, _state(optimizer)

    assert_same(*run_both(real_torch, program))


def test_closure_is_evaluated_and_returned(real_torch):
    def program(torch):
        w = torch.tensor([2.0], requires_grad=True)
        optimizer = torch.optim.Adagrad([w], lr=0.5)

        def closure():
            optimizer.zero_grad()
            loss = (w * w).sum()
            loss.backward()
            return loss

        losses = [optimizer.step(closure) for _ in range(3)]
        return losses, w

    assert_same(*run_both(real_torch, program))


def test_non_leaf_parameters_are_refused(real_torch):
    def program(torch):
        x = torch.ones(2, requires_grad=True)
        torch.optim.SGD([x * 2], lr=0.1)

    assert_same_error(real_torch, program)


def test_a_lone_tensor_is_refused(real_torch):
    assert_same_error(real_torch, lambda torch: torch.optim.Adam(torch.ones(2), lr=0.1))


INVALID = {
    "SGD lr": ("SGD", {"lr": -1.0}),
    "SGD momentum": ("SGD", {"lr": 0.1, "momentum": -0.5}),
    "SGD nesterov": ("SGD", {"lr": 0.1, "nesterov": True}),
    "Adam eps": ("Adam", {"eps": -1.0}),
    "Adam beta": ("Adam", {"betas": (0.9, 1.0)}),
    "AdamW weight decay": ("AdamW", {"weight_decay": -0.1}),
    "RMSprop alpha": ("RMSprop", {"alpha": -0.5}),
    "Adagrad lr_decay": ("Adagrad", {"lr_decay": -1.0}),
    "Adagrad accumulator": ("Adagrad", {"initial_accumulator_value": -1.0}),
    "Adamax beta": ("Adamax", {"betas": (1.0, 0.9)}),
    "NAdam momentum_decay": ("NAdam", {"momentum_decay": -1.0}),
    "RAdam weight decay": ("RAdam", {"weight_decay": -1.0}),
    "Adadelta rho": ("Adadelta", {"rho": 1.5}),
}


@pytest.mark.parametrize(("name", "options"), INVALID.values(), ids=INVALID)
def test_invalid_options_raise_torchs_error(real_torch, name, options):
    def program(torch):
        getattr(torch.optim, name)([torch.ones(1, requires_grad=True)], **options)

    assert_same_error(real_torch, program)


def test_other_implementations_are_unsupported():
    w = fdiff.torch.ones(1, requires_grad=True)
    with pytest.raises(fdiff.torch.UnsupportedError) as info:
        fdiff.torch.optim.Adam([w], foreach=True)
    assert info.value.op == "torch.optim.Adam(foreach=True)"


# --- learning-rate schedulers --------------------------------------------------------------

SCHEDULERS = {
    "StepLR": ("StepLR", {"step_size": 3, "gamma": 0.5}),
    "MultiStepLR": ("MultiStepLR", {"milestones": [2, 5, 5], "gamma": 0.3}),
    "ExponentialLR": ("ExponentialLR", {"gamma": 0.9}),
    "CosineAnnealingLR": ("CosineAnnealingLR", {"T_max": 4, "eta_min": 0.001}),
    "LambdaLR": ("LambdaLR", {"lr_lambda": lambda epoch: 1 / (epoch + 1)}),
}


@pytest.mark.parametrize(("name", "options"), SCHEDULERS.values(), ids=SCHEDULERS)
def test_scheduler_learning_rates_equal_torchs(real_torch, name, options):
    def program(torch):
        model = _model(torch)
        groups = [
            {"params": list(model[0].parameters())},
            {"params": list(model[2].parameters()), "lr": 0.3},
        ]
        optimizer = torch.optim.SGD(groups, lr=0.1)
        scheduler = getattr(torch.optim.lr_scheduler, name)(optimizer, **options)
        lrs = []
        for _ in range(12):
            optimizer.step()  # no gradients: only the schedule moves
            scheduler.step()
            lrs.append(scheduler.get_last_lr())
        lrs_in_groups = [group["lr"] for group in optimizer.param_groups]
        return lrs, lrs_in_groups, scheduler.last_epoch

    actual, expected = run_both(real_torch, program)
    assert actual == expected  # the same doubles, bit for bit


def test_cosine_annealing_reaches_eta_min_at_t_max():
    optimizer = fdiff.torch.optim.SGD([fdiff.torch.ones(1, requires_grad=True)], lr=1.0)
    scheduler = fdiff.torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
    for _ in range(10):
        optimizer.step()
        scheduler.step()
    assert math.isclose(scheduler.get_last_lr()[0], 0.0, abs_tol=1e-15)


def test_scheduler_step_before_optimizer_step_warns_as_torch(real_torch):
    for torch in (real_torch, fdiff.torch):
        optimizer = torch.optim.SGD([torch.ones(1, requires_grad=True)], lr=1.0)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1)
        with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
            scheduler.step()
