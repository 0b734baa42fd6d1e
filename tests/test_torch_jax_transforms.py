"""Torch-style code inside JAX transforms: fdiff.torch tensors holding tracers, checked against
real torch's ``torch.func`` doing the same job.

Tolerances: elementwise results use the float32 defaults; results that are sums (a layer's
output, a gradient accumulated over a batch or over time steps) use ``summation_bound`` of the
same computation on absolute values in float64, with the number of roundings on its longest path.
"""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from support import assert_close, assert_same, assert_same_error, run_both, summation_bound

import fdiff.torch as ftorch
from fdiff.torch import func as ffunc

# torch 2.13's functorch scripts a helper on first use, which warns about torch.jit.script
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script` is deprecated:DeprecationWarning"
)

X = np.array([-1.5, 0.25, 2.0], np.float32)


def _sin_times(torch, x):
    return (torch.sin(x) * x).sum()


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(lambda f: f, id="grad"),
        pytest.param(jax.jit, id="jit", marks=pytest.mark.slow),  # as "grad", jit inside
        pytest.param(jax.checkpoint, id="ckpt"),
    ],
)
def test_jax_grad_of_a_torch_style_function_matches_torch_func_grad(real_torch, wrap):
    on_jax = wrap(lambda a: _sin_times(ftorch, ftorch.from_jax(a)).jax())
    expected = real_torch.func.grad(lambda x: _sin_times(real_torch, x))(real_torch.tensor(X))
    gradient = jax.grad(on_jax)
    if wrap is not jax.jit:  # the whole transform under one jit: each op's program inlined once
        gradient = jax.jit(gradient)
    assert_close(gradient(jnp.asarray(X)), expected)  # cos(x) x + sin(x): elementwise


def _linear_loss(torch, model, params, sample, target):
    prediction = torch.func.functional_call(model, params, (sample,))
    return ((prediction - target) ** 2).mean()


def test_per_example_gradients_with_vmap_match_torch_func(real_torch):
    """jax.vmap(jax.grad) over functional_call and func.params, against torch.func's tutorial."""
    rng = np.random.default_rng(0)
    data = rng.normal(size=(5, 3)).astype(np.float32)
    targets = rng.normal(size=(5, 2)).astype(np.float32)
    real_torch.manual_seed(0)
    ftorch.manual_seed(0)
    model, fmodel = real_torch.nn.Linear(3, 2), ftorch.nn.Linear(3, 2)
    params = {k: v.detach() for k, v in model.named_parameters()}

    def fdiff_loss(params, sample, target):
        return _linear_loss(ftorch, fmodel, params, sample, ftorch.from_jax(target)).jax()

    per_example = jax.jit(jax.vmap(jax.grad(fdiff_loss), in_axes=(None, 0, 0)))
    actual = per_example(ffunc.params(fmodel), jnp.asarray(data), jnp.asarray(targets))
    expected = real_torch.func.vmap(
        real_torch.func.grad(lambda p, s, t: _linear_loss(real_torch, model, p, s, t)),
        in_dims=(None, 0, 0),
    )(params, real_torch.tensor(data), real_torch.tensor(targets))
    # d/dW of mean((W s + b - t)^2) over 2 outputs: (W s + b - t) s^T; its terms' sizes:
    w, b = (np.abs(params[k].numpy().astype(np.float64)) for k in ("weight", "bias"))
    size = np.abs(data) @ w.T + b + np.abs(targets)  # (5, 2): 3 products, the bias, the target
    magnitude = {"weight": size[:, :, None] * np.abs(data)[:, None, :], "bias": size}
    assert_same(
        {k: ftorch.from_jax(v) for k, v in actual.items()},
        expected,
        bounds=summation_bound(magnitude, terms=3 + 2 + 3),  # forward sum, -t, square', mean
    )


def _quadratic_loss(torch, model, params, x, y):
    return ((torch.func.functional_call(model, params, (x,)) - y) ** 2).mean()


@pytest.mark.slow  # compiles several op programs: ~1-2 s on a loaded 2-core machine
def test_jax_hessian_of_a_module_loss_matches_torch_func_hessian(real_torch):
    x = np.array([[1.0, -2.0], [0.5, 3.0], [-1.0, 0.25]], np.float32)
    y = np.array([[0.5], [-1.0], [2.0]], np.float32)
    real_torch.manual_seed(0)
    ftorch.manual_seed(0)
    model, fmodel = real_torch.nn.Linear(2, 1), ftorch.nn.Linear(2, 1)
    params = {k: v.detach() for k, v in model.named_parameters()}

    def fdiff_loss(p):
        return _quadratic_loss(ftorch, fmodel, p, jnp.asarray(x), ftorch.from_jax(jnp.asarray(y)))

    actual = jax.jit(jax.hessian(lambda p: fdiff_loss(p).jax()))(ffunc.params(fmodel))
    expected = real_torch.func.hessian(
        lambda p: _quadratic_loss(real_torch, model, p, real_torch.tensor(x), real_torch.tensor(y))
    )(params)
    # the Hessian of mean((w.x + b - y)^2) is (2/n) sum_n [x; 1][x; 1]^T: n = 3 products summed
    features = np.abs(np.concatenate([x, np.ones((3, 1))], axis=1).astype(np.float64))
    outer = 2 / 3 * features.T @ features
    magnitude = {
        "weight": {"weight": outer[None, :2, None, :2], "bias": outer[None, :2, 2:]},
        "bias": {"weight": outer[2:, None, :2], "bias": outer[2:, 2:]},
    }
    wrapped = {a: {b: ftorch.from_jax(v) for b, v in row.items()} for a, row in actual.items()}
    assert_same(wrapped, expected, bounds=summation_bound(magnitude, terms=3 + 3))


STEPS = np.array([[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0], [0.1, -0.3]], np.float32)
DECAY = np.array([0.9, -0.6], np.float32)


def _rnn_step(torch, decay, h, x):
    return torch.tanh(decay * h + x)


@pytest.mark.slow  # compiles several op programs: ~1-2 s on a loaded 2-core machine
def test_jax_lax_scan_over_a_torch_style_step_matches_torch_func_grad_of_its_loop(real_torch):
    def fdiff_loss(decay):
        def step(h, x):
            h = _rnn_step(ftorch, ftorch.from_jax(decay), h, x)
            return h, h.sum()

        final, sums = jax.lax.scan(step, ftorch.zeros(2), ftorch.from_jax(jnp.asarray(STEPS)))
        assert isinstance(final, ftorch.Tensor) and sums.shape == (4,)  # tensors as the carry
        return (final**2).sum().jax()

    def torch_loss(decay):
        h = real_torch.zeros(2)
        for x in real_torch.tensor(STEPS):
            h = _rnn_step(real_torch, decay, h, x)
        return (h**2).sum()

    actual = jax.jit(jax.grad(fdiff_loss))(jnp.asarray(DECAY))
    expected = real_torch.func.grad(torch_loss)(real_torch.tensor(DECAY))
    # The gradient sums one term per step; each term passes through the later steps' tanh'
    # and decay factors: its size with every factor made absolute, in float64.
    hs, h = [np.zeros(2)], np.zeros(2)
    for x in STEPS.astype(np.float64):
        h = np.tanh(DECAY * h + x)
        hs.append(h)
    cotangent, magnitude = np.abs(2 * hs[-1]), np.zeros(2)
    for t in range(len(STEPS), 0, -1):
        local = 1 - hs[t] ** 2
        magnitude += cotangent * local * np.abs(hs[t - 1])
        cotangent = cotangent * local * np.abs(DECAY)
    assert_close(actual, expected, bound=summation_bound(magnitude, terms=6 * len(STEPS) + 2))


# --- reading a traced value into Python -------------------------------------------------------


def _branchy(t):
    if t.sum() > 0:  # the traced read
        return t
    return -t


READS = {
    "bool": _branchy,
    "item": lambda t: t.sum().item(),
    "float": lambda t: float(t.sum()),
    "int": lambda t: int(t.sum()),
    "tolist": lambda t: t.tolist(),
    "numpy": lambda t: t.numpy(),
}


@pytest.mark.parametrize("read", sorted(READS))
@pytest.mark.parametrize("transform", [jax.jit, jax.vmap], ids=["jit", "vmap"])
def test_reading_a_traced_tensor_raises_concretization_error_naming_the_line(read, transform):
    with pytest.raises(jax.errors.ConcretizationTypeError) as info:
        transform(READS[read])(ftorch.ones(2, 2))
    assert isinstance(info.value, ftorch.TracedValueError)
    message = str(info.value)
    assert "torch.where" in message and "jax.lax.cond" in message
    assert "errors.html#jax.errors.ConcretizationTypeError" in message
    if read == "bool":
        lines, first = inspect.getsourcelines(_branchy)
        line = first + next(i for i, text in enumerate(lines) if "the traced read" in text)
        assert info.value.where == f"{__file__}:{line}"
        assert "if t.sum() > 0:  # the traced read" in message
    else:
        assert info.value.where.startswith(f"{__file__}:")


@pytest.mark.slow  # compiles several op programs: ~1-2 s on a loaded 2-core machine
def test_python_control_flow_under_jax_grad_alone_reads_the_known_value(real_torch):
    """jax.grad keeps values concrete (as for JAX's own arrays): the branch taken is eager's."""
    for x in (X, -X):
        on_jax = lambda a: _branchy(ftorch.from_jax(a)).sum().jax()  # noqa: E731
        expected = real_torch.func.grad(lambda t: _branchy(t).sum())(real_torch.tensor(x))
        assert_close(jax.grad(on_jax)(jnp.asarray(x)), expected)


def test_printing_a_traced_tensor_shows_the_tracer_as_jax_does():
    shown = []
    jax.jit(lambda t: shown.append(repr(t * 2)) or t)(ftorch.ones(2))
    assert shown[0].startswith("tensor(") and "Tracer" in shown[0]


# --- conversions and the pytree ---------------------------------------------------------------


def test_from_jax_and_jax_round_trip_and_jnp_takes_tensors():
    x = jnp.arange(3.0)
    t = ftorch.from_jax(x)
    assert t.jax() is x and jnp.asarray(t) is x
    np.testing.assert_array_equal(jnp.sin(ftorch.ones(2)), jnp.sin(jnp.ones(2)))
    assert ftorch.from_jax(jnp.asarray(2.0)).jax().weak_type is False  # a dtype of its own
    assert ftorch.from_jax(x, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match=r"expected a jax\.Array, got ndarray"):
        ftorch.from_jax(np.ones(2))


@pytest.mark.slow  # the same path runs in docs/semantics.md's snippets by default
def test_tensors_cross_jit_and_vmap_as_pytrees():
    out = jax.jit(jax.vmap(lambda t: ftorch.softmax(t, dim=0)))(ftorch.ones(3, 2))
    assert isinstance(out, ftorch.Tensor)
    assert_close(out, np.full((3, 2), 0.5))
    kept = jax.jit(lambda t: t)(ftorch.ones(2, requires_grad=True))
    assert kept.requires_grad and kept.is_leaf


def test_a_tensor_with_a_graph_cannot_cross_a_transform():
    model = ftorch.nn.Linear(2, 1)
    with pytest.raises(ftorch.UnsupportedError, match="grad_fn as a JAX pytree"):
        jax.jit(model)(ftorch.ones(2))
    with ftorch.no_grad():
        expected = model(ftorch.ones(2))
        assert_close(jax.jit(model)(ftorch.ones(2)), expected)


@pytest.mark.slow  # compiles several op programs: ~1-2 s on a loaded 2-core machine
def test_random_draws_raise_under_jit_and_are_fresh_under_grad():
    with pytest.raises(ftorch.UnsupportedError, match=r"torch's generator.*jax\.jit"):
        jax.jit(lambda t: t + ftorch.randn(2))(ftorch.ones(2))
    ftorch.manual_seed(0)
    expected = ftorch.randn(2) + ftorch.randn(2)
    ftorch.manual_seed(0)
    grads = [jax.grad(lambda a: (a * ftorch.randn(2).jax()).sum())(jnp.ones(2)) for _ in range(2)]
    assert_close(grads[0] + grads[1], expected)  # the same as eager draws, one per call


def test_torch_func_vmap_randomness_as_torch(real_torch):
    def program(torch, randomness):
        torch.manual_seed(0)
        return torch.func.vmap(lambda x: x + torch.randn(()), randomness=randomness)(torch.ones(3))

    assert_same_error(real_torch, lambda torch: program(torch, "error"))
    assert_same(program(ftorch, "same"), program(real_torch, "same"))


# --- autograd inside a transform --------------------------------------------------------------


@pytest.mark.slow  # the same path runs in docs/semantics.md's snippets by default
def test_backward_inside_jax_grad_on_a_leaf_made_inside():
    def grad_sum(a):
        x = ftorch.from_jax(a, requires_grad=True)
        (x**3).sum().backward()
        return x.grad.jax().sum()  # 3 x^2 summed: its derivative is 6 x

    assert_close(jax.jit(jax.grad(grad_sum))(jnp.asarray(X)), 6 * X)


def test_backward_inside_a_transform_into_an_outside_leaf_raises():
    w = ftorch.ones(2, requires_grad=True)

    def leaky(a):
        (ftorch.from_jax(a) * w).sum().backward()
        return a

    with pytest.raises(ftorch.UnsupportedError, match="leaf made outside it"):
        jax.jit(leaky)(jnp.ones(2))
    assert w.grad is None


# --- functional_call and module state ---------------------------------------------------------


def _tied(torch):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))
    model[1].weight = model[0].weight
    return model


@pytest.mark.parametrize("tie_weights", [True, False])
def test_functional_call_ties_weights_as_torch(real_torch, tie_weights):
    def program(torch, model):
        state = {"0.weight": torch.eye(2, dtype=model[0].bias.dtype)}
        with torch.no_grad():
            x = torch.ones(2, dtype=model[0].bias.dtype)
            return torch.func.functional_call(model, state, x, tie_weights=tie_weights)

    # the same layers in float64 on absolute values: the sizes of the output's terms
    sizes = _tied(real_torch).double()
    with real_torch.no_grad():
        for p in sizes.parameters():
            p.abs_()
    bound = summation_bound(program(real_torch, sizes), terms=2 + 1 + 2 + 1)
    actual, expected = program(ftorch, _tied(ftorch)), program(real_torch, _tied(real_torch))
    assert_same(actual, expected, bounds=bound)


@pytest.mark.parametrize(
    "state",
    [
        {"0.weight": "eye", "1.weight": "eye2"},  # two values for tied names
        {"0.weight": "eye", "c": "eye"},  # strict: an unexpected name and missing ones
    ],
)
def test_functional_call_errors_as_torch(real_torch, state):
    def program(torch):
        values = {"eye": torch.eye(2), "eye2": torch.eye(2)}
        given = {name: values[v] for name, v in state.items()}
        return torch.func.functional_call(_tied(torch), given, torch.ones(2), strict="c" in state)

    assert_same_error(real_torch, program)


@pytest.mark.slow  # compiles several op programs: ~1-2 s on a loaded 2-core machine
def test_functional_call_keeps_a_tensor_buffer_update_and_refuses_a_lost_jax_one(real_torch):
    def program(torch):
        norm = torch.nn.BatchNorm1d(2)
        buffers = {k: v.clone() for k, v in norm.named_buffers()}
        torch.func.functional_call(norm, buffers, torch.tensor([[1.0, 2.0], [3.0, 6.0]]))
        return buffers

    assert_same(*run_both(real_torch, program))
    norm = ftorch.nn.BatchNorm1d(2)
    with pytest.raises(ftorch.UnsupportedError, match="running_mean"):
        ffunc.functional_call(norm, ffunc.buffers(norm), ftorch.ones(2, 2))
    norm.eval()
    evaluated = ffunc.functional_call(norm, ffunc.buffers(norm), ftorch.ones(2, 2))
    assert_close(evaluated, np.ones((2, 2)) / np.sqrt(1 + 1e-5))


def test_load_state_dict_takes_a_jax_pytree_back():
    model = ftorch.nn.Linear(2, 1)
    trained = jax.tree.map(lambda a: a + 1, ffunc.params(model))
    model.load_state_dict(trained)
    assert_close(model.weight.detach(), trained["weight"])
    assert model.weight.requires_grad and model.weight.is_leaf
