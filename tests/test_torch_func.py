"""``torch.func`` and ``torch.autograd.functional`` on JAX transforms, against real torch: the
same program under both engines gives the same values and the same return structure."""

from __future__ import annotations

import pytest
from support import assert_same, assert_same_error, run_both

import fdiff.torch

# torch 2.13's functorch scripts a helper on first use, which warns about torch.jit.script
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script` is deprecated:DeprecationWarning"
)


def _inputs(torch):
    x = torch.tensor([0.5, -1.0, 2.0])
    y = torch.tensor([1.5, 0.25, -0.75])
    return x, y


def _f(torch):
    return lambda x, y: (torch.sin(x) * y).sum() + (x * x * y).sum()


def test_grad_argnums_has_aux_and_grad_and_value(real_torch):
    def program(torch):
        x, y = _inputs(torch)
        f = _f(torch)
        with_aux = torch.func.grad(lambda x, y: (f(x, y), x.exp()), argnums=(0, 1), has_aux=True)
        return (
            torch.func.grad(f)(x, y),
            torch.func.grad(f, argnums=1)(x, y),
            with_aux(x, y),
            torch.func.grad_and_value(f, argnums=(0,))(x, y),
            torch.func.grad(lambda x, scale=1.0: (scale * x**3).sum())(x, scale=2.0),
        )

    assert_same(*run_both(real_torch, program))


def test_grad_of_a_non_scalar_function_raises_torchs_error(real_torch):
    assert_same_error(real_torch, lambda torch: torch.func.grad(lambda x: 2 * x)(torch.ones(2)))


def test_vjp_and_jvp_with_and_without_aux(real_torch):
    def program(torch):
        x, y = _inputs(torch)
        out, vjp_fn = torch.func.vjp(lambda a, b: a * torch.exp(b), x, y)
        out_aux, vjp_aux, aux = torch.func.vjp(lambda a: (a.sin(), a.cos()), x, has_aux=True)
        jvp = torch.func.jvp(lambda a, b: a * b.tanh(), (x, y), (y, x))
        jvp_aux = torch.func.jvp(lambda a: (a**3, a + 1), (x,), (y,), has_aux=True)
        return out, vjp_fn(y), out_aux, vjp_aux(x), aux, jvp, jvp_aux

    assert_same(*run_both(real_torch, program))


@pytest.mark.slow
def test_jacrev_and_hessian_in_brief(real_torch):
    """The default run's share of the two tests below (which run in the slow profile)."""

    def program(torch):
        x, y = _inputs(torch)
        return torch.func.jacrev(torch.sin)(x), torch.func.hessian(_f(torch))(x, y)

    assert_same(*run_both(real_torch, program))


@pytest.mark.slow
def test_jacrev_jacfwd_hessian(real_torch):
    def program(torch):
        x, y = _inputs(torch)
        f = _f(torch)
        g = lambda x, y: torch.stack([(x * y).sum(), (x.sin() * y.exp()).sum()])  # noqa: E731
        return (
            torch.func.jacrev(g)(x, y),
            torch.func.jacrev(g, argnums=(0, 1))(x, y),
            torch.func.jacfwd(g, argnums=1)(x, y),
            torch.func.jacrev(lambda a: (a.exp(), a.sum()), has_aux=True)(x),
            torch.func.hessian(f)(x, y),
            torch.func.hessian(f, argnums=(0, 1))(x, y),
        )

    assert_same(*run_both(real_torch, program))


def test_vmap_in_dims_out_dims(real_torch):
    def program(torch):
        batch = torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.25]])
        w = torch.tensor([2.0, -3.0])
        return (
            torch.func.vmap(torch.dot, in_dims=(0, None))(batch, w),
            torch.func.vmap(lambda a: a * w, out_dims=1)(batch),
            torch.func.vmap(torch.outer if hasattr(fdiff.torch, "outer") else torch.mul)(
                batch, batch
            ),
        )

    assert_same(*run_both(real_torch, program))


def test_per_sample_gradients_with_functional_call(real_torch):
    """torch.func's tutorial: ``vmap(grad(loss of functional_call))`` over a batch, one
    gradient per sample, for a model whose parameters are detached from it."""

    def program(torch):
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 2)
        params = {k: v.detach() for k, v in model.named_parameters()}
        data = torch.randn(4, 3)
        targets = torch.randn(4, 2)

        def loss(params, sample, target):
            prediction = torch.func.functional_call(model, params, (sample.unsqueeze(0),))
            return ((prediction - target) ** 2).mean()

        per_sample = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))
        grads = per_sample(params, data, targets)
        swapped = torch.func.functional_call(model, {"weight": torch.ones(2, 3)}, data)
        return grads, swapped, model.weight

    assert_same(*run_both(real_torch, program))


def test_ensemble_with_stack_module_state(real_torch):
    def program(torch):
        torch.manual_seed(1)
        models = [torch.nn.Linear(2, 1) for _ in range(3)]
        params, buffers = torch.func.stack_module_state(models)
        x = torch.randn(5, 2)

        def run(params, buffers, x):
            return torch.func.functional_call(models[0], (params, buffers), (x,))

        with torch.no_grad():
            out = torch.func.vmap(run, in_dims=(0, 0, None))(params, buffers, x)
        return params, buffers, out

    assert_same(*run_both(real_torch, program))


@pytest.mark.slow
def test_autograd_functional_jacobian_structures(real_torch):
    def program(torch):
        x, y = _inputs(torch)
        jf = torch.autograd.functional
        return (
            jf.jacobian(lambda a: a**2 * a.sum(), x),
            jf.jacobian(lambda a, b: a * b, (x, y)),
            jf.jacobian(lambda a, b: (a * b, a.exp()), (x, y)),
            jf.jacobian(lambda a: a.sin(), x, vectorize=True, strategy="forward-mode"),
            jf.jacobian(lambda a: a.sin(), x.requires_grad_()),
        )

    assert_same(*run_both(real_torch, program))


@pytest.mark.slow
def test_autograd_functional_hessian_vjp_jvp_hvp_vhp(real_torch):
    def program(torch):
        x, y = _inputs(torch)
        jf = torch.autograd.functional
        f = _f(torch)
        cube = lambda a: (a**3 * a.sin()).sum()  # noqa: E731
        return (
            jf.hessian(cube, x),
            jf.hessian(f, (x, y)),
            jf.vjp(lambda a: a.exp() * 2, x, y),
            jf.vjp(cube, x),
            jf.vjp(lambda a, b: (a * b, b.sum()), (x, y), (y, torch.tensor(2.0))),
            jf.jvp(lambda a: a.exp() * 2, x, y),
            jf.jvp(f, (x, y), (y, x)),
            jf.hvp(cube, x, y),
            jf.vhp(cube, x, y),
            jf.hvp(f, (x, y), (y, x)),
        )

    assert_same(*run_both(real_torch, program))


def test_forward_mode_jacobian_needs_vectorize_as_in_torch(real_torch):
    assert_same_error(
        real_torch,
        lambda torch: torch.autograd.functional.jacobian(
            torch.sin, torch.ones(2), strategy="forward-mode"
        ),
    )


def _graph_results(torch, results):
    """Each result tensor with whether it requires grad and has a grad_fn (names differ:
    fdiff.torch's recorded gradients are ``ReplayedGradBackward``)."""
    if hasattr(results, "grad_fn"):
        return results, results.grad_fn is not None
    return [_graph_results(torch, r) for r in results]


@pytest.mark.slow
def test_autograd_functional_create_graph_follows_torchs_graph(real_torch):
    """create_graph=True: results carry a graph where torch's do (none for a linear function's
    derivative, nor for an input that does not require grad), and differentiate again."""

    def program(torch):
        jf = torch.autograd.functional
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = torch.tensor([0.5, -1.0])
        cube = lambda a: (a**3).sum()  # noqa: E731
        jac = jf.jacobian(lambda a, b: (a**2 * b.exp(), (a * b).sum()), (x, y), create_graph=True)
        hess = jf.hessian(cube, x, create_graph=True, vectorize=True)
        _, vjp = jf.vjp(lambda a: a.exp(), x, torch.ones(2), create_graph=True)
        return _graph_results(
            torch,
            [
                jac,
                hess,
                torch.autograd.grad(hess.sum(), x),
                vjp,
                torch.autograd.grad(vjp.sum(), x),
                jf.jvp(lambda a: a.exp(), x, torch.ones(2), create_graph=True),
                jf.hvp(cube, x, torch.ones(2), create_graph=True),
                jf.vhp(cube, y, torch.ones(2), create_graph=True),
                jf.vjp(lambda a: a * 2, y, torch.ones(2), create_graph=True),
                jf.vjp(lambda a, b: a * 2, (x, y), torch.ones(2), create_graph=True),
            ],
        )

    assert_same(*run_both(real_torch, program))


def test_grad_of_a_create_graph_gradient_reaches_a_non_leaf_input(real_torch):
    def program(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        v = x * 1
        (g,) = torch.autograd.grad((v**3).sum(), v, create_graph=True)
        return torch.autograd.grad(g.sum(), v, retain_graph=True), torch.autograd.grad(g.sum(), x)

    assert_same(*run_both(real_torch, program))


@pytest.mark.slow
@pytest.mark.parametrize(
    "call",
    [
        lambda jf, torch, x: jf.jacobian(lambda t: x * 2, x, strict=True),
        lambda jf, torch, x: jf.jacobian(lambda t: (t * 2, x), x, strict=True),
        lambda jf, torch, x: jf.jacobian(lambda t: t * 2, x, strict=True, create_graph=True),
        lambda jf, torch, x: jf.jacobian(lambda t: t**2, x, strict=True, vectorize=True),
        lambda jf, torch, x: jf.jacobian(lambda t: t, x, strategy="forward-mode", strict=True),
        lambda jf, torch, x: jf.jacobian(torch.sin, x, strategy="forward-mode", create_graph=True),
        lambda jf, torch, x: jf.jacobian(torch.sin, x, strategy="backward"),
        lambda jf, torch, x: jf.hessian(lambda t: (t * 2).sum(), x, strict=True),
        lambda jf, torch, x: jf.vjp(lambda t: t.detach(), x, torch.ones(2), strict=True),
        lambda jf, torch, x: jf.vjp(lambda t, u: t * 2, (x, x), torch.ones(2), strict=True),
        lambda jf, torch, x: jf.hvp(lambda t: (t * 2).sum(), x, torch.ones(2), strict=True),
        lambda jf, torch, x: jf.vjp(torch.sin, x, torch.ones(3), strict=True),
        lambda jf, torch, x: jf.vjp(torch.sin, [x], torch.ones(2), create_graph=True),
    ],
)
def test_autograd_functional_strict_errors_match_torch(real_torch, call):
    assert_same_error(
        real_torch,
        lambda torch: call(torch.autograd.functional, torch, torch.tensor([1.0, 2.0])),
    )


@pytest.mark.slow
def test_autograd_functional_strict_passes_what_torch_passes(real_torch):
    def program(torch):
        jf = torch.autograd.functional
        x = torch.tensor([1.0, 2.0])
        cube = lambda a: (a**3).sum()  # noqa: E731
        return (
            jf.jacobian(lambda a: a.exp(), x, strict=True),
            jf.hessian(cube, x, strict=True),
            jf.hvp(cube, x, torch.ones(2), strict=True),
            jf.jvp(lambda a: a * 2, x, torch.ones(2), strict=False, create_graph=True),
            jf.jvp(lambda a: a * 2, x, torch.ones(2), strict=True),
            jf.vhp(lambda a: (a**2).sum(), x, torch.ones(2), strict=True),
        )

    assert_same(*run_both(real_torch, program))


@pytest.mark.parametrize(
    "call",
    [
        lambda torch: torch.func.grad(lambda x: x.sum())(torch.ones(2, requires_grad=True)),
        lambda torch: torch.func.vmap(torch.sin, randomness="different")(torch.ones(2)),
    ],
)
def test_what_is_not_built_raises_unsupported(call):
    with pytest.raises(fdiff.torch.UnsupportedError):
        call(fdiff.torch)


def test_transforms_use_a_custom_functions_backward(real_torch):
    """A straight-through estimator: torch.func.grad takes the custom backward, not the
    derivative of the forward (zero almost everywhere)."""

    def program(torch):
        class RoundStraightThrough(torch.autograd.Function):
            @staticmethod
            def forward(x):
                return x.round()

            @staticmethod
            def setup_context(ctx, inputs, output):
                pass

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        x = torch.tensor([0.3, 1.7, -2.2])
        f = lambda v: (RoundStraightThrough.apply(v) * v).sum()  # noqa: E731
        return torch.func.grad(f)(x), torch.func.jacrev(RoundStraightThrough.apply)(x)

    assert_same(*run_both(real_torch, program))


def test_transforms_refuse_functions_without_setup_context(real_torch):
    def program(torch):
        class Old(torch.autograd.Function):
            forward = staticmethod(lambda ctx, x: x * 2)
            backward = staticmethod(lambda ctx, g: g * 2)

        torch.func.grad(lambda v: Old.apply(v).sum())(torch.ones(2))

    assert_same_error(real_torch, program)


def test_a_transform_reading_parameters_that_require_grad_is_refused():
    """torch would record through the transform to the closed-over parameters; fdiff.torch
    refuses rather than return a gradient cut off from them, and accepts it under no_grad."""
    torch = fdiff.torch
    layer = torch.nn.Linear(2, 1)
    loss = lambda x: layer(x).sum()  # noqa: E731
    with pytest.raises(torch.UnsupportedError, match="require grad"):
        torch.func.grad(loss)(torch.ones(2))
    with torch.no_grad():
        assert torch.func.grad(loss)(torch.ones(2)).tolist() == layer.weight[0].tolist()
