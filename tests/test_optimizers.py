"""fdiff.fields.optimizers: optax paths against optax run by hand, torch-style against torch."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from support import assert_close

import fdiff.torch as ftorch
from fdiff.errors import InputError
from fdiff.fields.field import descent_paths
from fdiff.fields.optimizers import BUILTIN, named_optimizer, optimizer_paths

VALLEY = lambda a, b: (1 - a) ** 2 + 4 * (b - a**2) ** 2  # noqa: E731  a mild Rosenbrock
QUADRATIC = lambda a, b: a**2 + 3 * b**2 + a * b  # noqa: E731
STARTS = [(-1.5, 2.0), (1.2, -0.5)]


def _by_hand(transformation, f, start, steps):
    """optax's documented loop, one (jitted) step at a time."""
    value_and_grad = jax.value_and_grad(lambda p: f(p[0], p[1]))

    @jax.jit
    def step(params, state):
        value, grads = value_and_grad(params)
        updates, state = transformation.update(grads, state, params)
        return optax.apply_updates(params, updates), state, value

    params = jnp.asarray(start, jnp.float32)
    state = transformation.init(params)
    points, values = [np.asarray(params)], []
    for _ in range(steps):
        params, state, value = step(params, state)
        points.append(np.asarray(params))
        values.append(float(value))
    values.append(float(value_and_grad(params)[0]))
    return np.stack(points), np.array(values)


@pytest.mark.parametrize(
    "make",
    [
        lambda: optax.adam(0.05),
        pytest.param(lambda: optax.sgd(0.01, momentum=0.9), marks=pytest.mark.slow),
        pytest.param(lambda: optax.rmsprop(0.01), marks=pytest.mark.slow),
    ],
)
def test_optax_paths_equal_optax_run_by_hand(make):
    # XLA fuses a scan's body differently from a single step (an a*b+c may become one FMA),
    # so the two agree to float32's rounding, not bit for bit; this valley keeps it from growing
    transformation = make()
    (paths,) = optimizer_paths(VALLEY, STARTS, {"one": transformation}, steps=30).values()
    for start, path in zip(STARTS, paths, strict=True):
        points, values = _by_hand(transformation, VALLEY, start, 30)
        assert not path.diverged and path.steps == 30
        assert_close(path.points, points)
        assert_close(path.values, values)


@pytest.mark.slow
def test_optax_sgd_with_momentum_is_descent_paths_with_momentum():
    (path,) = optimizer_paths(QUADRATIC, STARTS[:1], {"m": optax.sgd(0.05, momentum=0.9)})["m"]
    (same,) = descent_paths(QUADRATIC, STARTS[:1], learning_rate=0.05, momentum=0.9)
    assert_close(path.points, same.points)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("Adam", {"lr": 0.1}),
        pytest.param("SGD", {"lr": 0.05, "momentum": 0.9}, marks=pytest.mark.slow),
        pytest.param("RMSprop", {"lr": 0.01}, marks=pytest.mark.slow),
    ],
)
def test_fdiff_torch_optimizer_paths_equal_torch(real_torch, name, options):
    torch, steps = real_torch, 15
    p = torch.tensor(STARTS[1], requires_grad=True)
    optimizer = getattr(torch.optim, name)([p], **options)
    expected = [p.detach().clone()]
    for _ in range(steps):
        optimizer.zero_grad()
        loss = p[0] ** 2 + 3 * p[1] ** 2 + p[0] * p[1]
        loss.backward()
        optimizer.step()
        expected.append(p.detach().clone())
    factory = partial(getattr(ftorch.optim, name), **options)
    (path,) = optimizer_paths(QUADRATIC, STARTS[1:], {name: factory}, steps=steps)[name]
    assert_close(path.points, torch.stack(expected).numpy())


def test_divergence_is_reported_per_path():
    runs = optimizer_paths(
        lambda a, b: 3 * a**3 + 2 * b**4,
        [(3.0, 2.0), (0.5, 0.2)],
        {"fast": optax.sgd(0.1), "torch": named_optimizer("sgd", 0.1)},
        steps=10,
    )
    for paths in runs.values():
        assert [p.diverged for p in paths] == [True, False]
        assert (
            paths[0].message.startswith("diverged at step") and np.isfinite(paths[1].values).all()
        )
    assert_close(runs["fast"][0].points, runs["torch"][0].points)  # same rule, both forms


def test_names_map_to_fdiff_torch_optimizers_or_optax():
    assert set(BUILTIN) >= {"sgd", "momentum", "adam"}
    momentum = named_optimizer("momentum", 0.1)
    assert momentum.func is ftorch.optim.SGD and momentum.keywords == {"lr": 0.1, "momentum": 0.9}
    assert hasattr(named_optimizer("optax.adam", 0.1), "update")
    with pytest.raises(InputError, match="unknown optimizer 'lion'; known: sgd, momentum"):
        named_optimizer("lion", 0.1)
    with pytest.raises(InputError, match="optax has no such function"):
        named_optimizer("optax.nothing", 0.1)


def test_optax_missing_names_the_extra(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "optax", None)  # import optax now fails
    with pytest.raises(InputError, match=r"pip install 'fdiff\[optax\]'"):
        named_optimizer("optax.adam", 0.1)


@pytest.mark.parametrize(
    ("optimizers", "message"),
    [({}, "at least one optimizer"), ({"x": 3}, "expected an optax"), ({"x": "adam"}, "a name")],
)
def test_bad_optimizers_are_refused(optimizers, message):
    with pytest.raises(InputError, match=message):
        optimizer_paths(QUADRATIC, STARTS, optimizers)


def test_a_factory_must_make_an_fdiff_torch_optimizer():
    with pytest.raises(InputError, match=r"not an fdiff\.torch\.optim optimizer"):
        optimizer_paths(QUADRATIC, STARTS, {"x": lambda params: object()})
