"""Tensors holding JAX arrays, concrete or traced: conversions both ways and the trace guards.

A tensor's storage may hold any JAX array, a tracer included, so torch-style code (ops, modules,
losses) runs inside ``jax.jit``, ``jax.grad``, ``jax.vmap``, ``jax.lax.scan`` and
``jax.checkpoint``: every op's jitted implementation called on tracers is inlined into the
enclosing trace. :func:`from_jax` wraps an array, ``t.jax()`` unwraps one, and ``Tensor`` is a
JAX pytree (one child, its value), so ``jax.jit`` and ``jax.vmap`` take and return tensors.

What cannot work on a traced value raises instead of freezing it: reading it into Python
(``bool()``, ``if``, ``.item()``, ``float()``, ``.tolist()``, ``.numpy()``) under ``jax.jit``,
``vmap`` or ``scan`` raises :class:`TracedValueError`, a ``jax.errors.ConcretizationTypeError``
naming the torch-style line (under ``jax.grad`` alone the value is known and is read);
a draw from torch's generator (host NumPy) under ``jax.jit``, ``vmap`` or ``scan`` raises
:class:`~fdiff.torch.UnsupportedError`, since the trace would replay one draw forever.

>>> import jax
>>> import jax.numpy as jnp
>>> import fdiff.torch as torch
>>> jax.jit(lambda x: torch.sin(from_jax(x)).jax())(jnp.zeros(2))
Array([0., 0.], dtype=float32)
>>> jax.jit(lambda t: t * 2)(torch.ones(2))
tensor([2., 2.])
"""

from __future__ import annotations

import contextlib
import contextvars
import linecache
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
from jax._src import core as _jax_core  # trace_ctx: the one way to ask "am I being traced?"

from fdiff.torch._errors import UnsupportedError
from fdiff.torch._tensor_base import TensorBase, new_tensor

_LIBRARY_DIRS = (str(Path(jax.__file__).resolve().parent), str(Path(__file__).resolve().parents[1]))
_REPLAYING_TRACES = frozenset({"DynamicJaxprTrace", "BatchTrace"})
"""The traces under which a host-side draw would be frozen (jit, scan, checkpoint) or shared by
a whole batch (vmap). ``jax.grad`` and ``jax.vjp`` run the function once per call: a draw there
is fresh each time, as in eager torch."""

HINT = (
    "inside a JAX transform (jax.jit, jax.grad, jax.vmap, jax.lax.scan, ...) a tensor holds a "
    "traced value, not a number. For a data-dependent choice of values use torch.where(cond, a, "
    "b); for data-dependent control flow use jax.lax.cond / jax.lax.while_loop; or read the "
    "value outside the transform."
)


def under_transform() -> bool:
    """Whether a JAX transform (``jit``, ``grad``, ``vmap``...) is tracing the caller.

    >>> under_transform(), jax.jit(lambda x: x + under_transform())(0)
    (False, Array(1, dtype=int32, weak_type=True))
    """
    return not _jax_core.trace_ctx.is_top_level()


class TracedValueError(jax.errors.ConcretizationTypeError):
    """Python asked for the value of a tensor that holds a JAX tracer (``bool()``, ``if``,
    ``.item()``, ``float()``, ``.tolist()``, ``.numpy()``): a ``ConcretizationTypeError``
    naming the torch-style line that asked.

    >>> import jax
    >>> import fdiff.torch as torch
    >>> def sign(t):
    ...     return t if t.sum() > 0 else -t
    >>> try:
    ...     jax.jit(sign)(torch.ones(2))
    ... except jax.errors.ConcretizationTypeError as error:
    ...     print(str(error).splitlines()[1])
    fdiff.torch: `bool(tensor)` needs a traced tensor's value in Python, at <doctest ...>:2
    """

    def __init__(self, tracer: Any, what: str) -> None:
        where, code = user_line()
        context = f"fdiff.torch: `{what}` needs a traced tensor's value in Python, at {where}\n"
        if code:
            context += f"    {code}\n"
        super().__init__(tracer, context + HINT + "\n")
        page = "jax.errors.ConcretizationTypeError"  # JAX's link names the class: its parent's
        self.args = (self.args[0].replace(f"jax.errors.{type(self).__name__}", page),)
        self.where = where


