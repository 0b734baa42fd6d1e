"""``torch.autograd.gradcheck`` and ``gradgradcheck``: fdiff.torch's backward (custom Functions
included) against central finite differences, as torch checks it.

The analytical Jacobian comes from the recorded backward (one ``autograd.grad`` per output
element), the numerical one from ``(f(x + eps) - f(x - eps)) / (2 eps)`` per input element;
they must agree within ``atol + rtol * |numerical|``. As in torch, this needs float64 inputs to
be meaningful (torch warns otherwise); fdiff.torch's float64 needs JAX's x64 mode
(``jax.config.update("jax_enable_x64", True)`` before any array is made). ``fast_mode``,
``check_forward_ad``, ``check_batched_grad`` and ``masked`` raise
:class:`~fdiff.torch.UnsupportedError` when set.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np

from fdiff.torch._autograd import grad
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._tensor_base import TensorBase, new_tensor

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]

_NOT_DOUBLE = (
    "Input #{} requires gradient and is not a double precision floating point or complex. This "
    "check will likely fail if all the inputs are not of double precision floating point or "
    "complex. "
)


class GradcheckError(RuntimeError):
    """A Jacobian mismatch found by :func:`gradcheck` (torch's class of the same name)."""


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, tuple | list) else (x,)


def _outputs(func: Callable[..., Any], inputs: tuple) -> tuple:
    return tuple(o for o in _as_tuple(func(*inputs)) if isinstance(o, TensorBase))


def _numerical(func, inputs: tuple, i: int, out_index: int, eps: float) -> np.ndarray:
    """d output / d inputs[i] by central differences: shape (input numel, output numel)."""
    x = inputs[i]
    base = np.asarray(x.detach()._value)
    columns = []
    for k in range(base.size):
        values = []
        for step in (eps, -eps):
            shifted = base.copy().reshape(-1)
            shifted[k] += step
            moved = list(inputs)
            moved[i] = new_tensor(jnp.asarray(shifted.reshape(base.shape)), requires_grad=True)
            output = _outputs(func, tuple(moved))[out_index]
            values.append(np.asarray(output._value))
        columns.append(((values[0] - values[1]) / (2 * eps)).reshape(-1))
    return np.stack(columns) if columns else np.zeros((0, 0))


def _analytical(output: TensorBase, inputs: tuple, i: int) -> np.ndarray:
    """d output / d inputs[i] by the recorded backward: shape (input numel, output numel)."""
    x = inputs[i]
    rows = np.zeros((x.numel(), output.numel()))
    for j in range(output.numel()):
        unit = np.zeros(output.numel(), dtype=np.asarray(output._value).dtype)
        unit[j] = 1
        cotangent = new_tensor(jnp.asarray(unit.reshape(tuple(output.shape))))
        (g,) = grad(output, x, cotangent, retain_graph=True, allow_unused=True)
        if g is not None:
            rows[:, j] = np.asarray(g._value).reshape(-1)
    return rows


def gradcheck(
    func: Callable[..., Any],
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
) -> bool:
    """Whether ``func``'s backward matches finite differences at ``inputs`` (raises
    :class:`GradcheckError` on a mismatch unless ``raise_exception=False``)."""
    for name, value in (
        ("check_batched_grad", check_batched_grad),
        ("check_batched_forward_grad", check_batched_forward_grad),
        ("check_forward_ad", check_forward_ad),
        ("fast_mode", fast_mode),
        ("masked", masked),
    ):
        if value:
            raise UnsupportedError(f"torch.autograd.gradcheck({name}=True)")
    inputs = _as_tuple(inputs)
    differentiable = [
        i for i, x in enumerate(inputs) if isinstance(x, TensorBase) and x.requires_grad
    ]
    if not differentiable:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of the "
            "them have requires_grad=True."
        )
    for i in differentiable:
        if str(inputs[i].dtype) != "torch.float64":
            warnings.warn(_NOT_DOUBLE.format(i), UserWarning, stacklevel=2)
    outputs = _outputs(func, inputs)
    for o, output in enumerate(outputs):
        for i in differentiable:
            numerical = _numerical(func, inputs, i, o, eps)
            if not output.requires_grad:
                analytical = np.zeros_like(numerical)
            elif check_backward_ad:
                analytical = _analytical(output, inputs, i)
            else:
                continue
            if not np.allclose(analytical, numerical, rtol=rtol, atol=atol):
                message = (
                    f"Jacobian mismatch for output {o} with respect to input {i},\n"
                    f"numerical:{numerical}\nanalytical:{analytical}\n"
                )
                if raise_exception:
                    raise GradcheckError(message)
                return False
    return True


def gradgradcheck(
    func: Callable[..., Any],
    inputs: Any,
    grad_outputs: Any = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
    **options: Any,
) -> bool:
    """:func:`gradcheck` of the gradient (``create_graph=True``): second derivatives of
    ``func``, with ``grad_outputs`` (random, as torch's, when not given) as extra inputs."""
    inputs = _as_tuple(inputs)
    outputs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            new_tensor(
                jnp.asarray(rng.uniform(-1, 1, tuple(o.shape)), o._value.dtype)
            ).requires_grad_()
            for o in outputs
        )
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)
    differentiable = [
        i for i, x in enumerate(inputs) if isinstance(x, TensorBase) and x.requires_grad
    ]

    def first_derivatives(*args: Any) -> tuple:
        outs = _outputs(func, args[:n])
        wanted = [args[i] for i in differentiable]
        return grad(outs, wanted, args[n:], create_graph=True, allow_unused=True)

    return gradcheck(
        first_derivatives,
        (*inputs, *grad_outputs),
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
        **options,
    )
