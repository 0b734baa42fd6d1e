"""Every cache fdiff.torch keeps, registered where it is made, so ``clear_caches()`` misses none.

A cache is made through :func:`lru_cache`, :class:`Program` / :func:`jit` or :class:`Programs`
(or registered with :func:`register`); each is bounded by entries, and :func:`clear_caches`
empties them all, e.g. to release compiled programs after a long session.

Compiled programs are bounded by the shapes they were compiled for, not only by how many there
are: XLA compiles one executable per input shape (about 5 MB of memory each for a small MLP's
backward, 1 MB for one op), so a loop whose batch size changes every step would otherwise grow
without end. A :class:`Program` counts its compiled shapes after each call: past
``LIMITS.per_program`` its cache is cleared, and while all programs together hold more than
``LIMITS.total`` the least recently used ones are cleared.

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

import dataclasses
import functools
import itertools
import weakref
from collections.abc import Callable, Hashable
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


# --- compiled programs ------------------------------------------------------------------------


@dataclasses.dataclass
class Limits:
    """How many compiled shapes one program keeps, and all programs together."""

    per_program: int = 32
    total: int = 64


LIMITS = Limits()
_clock = itertools.count()
_holding: weakref.WeakSet[Program] = weakref.WeakSet()  # programs with compiled shapes


class Program:
    """``jax.jit(function, **options)`` whose compiled shapes count against :data:`LIMITS`.

    >>> import jax.numpy as jnp
    >>> double = Program(lambda x: 2 * x)
    >>> double(jnp.ones(2)), double(jnp.ones(3)), double.compiled
    (Array([2., 2.], dtype=float32), Array([2., 2., 2.], dtype=float32), 2)
    >>> double.clear_cache(); double.compiled
    0
    """

    __slots__ = ("__weakref__", "compiled", "jitted", "used")

    def __init__(self, function: Callable[..., Any], **options: Any) -> None:
        self.jitted = jax.jit(function, **options)
        self.compiled = 0  # shapes (signatures) compiled, as last counted
        self.used = 0  # when last called, on ``_clock``

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = self.jitted(*args, **kwargs)
        self.used = next(_clock)
        if self.jitted._cache_size() != self.compiled:
            _compiled(self)
        return out

    def clear_cache(self) -> None:
        """Drop every compiled shape (the next call compiles again)."""
        self.jitted.clear_cache()
        self.compiled = 0
        _holding.discard(self)


def _compiled(program: Program) -> None:
    """``program`` compiled a shape: enforce the limits, clearing least recently used first."""
    program.compiled = program.jitted._cache_size()
    if program.compiled > LIMITS.per_program:
        program.clear_cache()
        return
    _holding.add(program)
    held = compiled_total()
    while held > LIMITS.total:
        oldest = min(_holding, key=lambda p: p.used)
        held -= oldest.compiled
        oldest.clear_cache()


def compiled_total() -> int:
    """The number of compiled shapes all programs hold."""
    return sum(program.compiled for program in _holding)


def jit(function: Callable[..., Any], name: str | None = None, **options: Any) -> Program:
    """A :class:`Program` of ``function``, its compiled shapes registered (under ``name``)."""
    program = Program(function, **options)
    register(name or _name(function), program.clear_cache, lambda: program.compiled)
    return program


class Programs:
    """One :class:`Program` per key (a graph structure): ``make(key)`` jitted; at most
    ``maxsize`` keys, the least recently used dropped first; registered under ``name``, its
    size the compiled shapes its programs hold.

    >>> powers = Programs("fdiff.torch._caches.powers", lambda k: lambda x: x**k, maxsize=2)
    >>> powers(2)(3.0), sizes()["fdiff.torch._caches.powers"]
    (Array(9., dtype=float32, weak_type=True), 1)
    >>> unregister("fdiff.torch._caches.powers")
    """

    def __init__(self, name: str, make: Callable[..., Callable[..., Any]], maxsize: int):
        self._make = make
        self._maxsize = maxsize
        self._programs: dict[tuple, Program] = {}
        register(name, self.clear, self.size)

    def __call__(self, *key: Hashable) -> Program:
        """The program of ``make(*key)``."""
        program = self._programs.get(key)
        if program is None:
            if len(self._programs) >= self._maxsize:
                oldest = min(self._programs, key=lambda k: self._programs[k].used)
                self._programs.pop(oldest).clear_cache()
            program = self._programs[key] = Program(self._make(*key))
        return program

    def __contains__(self, program: object) -> bool:
        """Whether ``program`` is one of this cache's programs now."""
        return any(program is held for held in self._programs.values())

    def clear(self) -> None:
        for program in self._programs.values():
            program.clear_cache()
        self._programs.clear()

    def size(self) -> int:
        return sum(program.compiled for program in self._programs.values())


def clear_caches() -> None:
    """Empty every cache fdiff.torch keeps (compiled programs, shapes, constants).

    Results stay correct afterwards; the next ops and backwards compile again.
    """
    for cache in CACHES.values():
        cache.clear()


def sizes() -> dict[str, int]:
    """The number of entries in each registered cache, by name."""
    return {name: cache.size() for name, cache in CACHES.items()}
