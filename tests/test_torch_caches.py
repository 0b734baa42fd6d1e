"""``fdiff.torch.clear_caches()`` empties every cache fdiff.torch keeps; none is unregistered."""

from __future__ import annotations

import functools
import importlib
import pkgutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from support import assert_same, run_both

import fdiff.torch
from fdiff.torch import _caches, _capture, _ops

# Module-level dicts that are tables, not caches: a new dict global must be added here (and
# then not be a cache) or be made through ``_caches``.
NOT_CACHES = {
    "fdiff.torch._caches.CACHES",
    "fdiff.torch._creation._NUMPY_DTYPES",
    "fdiff.torch._deferred._EXAMPLE_SCALARS",
    "fdiff.torch._dtypes._BY_STORAGE",
    "fdiff.torch._dtypes.BY_NUMPY",
    "fdiff.torch._dtypes.C_TYPE_NAMES",
    "fdiff.torch._dtypes.SCALAR_TYPE_NAMES",
    "fdiff.torch._dtypes._SCALAR_DTYPES",
    "fdiff.torch._indexing._LONE_ITEM",
    "fdiff.torch._inplace._SCALAR_TYPE_NAMES",
    "fdiff.torch._tensor._BASIC_INDEX",
    "fdiff.torch._opspec.OPS",
    "fdiff.torch._ops.OPS",
    "fdiff.torch._printing._NUMPY_DTYPES",
    "fdiff.torch._python_reads._derived",  # tensors of comparisons, each entry ends with it
    "fdiff.torch._saving.SAVES",
    "fdiff.torch._saving.SCALAR_TYPE_NAMES",
}


def _modules():
    yield fdiff.torch
    for info in pkgutil.walk_packages(fdiff.torch.__path__, "fdiff.torch."):
        yield importlib.import_module(info.name)


def _globals():
    for module in _modules():
        for name, value in vars(module).items():
            yield f"{module.__name__}.{name}", value


def _fill_every_cache():
    torch = fdiff.torch
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    optimizers = [
        torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
        *(kind(model.parameters()) for kind in (torch.optim.Adam, torch.optim.RMSprop)),
        torch.optim.Adagrad(model.parameters()),
        *(kind(model.parameters()) for kind in (torch.optim.Adamax, torch.optim.NAdam)),
        *(kind(model.parameters()) for kind in (torch.optim.RAdam, torch.optim.Adadelta)),
    ]
    x = torch.randn(4, 3)
    for optimizer in optimizers:
        for _ in range(2):
            optimizer.zero_grad()
            loss = ((model(x) - 1) ** 2).mean()
            loss.backward()  # the compiled backward, the deferred shapes
            optimizer.step()  # the update and its options array
    w = torch.ones(2, requires_grad=True)
    (w * 2).sum().backward()
    (w * 3).sum().backward()  # accumulates into an existing .grad, inside the compiled backward
    w.backward(torch.ones(2))  # a leaf's own backward adds eagerly
    torch.autograd.grad((w**3).sum(), w, create_graph=True)  # which leaves its gradient uses
    w.grad.zero_()  # a plain tensor: the cached zeros
    _capture.STATE.enabled = False  # without step capture, a deferred value: one replay
    (torch.exp(w) + 1).tolist()
    _capture.STATE.enabled = True
    (x * 2).tolist()  # no grad: captured, then one compiled program of the trace
    (x > 0).tolist()  # no derivative: not captured, the op's own jitted function

    class Twice(torch.autograd.Function):
        forward = staticmethod(lambda ctx, a: a * 2)
        backward = staticmethod(lambda ctx, g: g * 2)

    Twice.apply(w).sum().backward()  # a custom Function: its op, program and traceability


@pytest.mark.slow
def test_clear_caches_empties_every_registered_cache():
    _fill_every_cache()
    filled = _caches.sizes()
    not_ops = {name for name in filled if not name.startswith("fdiff.torch._ops.")}
    assert not_ops == {
        "fdiff.torch._autograd._add_jit",
        "fdiff.torch._autograd._gradient_dependence",
        "fdiff.torch._capture.TRIE",
        "fdiff.torch._capture.programs",
        "fdiff.torch._deferred._cached_aval",
        "fdiff.torch._dispatch._saved_plan",
        "fdiff.torch._graph.compiled_gradients",
        "fdiff.torch._graph.compiled_replay",
        "fdiff.torch._inplace._zeros",
        "fdiff.torch.autograd.function._program",
        "fdiff.torch.autograd.function._spec",
        "fdiff.torch.autograd.function._traceable",
        "fdiff.torch.optim._optimizer.hyperparameters",
        "fdiff.torch.optim.adadelta._adadelta_update",
        "fdiff.torch.optim.adagrad._adagrad_update",
        "fdiff.torch.optim.adam._adam_update",
        "fdiff.torch.optim.adamax._adamax_update",
        "fdiff.torch.optim.nadam._nadam_update",
        "fdiff.torch.optim.radam._radam_update",
        "fdiff.torch.optim.rmsprop._rmsprop_update",
        "fdiff.torch.optim.sgd._sgd_update",
    }
    assert {name: filled[name] for name in not_ops if not filled[name]} == {}
    assert filled[f"fdiff.torch._ops.{_ops.gt.name}.jitted"] > 0
    fdiff.torch.clear_caches()
    assert set(_caches.sizes().values()) == {0}


