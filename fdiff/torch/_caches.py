"""Every cache fdiff.torch keeps, registered where it is made, so ``clear_caches()`` misses none.

A cache is made through :func:`lru_cache` or :func:`jit` (or registered with :func:`register`);
each is bounded, and :func:`clear_caches` empties them all, e.g. to release compiled programs
after a long session or between benchmark runs.

>>> @lru_cache(maxsize=2)
... def square(x: int) -> int:
...     return x * x
>>> square(3), sizes()["fdiff.torch._caches.square"]
(9, 1)
>>> clear_caches()
>>> sizes()["fdiff.torch._caches.square"]
0
>>> unregister("fdiff.torch._caches.square")
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

import jax

F = TypeVar("F", bound=Callable[..., Any])


class Cache(NamedTuple):
    """How to empty one cache and how to count its entries."""

    clear: Callable[[], None]
    size: Callable[[], int]


CACHES: dict[str, Cache] = {}


def register(name: str, clear: Callable[[], None], size: Callable[[], int]) -> None:
    """Register a cache under ``name`` (a dotted name saying where it lives)."""
    if name in CACHES:
        raise ValueError(f"cache `{name}` is registered twice")
    CACHES[name] = Cache(clear, size)


def unregister(name: str) -> None:
    del CACHES[name]


def _name(function: Callable[..., Any]) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def lru_cache(maxsize: int) -> Callable[[F], F]:
    """``functools.lru_cache(maxsize)``, registered."""

    def decorate(function: F) -> F:
        cached = functools.lru_cache(maxsize=maxsize)(function)
        register(_name(function), cached.cache_clear, lambda: cached.cache_info().currsize)
        return cached  # type: ignore[return-value]

    return decorate


def jit(function: Callable[..., Any], name: str | None = None, **options: Any) -> Any:
    """``jax.jit(function, **options)``, its compilation cache registered (under ``name``)."""
    jitted = jax.jit(function, **options)
    register(name or _name(function), jitted.clear_cache, jitted._cache_size)
    return jitted


def clear_caches() -> None:
    """Empty every cache fdiff.torch keeps (compiled programs, shapes, constants).

    Results stay correct afterwards; the next ops and backwards compile again.
    """
    for cache in CACHES.values():
        cache.clear()


def sizes() -> dict[str, int]:
    """The number of entries in each registered cache, by name."""
    return {name: cache.size() for name, cache in CACHES.items()}
