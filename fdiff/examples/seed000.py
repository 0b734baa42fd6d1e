"""Seed 000 (``000_d3cb4809fd174ff9.txt``): computation-graph practice.

Every loss here has shape ``(1,)``, as in the seed; ``fdiff.functional.backward`` bridges it to
JAX with a cotangent of ones of that shape (``jax.grad`` itself demands shape ``()``), so the
gradients keep torch's shapes. ``detach`` is ``jax.lax.stop_gradient``.
"""

from __future__ import annotations

from fdiff.examples._catalog import Example, Printed, register, source
from fdiff.examples._lazy import lazy

jax = lazy("jax")
jnp = lazy("jax.numpy")
backward = lazy("fdiff.functional", "backward")
output_grad_fn = lazy("fdiff.functional", "output_grad_fn")

DOCUMENT = "000_d3cb4809fd174ff9.txt"


def linear_loss(params, x, y):
    result = x * params[0] + params[1]
    return (result - y) ** 2


def example_000_1():
    x, y = jnp.array([2.0]), jnp.array([3.0])
    params = jnp.array([1.0, 3.0])
    loss, (grad,) = backward(lambda p: linear_loss(p, x, y), params)
    return {
        "loss": loss,
        "loss.grad_fn": output_grad_fn(linear_loss, params, x, y, argnums=0),
        "params.grad": grad,
    }


register(
    Example(
        id="000.1",
        title="loss of a linear model: (x*p0 + p1 - y)**2",
        document=DOCUMENT,
        torch_source=source("""
            import torch

            learning_rate = 0.1
            x = torch.tensor([2.0])
            y = torch.tensor([3.0])
            params = torch.tensor([1.0, 3.0], requires_grad=True)
            result = x * params[0] + params[1]
            loss = (result - y) ** 2
            loss.backward()
            print(f"loss: {loss}")
            print(f"params.grad: {params.grad}")
        """),
        jax=example_000_1,
        documented={
            "loss": Printed([4.0]),
            "loss.grad_fn": "PowBackward0",
            "params.grad": Printed([8.0, 4.0]),
        },
    )
)


def product_loss(params, x, y, detach_b):
    a = x * params
    b = y * (jax.lax.stop_gradient(params) if detach_b else params)
    return a * b


def _product_example(detach_b: bool):
    def example():
        x, y = jnp.array([2.0]), jnp.array([3.0])
        params = jnp.array([3.0])
        loss, (grad,) = backward(lambda p: product_loss(p, x, y, detach_b), params)
        name = output_grad_fn(lambda p: product_loss(p, x, y, detach_b), params)
        return {"loss": loss, "loss.grad_fn": name, "params.grad": grad}

    return example


_PRODUCT_SOURCE = """
    import torch

    learning_rate = 0.1
    x = torch.tensor([2.0])
    y = torch.tensor([3.0])
    params = torch.tensor([3.0], requires_grad=True)
    a = x * params
    b = y * {b_factor}
    loss = a * b
    loss.backward()
    print(f"loss: {{loss}}")
    print(f"params.grad: {{params.grad}}")
"""

register(
    Example(
        id="000.2a",
        title="loss = (x*p) * (y*p): both factors carry the gradient",
        document=DOCUMENT,
        torch_source=source(_PRODUCT_SOURCE.format(b_factor="params")),
        jax=_product_example(detach_b=False),
        documented={
            "loss": Printed([54.0]),
            "loss.grad_fn": "MulBackward0",
            "params.grad": Printed([36.0]),
        },
    )
)

register(
    Example(
        id="000.2b",
        title="the same with b = y * params.detach(): half the gradient",
        document=DOCUMENT,
        torch_source=source(_PRODUCT_SOURCE.format(b_factor="params.detach()")),
        jax=_product_example(detach_b=True),
        documented={
            "loss": Printed([54.0]),
            "loss.grad_fn": "MulBackward0",
            "params.grad": Printed([18.0]),
        },
        notes="detach() is jax.lax.stop_gradient: b is a constant for differentiation.",
    )
)


def branches(params, x):
    a = x * params[0]
    b = a * params[1]
    r = b * params[2]
    s = b * params[3]
    return r + s, (r, s)