def test_every_cache_in_the_package_is_registered():
    registered = {cache.clear for cache in _caches.CACHES.values()}
    for name, value in _globals():
        if isinstance(value, functools._lru_cache_wrapper):
            assert value.cache_clear in registered, f"{name} is an unregistered lru_cache"
        elif isinstance(value, type(jax.jit(abs))):
            raise AssertionError(f"{name}: a jax.jit outside _caches (unbounded shapes)")
        elif isinstance(value, _caches.Program):
            assert value.clear_cache in registered, f"{name} is an unregistered Program"
        elif isinstance(value, _caches.Programs):
            assert value.clear in registered, f"{name} is an unregistered Programs"
        elif isinstance(value, dict) and not name.rpartition(".")[2].startswith("__"):
            assert name in NOT_CACHES, f"{name}: a module-level dict; a cache?"
    for spec in _ops.OPS.values():
        assert spec.jitted.clear_cache in registered, spec.name


def test_results_stay_right_after_clearing():
    torch = fdiff.torch
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    (w**2).sum().backward()
    fdiff.torch.clear_caches()
    (w**2).sum().backward()  # compiles again and accumulates: d/dw w^2 = 2w, twice
    assert w.grad.tolist() == [4.0, 8.0]


# --- bounded by compiled shapes ---------------------------------------------------------------


@pytest.fixture
def small_limits(monkeypatch):
    """Compiled-shape limits small enough that a few shapes pass them; caches empty around."""
    fdiff.torch.clear_caches()
    monkeypatch.setattr(_caches.LIMITS, "per_program", 3)
    monkeypatch.setattr(_caches.LIMITS, "total", 5)
    yield _caches.LIMITS
    fdiff.torch.clear_caches()


def _programs():
    """Every compiled program of fdiff.torch that holds compiled shapes now."""
    return list(_caches._holding)


def _within(limits) -> None:
    assert all(p.compiled <= limits.per_program for p in _programs())
    assert _caches.compiled_total() <= limits.total
    assert _caches.compiled_total() == sum(p.jitted._cache_size() for p in _programs())


def test_a_program_past_its_limit_is_cleared_and_compiles_again(small_limits):
    add_one = _caches.Program(lambda x: x + 1)
    held = []
    for n in (1, 2, 3, 4, 1):
        assert add_one(jnp.zeros(n)).tolist() == [1.0] * n
        held.append(add_one.compiled)
        _within(small_limits)
    assert held == [1, 2, 3, 0, 1]  # the 4th shape cleared all, the 1st compiled again


def test_past_the_total_the_least_recently_used_program_is_cleared(small_limits):
    older, newer = _caches.Program(jnp.sin), _caches.Program(jnp.cos)
    for n in (1, 2, 3):
        older(jnp.zeros(n))
    newer(jnp.zeros(1))
    newer(jnp.zeros(2))  # 3 + 2 = 5 shapes: at the total
    assert (older.compiled, newer.compiled) == (3, 2)
    newer(jnp.zeros(3))  # 6: `older`, used least recently, is cleared
    assert (older.compiled, newer.compiled) == (0, 3)
    _within(small_limits)


def test_structures_beyond_maxsize_are_dropped_with_their_shapes():
    name = "tests.test_torch_caches.powers"
    powers = _caches.Programs(name, lambda k: lambda x: x**k, maxsize=2)
    try:
        assert [float(powers(k)(2.0)) for k in (1, 2, 3)] == [2.0, 4.0, 8.0]
        assert _caches.sizes()[name] == 2  # key 1, the least recently used, was dropped
        assert float(powers(1)(2.0)) == 2.0  # made again
        powers.clear()
        assert _caches.sizes()[name] == 0
    finally:
        _caches.unregister(name)


def _changing_batch_loop(torch, sizes):
    """An MLP step per batch size, weights and data from NumPy (the same in both engines); the
    loss and the parameters' gradients of every step."""
    data = np.random.default_rng(5)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.tensor(data.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    steps = []
    for n in sizes:
        x = torch.tensor(data.normal(size=(n, 4)).astype(np.float32))
        y = torch.tensor(data.normal(size=(n, 1)).astype(np.float32))
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        steps.append([loss.detach(), *(p.grad.clone() for p in model.parameters())])
        optimizer.step()
    return steps


@pytest.mark.slow
def test_gradients_stay_torchs_past_the_cache_limits(real_torch, small_limits):
    sizes = [1, 2, 3, 4, 2, 5]  # past 3 shapes per program and 5 in all, one again
    compiled = []
    original = _caches._compiled

    def counting(program):
        compiled.append(program)
        original(program)
        _within(small_limits)  # after every compile, never only at the end

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_caches, "_compiled", counting)
        actual, expected = run_both(real_torch, lambda torch: _changing_batch_loop(torch, sizes))
    assert_same(actual, expected)
    backward = [  # the eager path's compiled backward, or step capture's program
        p for p in compiled if p in fdiff.torch._graph.compiled_gradients or p in _capture.programs
    ]
    assert len(backward) >= len(set(sizes)) + 1  # evicted, then compiled again


def test_op_programs_stay_within_their_limit(small_limits):
    for n in range(1, 8):
        (fdiff.torch.ones(n) * 2).tolist()
        _within(small_limits)
    assert _ops.mul.jitted.compiled <= small_limits.per_program


# --- creation in the final dtype --------------------------------------------------------------


def test_creation_built_in_its_final_dtype_equals_torchs(real_torch):
    def created(torch):
        return [
            torch.zeros(2, 3),
            torch.ones((4,), dtype=torch.int64),
            torch.full((2, 2), 2.7, dtype=torch.int64),  # the fill value cast as torch casts it
            torch.full((3,), True),
            torch.full((2,), 7),
            torch.empty(0, 2).shape,
            torch.zeros(3, requires_grad=True),
            torch.arange(5),
            torch.arange(-7, 20, 4),
            torch.arange(10, 0, -0.7),
            torch.arange(0, 1, 0.1),
            torch.arange(3, dtype=torch.float32),
        ]

    actual, expected = run_both(real_torch, created)
    assert_same(actual, expected, rtol=0, atol=0)
