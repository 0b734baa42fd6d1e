"""Seed 002 (``002_62843be4c03a9e74.txt``): partial derivatives of ``3a^3 + 2b^4`` and an MSE.

``no_grad`` (and ``detach``) is ``stop_gradient``: the result is not traced from the inputs, so it
has no ``grad_fn`` and nothing to differentiate.
"""

from __future__ import annotations

from fdiff.examples._catalog import Example, Printed, register, source
from fdiff.examples._lazy import lazy

jax = lazy("jax")
jnp = lazy("jax.numpy")
backward = lazy("fdiff.functional", "backward")
output_grad_fn = lazy("fdiff.functional", "output_grad_fn")

DOCUMENT = "002_62843be4c03a9e74.txt"


def polynomial(a, b):
    return 3 * a**3 + 2 * b**4


def example_002_1():
    a, b = jnp.array([3.0]), jnp.array([2.0])
    y, (a_grad, b_grad) = backward(polynomial, a, b)
    constant = lambda a, b: polynomial(jax.lax.stop_gradient(a), jax.lax.stop_gradient(b))  # noqa: E731
    return {
        "y.data": y,
        "y.grad_fn": output_grad_fn(polynomial, a, b),
        "a.grad": a_grad,
        "b.grad": b_grad,
        "y_plain.grad_fn": output_grad_fn(constant, a, b),
    }


register(
    Example(
        id="002.1",
        title="partial derivatives of y = 3a^3 + 2b^4 at a=3, b=2",
        document=DOCUMENT,
        torch_source=source("""
            import torch

            a = torch.tensor([3.])
            b = torch.tensor([2.])
            y_plain = 3*a**3 + 2*b**4
            print(y_plain.data, y_plain.grad_fn)

            a = torch.tensor([3.], requires_grad=True)
            b = torch.tensor([2.], requires_grad=True)
            y = 3*a**3 + 2*b**4
            print(y.data, y.grad_fn)
            y.backward()
            print(a.data, a.grad, a.grad_fn)
            print(b.data, b.grad, b.grad_fn)
        """),
        jax=example_002_1,
        documented={
            "y.data": Printed([113.0]),
            "y.grad_fn": "AddBackward0",
            "a.grad": Printed([81.0]),
            "b.grad": Printed([64.0]),
            "y_plain.grad_fn": None,
        },
    )
)


def example_002_2():
    a, b = jnp.array([3.0]), jnp.array([2.0])
    untraced = lambda a, b: polynomial(jax.lax.stop_gradient(a), jax.lax.stop_gradient(b))  # noqa: E731
    name = output_grad_fn(untraced, a, b)
    return {
        "y.requires_grad": name is not None,
        "y.data": untraced(a, b),
        "y.grad_fn": name,
    }


register(
    Example(
        id="002.2",
        title="the same under torch.no_grad(): no graph, backward is an error",
        document=DOCUMENT,
        torch_source=source("""
            import torch

            a = torch.tensor([3.], requires_grad=True)
            b = torch.tensor([2.], requires_grad=True)
            with torch.no_grad():
                y = 3*a**3 + 2*b**4
            print(y.requires_grad)
            print(y.data, y.grad, y.grad_fn)
            try:
                y.backward()
                backward_failed = False
            except RuntimeError as error:
                print(error)
                backward_failed = True
        """),
        jax=example_002_2,
        documented={
            "y.requires_grad": False,
            "y.data": Printed([113.0]),
            "y.grad": None,
            "y.grad_fn": None,
            "backward_failed": True,
        },
        notes=(
            "JAX has no error to match torch's: differentiating a function whose output does "
            "not depend on the input gives zeros. The absence of a trace is what carries over."
        ),
    )
)


def mean_squared_error(y, y_pred):
    return jnp.mean((y - y_pred) ** 2)


def example_002_3():
    y, pred = jnp.array([1.0, 2.0, 3.0]), jnp.array([2.0, 2.0, 3.0])
    error, (y_grad, pred_grad) = backward(mean_squared_error, y, pred)
    return {
        "error.data": error,
        "error.grad_fn": output_grad_fn(mean_squared_error, y, pred),
        "y.grad": y_grad,
        "pred.grad": pred_grad,
    }


register(
    Example(
        id="002.3",
        title="gradients of a mean squared error with respect to both arguments",
        document=DOCUMENT,
        torch_source=source("""
            import torch

            def mean_squared_error(y, y_pred):
                return torch.mean((y - y_pred)**2)

            y = torch.tensor([1., 2., 3.], requires_grad=True)
            pred = torch.tensor([2., 2., 3.], requires_grad=True)
            error = mean_squared_error(y, pred)
            error.backward()
            print(y.data, y.grad, y.grad_fn)
            print(pred.data, pred.grad, pred.grad_fn)
            print(error.data, error.grad_fn)
        """),
        jax=example_002_3,
        documented={
            "error.data": Printed(0.3333),
            "error.grad_fn": "MeanBackward0",
            "y.grad": Printed([-0.6667, 0.0, 0.0]),
            "pred.grad": Printed([0.6667, -0.0, -0.0]),
        },
    )
)
