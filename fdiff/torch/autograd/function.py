"""``torch.autograd.Function`` on ``jax.custom_vjp``: a custom backward inside the compiled replay.

``MyFn.apply(*args)`` runs ``forward`` once, eagerly and with grad mode off, as torch does (the
outputs, ``print`` in forward, ``ctx`` attributes are torch's). When an input requires grad it
records one node per differentiable output; the node's op is a ``jax.custom_vjp`` function whose
primal and forward rule run ``forward`` again on JAX tracers and whose backward rule runs the
user's ``backward`` on tracers. So the custom Function is part of the one jitted VJP that
backward replays, and, because JAX differentiates the backward rule like any other code, a
backward written with tensor ops is itself differentiable (``create_graph=True``, double
backward). Tensors saved with ``ctx.save_for_backward`` (or stored as ``ctx`` attributes) are the
custom_vjp residuals; every other ``ctx`` attribute travels as static data.

What differs from torch, by construction: ``forward`` and ``backward`` run again when JAX traces
them (side effects such as ``print`` repeat once per compilation), a tensor a ``forward`` reads
from outside its arguments is a constant of the compiled program, and each
differentiable output is its own node, so ``backward`` runs once per output the gradient reaches,
with the other outputs' gradients zeros (``None`` after ``ctx.set_materialize_grads(False)``, as
torch passes for an output it does not reach). A ``forward`` or ``backward`` that needs Python
values of tensors (``.item()``, ``if x.sum() > 0``) cannot be traced: it runs on the host (see
:func:`_host_program`), first order only. Inside a ``torch.func`` transform, ``apply`` is the
custom_vjp function itself (torch's functorch rule: only ``setup_context``-style Functions;
``vmap`` works without a ``vmap`` rule, where torch asks for ``generate_vmap_rule=True``).

>>> import fdiff.torch as torch
>>> class Cube(torch.autograd.Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x**3
...     @staticmethod
...     def backward(ctx, grad):
...         (x,) = ctx.saved_tensors
...         return 3 * x**2 * grad
>>> x = torch.tensor([1.0, 2.0], requires_grad=True)
>>> y = Cube.apply(x)
>>> y.grad_fn.name()
'CubeBackward'
>>> (dx,) = torch.autograd.grad(y.sum(), x, create_graph=True)
>>> dx, torch.autograd.grad(dx.sum(), x)[0]
(tensor([ 3., 12.], grad_fn=<ReplayedGradBackward>), tensor([ 6., 12.]))
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import SymbolicZero

from fdiff.torch import _caches
from fdiff.torch._dispatch import _record
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._grad_mode import is_grad_enabled, set_grad_enabled
from fdiff.torch._opspec import OpSpec
from fdiff.torch._saving import hooks_active
from fdiff.torch._tensor_base import TensorBase, new_tensor

__all__ = ["Function", "FunctionCtx", "once_differentiable"]

ONCE_DIFFERENTIABLE_ERROR = (
    "trying to differentiate twice a function that was marked with @once_differentiable"
)
FUNCTORCH_ERROR = (
    "In order to use an autograd.Function with functorch transforms (vmap, grad, jvp, jacrev, "
    "...), it must override the setup_context staticmethod. For more details, please see "
    "https://pytorch.org/docs/main/notes/extending.func.html"
)
_TENSOR = "<tensor>"  # marks a tensor argument in a call's template


class FunctionCtx:
    """What ``forward`` hands to ``backward``: saved tensors and any attributes set on it."""

    def __init__(self, needs_input_grad: tuple[bool, ...] = ()) -> None:
        self.needs_input_grad = needs_input_grad
        self.to_save: tuple = ()
        self.dirty_tensors: tuple = ()
        self.non_differentiable: tuple = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors: TensorBase | None) -> None:
        """Keep ``tensors`` for ``backward`` (read back as ``ctx.saved_tensors``)."""
        for t in tensors:
            if t is not None and not isinstance(t, TensorBase):
                raise TypeError(
                    "save_for_backward can only save variables, but argument 0 is of type "
                    f"{type(t).__name__}"
                )
        self.to_save = tensors

    @property
    def saved_tensors(self) -> tuple:
        return tuple(self.to_save)

    def mark_dirty(self, *tensors: TensorBase) -> None:
        """Declare inputs that ``forward`` changed in place (returned as outputs)."""
        self.dirty_tensors = tensors

    def mark_non_differentiable(self, *tensors: TensorBase) -> None:
        """Declare outputs that do not require grad (indices, masks)."""
        self.non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value

    def save_for_forward(self, *tensors: TensorBase | None) -> None:
        """For forward-mode AD (``jvp``), which fdiff.torch's Functions do not have."""
        raise UnsupportedError("FunctionCtx.save_for_forward")


