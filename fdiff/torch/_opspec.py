"""The op table's entry type :class:`OpSpec`, the :func:`op` decorator and the registry ``OPS``.

The ops themselves are defined in :mod:`~fdiff.torch._ops` and :mod:`~fdiff.torch._nn_ops`;
``@op(...)`` turns each implementation into its ``OpSpec``, bound to the implementation's name,
so call sites hold the entry itself (``ops.add``) and a misspelt op fails at import.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from fdiff.torch import _caches


class Promotion(NamedTuple):
    """How an op's inputs take part in torch's type promotion: positional inputs from ``first``
    on (``where``'s condition does not), and ``to_float`` for true division (integers divide
    into the default float)."""

    first: int = 0
    to_float: bool = False


def _promoting(impl: Callable[..., jax.Array], first: int) -> Callable[..., jax.Array]:
    """``impl`` with a ``promote_to`` keyword: the dtype its promoted inputs are cast to first
    (the dispatcher passes it only where torch's result dtype is not JAX's)."""

    def promoting(*values: Any, promote_to: Any = None, **static: Any) -> jax.Array:
        if promote_to is not None:
            values = (*values[:first], *(jnp.asarray(v, promote_to) for v in values[first:]))
        return impl(*values, **static)

    promoting.__name__ = promoting.__qualname__ = impl.__name__
    promoting.__doc__ = impl.__doc__
    return promoting


@dataclasses.dataclass(frozen=True, eq=False)  # hashed by identity: cheap in graph keys
class OpSpec:
    """One torch op: its implementation, grad_fn name and autograd properties.

    ``grad_fn`` is what torch's ``grad_fn.name()`` returns, or a function of the input shapes
    returning it (torch names ``matmul``'s node after the shapes, e.g. ``MmBackward0`` or
    ``DotBackward0``). torch's hand-written nodes carry a namespace there
    (``torch::autograd::CopySlices``); their class name, which reprs print, is the last part.
    ``saves`` says whether torch's node keeps tensors for backward, which decides whether a
    second backward without ``retain_graph`` fails. ``differentiable=False`` ops (comparisons,
    argmax) never record a node. ``promotes`` says which inputs follow torch's type promotion
    (:class:`Promotion`); ``impl`` then takes a ``promote_to`` keyword (see
    :func:`~fdiff.torch._dtypes.promotion`). ``jitted`` is ``jax.jit(impl)`` with the
    keyword-only arguments static.

    >>> from fdiff.torch import _ops
    >>> _ops.mul.name, _ops.mul.grad_fn_name((2,), (2,)), _ops.mul.saves
    ('mul', 'MulBackward0', True)
    """

    name: str
    impl: Callable[..., jax.Array]
    grad_fn: str | Callable[..., str]
    saves: bool = True
    differentiable: bool = True
    promotes: Promotion | None = None
    jitted: Callable[..., jax.Array] = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        params = inspect.signature(self.impl).parameters.values()
        static = tuple(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)
        if self.promotes is not None:
            object.__setattr__(self, "impl", _promoting(self.impl, self.promotes.first))
            static += ("promote_to",)
        name = f"fdiff.torch._ops.{self.name}.jitted"
        jitted = _caches.jit(self.impl, name, static_argnames=static)
        object.__setattr__(self, "jitted", jitted)

    def grad_fn_name(self, *shapes: tuple[int, ...] | None) -> str:
        """The torch grad_fn class name for inputs of these shapes."""
        return self.grad_fn if isinstance(self.grad_fn, str) else self.grad_fn(*shapes)


OPS: dict[str, OpSpec] = {}
"""Every op, by torch's name: the enumerable registry (call sites use the bound entries)."""


def op(
    grad_fn: str | Callable[..., str],
    *,
    saves: bool = True,
    differentiable: bool = True,
    promotes: Promotion | None = None,
) -> Callable[[Callable[..., jax.Array]], OpSpec]:
    """Register the decorated jnp implementation under its function name; returns its OpSpec.

    A trailing underscore is dropped from the registered name (``sum_`` is torch's ``sum``).
    """

    def register(impl: Callable[..., jax.Array]) -> OpSpec:
        name = impl.__name__.rstrip("_")
        if name in OPS:
            raise ValueError(f"op `{name}` is registered twice")
        spec = OPS[name] = OpSpec(name, impl, grad_fn, saves, differentiable, promotes)
        return spec

    return register
