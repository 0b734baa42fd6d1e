"""Seed 001 (``001_54a47af7d47e6158.txt``): the autograd tutorial notebook.

Random inputs come from :mod:`fdiff.torch._random`, a NumPy copy of torch's CPU generator, so
``torch.manual_seed(0); torch.randn(3)`` has the seed's values with no torch installed.
``backward(gradient=v)`` is a VJP with cotangent ``v``; ``no_grad`` is ``stop_gradient`` on the
block's inputs, and "requires grad" is whether the result is traced from a differentiated input
(``output_grad_fn`` is not ``None``). A non-leaf's ``.grad`` (``None`` in torch) has no pure
counterpart and is not reported; an intermediate's gradient is asked for with ``tap`` (004.2).
"""

from __future__ import annotations

from fdiff.examples._catalog import Example, Printed, register, source
from fdiff.examples._lazy import lazy

jax = lazy("jax")
jnp = lazy("jax.numpy")
backward = lazy("fdiff.functional", "backward")
output_grad_fn = lazy("fdiff.functional", "output_grad_fn")
Generator = lazy("fdiff.torch._random", "Generator")

DOCUMENT = "001_54a47af7d47e6158.txt"


def randn_after_seed(seed: int, *shapes: tuple[int, ...]) -> list[jax.Array]:
    """Consecutive ``torch.randn`` draws after ``torch.manual_seed(seed)``, torch's exact bits."""
    generator = Generator().manual_seed(seed)
    return [jnp.asarray(generator.randn(shape)) for shape in shapes]


def shifted(x):
    return x + 2


def tripled_square(x):
    y = shifted(x)
    return y * y * 3


def mean_of_tripled_square(x):
    return tripled_square(x).mean()


def example_001_1():
    x = jnp.ones((2, 2))
    out, (grad,) = backward(mean_of_tripled_square, x)
    return {
        "y": shifted(x),
        "y.grad_fn": output_grad_fn(shifted, x),
        "z": tripled_square(x),
        "z.grad_fn": output_grad_fn(tripled_square, x),
        "out": out,
        "out.grad_fn": output_grad_fn(mean_of_tripled_square, x),
        "x.grad": grad,
    }


register(
    Example(
        id="001.1",
        title="out = mean(3 * (x + 2)**2): d out/dx = 4.5",
        document=DOCUMENT,
        torch_source=source("""
            import torch

            x = torch.ones(2, 2, requires_grad=True)
            print(x)
            y = x + 2
            print(y)
            z = y * y * 3
            out = z.mean()
            print(z, out)
            out.backward()
            print(x.grad)
            print(y.grad)
            print(z.grad)
        """),
        jax=example_001_1,
        documented={
            "y": Printed([[3.0, 3.0], [3.0, 3.0]]),
            "y.grad_fn": "AddBackward0",
            "z": Printed([[27.0, 27.0], [27.0, 27.0]]),
            "z.grad_fn": "MulBackward0",
            "out": Printed(27.0),
            "out.grad_fn": "MeanBackward0",
            "x.grad": Printed([[4.5, 4.5], [4.5, 4.5]]),
            "y.grad": None,
            "z.grad": None,
        },
        notes="torch warns when y.grad (a non-leaf's grad) is read; the value is None.",
    )
)


def squared_ratio_sum(a):
    return (a * a).sum()


def example_001_2():
    (a,) = randn_after_seed(0, (2, 2))
    a = (a * 3) / (a - 1)
    return {
        "a": a,
        "b": squared_ratio_sum(a),
        "b.grad_fn": output_grad_fn(squared_ratio_sum, a),
    }


register(
    Example(
        id="001.2",
        title="elementwise (a*3)/(a-1) of a seeded randn, then sum(a*a)",
        document=DOCUMENT,
        torch_source=source("""
            import torch

            torch.manual_seed(0)
            a = torch.randn(2, 2)
            print(a)
            print(a*3)
            print(a-1)
            a = ((a * 3) / (a - 1))
            print(a)
            a.requires_grad_(True)
            print(a.requires_grad)
            b = (a * a).sum()
            print(b)
            print(b.grad_fn)
        """),
        jax=example_001_2,
        documented={
            "a": Printed([[8.5453, 0.6806], [2.0562, -3.9514]]),
            "a.requires_grad": True,
            "b": Printed(93.3274),
            "b.grad_fn": "SumBackward0",
        },
    )
)


def doublings_until(x, limit=1000.0) -> int:
    """How often torch's ``while y.data.norm() < 1000`` loop multiplies by 2 (on values)."""
    count = 1
    while jnp.linalg.norm(x * 2.0**count) < limit:
        count += 1
    return count


def doubled(x, times: int):
    """``y = x * 2`` then ``y = y * 2``, ``times`` multiplications in all (a static count)."""
    y = x * 2
    for _ in range(times - 1):
        y = y * 2
    return y


_DOUBLING_SOURCE = """
    import torch

    torch.manual_seed(0)
    x = torch.randn(3, requires_grad=True)
    print(f'x=\\n{{x}}')
    y = x * 2
    print(f'y=\\n{{y}}')
    print(y.data.norm())
    print(4*x.data.norm())
    while y.data.norm() < 1000:
        y = y * 2
    print(f'y=\\n{{y}}')
    {gradient}
    y.backward({argument})
    print(f'x.grad=\\n{{x.grad}}')
"""