class _Opaque:
    """A Python value carried through ``jax.custom_vjp`` residuals as static data, and a
    static op argument compared by identity (an unhashable constant argument of ``apply``)."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj


jax.tree_util.register_pytree_node(_Opaque, lambda o: ((), o.obj), lambda obj, _: _Opaque(obj))


class _Call(NamedTuple):
    """The static part of one ``apply``: the Function, its arguments with tensors replaced by
    ``_TENSOR``, which inputs need grad, the output a node reads, and, for a Function JAX
    cannot trace, its outputs' shapes and dtypes (see :func:`_host_program`)."""

    function: type
    template: tuple
    needs_input_grad: tuple[bool, ...]
    index: int
    host_outputs: tuple | None = None  # (shape, dtype) per output: run on the host


def _static(arg: Any) -> Any:
    if isinstance(arg, TensorBase):
        return _TENSOR
    try:
        hash(arg)
    except TypeError:
        return _Opaque(arg)
    return arg


def _arguments(call: _Call, tensors: tuple) -> list:
    it = iter(tensors)
    return [
        next(it) if a is _TENSOR else a.obj if isinstance(a, _Opaque) else a for a in call.template
    ]


def _run_forward(function: type, ctx: FunctionCtx, args: list) -> Any:
    """``forward`` with grad mode off, in either of torch's two styles."""
    with set_grad_enabled(False):
        if _overrides(function, "setup_context"):
            output = function.forward(*args)
            function.setup_context(ctx, tuple(args), output)
            return output
        return function.forward(ctx, *args)


def _overrides(function: type, name: str) -> bool:
    return getattr(function, name) is not getattr(Function, name)


def _as_tuple(output: Any) -> tuple:
    return output if isinstance(output, tuple) else (output,)


# --- the custom_vjp program of one call -------------------------------------------------------


def _traced_forward(call: _Call, arrays: tuple) -> tuple[tuple, FunctionCtx]:
    ctx = FunctionCtx(call.needs_input_grad)
    outputs = _as_tuple(_run_forward(call.function, ctx, _arguments(call, _wrap(arrays))))
    return tuple(o._value for o in outputs if isinstance(o, TensorBase)), ctx


def _wrap(arrays: tuple) -> tuple:
    return tuple(new_tensor(a) for a in arrays)


def _residuals(ctx: FunctionCtx) -> tuple:
    """``ctx`` as custom_vjp residuals: tensor values as arrays, the rest as static data."""
    saved = tuple(None if t is None else t._value for t in ctx.to_save)
    state = {k: v for k, v in vars(ctx).items() if k not in ("to_save", "dirty_tensors")}
    tensors = {k: v._value for k, v in state.items() if isinstance(v, TensorBase)}
    others = {k: v for k, v in state.items() if k not in tensors}
    others["non_differentiable"] = ()
    return saved, tensors, _Opaque(others)


def _restored(residuals: tuple) -> FunctionCtx:
    saved, tensors, others = residuals
    ctx = FunctionCtx()
    vars(ctx).update(others.obj)
    vars(ctx).update({k: new_tensor(v) for k, v in tensors.items()})
    ctx.to_save = tuple(None if a is None else new_tensor(a) for a in saved)
    return ctx


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _underivable(error: Callable[[], Exception], x: jax.Array) -> jax.Array:
    """The identity, whose derivative raises ``error()``: a gradient not to differentiate."""
    return x


def _underivable_fwd(error, x):
    return x, None


def _underivable_bwd(error, _, g):
    raise error()


_underivable.defvjp(_underivable_fwd, _underivable_bwd)