def example_000_3():
    x = jnp.array([7.0])
    params = jnp.array([2.0, 3.0, 5.0, 4.0])
    _, (grad,) = backward(lambda p: branches(p, x)[0], params)
    _, (r, s) = branches(params, x)
    return {
        "r": r,
        "s": s,
        "r.grad_fn": output_grad_fn(lambda p: branches(p, x)[1][0], params),
        "s.grad_fn": output_grad_fn(lambda p: branches(p, x)[1][1], params),
        "t.grad_fn": output_grad_fn(lambda p: branches(p, x)[0], params),
        "params.grad": grad,
    }


register(
    Example(
        id="000.3",
        title="a shared node feeding two branches: t = b*p2 + b*p3",
        document=DOCUMENT,
        torch_source=source("""
            import torch

            learning_rate = 0.1
            x = torch.tensor([7.0])
            params = torch.tensor([2.0, 3.0, 5.0, 4.0], requires_grad=True)
            a = x * params[0]
            b = a * params[1]
            r = b * params[2]
            s = b * params[3]
            t = r + s
            t.backward()
            print(f"r: {r}, s: {s}")
            print(f"params.grad: {params.grad}")
        """),
        jax=example_000_3,
        documented={
            "r": Printed([210.0]),
            "s": Printed([168.0]),
            "r.grad_fn": "MulBackward0",
            "s.grad_fn": "MulBackward0",
            "t.grad_fn": "AddBackward0",
            "params.grad": Printed([189.0, 126.0, 42.0, 42.0]),
        },
    )
)

IMAGE = [[[[2.0, 2.0, 1.0, 3.0], [4.0, 3.0, 1.0, 2.0], [1.0, 2.0, 2.0, 2.0], [1.0, 1.0, 2.0, 4.0]]]]
KERNEL = [[[[3.0, 4.0, 5.0], [1.0, 2.0, 5.0], [1.0, 4.0, 5.0]]]]


def conv2d_nchw(image, weight, bias):
    out = jax.lax.conv_general_dilated(
        image, weight, (1, 1), "VALID", dimension_numbers=("NCHW", "OIHW", "NCHW"),
        precision=jax.lax.Precision.HIGHEST,
    )  # fmt: skip
    return out + bias.reshape(1, -1, 1, 1)


def conv_loss(weight, bias, image):
    return jnp.sum(conv2d_nchw(image, weight, bias))


def example_000_4():
    image, weight, bias = jnp.array(IMAGE), jnp.array(KERNEL), jnp.array([0.0])
    loss, (weight_grad, bias_grad) = backward(lambda w, b: conv_loss(w, b, image), weight, bias)
    return {
        "result": conv2d_nchw(image, weight, bias),
        "loss": loss,
        "loss.grad_fn": output_grad_fn(conv_loss, weight, bias, image, argnums=(0, 1)),
        "conv.weight.grad": weight_grad,
        "conv.bias.grad": bias_grad,
    }


register(
    Example(
        id="000.4",
        title="gradients of a 3x3 convolution's weight and bias",
        document=DOCUMENT,
        torch_source=source("""
            import torch
            import torch.nn as nn

            image = torch.tensor([[[[2., 2., 1., 3.],
                                    [4., 3., 1., 2.],
                                    [1., 2., 2., 2.],
                                    [1., 1., 2., 4.]]]])
            c_weight = torch.tensor([[[[3, 4, 5], [1, 2, 5], [1, 4, 5]]]], dtype=torch.float32)
            c_weight = nn.parameter.Parameter(c_weight)
            c_bias = torch.tensor([0], dtype=torch.float32)
            c_bias = nn.parameter.Parameter(c_bias)
            conv = nn.Conv2d(1, 1, 3)
            conv.weight = c_weight
            conv.bias = c_bias
            result = conv(image)
            print(result)
            loss = torch.sum(result)
            print(loss)
            loss.backward()
            print(conv.weight.grad)
            print(conv.bias.grad)
        """),
        jax=example_000_4,
        documented={
            "result": Printed([[[[53.0, 60.0], [59.0, 68.0]]]]),
            "result.grad_fn": "ConvolutionBackward0",
            "loss": Printed(240.0),
            "loss.grad_fn": "SumBackward0",
            "conv.weight.grad": Printed([[[[11.0, 7.0, 7.0], [10.0, 8.0, 7.0], [5.0, 7.0, 10.0]]]]),
            "conv.bias.grad": Printed([4.0]),
        },
        notes=(
            "The JAX rewrite uses NCHW/OIHW dimension numbers, torch's layouts. Its jaxpr names "
            "the biased convolution AddBackward0 (the bias add is a separate equation), so the "
            "JAX column does not report result.grad_fn."
        ),
    )
)
