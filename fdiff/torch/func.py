"""``torch.func`` on JAX: each transform is the matching JAX transform of the function traced on
JAX arrays (:func:`~fdiff.torch._traced.as_jax_function`).

``grad`` is ``jax.value_and_grad``, ``vjp``/``jvp`` are ``jax.vjp``/``jax.jvp``, ``jacrev``,
``jacfwd``, ``hessian`` and ``vmap`` are JAX's own; signatures, return structures and errors are
torch's. ``functional_call`` runs a module with some parameters and buffers swapped, and
``stack_module_state`` stacks the state of identical modules (for ``vmap`` over ensembles).

Inside JAX's own transforms: :func:`params` and :func:`buffers` give a module's state as dicts
of JAX arrays keyed by ``state_dict`` names, and ``functional_call`` takes them (and JAX arrays
as arguments), so ``jax.grad``, ``jax.vmap`` or an optax step under ``jax.jit`` differentiate
and update a module's parameters as a pytree; ``module.load_state_dict`` takes them back.

Differences, each raising :class:`~fdiff.torch.UnsupportedError` rather than computing something
else: a transform applied to tensors that require grad, or of a function that reads tensors
requiring grad from outside its arguments (a model's parameters: torch records through the
transform; here it is one JAX computation), and ``randomness="different"``. Random draws inside
a transformed function are constants of the trace (they happen once, when JAX traces).

>>> import fdiff.torch as torch
>>> from fdiff.torch import func
>>> func.grad(lambda x: (x**3).sum())(torch.tensor([1.0, 2.0]))
tensor([ 3., 12.])
>>> func.vmap(torch.dot)(torch.ones(3, 2), torch.ones(3, 2))
tensor([2., 2., 2.])
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import jax

from fdiff.torch import _interop
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._grad_mode import is_grad_enabled, set_grad_enabled
from fdiff.torch._shape import stack
from fdiff.torch._tensor_base import TensorBase
from fdiff.torch._traced import as_jax_function, to_arrays, to_tensors

__all__ = [
    "buffers",
    "functional_call",
    "grad",
    "grad_and_value",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "params",
    "stack_module_state",
    "vjp",
    "vmap",
]

_RANDOMNESS = ("error", "same")


def _check_inputs(name: str, args: Any) -> None:
    """A transform of tensors that require grad would need torch's recording through it."""
    tensors = jax.tree_util.tree_leaves(args, is_leaf=lambda x: isinstance(x, TensorBase))
    if is_grad_enabled() and any(isinstance(t, TensorBase) and t.requires_grad for t in tensors):
        raise UnsupportedError(f"torch.func.{name} on tensors that require grad")