def _doubling_example(cotangent):
    def example():
        (x,) = randn_after_seed(0, (3,))
        times = doublings_until(x)  # data-dependent control flow runs on values, outside tracing
        y, (grad,) = backward(lambda x: doubled(x, times), x, cotangent=jnp.array(cotangent))
        return {
            "x": x,
            "2 * x.data.norm()": jnp.linalg.norm(x * 2),
            "4 * x.data.norm()": 4 * jnp.linalg.norm(x),
            "y": y,
            "y.grad_fn": output_grad_fn(lambda x: doubled(x, times), x),
            "x.grad": grad,
        }

    return example


_DOUBLING_DOCUMENTED = {
    "x": Printed([1.5410, -0.2934, -2.1788]),
    "2 * x.data.norm()": Printed(5.3695),
    "4 * x.data.norm()": Printed(10.7390),
    "y": Printed([788.9900, -150.2356, -1115.5402]),
    "y.grad_fn": "MulBackward0",
}

register(
    Example(
        id="001.3",
        title="y = x * 2**k until |y| >= 1000; y.backward(ones of dtype long)",
        document=DOCUMENT,
        torch_source=source(
            _DOUBLING_SOURCE.format(
                gradient="original = torch.tensor([1, 1, 1], dtype=torch.long)",
                argument="original",
            )
        ),
        jax=_doubling_example([1, 1, 1]),
        documented={**_DOUBLING_DOCUMENTED, "x.grad": Printed([512.0, 512.0, 512.0])},
        notes="An integer cotangent is cast to the output's dtype, as torch casts the long v.",
    )
)

register(
    Example(
        id="001.4",
        title="the same with y.backward(tensor([0.1, 1.0, 0.0001]))",
        document=DOCUMENT,
        torch_source=source(
            _DOUBLING_SOURCE.format(
                gradient="gradients = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)",
                argument="gradients",
            )
        ),
        jax=_doubling_example([0.1, 1.0, 0.0001]),
        documented={
            **_DOUBLING_DOCUMENTED,
            "x.grad": Printed([51.2, 512.0, 0.0512], scientific=True),
        },
    )
)


def square(x):
    return x**2


def example_001_5():
    (x,) = randn_after_seed(0, (3,))
    return {
        "(x ** 2).requires_grad": output_grad_fn(square, x) is not None,
        "inside.requires_grad": output_grad_fn(lambda x: square(jax.lax.stop_gradient(x)), x)
        is not None,
    }


register(
    Example(
        id="001.5",
        title="requires_grad of x, x**2, and x**2 under no_grad",
        document=DOCUMENT,
        torch_source=source("""
            import torch

            torch.manual_seed(0)
            x = torch.randn(3, requires_grad=True)
            print(x.requires_grad)
            print((x ** 2).requires_grad)
            with torch.no_grad():
                inside = x ** 2
                print(inside.requires_grad)
        """),
        jax=example_001_5,
        documented={
            "x.requires_grad": True,
            "(x ** 2).requires_grad": True,
            "inside.requires_grad": False,
        },
        notes="no_grad is stop_gradient on the block's inputs: nothing inside is traced.",
    )
)

# The seed drew `a = torch.rand(5)` from a generator state it does not show; these are the
# values it printed (4 decimals), used as inputs.
PRINTED_RAND_5 = [0.1143, 0.4725, 0.5751, 0.2952, 0.7967]


def sum_of_roots(a):
    return ((a + 2) ** (1 / 2)).sum()


def example_001_6():
    a = jnp.array(PRINTED_RAND_5)
    out, (grad,) = backward(sum_of_roots, a)
    return {
        "out": out,
        "out.grad_fn": output_grad_fn(sum_of_roots, a),
        "a.grad": grad,
        "c.grad_fn": output_grad_fn(lambda a: (a + 2) ** (1 / 2), a),
        "b.grad_fn": output_grad_fn(lambda a: a + 2, a),
    }


register(
    Example(
        id="001.6",
        title="legacy Variable: out = sum(sqrt(a + 2))",
        document=DOCUMENT,
        torch_source=source("""
            import torch
            from torch.autograd import Variable

            a = torch.tensor([0.1143, 0.4725, 0.5751, 0.2952, 0.7967])  # the seed's rand(5)
            a = Variable(a, requires_grad=True)
            b = a + 2
            b.requires_grad_(True)
            c = b**(1/2)
            c.requires_grad_(True)
            out = c.sum()
            out.requires_grad_(True)
            out.backward()
            print(a.data, a.grad, a.grad_fn)
            print(b, b.data, b.grad, b.grad_fn)
            print(c, c.data, c.grad, c.grad_fn)
            print(out, out.data, out.grad, out.grad_fn)
        """),
        jax=example_001_6,
        documented={
            # Inputs are the printed 4-decimal values: each is off by up to 5e-5, which moves
            # sum(sqrt(a + 2)) by up to 5 * 5e-5 * 0.35 < 1e-4.
            "out": Printed(7.8185, slack=1e-4),
            "out.grad_fn": "SumBackward0",
            "a.grad": Printed([0.3439, 0.3180, 0.3116, 0.3300, 0.2990]),
            "b.grad_fn": "AddBackward0",
            "c.grad_fn": "PowBackward0",
            "b.grad": None,
            "c.grad": None,
            "out.grad": None,
        },
        notes="The seed's rand(5) state is not recoverable; its printed values are the inputs.",
    )
)
