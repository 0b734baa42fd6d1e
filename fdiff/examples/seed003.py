"""Seed 003 (``003_ae0069ff949062a6.txt``): autograd basics, detaching, Jacobian products.

Torch's ``.grad`` accumulation across ``backward(v, retain_graph=True)`` calls is explicit here:
one retained VJP function called three times, its results summed with ``accumulate`` and reset
with ``zeros_like_tree`` (``inp.grad.zero_()``).
"""

from __future__ import annotations

from fdiff.examples._catalog import Example, Printed, register, source
from fdiff.examples._lazy import lazy
from fdiff.examples.seed001 import randn_after_seed

jax = lazy("jax")
jnp = lazy("jax.numpy")
accumulate = lazy("fdiff.functional", "accumulate")
backward = lazy("fdiff.functional", "backward")
output_grad_fn = lazy("fdiff.functional", "output_grad_fn")
retained_vjp = lazy("fdiff.functional", "retained_vjp")
zeros_like_tree = lazy("fdiff.functional", "zeros_like_tree")

DOCUMENT = "003_ae0069ff949062a6.txt"


def binary_cross_entropy_with_logits(z, y):
    """torch's mean BCE on logits (jitted where called: the jaxpr has a call named after it)."""
    return jnp.mean(jnp.maximum(z, 0) - z * y + jnp.log1p(jnp.exp(-jnp.abs(z))))


def logits(w, b, x):
    return jnp.matmul(x, w) + b


def bce_loss(w, b, x, y):
    return jax.jit(binary_cross_entropy_with_logits)(logits(w, b, x), y)


def example_003_1():
    w, b = randn_after_seed(0, (5, 3), (3,))
    x, y = jnp.ones(5), jnp.zeros(3)
    _, (w_grad, b_grad) = backward(lambda w, b: bce_loss(w, b, x, y), w, b)
    return {
        "z.grad_fn": output_grad_fn(lambda w, b: logits(w, b, x), w, b),
        "loss.grad_fn": output_grad_fn(lambda w, b: bce_loss(w, b, x, y), w, b),
        "w.grad": w_grad,
        "b.grad": b_grad,
    }


register(
    Example(
        id="003.1",
        title="binary cross entropy with logits of z = x @ w + b",
        document=DOCUMENT,
        torch_source=source("""
            import torch

            torch.manual_seed(0)  # the seed drew w, b from an unseeded generator
            x = torch.ones(5)
            y = torch.zeros(3)
            w = torch.randn(5, 3, requires_grad=True)
            b = torch.randn(3, requires_grad=True)
            z = torch.matmul(x, w) + b
            loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
            print(f"Gradient function for z = {z.grad_fn}")
            print(f"Gradient function for loss = {loss.grad_fn}")
            loss.backward()
            print(w.grad)
            print(b.grad)
        """),
        jax=example_003_1,
        documented={
            "z.grad_fn": "AddBackward0",
            "loss.grad_fn": "BinaryCrossEntropyWithLogitsBackward0",
            "w.grad": Printed([[0.2661, 0.1179, 0.0027]] * 5),
            "b.grad": Printed([0.2661, 0.1179, 0.0027]),
        },
        notes=(
            "The seed printed [0.3039, 0.2375, 0.3243] from an unseeded draw; with "
            "manual_seed(0) torch gives [0.2661, 0.1179, 0.0027] = sigmoid(z)/3 in every row."
        ),
    )
)


def example_003_2():
    w, b = randn_after_seed(0, (5, 3), (3,))
    x = jnp.ones(5)
    traced = output_grad_fn(lambda w, b: logits(w, b, x), w, b) is not None
    untraced = output_grad_fn(
        lambda w, b: logits(jax.lax.stop_gradient(w), jax.lax.stop_gradient(b), x), w, b
    )
    return {
        "z.requires_grad": traced,
        "z_no_grad.requires_grad": untraced is not None,
        "z_det.requires_grad": untraced is not None,
    }


register(
    Example(
        id="003.2",
        title="requires_grad normally, under no_grad, and after detach()",
        document=DOCUMENT,
        torch_source=source("""
            import torch

            torch.manual_seed(0)
            x = torch.ones(5)
            w = torch.randn(5, 3, requires_grad=True)
            b = torch.randn(3, requires_grad=True)
            z = torch.matmul(x, w) + b
            print(z.requires_grad)
            with torch.no_grad():
                z_no_grad = torch.matmul(x, w) + b
            print(z_no_grad.requires_grad)
            z_det = z.detach()
            print(z_det.requires_grad)
        """),
        jax=example_003_2,
        documented={
            "z.requires_grad": True,
            "z_no_grad.requires_grad": False,
            "z_det.requires_grad": False,
        },
        notes="no_grad and detach() are both stop_gradient in the functional rewrite.",
    )
)


def shifted_square(inp):
    return (inp + 1) ** 2


def example_003_3():
    inp = jnp.eye(5)
    _, vjp_fn = retained_vjp(shifted_square, inp)  # retain_graph=True: reuse the pullback
    ones = jnp.ones_like(inp)
    grad = accumulate(None, vjp_fn(ones))
    first = grad[0]
    grad = accumulate(grad, vjp_fn(ones))
    second = grad[0]
    grad = accumulate(zeros_like_tree(grad), vjp_fn(ones))
    return {
        "out.grad_fn": output_grad_fn(shifted_square, inp),
        "first_call": first,
        "second_call": second,
        "after_zeroing": grad[0],
    }


_DIAGONAL = [[4.0 if i == j else 2.0 for j in range(5)] for i in range(5)]

register(
    Example(
        id="003.3",
        title="Jacobian-vector products accumulate across retain_graph backwards",
        document=DOCUMENT,
        torch_source=source("""
            import torch

            inp = torch.eye(5, requires_grad=True)
            out = (inp+1).pow(2)
            out.backward(torch.ones_like(inp), retain_graph=True)
            print(f"First call\\n{inp.grad}")
            first_call = inp.grad.clone()
            out.backward(torch.ones_like(inp), retain_graph=True)
            print(f"\\nSecond call\\n{inp.grad}")
            second_call = inp.grad.clone()
            inp.grad.zero_()
            out.backward(torch.ones_like(inp), retain_graph=True)
            print(f"\\nCall after zeroing gradients\\n{inp.grad}")
            after_zeroing = inp.grad.clone()
        """),
        jax=example_003_3,
        documented={
            "out.grad_fn": "PowBackward0",
            "first_call": Printed(_DIAGONAL),
            "second_call": Printed([[2 * v for v in row] for row in _DIAGONAL]),
            "after_zeroing": Printed(_DIAGONAL),
        },
    )
)