def user_line() -> tuple[str, str]:
    """``("file:line", source)`` of the innermost calling frame outside fdiff and JAX."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARY_DIRS):
        frame = frame.f_back
    if frame is None:
        return "<unknown>", ""
    filename, line = frame.f_code.co_filename, frame.f_lineno
    return f"{filename}:{line}", linecache.getline(filename, line).strip()


def is_traced(value: Any) -> bool:
    """Whether ``value`` is a JAX tracer (the value of a tensor inside a transform)."""
    return isinstance(value, jax.core.Tracer)


def is_concrete_array(value: Any) -> bool:
    """Whether ``value`` is a JAX array Python can read (not a tracer, not a placeholder)."""
    return isinstance(value, jax.Array) and not is_traced(value)


def unsupported(op: str, hint: str) -> UnsupportedError:
    """:class:`~fdiff.torch.UnsupportedError` for ``op``, its message ending with ``hint``."""
    error = UnsupportedError(op)
    error.args = (f"fdiff.torch does not support {op}: {hint}",)
    return error


def concrete(tensor: TensorBase, what: str) -> jax.Array:
    """``tensor``'s value, for Python to read; :class:`TracedValueError` when it is traced and
    not concrete (under ``jax.jit``, ``vmap``, ``scan``; ``jax.grad`` alone keeps the values
    concrete, so Python control flow works there, as it does for JAX's own arrays)."""
    value = tensor._value
    if is_traced(value):
        known = value.to_concrete_value()
        if known is None:
            raise TracedValueError(value, what)
        return known
    return value


_vmap_randomness: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "vmap_randomness", default=None
)
"""``torch.func.vmap``'s ``randomness`` while it traces: ``"same"`` lets a draw be one value
for the whole batch, as torch's does; ``"error"`` raises torch's error."""


@contextlib.contextmanager
def vmap_randomness(randomness: str) -> Iterator[None]:
    """Draws while ``torch.func.vmap`` traces follow its ``randomness`` (``"same"``/``"error"``)."""
    token = _vmap_randomness.set(randomness)
    try:
        yield
    finally:
        _vmap_randomness.reset(token)


def check_host_draw(function: str) -> None:
    """Refuse a host-side draw (torch's generator, in NumPy) while ``jax.jit``, ``scan`` or
    ``vmap`` traces: the trace would hold one draw, replayed on every call or batch element.
    Inside ``torch.func.vmap``, its ``randomness`` decides (see :func:`vmap_randomness`)."""
    randomness = _vmap_randomness.get()
    if randomness == "same":
        return
    if randomness == "error":
        raise RuntimeError(
            "vmap: called random operation while in randomness error mode. Please either use "
            "the 'same' or 'different' randomness flags on vmap or perform the randomness "
            "operation out of vmap"
        )
    if type(_jax_core.trace_ctx.trace).__name__ in _REPLAYING_TRACES:
        raise unsupported(
            f"`{function}` inside jax.jit / jax.vmap / jax.lax.scan",
            "torch's generator draws on the host, once, when JAX traces; draw outside and pass "
            "the values in, or use jax.random with an explicit key",
        )


def check_grad_escape(leaf: TensorBase, grad: jax.Array) -> None:
    """Refuse to accumulate a traced gradient into a leaf holding a concrete value: the leaf
    (a module's parameter) outlives the transform, so its ``.grad`` would hold a leaked tracer.
    A leaf made inside the transform from a traced value (``from_jax(x, requires_grad=True)``)
    takes its traced gradient."""
    if is_traced(grad) and not is_traced(leaf._value):
        raise unsupported(
            "backward() inside a JAX transform into a leaf made outside it",
            "its .grad would hold a tracer that escapes the transform; differentiate with "
            "jax.grad over torch.func.functional_call, or make the leaf inside the transform "
            "with torch.from_jax(x, requires_grad=True)",
        )


def from_jax(array: jax.Array, *, requires_grad: bool = False) -> Any:
    """A tensor holding ``array``, a concrete JAX array or a tracer (no copy: JAX arrays are
    immutable, so an in-place op on the tensor gives it a new array and ``array`` is unchanged).

    >>> import jax.numpy as jnp
    >>> from_jax(jnp.arange(3.0), requires_grad=True)
    tensor([0., 1., 2.], requires_grad=True)
    """
    if not isinstance(array, jax.Array):
        raise TypeError(f"from_jax(): expected a jax.Array, got {type(array).__name__}")
    if array.weak_type:  # a Python scalar's JAX type: give it its dtype, as torch's tensors have
        array = jnp.asarray(array, dtype=array.dtype)
    return new_tensor(array).requires_grad_(requires_grad)


def to_jax(tensor: TensorBase) -> jax.Array:
    """``t.jax()``: the tensor's value as a JAX array (a tracer inside a transform). The autograd
    graph is not part of it: JAX's transforms differentiate what they trace.

    >>> import fdiff.torch as torch
    >>> torch.ones(2).jax()
    Array([1., 1.], dtype=float32)
    """
    return tensor._value


def _flatten(tensor: TensorBase) -> tuple[tuple[jax.Array], bool]:
    if tensor._node is not None:
        raise unsupported(
            "a tensor with a grad_fn as a JAX pytree (jax.jit / jax.vmap / jax.tree of it)",
            "its autograd graph cannot cross a JAX transform; detach() it, run under "
            "torch.no_grad(), or pass the parameters in with torch.func.functional_call",
        )
    return (tensor._value,), tensor._requires_grad


def _unflatten(requires_grad: bool, children: tuple) -> Any:
    tensor = new_tensor(children[0])  # JAX may pass placeholders here: no checks on the value
    tensor._requires_grad = requires_grad
    return tensor


def register_pytree(cls: type) -> None:
    """Make ``cls`` (``Tensor``, ``nn.Parameter``) a JAX pytree: its one child is its value,
    its aux data whether it is a leaf requiring grad; it unflattens to a plain tensor."""
    jax.tree_util.register_pytree_node(cls, _flatten, _unflatten)
