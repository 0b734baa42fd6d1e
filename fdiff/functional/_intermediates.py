"""Tagging intermediate values: `tap`, and the two tracing modes `intermediate_grads` runs it in.

``tap(name, x)`` is the identity unless `fdiff.functional.intermediate_grads` is tracing the
function: first in a *discovery* trace (under ``jax.eval_shape``) that records each tapped
name's shape and dtype, then in a *perturbation* trace that returns ``x + p`` for a zero input
``p`` per name, so that the gradient with respect to ``p`` is the gradient with respect to ``x``.
The active mode is kept on a per-thread stack: the one piece of hidden state this needs, because
``tap`` is called deep inside the user's function where no argument can reach it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

import jax
import jax.numpy as jnp

T = TypeVar("T")

_modes = threading.local()

CACHED_TRACE_HINT = (
    "If `tap` is called inside a function that is `jax.jit`-compiled on its own, that "
    "function's cached trace does not call `tap` again: call `tap` outside it, and jit the "
    "whole `intermediate_grads` call instead."
)


def _stack() -> list[Any]:
    if not hasattr(_modes, "stack"):
        _modes.stack = []
    return _modes.stack


@contextlib.contextmanager
def _active(mode: Any) -> Iterator[Any]:
    _stack().append(mode)
    try:
        yield mode
    finally:
        _stack().pop()


def tap(name: str, x: T) -> T:
    """Tag ``x`` as the intermediate value ``name`` (torch's ``x.retain_grad()``).

    Outside `intermediate_grads` this is the identity (and costs nothing under ``jax.jit``);
    inside it, the gradient of the output with respect to ``x`` is returned under ``name``.

    Args:
        name: A name unique within one call of the function.
        x: A floating-point array or pytree of arrays.

    Returns:
        ``x``, unchanged in value.

    Raises:
        TypeError: If `name` is not a string, or (inside `intermediate_grads`) `x` is not
            floating-point.
        ValueError: If the same name is tapped twice in one call (inside `intermediate_grads`).

    >>> import jax.numpy as jnp
    >>> tap("b", jnp.ones(2) + 2)
    Array([3., 3.], dtype=float32)
    """
    if not isinstance(name, str):
        raise TypeError(f"`tap` takes the name first, as a string; got `{name!r}`.")
    stack = _stack()
    return stack[-1].visit(name, x) if stack else x


class _Discovery:
    """Records each tapped name's shapes and dtypes (run under ``jax.eval_shape``)."""

    def __init__(self) -> None:
        self.found: dict[str, Any] = {}

    def visit(self, name: str, x: T) -> T:
        if name in self.found:
            raise ValueError(
                f"`tap` was called twice with the name `{name!r}` in one call of `f`: "
                "give each tapped value its own name."
            )
        for leaf in jax.tree.leaves(x):
            dtype = jnp.result_type(leaf)
            if not jnp.issubdtype(dtype, jnp.inexact):
                raise TypeError(
                    f"`tap({name!r}, ...)` got a value of dtype {dtype}; only floating-point "
                    "values have gradients. Tap a floating-point value, or remove the tap."
                )
        self.found[name] = jax.tree.map(
            lambda leaf: jax.ShapeDtypeStruct(jnp.shape(leaf), jnp.result_type(leaf)), x
        )
        return x


def discover(f: Any, args: tuple[Any, ...]) -> dict[str, Any]:
    """Trace ``f(*args)`` abstractly; return {name: pytree of ShapeDtypeStruct} per tap."""
    with _active(_Discovery()) as mode:
        # A fresh wrapper each time: jax.eval_shape caches traces by function, and a cached
        # trace would not call `tap` again.
        jax.eval_shape(lambda *a: f(*a), *args)
    return mode.found


def zero_perturbation(shapes: Any) -> Any:
    """Zeros for a pytree of ShapeDtypeStruct: ``-0.0``, so that ``x + p`` is ``x`` bit for bit
    (``+0.0`` would turn ``x = -0.0`` into ``+0.0``)."""
    return jax.tree.map(lambda s: jnp.full(s.shape, -0.0, s.dtype), shapes)


class _Perturbation:
    """Adds ``perturbations[name]`` at each tap with a chosen name; checks the trace matches."""

    def __init__(self, found: Mapping[str, Any], perturbations: Mapping[str, Any]) -> None:
        self.found = found
        self.perturbations = perturbations
        self.seen: set[str] = set()

    def visit(self, name: str, x: T) -> T:
        if name not in self.found or name in self.seen:
            raise RuntimeError(
                f"`tap({name!r}, ...)` was reached in a second trace of `f` but not in the first "
                "(or twice): `f` must tap the same names each time it is traced."
            )
        self.seen.add(name)
        if name not in self.perturbations:
            return x
        shapes = jax.tree.map(lambda leaf: jnp.shape(leaf), x)
        if shapes != jax.tree.map(lambda s: s.shape, self.found[name]):
            raise RuntimeError(f"`tap({name!r}, ...)` changed shape between two traces of `f`.")
        return jax.tree.map(jnp.add, x, self.perturbations[name])


@contextlib.contextmanager
def perturbing(found: Mapping[str, Any], perturbations: Mapping[str, Any]) -> Iterator[None]:
    """Within this block, taps add their perturbation; every perturbed name must be reached."""
    with _active(_Perturbation(found, perturbations)) as mode:
        yield
    missing = sorted(set(perturbations) - mode.seen)
    if missing:
        raise RuntimeError(
            f"`tap` was not reached for {missing} when `f` was traced to differentiate it, "
            f"though it was when `f` was first traced. {CACHED_TRACE_HINT}"
        )
