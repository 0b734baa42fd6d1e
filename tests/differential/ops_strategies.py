"""Hypothesis strategies for one op step: given a program and a value, an expression.

Each family returns ``(expression, shape)`` (``shape`` None when it depends on the data) or
None when it does not apply, and notes the sums it does (``program.accumulates``) for the
error bound. Domain-restricted ops are written so that both engines stay finite:
``log(|x| + 1)``, ``sqrt(|x| + 1)``, division by ``|b| + 1``.

>>> reduced((2, 3), (1,), keepdim=True)
(2, 1)
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from differential.program import Program, Var

NICE_VALUES = (-2.0, -1.0, -0.5, 0.0, 0.0, 0.5, 1.0, 2.0)  # ties and zeros on purpose

shapes = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)


def draw_array(draw, shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """Mostly nice values (ties, zeros, exact halves), some arbitrary ones in [-3, 3]."""
    nice = st.sampled_from(NICE_VALUES)
    anywhere = st.floats(-3, 3, width=32, allow_subnormal=False)
    values = draw(st.lists(st.one_of(nice, nice, anywhere), min_size=math.prod(shape),
                           max_size=math.prod(shape)))  # fmt: skip
    return np.asarray(values, dtype=np.float32).astype(dtype).reshape(shape)


def broadcast_partner(draw, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts with ``shape``: trailing dims kept or set to 1, some dropped."""
    kept = shape[draw(st.integers(0, len(shape))) :]
    partner = tuple(draw(st.sampled_from((size, 1))) for size in kept)
    if len(kept) == len(shape) < 3 and draw(st.booleans()):  # a new leading dim
        partner = (draw(st.integers(1, 2)), *partner)
    return partner


def dim_of(draw, shape: tuple[int, ...]) -> int:
    """A valid dim, sometimes written negative as torch allows."""
    d = draw(st.integers(0, len(shape) - 1))
    return d - len(shape) if draw(st.booleans()) else d


def reduced(shape: tuple[int, ...], dims: tuple[int, ...], keepdim: bool) -> tuple[int, ...]:
    axes = {d % len(shape) for d in dims}
    return tuple(1 if i in axes else s for i, s in enumerate(shape) if keepdim or i not in axes)


