"""An fdiff.torch module trained with optax inside one ``jax.jit`` step (``functional_call`` on
``func.params``), against the eager fdiff.torch loop (``optim.SGD``/``Adam``, ``backward()``)
and real torch's, step for step: the losses and the final parameters.

Tolerance: training is one long float32 computation. Each step passes a value through at most
``ROUNDINGS_PER_STEP`` roundings (forward sums, backward sums, the update), so the loss of step
``k`` has passed through ``(k + 1) * ROUNDINGS_PER_STEP`` and the final parameters through
``STEPS * ROUNDINGS_PER_STEP``; the sizes of their terms come from the same training run in
float64 by real torch (``_term_sizes``: errors propagated to first order).
``summation_bound`` turns those into the bound for two float32 engines (Higham's gamma(n) per
engine). A wrong optimizer formula (a missed bias correction, a learning rate applied twice) is
off by far more.
"""

from __future__ import annotations

import copy

import jax
import numpy as np
import pytest
from support import assert_close, summation_bound

import fdiff.torch as ftorch
from fdiff.examples.seed000 import IMAGE, KERNEL
from fdiff.torch import func as ffunc

pytestmark = pytest.mark.slow  # four trainings, four engines each: ~10 s on 2 loaded cores

STEPS = 5
ROUNDINGS_PER_STEP = 64  # an MLP's longest path: 4 + 1 + 9 forward, 6 in the loss, as many back

RNG = np.random.default_rng(0)
MLP_DATA = (
    RNG.normal(size=(4, 3)).astype(np.float32),
    RNG.normal(size=(4, 1)).astype(np.float32),
)
CONV_DATA = (  # seed 000.4's image and kernel, fitted to a target near its output
    np.array(IMAGE, np.float32),
    np.array([[[[50.0, 62.0], [57.0, 66.0]]]], np.float32),
)


def _mlp(torch):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))


def _conv(torch):
    conv = torch.nn.Conv2d(1, 1, 3)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(KERNEL))
        conv.bias.zero_()
    return conv


MODELS = {"mlp": (_mlp, MLP_DATA), "conv": (_conv, CONV_DATA)}
OPTIMIZERS = {  # (optax's, torch's): the same formulas
    "sgd": (lambda optax: optax.sgd(1e-3), lambda torch, p: torch.optim.SGD(p, lr=1e-3)),
    "adam": (lambda optax: optax.adam(1e-2), lambda torch, p: torch.optim.Adam(p, lr=1e-2)),
}


def _loss(torch, model, x, y):
    return torch.nn.functional.mse_loss(model(x), y)


def _state(model) -> dict[str, np.ndarray]:
    return {k: np.asarray(v.detach().numpy(), np.float64) for k, v in model.state_dict().items()}


def _eager(torch, make_model, make_optimizer, data):
    """The torch-style loop: its losses and final parameters."""
    model = make_model(torch)
    x, y = (torch.tensor(a) for a in data)
    optimizer = make_optimizer(torch, model.parameters())
    losses = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = _loss(torch, model, x, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return np.array(losses), _state(model)


def _term_sizes(torch, make_model, make_optimizer, data):
    """The training run in float64 by real torch, with the sizes of the terms of each step's
    loss and of the final parameters: the loss and its gradient evaluated on absolute
    parameters and data (every term counted positive), a parameter's start plus each step's
    gradient sizes times the step's rate (Adam divides the gradient by its root mean square,
    so a gradient's error is scaled by ``2 lr / (sqrt(v_hat) + eps)``), and a loss's
    dependence on the parameters' errors (gradient sizes times parameter sizes)."""
    model = make_model(torch).double()
    x, y = (torch.tensor(a).double() for a in data)
    optimizer = make_optimizer(torch, model.parameters())
    params = dict(model.named_parameters())
    param_sizes = {k: np.abs(p.detach().numpy()) for k, p in params.items()}
    loss_sizes = []
    for _ in range(STEPS):
        absolute = copy.deepcopy(model)
        with torch.no_grad():
            for p in absolute.parameters():
                p.abs_()
        absolute_loss = ((absolute(x.abs()) + y.abs()) ** 2).mean()
        absolute_loss.backward()
        grad_sizes = {k: p.grad.numpy() for k, p in absolute.named_parameters()}
        loss_sizes.append(
            absolute_loss.item() + sum((grad_sizes[k] * param_sizes[k]).sum() for k in params)
        )
        optimizer.zero_grad()
        _loss(torch, model, x, y).backward()
        optimizer.step()
        for name, p in params.items():
            group = optimizer.param_groups[0]
            rate = group["lr"]
            if "betas" in group:  # Adam
                state = optimizer.state[p]
                v_hat = state["exp_avg_sq"].numpy() / (1 - group["betas"][1] ** int(state["step"]))
                rate = 2 * rate / (np.sqrt(v_hat) + group["eps"])
            param_sizes[name] = param_sizes[name] + rate * grad_sizes[name]
    return np.array(loss_sizes), param_sizes


def _optax_in_jit(optax, make_model, transformation, data):
    """The same training as a pure JAX step: functional_call on the params pytree, optax's
    update, all under one jax.jit; the trained pytree loaded back into the module."""
    model = make_model(ftorch)
    x, y = (jax.numpy.asarray(a) for a in data)

    def loss_of(params):
        forward = lambda inputs: ffunc.functional_call(model, params, (inputs,))  # noqa: E731
        return _loss(ftorch, forward, x, ftorch.from_jax(y)).jax()

    @jax.jit
    def step(params, state):
        loss, grads = jax.value_and_grad(loss_of)(params)
        updates, state = transformation.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    params = ffunc.params(model)
    state = transformation.init(params)
    losses = []
    for _ in range(STEPS):
        params, state, loss = step(params, state)
        losses.append(float(loss))
    model.load_state_dict(params)
    return np.array(losses), _state(model)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("model", sorted(MODELS))
def test_optax_in_jit_matches_the_eager_loop_and_real_torch(real_torch, optax, model, optimizer):
    make_model, data = MODELS[model]
    make_optax, make_torch_optimizer = OPTIMIZERS[optimizer]
    in_jit = _optax_in_jit(optax, make_model, make_optax(optax), data)
    eager = _eager(ftorch, make_model, make_torch_optimizer, data)
    torch32 = _eager(real_torch, make_model, make_torch_optimizer, data)
    loss_sizes, param_sizes = _term_sizes(real_torch, make_model, make_torch_optimizer, data)
    loss_bound = np.array(
        [summation_bound(size, (k + 1) * ROUNDINGS_PER_STEP) for k, size in enumerate(loss_sizes)]
    )
    param_bound = summation_bound(param_sizes, STEPS * ROUNDINGS_PER_STEP)
    assert np.all(np.diff(torch32[0]) < 0)  # it trains: the loss falls every step
    for losses, params in (in_jit, eager):
        assert_close(losses, torch32[0], bound=loss_bound)
        assert params.keys() == torch32[1].keys()
        for name, value in params.items():
            assert_close(value, torch32[1][name], bound=param_bound[name])
