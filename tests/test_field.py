"""fdiff.fields.field: gradient fields and descent paths, checked against worked derivatives."""

import json
import os
import subprocess
import sys
import textwrap

import jax.numpy as jnp
import numpy as np
import pytest
from support import assert_close, summation_bound

from fdiff.fields.field import GradientField, descent_path, descent_paths, gradient_field


def _grid(xlim, ylim, n):
    """The grid's own float32 coordinates, widened to float64 for the analytic side."""
    x = np.linspace(*xlim, n, dtype=np.float32).astype(np.float64)
    y = np.linspace(*ylim, n, dtype=np.float32).astype(np.float64)
    return np.meshgrid(x, y)  # a[j, i] = x[i], b[j, i] = y[j]


# f, its value and its two derivatives, written by hand
CASES = {
    "seed 002.1": (
        lambda a, b: 3 * a**3 + 2 * b**4,
        lambda a, b: (3 * a**3 + 2 * b**4, 9 * a**2, 8 * b**3),
    ),
    "trig and exp": (
        lambda a, b: jnp.sin(a) * jnp.exp(b / 2),
        lambda a, b: (
            np.sin(a) * np.exp(b / 2),
            np.cos(a) * np.exp(b / 2),
            0.5 * np.sin(a) * np.exp(b / 2),
        ),
    ),
    "rosenbrock": (
        lambda a, b: (1 - a) ** 2 + 10 * (b - a**2) ** 2,
        lambda a, b: (
            (1 - a) ** 2 + 10 * (b - a**2) ** 2,
            -2 * (1 - a) - 40 * a * (b - a**2),
            20 * (b - a**2),
        ),
    ),
    "log and tanh": (
        lambda a, b: jnp.log(1 + a**2) + jnp.tanh(a * b),
        lambda a, b: (
            np.log(1 + a**2) + np.tanh(a * b),
            2 * a / (1 + a**2) + b / np.cosh(a * b) ** 2,
            a / np.cosh(a * b) ** 2,
        ),
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_field_matches_analytic_gradients(name):
    f, analytic = CASES[name]
    xlim, ylim, n = (-1.5, 1.0), (-1.0, 2.0), 33
    field = gradient_field(f, xlim, ylim, n)
    value, grad_a, grad_b = analytic(*_grid(xlim, ylim, n))
    scale = np.abs(value).max()  # float32 rounding of the sums, relative to their terms
    assert_close(field.values, value, atol=1e-6 * scale)
    assert_close(field.grad_x, grad_a, atol=1e-6 * np.abs(grad_a).max())
    assert_close(field.grad_y, grad_b, atol=1e-6 * np.abs(grad_b).max())
    assert field.values.dtype == np.float32 and field.values.shape == (n, n)
    assert field.nonfinite == 0 and field.finite.all() and field.report() == ""


@pytest.mark.parametrize("name", CASES)
def test_gradient_only_field_equals_the_full_one_and_the_analytic_gradient(name):
    f, analytic = CASES[name]
    xlim, ylim, n = (-1.5, 1.0), (-1.0, 2.0), 33
    full = gradient_field(f, xlim, ylim, n)
    grads = gradient_field(f, xlim, ylim, n, values=False)
    _, grad_a, grad_b = analytic(*_grid(xlim, ylim, n))
    assert grads.values is None
    assert_close(grads.grad_x, full.grad_x)
    assert_close(grads.grad_y, full.grad_y)
    assert_close(grads.grad_x, grad_a, atol=1e-6 * np.abs(grad_a).max())
    assert_close(grads.grad_y, grad_b, atol=1e-6 * np.abs(grad_b).max())
    assert grads.grad_x.dtype == np.float32 and grads.grad_x.shape == (n, n)
    assert grads.nonfinite == 0 and grads.finite.all() and grads.report() == ""


def test_gradient_only_field_in_chunks_is_read_only_and_equals_one_pass():
    f, _ = CASES["log and tanh"]
    whole = gradient_field(f, (-1, 1), (-1, 1), 23, values=False)
    chunked = gradient_field(f, (-1, 1), (-1, 1), 23, values=False, chunk_size=50)
    assert chunked.values is None
    assert_close(chunked.grad_x, whole.grad_x)
    assert_close(chunked.grad_y, whole.grad_y)
    for field in (whole, chunked):
        with pytest.raises(ValueError, match="read-only"):
            field.grad_x[0, 0] = 1.0


def test_grid_layout_is_rows_by_second_variable():
    field = gradient_field(lambda a, b: a + 10 * b, (0, 1), (0, 2), n=3)
    assert_close(field.x, [0, 0.5, 1])
    assert_close(field.y, [0, 1, 2])
    assert_close(field.values[2, 1], 0.5 + 10 * 2)  # [row j, column i] is (x[i], y[j])


def test_packed_params_form_gives_the_seed_gradient():
    # seed 000.1: loss = (x*params[0] + params[1] - y)**2 with x=2, y=3; grad at [1, 3] is [8, 4]
    field = gradient_field(lambda p: (2 * p[0] + p[1] - 3) ** 2, (0, 1), (2, 3), 2, packed=True)
    assert_close([field.values[1, 1], field.grad_x[1, 1], field.grad_y[1, 1]], [4, 8, 4])


def test_one_element_losses_are_accepted_like_torch_backward():
    loss = lambda p: (2 * p[0:1] + p[1:2] - 3) ** 2  # noqa: E731  shape (1,), as in the seeds
    field = gradient_field(loss, (0, 1), (2, 3), 2, packed=True)
    assert_close(field.grad_x[1, 1], 8.0)


def test_non_scalar_functions_are_refused():
    with pytest.raises(ValueError, match=r"scalar .* got shape \(2,\)"):
        gradient_field(lambda a, b: jnp.stack([a, b]), (0, 1), (0, 1), 3)


def test_chunks_give_the_same_field_as_one_pass():
    f, _ = CASES["log and tanh"]
    whole = gradient_field(f, (-1, 1), (-1, 1), 23)
    chunked = gradient_field(f, (-1, 1), (-1, 1), 23, chunk_size=50)  # 10 chunks, last padded
    for got, expected in zip(
        (chunked.values, chunked.grad_x, chunked.grad_y),
        (whole.values, whole.grad_x, whole.grad_y),
        strict=True,
    ):
        assert_close(got, expected)


def test_non_finite_points_are_masked_counted_and_reported():
    # log(a) is NaN for a < 0 and -inf at 0; 1/b is inf at b = 0; sqrt's gradient is inf at 0
    f = lambda a, b: jnp.log(a) + 1 / b + jnp.sqrt(a + 1)  # noqa: E731
    field = gradient_field(f, (-1, 1), (-1, 1), 5, chunk_size=7)  # grid -1, -0.5, 0, 0.5, 1
    a, b = _grid((-1, 1), (-1, 1), 5)
    expected = (a > 0) & (b != 0)
    np.testing.assert_array_equal(field.finite, expected)
    assert field.nonfinite == 25 - expected.sum() == 17
    assert "17 of 25 grid points" in field.report()
    inside = a[expected]
    assert_close(field.grad_x[expected], 1 / inside + 0.5 / np.sqrt(inside + 1))


def test_gradient_only_mask_covers_the_derivatives_alone():
    # the same f: without values, log(a) for a < 0 (NaN) is no longer seen, but its derivative
    # 1/a is finite there; -inf at a = 0 has derivative inf, and 1/b's is -inf at b = 0
    f = lambda a, b: jnp.log(a) + 1 / b + jnp.sqrt(a + 1)  # noqa: E731
    field = gradient_field(f, (-1, 1), (-1, 1), 5, chunk_size=7, values=False)
    a, b = _grid((-1, 1), (-1, 1), 5)
    expected = (a != 0) & (a != -1) & (b != 0)  # sqrt's derivative is inf at a = -1
    np.testing.assert_array_equal(field.finite, expected)
    assert field.nonfinite == 25 - expected.sum() == 13
    assert field.report().startswith("13 of 25 grid points (52%) have a non-finite gradient ")
    assert_close(field.grad_x[expected], 1 / a[expected] + 0.5 / np.sqrt(a[expected] + 1))


def test_results_are_read_only():
    field = gradient_field(lambda a, b: a * b, (0, 1), (0, 1), 3)
    assert isinstance(field, GradientField)
    with pytest.raises(ValueError, match="read-only"):
        field.values[0, 0] = 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 1}, "at least 2"),
        ({"n": 2.5}, "integer"),
        ({"xlim": (1, 0)}, "`xlim` must be finite with low < high"),
        ({"ylim": (0, float("nan"))}, "`ylim`"),
        ({"chunk_size": 0}, "chunk_size"),
    ],
)
def test_bad_grids_are_refused(kwargs, message):
    arguments = {"xlim": (0, 1), "ylim": (0, 1), "n": 3} | kwargs
    with pytest.raises(ValueError, match=message):
        gradient_field(lambda a, b: a * b, **arguments)