def broadcasts(s: tuple[int, ...], t: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(s, t)
    except ValueError:
        return False
    return True


def float_input(draw, program: Program, shape: tuple[int, ...], requires_grad: bool = True):
    dtype = np.float64 if program.precision == "float64" else np.float32
    return program.input(draw_array(draw, shape, dtype), requires_grad)


UNARY = (
    "-{x}", "{x}.abs()", "torch.relu({x})", "{x}.sigmoid()", "torch.tanh({x})", "{x}.sin()",
    "torch.cos({x})", "{x}.exp()", "torch.log({x}.abs() + 1)", "({x}.abs() + 1).sqrt()",
    "{x} ** 0", "{x} ** 0.0", "{x} ** 1", "{x} ** 2", "{x} ** 3", "{x}.pow(2.0)",
    "({x}.abs() + 1) ** -1.5", "2 ** {x}", "{x} * 3", "0.5 * {x}", "{x} + 1", "2 - {x}", "{x} / 4",
    "1 / ({x}.abs() + 1)", "{x}.clone()", "torch.abs({x}) * 0", "{x}.clamp(-1, 1)",
    "{x}.clamp(min=0)", "{x}.clamp(max=0.5)", "torch.clamp({x}, 0, 2)", "{x}.clamp(1, -1)",
    "{x}.square()", "({x}.abs() + 1).rsqrt()", "torch.log1p({x}.abs())", "{x}.expm1()",
    "{x}.sign()", "{x}.floor()", "torch.ceil({x})", "{x}.round()", "F.softplus({x})",
    "F.leaky_relu({x}, 0.1)", "abs({x})",
    "({x}.abs() + 1).log10()", "torch.log2({x}.abs() + 1)",
)  # fmt: skip

BINARY = (
    "{a} + {b}", "{a} - {b}", "{a} * {b}", "{a} / ({b}.abs() + 1)", "torch.maximum({a}, {b})",
    "torch.minimum({a}, {b})", "torch.where({a} > {b}, {a}, {b})", "torch.where({b} > 0, {a}, 0.0)",
    "({a}.abs() + 1) ** {b}", "torch.add({a}, {b}, alpha=2)", "torch.sub({a}, {b}, alpha=0.5)",
    "torch.mul({a}, {b})", "torch.div({a}, {b} * {b} + 1)", "torch.where({a} <= {b}, {b}, {a})",
    "torch.where({a} == {b}, {a}, {b} * 2)", "torch.where({a} != 0, {b}, {a})",
    "torch.where({a} < {b}, {a}, {b})", "torch.where({a} >= 0.5, {a}, {b})",
)  # fmt: skip


def unary(draw, program: Program, x: Var):
    return draw(st.sampled_from(UNARY)).format(x=x.name), x.shape


def binary(draw, program: Program, a: Var):
    others = [v for v in program.values if broadcasts(a.shape, v.shape)]
    b = draw(st.sampled_from(others)) if others and draw(st.booleans()) else None
    if b is None:
        b = float_input(draw, program, broadcast_partner(draw, a.shape))
    if draw(st.booleans()):
        a, b = b, a
    shape = np.broadcast_shapes(a.shape, b.shape)
    return draw(st.sampled_from(BINARY)).format(a=a.name, b=b.name), shape


def reduction(draw, program: Program, x: Var):
    """Full and per-dim reductions. No ``var``/``std`` of one element: torch warns (degrees
    of freedom <= 0), fdiff.torch does not (see the report)."""
    program.accumulates(math.prod(x.shape))
    if not x.shape:
        return draw(st.sampled_from(("{x}.sum()", "{x}.mean()"))).format(x=x.name), ()
    name = x.name
    d, keep = dim_of(draw, x.shape), draw(st.booleans())
    one = reduced(x.shape, (d,), keep)
    choices = [
        (f"{name}.sum()", ()), (f"{name}.mean()", ()), (f"{name}.max()", ()),
        (f"torch.min({name})", ()), (f"{name}.norm()", ()), (f"{name}.prod()", ()),
        *([(f"{name}.var()", ()), (f"{name}.std()", ())] if math.prod(x.shape) > 1 else []),
        (f"{name}.sum(dim={d}, keepdim={keep})", one),
        (f"torch.sum({name}, {d})", reduced(x.shape, (d,), False)),
        (f"{name}.mean(dim={d}, keepdim={keep})", one),
        (f"{name}.max(dim={d}, keepdim={keep}).values", one),
        (f"torch.min({name}, {d}, {keep})[0]", one),
        (f"{name}.amax(dim={d}, keepdim={keep})", one),
        (f"{name}.norm(dim={d}, keepdim={keep})", one),
        (f"torch.logsumexp({name}, dim={d}, keepdim={keep})", one),
        (f"torch.softmax({name}, dim={d})", x.shape),
        (f"{name}.log_softmax(dim={d})", x.shape),
        (f"{name}.cumsum({d})", x.shape), (f"torch.cumprod({name}, dim={d})", x.shape),
        (f"{name}.prod({d}, keepdim={keep})", one), (f"{name}.sort(dim={d}).values", x.shape),
    ]  # fmt: skip
    if len(x.shape) >= 2:
        dims = (0, -1)
        choices.append((f"{name}.sum(dim={dims})", reduced(x.shape, dims, False)))
        choices.append((f"{name}.mean(dim=[0, 1], keepdim=True)", reduced(x.shape, (0, 1), True)))
    return draw(st.sampled_from(choices))


def reshape(draw, program: Program, x: Var):
    """Views that keep the order of elements. Not ``x[None]``: torch's grad_fn is
    UnsqueezeBackward0 there, fdiff.torch's SliceBackward0 (see the report)."""
    name, shape, n = x.name, x.shape, math.prod(x.shape)
    d = draw(st.integers(-len(shape) - 1, len(shape)))
    at = d % (len(shape) + 1)
    unsqueeze = (f"{name}.unsqueeze({d})", (*shape[:at], 1, *shape[at:]))
    if not program.contiguous:
        # A reshape of a transposed tensor is a view or a copy (grad_fn ViewBackward0 or
        # UnsafeViewBackward0) by its strides in torch; fdiff.torch has no strides yet (issue 10).
        return unsqueeze
    rows = draw(st.sampled_from([f for f in (1, 2, 3, 4, 6, 9) if n % f == 0]))
    choices = [
        (f"{name}.view({rows}, {n // rows})", (rows, n // rows)),
        (f"{name}.reshape(-1)", (n,)),
        (f"{name}.reshape(-1, {rows})", (n // rows, rows)),
        unsqueeze,
        (f"{name}.expand(2, *{name}.shape)", (2, *shape)),
    ]
    choices.append((f"{name}.flatten()", (n,)))  # of a 1-D tensor: the tensor itself
    return draw(st.sampled_from(choices))


def rearrange(draw, program: Program, x: Var):
    """Transposes, permutes, squeezes and expands: ops that move or drop dims."""
    name, shape = x.name, x.shape
    if not shape:
        return f"{name}.t()", ()
    d0, d1 = dim_of(draw, shape), dim_of(draw, shape)
    swapped = list(shape)
    swapped[d0], swapped[d1] = swapped[d1], swapped[d0]
    perm = draw(st.permutations(range(len(shape))))
    expanded = [2 if s == 1 else s for s in shape]
    choices = [
        (f"{name}.transpose({d0}, {d1})", tuple(swapped)),
        (f"{name}.permute({', '.join(map(str, perm))})", tuple(shape[p] for p in perm)),
        (f"{name}.squeeze()", tuple(s for s in shape if s != 1)),
        (
            f"{name}.squeeze({d0})",
            tuple(s for i, s in enumerate(shape) if i != d0 % len(shape) or s != 1),
        ),
        (f"{name}.expand({', '.join(map(str, expanded))})", tuple(expanded)),
    ]
    if len(shape) <= 2:
        choices.append((f"{name}.t()", tuple(reversed(shape))))
    if len(shape) == 2:
        choices.append((f"{name}.T", tuple(reversed(shape))))
    return draw(st.sampled_from(choices))
