"""torch's ``backward`` as a vector-Jacobian product: :func:`backward` and :func:`retained_vjp`.

Both check what torch checks (floating-point inputs, a cotangent of the output's structure,
shape and dtype; ones only for a one-element output) and say what to do otherwise.

>>> import jax.numpy as jnp
>>> backward(lambda x: (x**2).sum(), jnp.array([1.0, 2.0]))[1]
(Array([2., 4.], dtype=float32),)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax.tree_util import Partial, keystr, tree_flatten_with_path

__all__ = ["backward", "retained_vjp"]


def _check_primals(primals: tuple[Any, ...], positions: Sequence[int] | None = None) -> None:
    for n, primal in zip(positions or range(len(primals)), primals, strict=True):
        for path, leaf in tree_flatten_with_path(primal)[0]:
            dtype = jnp.result_type(leaf)
            if not jnp.issubdtype(dtype, jnp.inexact):
                raise TypeError(
                    f"Argument {n}{keystr(path)} has dtype {dtype}: only floating-point inputs "
                    "have gradients (torch: only floating point tensors can require gradients). "
                    "Leave it out of `argnums`, or close over it (a lambda or functools.partial)."
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


def _chosen(argnums: int | Sequence[int] | None, count: int) -> tuple[int, ...]:
    """The positions ``argnums`` names, checked as ``jax.value_and_grad`` checks them."""
    if argnums is None:
        return tuple(range(count))
    chosen = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not chosen or not all(isinstance(n, int) for n in chosen):
        raise TypeError(f"`argnums` must be an int or a non-empty tuple of ints, got {argnums!r}")
    for n in chosen:
        if not -count <= n < count:
            raise ValueError(
                f"`argnums` has {n}, but `f` was given {count} positional argument"
                f"{'' if count == 1 else 's'}"
            )
    return tuple(n % count for n in chosen)


def backward(
    f: Callable[..., Any],
    *primals: Any,
    cotangent: Any = None,
    argnums: int | Sequence[int] | None = None,
    has_aux: bool = False,
) -> tuple[Any, Any]:
    """Evaluate ``f(*primals)`` and pull ``cotangent`` back to its inputs (torch's backward).

    torch's ``y.backward(v)`` is a vector-Jacobian product: ``jax.vjp(f, *primals)[1](v)``.
    ``cotangent=None`` is torch's plain ``y.backward()``: allowed only for an output with one
    element, and then the cotangent is ones *of the output's shape*, so a ``(1,)``-shaped loss
    works as in torch (where ``jax.grad`` would demand shape ``()``).

    ``argnums`` and ``has_aux`` follow ``jax.value_and_grad``: an int gives that argument's
    gradient alone, a tuple of ints a tuple of gradients; with ``has_aux=True`` ``f`` returns
    ``(output, aux)`` and the first result is that pair. Arguments not chosen are passed as
    they are (data, integer labels), never differentiated.

    Args:
        f: A function of arrays (or pytrees of them).
        *primals: The inputs.
        cotangent: The output's cotangent (torch's ``gradient=``), with the output's structure
            and shapes. Python numbers, lists and integer arrays are cast to the output's dtype.
        argnums: Which positional arguments to differentiate: ``None`` (the default) for every
            one, with a tuple of gradients, as torch fills every leaf's ``.grad``; an int or a
            tuple of ints as in ``jax.value_and_grad``.
        has_aux: Whether ``f`` returns ``(output, aux)``; ``aux`` is returned, not
            differentiated.

    Returns:
        ``(out, grads)``, or ``((out, aux), grads)`` with ``has_aux``: ``grads`` is one gradient
        for an int ``argnums``, else a tuple with one gradient per chosen argument.

    Raises:
        ValueError: If `cotangent` is None and the output has more than one element, the
            cotangent's structure or shape differs from the output's, or `argnums` names an
            argument `f` was not given.
        TypeError: If a chosen primal or the output is not floating-point, the cotangent is a
            float array of another dtype, `argnums` is not an int or ints, or `f` does not
            return a pair with ``has_aux``.

    >>> import jax.numpy as jnp
    >>> backward(lambda x: x * 2**9, jnp.ones(3), cotangent=[0.1, 1.0, 0.0001])[1]
    (Array([5.12e+01, 5.12e+02, 5.12e-02], dtype=float32),)
    >>> def loss(w, x, labels):
    ...     error = w * x - labels
    ...     return (error**2).sum(), error
    >>> (value, error), w_grad = backward(
    ...     loss, jnp.float32(2.0), jnp.ones(2), jnp.array([1, 3]), argnums=0, has_aux=True
    ... )
    >>> value, error, w_grad
    (Array(2., dtype=float32), Array([ 1., -1.], dtype=float32), Array(0., dtype=float32))
    """
    chosen = _chosen(argnums, len(primals))
    _check_primals(tuple(primals[n] for n in chosen), chosen)

    def of_chosen(*values: Any) -> Any:
        args = list(primals)
        for n, value in zip(chosen, values, strict=True):
            args[n] = value
        result = f(*args)
        if has_aux and not (isinstance(result, tuple) and len(result) == 2):
            raise TypeError(
                "with has_aux=True `f` must return a pair (output, aux); "
                f"it returned {type(result).__name__}"
            )
        return result

    if has_aux:
        out, vjp_fn, aux = jax.vjp(of_chosen, *(primals[n] for n in chosen), has_aux=True)
    else:
        out, vjp_fn = jax.vjp(of_chosen, *(primals[n] for n in chosen))
    grads = vjp_fn(_cotangent(out, cotangent))
    grads = grads[0] if isinstance(argnums, int) else grads
    return ((out, aux) if has_aux else out), grads


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
    >>> from fdiff.functional import accumulate
    >>> out, vjp_fn = retained_vjp(lambda x: (x + 1) ** 2, jnp.zeros(2))
    >>> accumulate(vjp_fn(jnp.ones(2)), vjp_fn(jnp.ones(2)))
    (Array([4., 4.], dtype=float32),)
    """
    _check_primals(primals)
    out, vjp_fn = jax.vjp(f, *primals)
    return out, Partial(_pull, vjp_fn, out)
