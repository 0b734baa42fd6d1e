"""The functional core: torch's autograd idioms as pure functions over JAX transforms.

=============================================  ===============================================
torch                                          fdiff.functional / jax
=============================================  ===============================================
``p.grad += g`` / ``p.grad is None``           ``acc = accumulate(acc, grads)``, ``acc = None``
``p.grad.zero_()``                             ``acc = zeros_like_tree(acc)``
``y.backward()`` / ``y.backward(v)``           ``out, grads = backward(f, *xs, cotangent=v)``
``y.backward(v, retain_graph=True)``, again    ``out, vjp_fn = retained_vjp(f, *xs)``
``b.retain_grad()``; ``b.grad``                ``tap("b", b)`` in ``f``; ``intermediate_grads``
``y.grad_fn``                                  ``output_grad_fn(f, *xs)``, ``grad_fn_names``
``x.detach()`` / ``torch.no_grad()``           ``jax.lax.stop_gradient(x)`` (used directly)
=============================================  ===============================================
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax.tree_util import Partial, keystr, tree_flatten_with_path

from fdiff.functional import _intermediates
from fdiff.functional._grad_fn_names import grad_fn_names, output_grad_fn
from fdiff.functional._intermediates import tap

__all__ = [
    "accumulate",
    "backward",
    "grad_fn_names",
    "intermediate_grads",
    "output_grad_fn",
    "retained_vjp",
    "tap",
    "zeros_like_tree",
]


def accumulate(acc: Any, grads: Any) -> Any:
    """Add ``grads`` into the accumulated gradients ``acc`` (torch's ``.grad +=``), state in, out.

    Args:
        acc: The gradients so far (a pytree of arrays), or None for "nothing yet" (torch's
            ``.grad is None`` before the first backward).
        grads: New gradients with the same structure, shapes and dtypes as `acc`.

    Returns:
        ``grads`` if `acc` is None, else the leafwise sum ``acc + grads``.

    Raises:
        ValueError: If the pytree structures or a leaf's shapes differ.
        TypeError: If a leaf's dtypes differ.

    >>> import jax.numpy as jnp
    >>> acc = accumulate(None, {"w": jnp.array([1.0, 2.0])})
    >>> accumulate(acc, {"w": jnp.array([0.5, 0.5])})
    {'w': Array([1.5, 2.5], dtype=float32)}
    """
    if acc is None:
        return grads
    acc_leaves, acc_def = tree_flatten_with_path(acc)
    grad_leaves, grad_def = jax.tree.flatten(grads)
    if acc_def != grad_def:
        raise ValueError(
            f"Cannot accumulate: `grads` has structure {grad_def} but the accumulator has "
            f"structure {acc_def}. Pass gradients of the same pytree as before."
        )
    for (path, a), g in zip(acc_leaves, grad_leaves, strict=True):
        where = f"at `{keystr(path)}` " if path else ""
        if jnp.shape(a) != jnp.shape(g):
            raise ValueError(
                f"Cannot accumulate: the gradient {where}has shape {jnp.shape(g)} but the "
                f"accumulator has shape {jnp.shape(a)}."
            )
        if jnp.result_type(a) != jnp.result_type(g):
            raise TypeError(
                f"Cannot accumulate: the gradient {where}has dtype {jnp.result_type(g)} but the "
                f"accumulator has dtype {jnp.result_type(a)}. Cast one with `.astype`."
            )
    sums = [a + g for (_, a), g in zip(acc_leaves, grad_leaves, strict=True)]
    return jax.tree.unflatten(grad_def, sums)


def zeros_like_tree(tree: Any) -> Any:
    """Zeros shaped like every leaf of ``tree`` (torch's ``.grad.zero_()``, as a new value).

    Args:
        tree: A pytree of arrays (None stays None).

    Returns:
        The same structure with every leaf replaced by zeros of its shape and dtype.

    >>> import jax.numpy as jnp
    >>> zeros_like_tree((jnp.ones(2), None))
    (Array([0., 0.], dtype=float32), None)
    """
    return jax.tree.map(jnp.zeros_like, tree)


def _check_primals(primals: tuple[Any, ...]) -> None:
    for n, primal in enumerate(primals):
        for path, leaf in tree_flatten_with_path(primal)[0]:
            dtype = jnp.result_type(leaf)
            if not jnp.issubdtype(dtype, jnp.inexact):
                raise TypeError(
                    f"Argument {n}{keystr(path)} has dtype {dtype}: only floating-point inputs "
                    "have gradients (torch: only floating point tensors can require gradients). "
                    "Close over it (a lambda or functools.partial) instead of passing it."
                )


def _cotangent(out: Any, cotangent: Any) -> Any:
    """The cotangent for `out`: ones for a one-element output, else `cotangent` checked."""
    out_leaves, out_def = tree_flatten_with_path(out)
    for path, leaf in out_leaves:
        if not jnp.issubdtype(leaf.dtype, jnp.inexact):
            raise TypeError(
                f"The output{keystr(path)} has dtype {leaf.dtype}, which has no gradient: "
                "`f` must return floating-point arrays."
            )
    if cotangent is None:
        if len(out_leaves) != 1 or out_leaves[0][1].size != 1:
            shapes = [leaf.shape for _, leaf in out_leaves]
            got = f"shape {shapes[0]}" if len(shapes) == 1 else f"{len(shapes)} arrays {shapes}"
            raise ValueError(
                f"grad can be implicitly created only for scalar outputs: `f` returned {got}. "
                "Pass `cotangent=` with the output's shapes (torch's `y.backward(gradient)`), "
                "or reduce the output to one element (e.g. `.sum()`)."
            )
        return jax.tree.unflatten(out_def, [jnp.ones_like(out_leaves[0][1])])
    try:
        given = out_def.flatten_up_to(cotangent)
    except (ValueError, TypeError):
        raise ValueError(
            f"`cotangent` has structure {jax.tree.structure(cotangent)} but the output has "
            f"structure {out_def}: pass one cotangent array per output array."
        ) from None
    return jax.tree.unflatten(
        out_def, [_cast(ct, leaf, path) for (path, leaf), ct in zip(out_leaves, given, strict=True)]
    )


def _cast(ct: Any, out: jax.Array, path: Any) -> jax.Array:
    # Python numbers and lists take the output's dtype; so do integer and bool arrays (torch's
    # 001.3 passes `tensor([1, 1, 1], dtype=long)`). A float of another precision is an error.
    if not hasattr(ct, "dtype") or not jnp.issubdtype(ct.dtype, jnp.inexact):
        ct = jnp.asarray(ct, dtype=out.dtype)
    ct = jnp.asarray(ct)
    where = f" for the output{keystr(path)}" if path else ""
    if ct.shape != out.shape:
        raise ValueError(
            f"The cotangent{where} has shape {ct.shape} but the output has shape {out.shape}: "
            "they must be equal (torch: 'Mismatch in shape')."
        )
    if ct.dtype != out.dtype:
        raise TypeError(
            f"The cotangent{where} has dtype {ct.dtype} but the output has dtype {out.dtype}: "
            f"cast it with `.astype({out.dtype})`."
        )
    return ct


def backward(
    f: Callable[..., Any], *primals: Any, cotangent: Any = None
) -> tuple[Any, tuple[Any, ...]]:
    """Evaluate ``f(*primals)`` and pull ``cotangent`` back to every input (torch's backward).

    torch's ``y.backward(v)`` is a vector-Jacobian product: ``jax.vjp(f, *primals)[1](v)``.
    ``cotangent=None`` is torch's plain ``y.backward()``: allowed only for an output with one
    element, and then the cotangent is ones *of the output's shape*, so a ``(1,)``-shaped loss
    works as in torch (where ``jax.grad`` would demand shape ``()``).

    Args:
        f: A function of floating-point arrays (or pytrees of them); every positional argument
            is differentiated (close over the others).
        *primals: The inputs.
        cotangent: The output's cotangent (torch's ``gradient=``), with the output's structure
            and shapes. Python numbers, lists and integer arrays are cast to the output's dtype.

    Returns:
        ``(out, grads)``: the output and a tuple with one gradient per primal.

    Raises:
        ValueError: If `cotangent` is None and the output has more than one element, or the
            cotangent's structure or shape differs from the output's.
        TypeError: If a primal or the output is not floating-point, or the cotangent is a
            float array of another dtype.

    >>> import jax.numpy as jnp
    >>> backward(lambda x: x * 2**9, jnp.ones(3), cotangent=[0.1, 1.0, 0.0001])[1]
    (Array([5.12e+01, 5.12e+02, 5.12e-02], dtype=float32),)
    """
    _check_primals(primals)
    out, vjp_fn = jax.vjp(f, *primals)
    return out, vjp_fn(_cotangent(out, cotangent))


def _pull(vjp_fn: Callable[[Any], tuple[Any, ...]], out: Any, cotangent: Any = None) -> Any:
    return vjp_fn(_cotangent(out, cotangent))


def retained_vjp(
    f: Callable[..., Any], *primals: Any
) -> tuple[Any, Callable[..., tuple[Any, ...]]]:
    """Evaluate ``f(*primals)`` once; return a pullback to call as often as wanted.

    Calling the pullback again is what torch's ``retain_graph=True`` permits; the forward pass
    is not re-run. Each call returns fresh gradients: sum them with `accumulate` to get what
    torch's ``.grad`` holds after repeated backwards.

    Args:
        f: A function of floating-point arrays (or pytrees of them).
        *primals: The inputs.

    Returns:
        ``(out, vjp_fn)`` where ``vjp_fn(cotangent=None)`` returns one gradient per primal,
        with `cotangent` handled as in `backward`. ``vjp_fn`` is a ``jax.tree_util.Partial``,
        so it can be passed into jitted functions.

    Raises:
        TypeError: If a primal is not floating-point.

    >>> import jax.numpy as jnp
    >>> out, vjp_fn = retained_vjp(lambda x: (x + 1) ** 2, jnp.zeros(2))
    >>> accumulate(vjp_fn(jnp.ones(2)), vjp_fn(jnp.ones(2)))
    (Array([4., 4.], dtype=float32),)
    """
    _check_primals(primals)
    out, vjp_fn = jax.vjp(f, *primals)
    return out, Partial(_pull, vjp_fn, out)


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
    found = _intermediates.discover(f, args)
    chosen = list(found) if names is None else [names] if isinstance(names, str) else list(names)
    if not found:
        raise ValueError(
            "`f` calls `fdiff.tap` nowhere, so there is no intermediate gradient to return: wrap "
            f"the values you want as `tap('name', value)` inside `f`. "
            f"{_intermediates.CACHED_TRACE_HINT}"
        )
    unknown = [name for name in chosen if name not in found]
    if unknown:
        raise ValueError(f"`names` has {unknown}, which `f` does not tap; it taps {list(found)}.")
    perturbations = {name: _intermediates.zero_perturbation(found[name]) for name in chosen}

    def perturbed(*inputs: Any) -> Any:
        with _intermediates.perturbing(found, inputs[-1]):
            return f(*inputs[:-1])

    out, grads = backward(perturbed, *args, perturbations, cotangent=cotangent)
    return out, grads[:-1], grads[-1]
