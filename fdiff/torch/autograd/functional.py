"""``torch.autograd.functional`` on JAX transforms: ``jacobian``, ``hessian``, ``vjp``, ``jvp``,
``hvp``, ``vhp``, with torch's signatures and return structures.

A single tensor ``inputs`` gives single results; a tuple gives tuples (and a Jacobian of a tuple
of outputs is a tuple, per output, of tuples per input). The results do not require grad, as
torch's without ``create_graph``. ``vectorize`` only changes how torch loops, so it is accepted;
``strategy="forward-mode"`` uses ``jax.jacfwd`` (torch requires ``vectorize=True`` for it).
With ``create_graph=True`` or ``strict=True`` the results come from torch's own algorithm on the
recorded autograd instead (:mod:`._functional_graph`): they carry a graph, and independent
outputs raise, exactly where torch's do.

>>> import fdiff.torch as torch
>>> jacobian(lambda x: x**2, torch.tensor([1.0, 3.0]))
tensor([[2., 0.],
        [0., 6.]])
>>> hvp(lambda x: (x**3).sum(), torch.tensor([1.0, 2.0]), torch.tensor([1.0, 1.0]))
(tensor(9.), tensor([ 6., 12.]))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax

from fdiff.torch._tensor_base import TensorBase
from fdiff.torch._traced import as_jax_function, to_tensors
from fdiff.torch.autograd import _functional_graph as on_graph

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]

_STRATEGIES = ("forward-mode", "reverse-mode")


def _as_tuple(inputs: Any) -> tuple[tuple, bool]:
    """``inputs`` as a tuple, and whether it was one."""
    return (tuple(inputs), True) if isinstance(inputs, tuple | list) else ((inputs,), False)


def _values(tensors: tuple) -> tuple:
    for i, t in enumerate(tensors):
        if not isinstance(t, TensorBase):
            raise TypeError(
                "The inputs given to jacobian must be either a Tensor or a tuple of Tensors but "
                f"the value at index {i} has type {type(t)}."
            )
    return tuple(t.detach()._value for t in tensors)


def _strategy(strategy: str, vectorize: bool, create_graph: bool, strict: bool) -> Callable:
    """The JAX transform of ``strategy``, after torch's checks of the combination."""
    if strategy not in _STRATEGIES:
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more performant. '
            'Otherwise, prefer to use "reverse-mode".'
        )
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.'
            )
        if strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`strict=False` or `strategy="reverse-mode"`.'
            )
        if not vectorize:
            raise NotImplementedError(
                "Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                "only implemented for `vectorize=True`."
            )
        return jax.jacfwd
    return jax.jacrev


def jacobian(
    func: Callable[..., Any],
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """The Jacobian of ``func`` at ``inputs``: per output, per input, ``out.shape + in.shape``."""
    transform = _strategy(strategy, vectorize, create_graph, strict)
    if create_graph or strict:
        return on_graph.jacobian(func, inputs, create_graph, strict, vectorize)
    tensors, inputs_tuple = _as_tuple(inputs)
    values = _values(tensors)
    outputs = jax.eval_shape(as_jax_function(func), *values)
    outputs_tuple = isinstance(outputs, tuple | list)
    jac = transform(as_jax_function(func), argnums=tuple(range(len(values))))(*values)
    if not outputs_tuple:
        jac = (jac,)
    per_output = [j if inputs_tuple else j[0] for j in jac]
    return to_tensors(tuple(per_output) if outputs_tuple else per_output[0])


def hessian(
    func: Callable[..., Any],
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """The Hessian of a scalar ``func``: a tensor, or a tuple of tuples for tuple inputs."""
    outer = _strategy(outer_jacobian_strategy, vectorize, create_graph, strict)
    if create_graph or strict:
        return on_graph.hessian(func, inputs, create_graph, strict, vectorize)
    tensors, inputs_tuple = _as_tuple(inputs)
    values = _values(tensors)
    argnums = tuple(range(len(values)))
    result = outer(jax.jacrev(as_jax_function(func), argnums=argnums), argnums=argnums)(*values)
    return to_tensors(result if inputs_tuple else result[0][0])


def _single(result: tuple, was_tuple: bool) -> Any:
    return result if was_tuple else result[0]


def _vector(v: Any, was_tuple: bool, like: tuple) -> tuple:
    if v is None:
        if any(x.size != 1 for x in like):
            raise RuntimeError(
                "The vector v can only be None if the user-provided function returns a single "
                "Tensor with a single element."
            )
        return tuple(jax.numpy.ones_like(x) for x in like)
    vs, _ = _as_tuple(v) if was_tuple else ((v,), False)
    return _values(vs)


def vjp(
    func: Callable[..., Any],
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(inputs), v^T J)``, the VJP shaped like ``inputs``."""
    if create_graph or strict:
        return on_graph.vjp(func, inputs, v, create_graph, strict)
    tensors, inputs_tuple = _as_tuple(inputs)
    output, pullback = jax.vjp(as_jax_function(func), *_values(tensors))
    outputs, outputs_tuple = _as_tuple(output)
    cotangents = _vector(v, outputs_tuple, outputs)
    grads = pullback(cotangents if outputs_tuple else cotangents[0])
    return to_tensors((output, _single(tuple(grads), inputs_tuple)))


def jvp(
    func: Callable[..., Any],
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(inputs), J v)``, the JVP shaped like the output."""
    if create_graph or strict:
        return on_graph.jvp(func, inputs, v, create_graph, strict)
    tensors, inputs_tuple = _as_tuple(inputs)
    values = _values(tensors)
    output, tangent = jax.jvp(as_jax_function(func), values, _vector(v, inputs_tuple, values))
    return to_tensors((output, tangent))


def _second_order(name: str, func, inputs, v, create_graph, strict, order: str):
    if create_graph or strict:
        on_graph_order = on_graph.hvp if order == "hvp" else on_graph.vhp
        return on_graph_order(func, inputs, v, create_graph, strict)
    tensors, inputs_tuple = _as_tuple(inputs)
    values = _values(tensors)
    if v is None and any(x.size != 1 for x in values):
        raise RuntimeError(
            "The vector v can only be None if the input to the user-provided function is a "
            "single Tensor with a single element."
        )
    vector = _vector(v, inputs_tuple, values)
    fn = as_jax_function(func)
    output = fn(*values)
    gradient = jax.grad(fn, argnums=tuple(range(len(values))))
    if order == "hvp":
        product = jax.jvp(gradient, values, vector)[1]
    else:
        product = jax.vjp(gradient, *values)[1](vector)
    return to_tensors((output, _single(tuple(product), inputs_tuple)))


def hvp(
    func: Callable[..., Any],
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(inputs), H v)`` for a scalar ``func`` (forward over reverse)."""
    return _second_order("hvp", func, inputs, v, create_graph, strict, "hvp")


def vhp(
    func: Callable[..., Any],
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(inputs), v^T H)`` for a scalar ``func`` (reverse over reverse)."""
    return _second_order("vhp", func, inputs, v, create_graph, strict, "vhp")