def _once_error() -> Exception:
    return RuntimeError(ONCE_DIFFERENTIABLE_ERROR)


def _host_error() -> Exception:
    return UnsupportedError(
        "double backward through an autograd.Function whose forward or backward reads tensor "
        "values in Python (run on the host, first order only)"
    )


def _input_gradients(call: _Call, arrays: tuple, grads: Any) -> tuple:
    """``backward``'s result as one cotangent per tensor input, checked as torch checks it."""
    name = f"{call.function.__name__}Backward"
    grads = _as_tuple(grads)
    if len(grads) != len(call.template):
        raise RuntimeError(
            f"function {name} returned an incorrect number of gradients (expected "
            f"{len(call.template)}, got {len(grads)})"
        )
    once = getattr(call.function.backward, "_once_differentiable", False)
    cotangents = []
    arg_positions = (i for i, a in enumerate(call.template) if a is _TENSOR)
    for position, value in zip(arg_positions, arrays, strict=True):
        grad = grads[position]
        if not jnp.issubdtype(value.dtype, jnp.inexact):
            cotangents.append(np.zeros(value.shape, jax.dtypes.float0))
            continue
        if grad is None:
            cotangents.append(jnp.zeros_like(value))
            continue
        g = grad._value
        if g.shape != value.shape:
            g = _sum_to(g, value.shape, name, position)
        g = g.astype(value.dtype)
        cotangents.append(_underivable(_once_error, g) if once else g)
    return tuple(cotangents)


