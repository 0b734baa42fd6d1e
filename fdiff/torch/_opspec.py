"""The op table's entry type :class:`OpSpec`, the :func:`op` decorator and the registry ``OPS``.

The ops themselves are defined in :mod:`~fdiff.torch._ops` and :mod:`~fdiff.torch._nn_ops`;
``@op(...)`` turns each implementation into its ``OpSpec``, bound to the implementation's name,
so call sites hold the entry itself (``ops.add``) and a misspelt op fails at import.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable

import jax

from fdiff.torch import _caches


@dataclasses.dataclass(frozen=True, eq=False)  # hashed by identity: cheap in graph keys
class OpSpec:
    """One torch op: its implementation, grad_fn name and autograd properties.

    ``grad_fn`` is what torch's ``grad_fn.name()`` returns, or a function of the input shapes
    returning it (torch names ``matmul``'s node after the shapes, e.g. ``MmBackward0`` or
    ``DotBackward0``). torch's hand-written nodes carry a namespace there
    (``torch::autograd::CopySlices``); their class name, which reprs print, is the last part.
    ``saves`` says whether torch's node keeps tensors for backward, which decides whether a
    second backward without ``retain_graph`` fails. ``differentiable=False`` ops (comparisons,
    argmax) never record a node. ``jitted`` is ``jax.jit(impl)`` with the keyword-only
    arguments static.

    >>> from fdiff.torch import _ops
    >>> _ops.mul.name, _ops.mul.grad_fn_name((2,), (2,)), _ops.mul.saves
    ('mul', 'MulBackward0', True)
    """

    name: str
    impl: Callable[..., jax.Array]
    grad_fn: str | Callable[..., str]
    saves: bool = True
    differentiable: bool = True
    jitted: Callable[..., jax.Array] = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        params = inspect.signature(self.impl).parameters.values()
        static = tuple(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)
        name = f"fdiff.torch._ops.{self.name}.jitted"
        jitted = _caches.jit(self.impl, name, static_argnames=static)
        object.__setattr__(self, "jitted", jitted)

    def grad_fn_name(self, *shapes: tuple[int, ...] | None) -> str:
        """The torch grad_fn class name for inputs of these shapes."""
        return self.grad_fn if isinstance(self.grad_fn, str) else self.grad_fn(*shapes)


OPS: dict[str, OpSpec] = {}
"""Every op, by torch's name: the enumerable registry (call sites use the bound entries)."""


def op(
    grad_fn: str | Callable[..., str], *, saves: bool = True, differentiable: bool = True
) -> Callable[[Callable[..., jax.Array]], OpSpec]:
    """Register the decorated jnp implementation under its function name; returns its OpSpec.

    A trailing underscore is dropped from the registered name (``sum_`` is torch's ``sum``).
    """

    def register(impl: Callable[..., jax.Array]) -> OpSpec:
        name = impl.__name__.rstrip("_")
        if name in OPS:
            raise ValueError(f"op `{name}` is registered twice")
        spec = OPS[name] = OpSpec(name, impl, grad_fn, saves, differentiable)
        return spec

    return register
