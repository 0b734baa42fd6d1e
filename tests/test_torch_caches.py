"""``fdiff.torch.clear_caches()`` empties every cache fdiff.torch keeps; none is unregistered."""

from __future__ import annotations

import functools
import importlib
import pkgutil

import jax

import fdiff.torch
from fdiff.torch import _caches, _ops

# Module-level dicts that are tables, not caches: a new dict global must be added here (and
# then not be a cache) or be made through ``_caches``.
NOT_CACHES = {
    "fdiff.torch._caches.CACHES",
    "fdiff.torch._creation._NUMPY_DTYPES",
    "fdiff.torch._deferred._EXAMPLE_SCALARS",
    "fdiff.torch._dtypes._BY_STORAGE",
    "fdiff.torch._dtypes._SCALAR_DTYPES",
    "fdiff.torch._indexing._LONE_ITEM",
    "fdiff.torch._inplace._SCALAR_TYPE_NAMES",
    "fdiff.torch._tensor._BASIC_INDEX",
    "fdiff.torch._opspec.OPS",
    "fdiff.torch._ops.OPS",
    "fdiff.torch._printing._NUMPY_DTYPES",
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
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = torch.randn(4, 3)
    for _ in range(2):
        optimizer.zero_grad()
        loss = ((model(x) - 1) ** 2).mean()
        loss.backward()  # the compiled backward, the deferred shapes
        optimizer.step()  # the SGD update and its options array
    w = torch.ones(2, requires_grad=True)
    (w * 2).sum().backward()
    (w * 3).sum().backward()  # accumulates into an existing .grad, inside the compiled backward
    w.backward(torch.ones(2))  # a leaf's own backward adds eagerly
    torch.autograd.grad((w**3).sum(), w, create_graph=True)  # which leaves its gradient uses
    w.grad.zero_()  # a plain tensor: the cached zeros
    (torch.exp(w) + 1).tolist()  # a deferred value: one replay of the recorded forward
    (x * 2).tolist()  # no grad: the op's own jitted function


def test_clear_caches_empties_every_registered_cache():
    _fill_every_cache()
    filled = _caches.sizes()
    not_ops = {name for name in filled if not name.startswith("fdiff.torch._ops.")}
    assert not_ops == {
        "fdiff.torch._autograd._add_jit",
        "fdiff.torch._autograd._gradient_dependence",
        "fdiff.torch._deferred._cached_aval",
        "fdiff.torch._graph.compiled_gradients",
        "fdiff.torch._graph.compiled_replay",
        "fdiff.torch._inplace._zeros",
        "fdiff.torch.optim._hyperparameters",
        "fdiff.torch.optim._sgd_update",
    }
    assert {name: filled[name] for name in not_ops if not filled[name]} == {}
    assert filled[f"fdiff.torch._ops.{_ops.mul.name}.jitted"] > 0
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