def _sum_to(g: jax.Array, shape: tuple, name: str, position: int) -> jax.Array:
    """torch's ``validate_outputs``: a gradient that broadcasts to the input is summed down."""
    try:
        np.broadcast_shapes(g.shape, shape)
        if len(g.shape) < len(shape):
            raise ValueError
    except ValueError:
        raise RuntimeError(
            f"Function {name} returned an invalid gradient at index {position} - got "
            f"{list(g.shape)} but expected shape compatible with {list(shape)}"
        ) from None
    lead = len(g.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    return g.sum(axis=axes).reshape(shape)


@_caches.lru_cache(maxsize=512)
def _program(call: _Call) -> Callable[..., tuple]:
    """The ``jax.custom_vjp`` function of the call's tensor arguments (all its outputs)."""
    return _traced_program(call) if call.host_outputs is None else _host_program(call)


def _traced_program(call: _Call) -> Callable[..., tuple]:
    """``forward`` and ``backward`` traced by JAX: differentiable again, compiled."""

    @jax.custom_vjp
    def program(*arrays):
        return _traced_forward(call, arrays)[0]

    def forward_rule(*primals):
        arrays = tuple(p.value for p in primals)
        outputs, ctx = _traced_forward(call, arrays)
        return outputs, (arrays, _residuals(ctx))

    def backward_rule(residuals, cotangents):
        arrays, saved = residuals
        if getattr(call.function.backward, "_once_differentiable", False):
            # torch's once_differentiable gradient requires grad only through grad_outputs
            arrays, saved = jax.lax.stop_gradient((arrays, saved))
        ctx = _restored(saved)
        grads = tuple(_grad_output(c, ctx.materialize_grads) for c in cotangents)
        with set_grad_enabled(False):
            result = call.function.backward(ctx, *grads)
        return _input_gradients(call, arrays, result)

    # symbolic zeros: an output the backward does not reach has no gradient (None for torch's
    # ``set_materialize_grads(False)``)
    program.defvjp(forward_rule, backward_rule, symbolic_zeros=True)
    return program


def _grad_output(cotangent: Any, materialize: bool) -> TensorBase | None:
    """One output's gradient as ``backward`` receives it: zeros (or ``None`` when not
    materialized) for an output the backward does not reach, ``None`` for an integer output."""
    if isinstance(cotangent, SymbolicZero):
        aval = cotangent.aval
        if not materialize or aval.dtype == jax.dtypes.float0:
            return None
        return new_tensor(jnp.zeros(aval.shape, aval.dtype))
    return None if cotangent.dtype == jax.dtypes.float0 else new_tensor(cotangent)


def _host_program(call: _Call) -> Callable[..., tuple]:
    """``forward`` and ``backward`` run on the host by ``jax.pure_callback`` with concrete
    tensors (they read values in Python). ``backward`` runs ``forward`` again first to rebuild
    ``ctx``. First order only: differentiating the backward raises UnsupportedError."""
    shapes = tuple(jax.ShapeDtypeStruct(shape, dtype) for shape, dtype in call.host_outputs)

    def host_forward(*arrays):
        return _traced_forward(call, tuple(jnp.asarray(a) for a in arrays))[0]

    def host_backward(unreached, arrays, cotangents):
        arrays = tuple(jnp.asarray(a) for a in arrays)
        ctx = _traced_forward(call, arrays)[1]
        grads = tuple(
            _grad_output(
                SymbolicZero(jax.typeof(c)) if gone else jnp.asarray(c), ctx.materialize_grads
            )
            for c, gone in zip(cotangents, unreached, strict=True)
        )
        with set_grad_enabled(False):
            result = call.function.backward(ctx, *grads)
        inexact = (
            a for a in _input_gradients(call, arrays, result) if a.dtype != jax.dtypes.float0
        )
        return tuple(inexact)

    @jax.custom_vjp
    def program(*arrays):
        return _host_call(host_forward, shapes, *arrays)

    def forward_rule(*primals):
        arrays = tuple(p.value for p in primals)
        return _host_call(host_forward, shapes, *arrays), arrays

    def backward_rule(arrays, cotangents):
        inexact = [a for a in arrays if jnp.issubdtype(a.dtype, jnp.inexact)]
        unreached = tuple(isinstance(c, SymbolicZero) for c in cotangents)
        cotangents = tuple(
            jnp.zeros(c.aval.shape, c.aval.dtype) if isinstance(c, SymbolicZero) else c
            for c in cotangents
        )
        host = functools.partial(host_backward, unreached)
        grads = iter(_host_call(host, tuple(inexact), arrays, cotangents))
        return tuple(
            next(grads)
            if jnp.issubdtype(a.dtype, jnp.inexact)
            else np.zeros(a.shape, jax.dtypes.float0)
            for a in arrays
        )

    program.defvjp(forward_rule, backward_rule, symbolic_zeros=True)
    return program


def _host_call(callback: Callable[..., Any], shapes: Any, *args: Any) -> Any:
    """``jax.pure_callback(callback, shapes, *args)`` inside a ``jax.custom_vjp`` whose
    derivative raises UnsupportedError: JAX never tries to differentiate the callback."""

    @jax.custom_vjp
    def call(*args):
        return jax.pure_callback(callback, shapes, *args)

    def forward_rule(*args):
        return jax.pure_callback(callback, shapes, *args), None

    def backward_rule(_, gradients):
        raise _host_error()

    call.defvjp(forward_rule, backward_rule)
    return call(*args)


def _zero_cotangent(x: jax.Array) -> Any:
    if jnp.issubdtype(x.dtype, jnp.inexact):
        return jnp.zeros_like(x)
    return np.zeros(x.shape, jax.dtypes.float0)


@_caches.lru_cache(maxsize=512)
def _traceable(call: _Call, avals: tuple) -> bool:
    """Whether JAX can trace the call's ``forward`` and ``backward`` (no Python reads of
    tensor values), tried once per call and input shapes."""

    def first_order(*arrays):
        outputs, pullback = jax.vjp(_traced_program(call), *arrays)
        return pullback(tuple(_zero_cotangent(o) for o in outputs))

    try:
        jax.eval_shape(first_order, *avals)
    except Exception as error:
        if not _reads_values(error):
            raise
        return False
    return True


def _reads_values(error: BaseException | None) -> bool:
    while error is not None:
        if isinstance(error, jax.errors.JAXTypeError):
            return True
        error = error.__cause__
    return False


# --- the node's op ----------------------------------------------------------------------------

_spec_numbers = itertools.count()


def _custom_function(*arrays: jax.Array, call: _Call) -> jax.Array:
    return _program(call)(*arrays)[call.index]


@_caches.lru_cache(maxsize=512)
def _spec(function: type) -> OpSpec:
    """The op a Function's nodes record (one per Function class; named ``<Name>Backward``)."""
    name = f"autograd.Function.{function.__qualname__}.{next(_spec_numbers)}"
    return OpSpec(name, _custom_function, f"{function.__name__}Backward")


class Function:
    """Base class of custom autograd functions: define static ``forward`` and ``backward``
    (and optionally ``setup_context``), call ``apply``."""

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> Any:
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        raise UnsupportedError("torch.autograd.Function.jvp (forward-mode AD)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward``; record the custom backward when an input requires grad."""
        if kwargs:
            raise UnsupportedError(f"{cls.__name__}.apply(**kwargs)")
        needs = tuple(isinstance(a, TensorBase) and a.requires_grad for a in args)
        tensors = tuple(a for a in args if isinstance(a, TensorBase))
        if any(isinstance(t._storage[0], jax.core.Tracer) for t in tensors):
            return _under_transform(cls, args, tensors)
        inputs = [t._value for t in tensors]  # before a mark_dirty forward changes them
        ctx = FunctionCtx(needs)
        output = _run_forward(cls, ctx, list(args))
        if not (any(needs) and is_grad_enabled()):
            return output
        if hooks_active():  # torch packs what ctx.save_for_backward saved: not replayed here
            raise UnsupportedError(
                "torch.autograd.graph.saved_tensors_hooks (around a custom autograd.Function)"
            )
        outputs = _as_tuple(output)
        call = _Call(cls, tuple(_static(a) for a in args), needs, 0)
        avals = tuple(jax.ShapeDtypeStruct(v.shape, v.dtype) for v in inputs)
        if not _traceable(call, avals):
            host = tuple((o.shape, o._value.dtype) for o in outputs if isinstance(o, TensorBase))
            call = call._replace(host_outputs=host)
        results = []
        index = 0
        for out in outputs:
            if not isinstance(out, TensorBase):
                results.append(out)
                continue
            call = call._replace(index=index)
            index += 1
            if any(out is t for t in ctx.non_differentiable) or not jnp.issubdtype(
                out._value.dtype, jnp.inexact
            ):
                results.append(out)
                continue
            results.append(_recorded(call, tensors, inputs, out, ctx))
        return tuple(results) if isinstance(output, tuple) else results[0]


def _under_transform(function: type, args: tuple, tensors: tuple) -> Any:
    """``apply`` inside a JAX transform (``torch.func``): the custom_vjp program itself, so
    ``grad``/``jacrev``/``vjp`` use the custom backward, as torch's functorch does."""
    if not _overrides(function, "setup_context"):
        raise RuntimeError(FUNCTORCH_ERROR)
    call = _Call(function, tuple(_static(a) for a in args), (False,) * len(args), 0)
    values = iter(_program(call)(*(t._value for t in tensors)))
    output = _run_forward(function, FunctionCtx(call.needs_input_grad), list(args))
    outputs = tuple(
        new_tensor(next(values)) if isinstance(o, TensorBase) else o for o in _as_tuple(output)
    )
    return outputs if isinstance(output, tuple) else outputs[0]


def _recorded(call: _Call, tensors: tuple, inputs: list, out: TensorBase, ctx: FunctionCtx) -> Any:
    """``out`` as the output of a recorded node of ``call`` (in place for a dirty input)."""
    current = [t._storage[0] for t in tensors]
    for t, value in zip(tensors, inputs, strict=True):
        t._storage[0] = value  # the node's edges: the inputs as forward read them
    try:
        recorded = _record(_spec(call.function), tensors, list(inputs), {"call": call})
    finally:
        for t, value in zip(tensors, current, strict=True):
            t._storage[0] = value
    node = recorded._node
    node.value = out._value
    if any(out is t for t in ctx.dirty_tensors):
        if out.is_leaf and out.requires_grad:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation."
            )
        out._node = node  # torch rebases the dirty input's history onto the Function's node
        return out
    recorded._storage[0] = node.value
    return recorded


def once_differentiable(backward: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a ``backward`` as not differentiable: a double backward through it raises torch's
    error instead of differentiating the backward's code."""

    @functools.wraps(backward)
    def wrapper(ctx: Any, *grads: Any) -> Any:
        return backward(ctx, *grads)

    wrapper._once_differentiable = True  # type: ignore[attr-defined]
    return wrapper