_MULTI_DEVICE = textwrap.dedent(
    """
    import json, sys
    import jax, jax.numpy as jnp
    from fdiff.fields.field import gradient_field

    f = lambda a, b: a**3 - 3 * a * b**2 + jnp.sin(2 * a + b)
    kwargs = dict(xlim=(-2, 2), ylim=(-1, 1.5), n=37, chunk_size=300)  # 37 rows: padded
    sharded = gradient_field(f, **kwargs)
    single = gradient_field(f, devices=jax.devices()[:1], **kwargs)
    arrays = lambda g: [g.values.tolist(), g.grad_x.tolist(), g.grad_y.tolist()]
    json.dump({"devices": jax.device_count(), "sharded": arrays(sharded),
               "single": arrays(single)}, sys.stdout)
    """
)


@pytest.mark.slow
def test_sharded_over_four_host_devices_matches_one_device():
    env = os.environ | {"XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    done = subprocess.run(
        [sys.executable, "-c", _MULTI_DEVICE], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["devices"] == 4
    assert_close(result["sharded"], result["single"])
    a, b = _grid((-2, 2), (-1, 1.5), 37)
    analytic = (
        a**3 - 3 * a * b**2 + np.sin(2 * a + b),
        3 * a**2 - 3 * b**2 + 2 * np.cos(2 * a + b),
        -6 * a * b + np.cos(2 * a + b),
    )
    # f and its gradient are float32 sums; sin's argument 2a + b is rounded too (slope <= 1)
    argument = 2 * abs(a) + abs(b)
    magnitudes = (
        abs(a) ** 3 + 3 * abs(a) * b**2 + 1 + argument,
        3 * a**2 + 3 * b**2 + 2 + 2 * argument,
        6 * abs(a * b) + 1 + argument,
    )
    assert_close(result["sharded"], analytic, bound=summation_bound(magnitudes, terms=8, engines=1))


def test_descent_on_a_quadratic_follows_the_closed_form():
    # f = a^2 + b^2: p_k = (1 - 2 lr)^k p_0
    path = descent_path(lambda a, b: a**2 + b**2, (1.0, -2.0), learning_rate=0.1, steps=10)
    expected = 0.8 ** np.arange(11)[:, None] * np.array([1.0, -2.0])
    assert_close(path.points, expected)
    assert_close(path.values, (expected**2).sum(axis=1))
    assert not path.diverged and path.steps == 10
    assert path.message.startswith("10 steps from (1, -2) to (0.1074, -0.2147)")


def test_seed_000_1_one_sgd_step_lands_in_the_valley():
    # grad at params=[1, 3] is [8, 4] (the seed); p - 0.1 * grad = [0.2, 2.6], where loss is 0
    path = descent_path(lambda p: (2 * p[0] + p[1] - 3) ** 2, (1, 3), steps=1, packed=True)
    assert_close(path.points, [[1, 3], [0.2, 2.6]])
    # f at the valley is the square of a rounding error of 2 * 0.2 + 2.6 - 3 (0.1 is inexact)
    assert_close(path.values, [4, 0])


def test_seed_002_1_sgd_at_lr_0_1_diverges_with_a_report():
    # grad of 3a^3 + 2b^4 at (3, 2) is (81, 64): the first step goes to (-5.1, -4.4)
    path = descent_path(lambda a, b: 3 * a**3 + 2 * b**4, (3, 2), learning_rate=0.1, steps=50)
    assert_close(path.points[:2], [[3, 2], [-5.1, -4.4]])
    assert path.diverged and path.steps < 50
    assert path.message.startswith(f"diverged at step {path.steps} from (3, 2):")
    assert np.isfinite(path.points).all()


def test_leaving_max_norm_stops_the_run():
    # f = -a^2 from a = 1: a_k = 1.2^k, first past 10 at k = 13
    path = descent_path(lambda a, b: -(a**2) + 0 * b, (1, 0), steps=40, max_norm=10.0)
    assert path.diverged and path.steps == 13
    assert_close(path.points[:, 0], 1.2 ** np.arange(14))
    assert "|p| = 10.7 exceeds max_norm = 10" in path.message


def test_several_starts_run_together():
    paths = descent_paths(lambda a, b: a**2 + b**2, [(1, 1), (2, 0), (0, -1)], steps=3)
    assert [p.steps for p in paths] == [3, 3, 3]
    assert_close(paths[1].points[-1], [2 * 0.8**3, 0])


@pytest.mark.slow
def test_momentum_matches_torch_sgd(real_torch):
    torch = real_torch
    start, lr, momentum, steps = (1.5, -1.0), 0.05, 0.9, 25
    p = torch.tensor(start, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=lr, momentum=momentum)
    expected = [p.detach().clone()]
    for _ in range(steps):
        optimizer.zero_grad()
        loss = p[0] ** 2 + 3 * p[1] ** 2 + p[0] * p[1]
        loss.backward()
        optimizer.step()
        expected.append(p.detach().clone())
    path = descent_path(
        lambda a, b: a**2 + 3 * b**2 + a * b,
        start,
        learning_rate=lr,
        steps=steps,
        momentum=momentum,
    )
    assert_close(path.points, torch.stack(expected).numpy())


def test_zero_steps_is_just_the_start():
    path = descent_path(lambda a, b: a * b, (2, 3), steps=0)
    assert_close(path.points, [[2, 3]])
    assert_close(path.values, [6])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": float("inf")}, "learning_rate"),
        ({"steps": -1}, "steps"),
        ({"momentum": 1.0}, "momentum"),
        ({"max_norm": 0.0}, "max_norm"),
    ],
)
def test_bad_descent_options_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        descent_path(lambda a, b: a * b, (0, 0), **kwargs)


@pytest.mark.parametrize("starts", [[1, 2], [(1, 2, 3)], [(float("nan"), 0)]])
def test_bad_starts_are_refused(starts):
    with pytest.raises(ValueError, match="starts"):
        descent_paths(lambda a, b: a * b, starts)