def _closure_checked(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn``, run with grad mode on when the caller's is: a result that requires grad read a
    tensor requiring grad from outside its arguments (a model's parameters), which torch
    would differentiate through the transform; here that raises instead of dropping it."""
    if not is_grad_enabled():
        return fn

    def checked(*args: Any, **kwargs: Any) -> Any:
        with set_grad_enabled(True):
            result = fn(*args, **kwargs)
        leaves = jax.tree_util.tree_leaves(result, is_leaf=lambda x: isinstance(x, TensorBase))
        if any(isinstance(t, TensorBase) and t.requires_grad for t in leaves):
            raise UnsupportedError(
                f"torch.func.{name} of a function reading tensors that require grad (detach "
                "them, pass them as arguments, or call it under torch.no_grad())"
            )
        return result

    return checked


def _transformed(name: str, fn: Callable[..., Any], transform: Callable[..., Any]) -> Callable:
    """``transform`` (a JAX transform of ``fn`` on arrays) as a function of tensors."""

    @functools.wraps(fn)
    def on_tensors(*args: Any, **kwargs: Any) -> Any:
        _check_inputs(name, (args, kwargs))
        on_arrays = as_jax_function(_closure_checked(name, fn))
        if kwargs:
            on_arrays = functools.partial(on_arrays, **to_arrays(kwargs))
        return to_tensors(transform(on_arrays)(*to_arrays(args)))

    return on_tensors


def _scalar_output(fn: Callable[..., Any], has_aux: bool) -> Callable[..., Any]:
    """``fn``, raising torch's error when its (first) output is not a scalar tensor."""

    def checked(*args: Any, **kwargs: Any) -> Any:
        result = fn(*args, **kwargs)
        output = result[0] if has_aux else result
        if not isinstance(output, TensorBase):
            raise RuntimeError(
                "grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                f"{type(output)}"
            )
        if output.dim() != 0:
            raise RuntimeError(
                "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                f"tensor with {output.dim()} dims. Maybe you wanted to use the vjp or jacrev "
                "APIs instead?"
            )
        return result

    return checked


def grad_and_value(
    func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """The gradient of a scalar function and its value: ``(grad, value)``, or
    ``(grad, (value, aux))`` with ``has_aux``.

    >>> import fdiff.torch as torch
    >>> grad_and_value(lambda x: (x * x).sum())(torch.tensor([3.0]))
    (tensor([6.]), tensor(9.))
    """

    def transform(on_arrays: Callable[..., Any]) -> Callable[..., Any]:
        value_and_grad = jax.value_and_grad(on_arrays, argnums=argnums, has_aux=has_aux)
        return lambda *args: tuple(reversed(value_and_grad(*args)))

    return _transformed("grad_and_value", _scalar_output(func, has_aux), transform)


def grad(
    func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """The gradient of a scalar function (``(grad, aux)`` with ``has_aux``)."""
    both = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def gradient(*args: Any, **kwargs: Any) -> Any:
        gradients, value = both(*args, **kwargs)
        return (gradients, value[1]) if has_aux else gradients

    return gradient


def vjp(func: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple:
    """``(output, vjp_fn)`` (plus ``aux``): ``vjp_fn(cotangents)`` returns one gradient per
    primal, as a tuple.

    >>> import fdiff.torch as torch
    >>> out, vjp_fn = vjp(torch.sin, torch.tensor([0.0]))
    >>> vjp_fn(torch.tensor([2.0]))
    (tensor([2.]),)
    """
    _check_inputs("vjp", primals)
    fn = as_jax_function(_closure_checked("vjp", func))
    result = jax.vjp(fn, *to_arrays(primals), has_aux=has_aux)
    pullback = result[1]

    def vjp_fn(cotangents: Any) -> tuple:
        return to_tensors(pullback(to_arrays(cotangents)))

    return (to_tensors(result[0]), vjp_fn, *to_tensors(result[2:]))


def jvp(
    func: Callable[..., Any],
    primals: Sequence[Any],
    tangents: Sequence[Any],
    *,
    strict: bool = False,
    has_aux: bool = False,
) -> tuple:
    """``(output, jvp_out)`` (plus ``aux``): the directional derivative along ``tangents``.

    >>> import fdiff.torch as torch
    >>> jvp(torch.exp, (torch.tensor([0.0]),), (torch.tensor([3.0]),))
    (tensor([1.]), tensor([3.]))
    """
    if strict:
        raise UnsupportedError("torch.func.jvp(strict=True)")
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple.")
    _check_inputs("jvp", (primals, tangents))
    fn = as_jax_function(_closure_checked("jvp", func))
    if has_aux:
        output, tangent, aux = jax.jvp(fn, to_arrays(primals), to_arrays(tangents), has_aux=True)
        return to_tensors((output, tangent, aux))
    return to_tensors(jax.jvp(fn, to_arrays(primals), to_arrays(tangents)))


def _check_randomness(randomness: str) -> None:
    if randomness not in _RANDOMNESS:
        raise UnsupportedError(f"torch.func (randomness={randomness!r})")


def jacrev(
    func: Callable[..., Any],
    argnums: int | tuple[int, ...] = 0,
    *,
    has_aux: bool = False,
    chunk_size: int | None = None,
) -> Callable[..., Any]:
    """The Jacobian by reverse mode (``jax.jacrev``): shape ``output.shape + input.shape``.

    >>> import fdiff.torch as torch
    >>> jacrev(lambda x: x**2)(torch.tensor([1.0, 3.0]))
    tensor([[2., 0.],
            [0., 6.]])
    """
    return _transformed("jacrev", func, lambda fn: jax.jacrev(fn, argnums=argnums, has_aux=has_aux))


def jacfwd(
    func: Callable[..., Any],
    argnums: int | tuple[int, ...] = 0,
    has_aux: bool = False,
    *,
    randomness: str = "error",
) -> Callable[..., Any]:
    """The Jacobian by forward mode (``jax.jacfwd``)."""
    _check_randomness(randomness)
    return _transformed("jacfwd", func, lambda fn: jax.jacfwd(fn, argnums=argnums, has_aux=has_aux))


def hessian(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The Hessian (``jax.hessian``: forward over reverse, as torch's ``jacfwd(jacrev)``).

    >>> import fdiff.torch as torch
    >>> hessian(lambda x: (x**3).sum())(torch.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    return _transformed("hessian", func, lambda fn: jax.hessian(fn, argnums=argnums))


def vmap(
    func: Callable[..., Any],
    in_dims: Any = 0,
    out_dims: Any = 0,
    randomness: str = "error",
    *,
    chunk_size: int | None = None,
) -> Callable[..., Any]:
    """``func`` mapped over a batch dimension (``jax.vmap``; ``in_dims``/``out_dims`` as
    ``in_axes``/``out_axes``). ``chunk_size`` changes nothing but memory in torch: accepted."""
    _check_randomness(randomness)
    axes = tuple(in_dims) if isinstance(in_dims, list) else in_dims

    def transform(fn: Callable[..., Any]) -> Callable[..., Any]:
        mapped = jax.vmap(fn, in_axes=axes, out_axes=out_dims)

        def run(*args: Any) -> Any:
            with _interop.vmap_randomness(randomness):
                return mapped(*args)

        return run

    return _transformed("vmap", func, transform)


# --- module state -----------------------------------------------------------------------------


def _owner(module: Any, dotted: str) -> tuple[Any, str]:
    *path, name = dotted.split(".")
    for part in path:
        module = getattr(module, part)
    return module, name


@contextlib.contextmanager
def _swapped(module: Any, tensors: Mapping[str, Any]) -> Iterator[None]:
    """``module`` with the named parameters and buffers replaced by ``tensors`` (restored)."""
    saved = []
    try:
        for dotted, tensor in tensors.items():
            owner, name = _owner(module, dotted)
            saved.append((owner, name, owner.__dict__.get(name, _ABSENT)))
            object.__setattr__(owner, name, tensor)
        yield
    finally:
        for owner, name, old in reversed(saved):
            if old is _ABSENT:
                del owner.__dict__[name]
            else:
                object.__setattr__(owner, name, old)


_ABSENT = object()


def functional_call(
    module: Any,
    parameter_and_buffer_dicts: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """Call ``module`` with the named parameters and buffers replaced by the given tensors or JAX
    arrays (concrete or traced: the call runs inside ``jax.jit``, ``jax.grad``, ``jax.vmap``).
    JAX arrays among ``args`` and ``kwargs`` become tensors; the result is the module's.

    >>> import fdiff.torch as torch
    >>> layer = torch.nn.Linear(2, 1)
    >>> state = {"weight": torch.ones(1, 2), "bias": torch.zeros(1)}
    >>> functional_call(layer, state, (torch.tensor([1.0, 2.0]),))
    tensor([3.])
    """
    dicts = (
        [parameter_and_buffer_dicts]
        if isinstance(parameter_and_buffer_dicts, Mapping)
        else list(parameter_and_buffer_dicts)
    )
    merged: dict[str, Any] = {}
    for d in dicts:
        repeated = sorted(set(merged) & set(d))
        if repeated:
            raise ValueError(
                f"{repeated} appeared in multiple dictionaries; behavior of functional call "
                "is ambiguous"
            )
        merged.update(d)
    groups = _state_names(module)
    if tie_weights:
        _tie(merged, groups)
    if strict:
        _check_strict(module, merged, groups)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    wrapped: dict[int, Any] = {}  # one tensor per value: tied names share it
    tensors = {}
    for name, value in merged.items():
        if id(value) not in wrapped:
            wrapped[id(value)] = _as_tensor(value)
        tensors[name] = wrapped[id(value)]
    with _swapped(module, tensors):
        result = module(*_as_tensors(args), **_as_tensors(kwargs or {}))
    for name, value in merged.items():
        if isinstance(value, jax.Array) and tensors[name]._value is not value:
            raise _interop.unsupported(
                f"an in-place update of `{name}` inside functional_call given a JAX array",
                "JAX arrays are immutable, so the update would be lost; pass fdiff tensors (their "
                "update is kept, as torch's functional_call keeps it) or call module.eval()",
            )
    return result


def _state_names(module: Any) -> list[list[str]]:
    """Every parameter and buffer name of ``module``, grouped: names sharing one tensor (tied
    weights) form one group, in the order ``state_dict`` lists them."""
    groups: dict[int, list[str]] = {}
    for prefix, owner in module.named_modules():
        for name, tensor in (*owner._parameters.items(), *owner._buffers.items()):
            if tensor is not None:
                groups.setdefault(id(tensor), []).append(f"{prefix}.{name}" if prefix else name)
    return list(groups.values())


def _tie(merged: dict[str, Any], groups: list[list[str]]) -> None:
    """A value given for one of tied names replaces all of them (torch's ``tie_weights``)."""
    for group in groups:
        given = [name for name in group if name in merged]
        if not given:
            continue
        value = merged[given[0]]
        if any(merged[name] is not value for name in given):
            raise ValueError(
                f"functional_call got multiple values for keys {sorted(given)}, which are tied. "
                "Consider using tie_weights=False"
            )
        merged.update((name, value) for name in group)


def _check_strict(module: Any, merged: dict[str, Any], groups: list[list[str]]) -> None:
    """torch's error for ``strict=True`` when the names do not match the module's state."""
    names = [name for group in groups for name in group]
    unexpected = [key for key in merged if key not in set(names)]
    missing = [name for name in names if name not in merged]
    errors = []
    if unexpected:
        errors.append("Unexpected key(s): " + ", ".join(f"'{k}'" for k in unexpected) + ".")
    if missing:
        errors.append("Missing key(s): " + ", ".join(f"'{k}'" for k in missing) + ".")
    if errors:
        raise RuntimeError(
            f"Error(s) in reparametrizing for {type(module).__name__}:\n\t" + "\n\t".join(errors)
        )


def _as_tensor(value: Any) -> Any:
    return _interop.from_jax(value) if isinstance(value, jax.Array) else value


def _as_tensors(tree: Any) -> Any:
    """The JAX arrays in ``tree`` (a tuple or dict of arguments) as tensors."""
    return jax.tree_util.tree_map(_as_tensor, tree, is_leaf=lambda x: isinstance(x, TensorBase))


def params(module: Any) -> dict[str, jax.Array]:
    """``module``'s parameters as JAX arrays, by ``state_dict`` name: the pytree that
    :func:`functional_call`, ``jax.grad`` and optax take, and ``load_state_dict`` takes back.

    >>> import jax
    >>> import fdiff.torch as torch
    >>> layer = torch.nn.Linear(2, 1)
    >>> jax.tree.map(jax.numpy.shape, params(layer))
    {'bias': (1,), 'weight': (1, 2)}
    """
    return {name: p._value for name, p in module.named_parameters()}


def buffers(module: Any) -> dict[str, jax.Array]:
    """``module``'s buffers as JAX arrays, by ``state_dict`` name (see :func:`params`).

    >>> import fdiff.torch as torch
    >>> sorted(buffers(torch.nn.BatchNorm1d(3)))
    ['num_batches_tracked', 'running_mean', 'running_var']
    """
    return {name: b._value for name, b in module.named_buffers()}


def stack_module_state(models: Sequence[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The parameters (and buffers) of identical modules, each stacked along a new first
    dimension: new leaves, requiring grad where the parameters do.

    >>> import fdiff.torch as torch
    >>> params, buffers = stack_module_state([torch.nn.Linear(2, 1) for _ in range(3)])
    >>> params["weight"].shape, buffers
    (torch.Size([3, 1, 2]), {})
    """
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    names = [name for name, _ in models[0].named_parameters()]
    per_model = [dict(m.named_parameters()) for m in models]
    params = {
        name: stack([p[name].detach() for p in per_model]).requires_grad_(
            per_model[0][name].requires_grad
        )
        for name in names
    }
    buffers_of = getattr(models[0], "named_buffers", None)
    buffers = {}
    if buffers_of is not None:
        buffer_names = [name for name, _ in buffers_of()]
        per_model_buffers = [dict(m.named_buffers()) for m in models]
        buffers = {n: stack([b[n] for b in per_model_buffers]) for n in buffer_names}
    return params, buffers
