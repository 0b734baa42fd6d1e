"""Gradients of intermediate values (torch's ``retain_grad``): `tap` and `intermediate_grads`.

``tap(name, x)`` is the identity unless `fdiff.functional.intermediate_grads` is tracing the
function: first in a *discovery* trace (under ``jax.eval_shape``) that records each tapped
name's shape and dtype, then in a *perturbation* trace that returns ``x + p`` for a zero input
``p`` per name, so that the gradient with respect to ``p`` is the gradient with respect to ``x``.
The active mode is kept on a per-thread stack: the one piece of hidden state this needs, because
``tap`` is called deep inside the user's function where no argument can reach it.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import jax
import jax.numpy as jnp

from fdiff.functional._vjp import backward

__all__ = ["intermediate_grads", "tap"]

T = TypeVar("T")

_modes = threading.local()

CACHED_TRACE_HINT = (
    "If `tap` is called inside a function that is `jax.jit`-compiled on its own, that "
    "function's cached trace does not call `tap` again: call `tap` outside it, and jit the "
    "whole `intermediate_grads` call instead."
)


_REPEATING = {
    ("lax/control_flow/loops.py", "scan"): "jax.lax.scan",
    ("lax/control_flow/loops.py", "fori_loop"): "jax.lax.fori_loop",
    ("lax/control_flow/loops.py", "while_loop"): "jax.lax.while_loop",
    ("lax/control_flow/loops.py", "map"): "jax.lax.map",
    ("api.py", "vmap_f"): "jax.vmap",
}
"""JAX's functions (file under ``jax/_src/``, function) that trace a body once and run it many
times: a `tap` inside one would see one perturbation for every iteration or batch element."""


def _repeating_transform() -> str | None:
    """The outermost of JAX's looping transforms between `tap` and `intermediate_grads`."""
    frame = sys._getframe(2)  # the caller of `tap`
    found = None
    while frame is not None and frame.f_globals is not globals():
        filename = frame.f_code.co_filename.replace("\\", "/")
        if "jax/_src/" in filename:
            key = (filename.rpartition("jax/_src/")[2], frame.f_code.co_name)
            found = _REPEATING.get(key, found)
        frame = frame.f_back
    return found


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
        ValueError: If the same name is tapped twice in one call, or the tap is inside
            ``jax.lax.scan``, ``fori_loop``, ``while_loop``, ``map`` or ``jax.vmap`` within
            `f` (inside `intermediate_grads`): tap the loop's stacked output instead.

    >>> import jax.numpy as jnp
    >>> tap("b", jnp.ones(2) + 2)
    Array([3., 3.], dtype=float32)
    """
    if not isinstance(name, str):
        raise TypeError(f"`tap` takes the name first, as a string; got `{name!r}`.")
    stack = _stack()
    if not stack:
        return x
    loop = _repeating_transform()
    if loop is not None:
        raise ValueError(
            f"`tap({name!r}, ...)` is called inside `{loop}`, which traces its body once and "
            "runs it many times: one perturbation would stand for every iteration and "
            "`intermediate_grads` would return their sum. For per-iteration gradients, tap a "
            "stacked zero outside the loop and add it in the body through the loop's inputs: "
            "`ps = tap(name, jnp.zeros((steps, *shape)))`, `lax.scan(lambda c, p: body(c) + p, "
            "init, ps)`: its gradient is the value's gradient at each iteration, stacked along "
            "the scan axis."
        )
    return stack[-1].visit(name, x)


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


def intermediate_grads(
    f: Callable[..., Any],
    *args: Any,
    cotangent: Any = None,
    names: str | Sequence[str] | None = None,
) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    """Gradients with respect to the inputs and the values ``f`` tags with `tap` (retain_grad).

    ``f`` is traced once under ``jax.eval_shape`` to find the tapped names and shapes, then
    differentiated with a zero input added at each tap: the gradient with respect to that input
    is the gradient with respect to the tapped value. Works under ``jax.jit`` and ``jax.vmap``
    (jit the whole call; a ``tap`` inside a separately jitted inner function is not seen again
    once that function's trace is cached, which raises a RuntimeError).

    Args:
        f: A function of floating-point arrays that calls ``tap(name, value)`` inside.
        *args: Its inputs (all differentiated, as in `backward`).
        cotangent: As in `backward`.
        names: The tapped names to return (a name or names); all of them by default.

    Returns:
        ``(out, arg_grads, {name: grad})``: the output, one gradient per argument, and the
        gradient of each chosen tapped value.

    Raises:
        ValueError: If `f` taps nothing, taps a name twice, or `names` has a name it does not
            tap; and as in `backward`.
        TypeError: As in `backward`, or if a tapped value is not floating-point.
        RuntimeError: If `f` taps different names each time it is traced.

    >>> import jax.numpy as jnp
    >>> def f(a):
    ...     b = tap("b", a + 2)
    ...     return (b**2).sum()
    >>> out, (a_grad,), inter = intermediate_grads(f, jnp.ones(2))
    >>> inter["b"]
    Array([6., 6.], dtype=float32)
    """
    found = discover(f, args)
    chosen = list(found) if names is None else [names] if isinstance(names, str) else list(names)
    if not found:
        raise ValueError(
            "`f` calls `fdiff.tap` nowhere, so there is no intermediate gradient to return: wrap "
            f"the values you want as `tap('name', value)` inside `f`. "
            f"{CACHED_TRACE_HINT}"
        )
    unknown = [name for name in chosen if name not in found]
    if unknown:
        raise ValueError(f"`names` has {unknown}, which `f` does not tap; it taps {list(found)}.")
    perturbations = {name: zero_perturbation(found[name]) for name in chosen}

    def perturbed(*inputs: Any) -> Any:
        with perturbing(found, inputs[-1]):
            return f(*inputs[:-1])

    out, grads = backward(perturbed, *args, perturbations, cotangent=cotangent)
    return out, grads[:-1], grads[-1]
