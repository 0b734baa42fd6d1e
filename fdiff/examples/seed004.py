"""Seed 004 (``004_1b7b1a574d585d3e.txt``): which tensors get gradients.

torch keeps ``.grad`` only for leaves unless ``retain_grad()`` is called; the functional rewrite
tags the intermediates it wants with ``tap`` and asks ``intermediate_grads`` for them.
"""

from __future__ import annotations

from fdiff.examples._catalog import Example, Printed, register, source
from fdiff.examples._lazy import lazy

jnp = lazy("jax.numpy")
backward = lazy("fdiff.functional", "backward")
intermediate_grads = lazy("fdiff.functional", "intermediate_grads")
tap = lazy("fdiff.functional", "tap")

DOCUMENT = "004_1b7b1a574d585d3e.txt"


def squared_error(w, x, y):
    y_pred = w * x
    return (y_pred - y) ** 2


def example_004_1():
    x, y = jnp.array(3.0), jnp.array(6.0)
    _, (w_grad,) = backward(lambda w: squared_error(w, x, y), jnp.array(1.0))
    return {"w.grad": w_grad}


register(
    Example(
        id="004.1",
        title="d/dw (w*x - y)**2 at w=1, x=3, y=6",
        document=DOCUMENT,
        torch_source=source("""
            import torch

            w = torch.tensor(1.0, requires_grad=True)
            x = torch.tensor(3.0)
            y = torch.tensor(6.0)
            y_pred = w * x
            loss = (y_pred - y) ** 2
            loss.backward()
            print(w.grad)
        """),
        jax=example_004_1,
        documented={"w.grad": Printed(-18.0)},
    )
)


def sum_of_squares(a):
    b = tap("b", a + 2)
    c = tap("c", b**2)
    return c.sum()


def example_004_2():
    a = jnp.ones((2, 2))
    _, (a_grad,), tapped = intermediate_grads(sum_of_squares, a)
    return {
        "a.grad": a_grad,
        "b2.grad": tapped["b"],
        "c2.grad": tapped["c"],
    }


register(
    Example(
        id="004.2",
        title="gradients of intermediates need retain_grad()",
        document=DOCUMENT,
        torch_source=source("""
            import torch

            a = torch.ones(2, 2, requires_grad=True)
            b = a + 2
            c = b**2
            out = c.sum()
            out.backward()
            print(a.grad, b.grad, c.grad)

            a2 = torch.ones(2, 2, requires_grad=True)
            b2 = a2 + 2
            b2.retain_grad()
            c2 = b2**2
            c2.retain_grad()
            out2 = c2.sum()
            out2.backward()
            print(b2.grad, c2.grad)
        """),
        jax=example_004_2,
        documented={
            "a.grad": Printed([[6.0, 6.0], [6.0, 6.0]]),
            "b.grad": None,
            "c.grad": None,
            "b2.grad": Printed([[6.0, 6.0], [6.0, 6.0]]),
            "c2.grad": Printed([[1.0, 1.0], [1.0, 1.0]]),
        },
    )
)
