"""Hypothesis strategies for indexing, joins, matrix products, nn layers, losses and integers.

Same contract as :mod:`differential.ops_strategies`: ``family(draw, program, x)`` returns
``(expression, shape)`` or None, adding any inputs (index tensors, masks, targets, integer
operands) it needs and noting the sums it does.

>>> import numpy as np
>>> np.flatnonzero(np.array([True, False, True]))
array([0, 2])
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from differential.ops_strategies import broadcast_partner, dim_of, float_input
from differential.program import Program, Var


def index(draw, program: Program, x: Var):
    """Basic and tensor indexing, trivial items included (``x[...]``, ``x[:, 0:]``), whose
    grad_fn names follow torch's item-by-item indexing."""
    if not x.shape or 0 in x.shape:  # nothing to pick from an empty dim
        return None
    name, shape = x.name, x.shape
    size = shape[0]
    i, last = draw(st.integers(-size, size - 1)), draw(st.integers(-shape[-1], shape[-1] - 1))
    start = draw(st.integers(0, size - 1))
    stop = draw(st.integers(start + 1, size))
    picks = draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=4))
    choices = [
        (f"{name}[{i}]", shape[1:]),
        (f"{name}[{start}:{stop}]", (stop - start, *shape[1:])),
        (f"{name}[::2]", ((size + 1) // 2, *shape[1:])),
        (f"{name}[torch.tensor({picks})]", (len(picks), *shape[1:])),
        (f"{name}[..., {last}]", shape[:-1]),
    ]
    if len(shape) >= 2:
        j = draw(st.integers(0, shape[1] - 1))
        choices.append((f"{name}[:, {j}]", (shape[0], *shape[2:])))
        # A whole-dim slice inside a tuple does nothing in torch: `x[i, 0:]` is a select,
        # `x[:, 0:]` an alias.
        choices.append((f"{name}[{i}, {j}:]", (shape[1] - j, *shape[2:])))
        choices.append((f"{name}[:, {j}:]", (shape[0], shape[1] - j, *shape[2:])))
    choices += [
        (f"{name}[...]", shape),
        (f"{name}[None]", (1, *shape)),
        (f"{name}[{start}:{stop}, None]", (stop - start, 1, *shape[1:])),
        (f"{name}[None, {i}]", (1, *shape[1:])),
    ]
    return draw(st.sampled_from(choices))


def mask_index(draw, program: Program, x: Var):
    """Boolean-mask indexing: by a mask input (known count) or by ``x > 0`` (data-dependent)."""
    if not x.shape:
        return None
    rows = draw(st.booleans())
    mask_shape = x.shape[:1] if rows else x.shape
    count = math.prod(mask_shape)
    mask = np.asarray(draw(st.lists(st.booleans(), min_size=count, max_size=count)), bool)
    mask = mask.reshape(mask_shape)
    m = program.input(mask, requires_grad=False)
    choices = [
        (f"{x.name}[{m.name}]", (int(mask.sum()), *x.shape[len(mask_shape) :])),
        (f"{x.name}[{x.name} > 0]", None),
    ]
    return draw(st.sampled_from(choices))


def join(draw, program: Program, x: Var):
    if not x.shape:
        return f"torch.stack([{x.name}, {x.name} * 2])", (2,)
    d = dim_of(draw, x.shape)
    if draw(st.booleans()):
        partner = x
    else:
        grown = list(x.shape)
        grown[d] = draw(st.integers(1, 2))
        partner = float_input(draw, program, tuple(grown))
    cat_shape = list(x.shape)
    cat_shape[d] += partner.shape[d]
    s = draw(st.integers(-len(x.shape) - 1, len(x.shape)))
    stacked = list(x.shape)
    stacked.insert(s % (len(x.shape) + 1), 2)
    choices = [(f"torch.cat([{x.name}, {partner.name}], dim={d})", tuple(cat_shape))]
    if partner.shape == x.shape:
        choices.append((f"torch.stack([{x.name}, {partner.name}], {s})", tuple(stacked)))
    return draw(st.sampled_from(choices))


def matmul(draw, program: Program, x: Var):
    if not x.shape or program.precision == "mixed":  # torch refuses mixed dtypes there
        return None
    n, m = x.shape[-1], draw(st.integers(1, 3))
    program.accumulates(n)
    right_shape = draw(st.sampled_from(((n,), (n, m))))
    w = float_input(draw, program, right_shape)
    out = x.shape[:-1] + right_shape[1:]
    if len(x.shape) == 1 and len(right_shape) == 1:
        expression = draw(st.sampled_from(("{x} @ {w}", "torch.dot({x}, {w})")))
    elif len(x.shape) == 2 and len(right_shape) == 2:
        expression = draw(st.sampled_from(("{x} @ {w}", "torch.mm({x}, {w})", "{x}.matmul({w})")))
    elif len(x.shape) == 3 and len(right_shape) == 2 and draw(st.booleans()):
        expression = "torch.bmm({x}, {w}.expand({b}, -1, -1))"
    else:
        expression = draw(st.sampled_from(("{x} @ {w}", "torch.matmul({x}, {w})")))
    return expression.format(x=x.name, w=w.name, b=x.shape[0]), out


def loss(draw, program: Program, x: Var):
    reduction = draw(st.sampled_from(("mean", "sum", "none")))
    program.accumulates(math.prod(x.shape))
    target = float_input(draw, program, x.shape, requires_grad=draw(st.booleans()))
    out = x.shape if reduction == "none" else ()
    choices = [(f"F.mse_loss({x.name}, {target.name}, reduction={reduction!r})", out)]
    probabilities = float_input(draw, program, x.shape, requires_grad=False)
    choices.append(
        (
            f"F.binary_cross_entropy_with_logits({x.name}, {probabilities.name}.abs() / 2, "
            f"reduction={reduction!r})",
            out,
        )
    )
    if len(x.shape) == 2:
        labels = draw(st.lists(st.integers(0, x.shape[1] - 1), min_size=x.shape[0],
                               max_size=x.shape[0]))  # fmt: skip
        per_row = (x.shape[0],) if reduction == "none" else ()
        for loss_of in (f"F.cross_entropy({x.name}, ", f"F.nll_loss({x.name}.log_softmax(1), "):
            choices.append((f"{loss_of}torch.tensor({labels}), reduction={reduction!r})", per_row))
    return draw(st.sampled_from(choices))


def integers(draw, program: Program, x: Var):
    """int64 tensors mixed in where torch allows: products, sums, ``where``, promotion.

    An integer-only value (``i * 2``) is returned tagged ``int64`` so float families skip it.
    """
    shape = broadcast_partner(draw, x.shape)
    values = draw(st.lists(st.integers(-3, 3), min_size=math.prod(shape),
                           max_size=math.prod(shape)))  # fmt: skip
    i = program.input(np.asarray(values, np.int64).reshape(shape), requires_grad=False)
    out = np.broadcast_shapes(x.shape, shape)
    if draw(st.integers(0, 7)) == 0:
        return f"{i.name} * 2 + {i.name}.sum()", shape, "int64"
    return draw(
        st.sampled_from(
            [
                (f"{x.name} * {i.name}", out),
                (f"{i.name} + {x.name}", out),
                (f"{x.name} - {i.name}.sum()", x.shape),
                # `i * 0.5` is float32: with a 0-d float64 x the result is float32
                # (dimensioned tensors win in torch's type promotion).
                (f"torch.where({i.name} > 0, {x.name}, {i.name} * 0.5)", out),
                (f"torch.where({i.name} > 0, {x.name}, {i.name}.to({x.name}.dtype) * 0.5)", out),
                (f"{i.name}.to({x.name}.dtype) * {x.name}", out),
                (f"{x.name} / ({i.name}.abs() + 1)", out),
            ]
        )
    )


def layer(draw, program: Program, x: Var):
    """``nn.Linear`` on the last dim or ``nn.Conv2d`` on a 3-D value (as a batch of one)."""
    if not x.shape or program.x64:  # layers start in float32: x64 programs skip them
        return None
    seed = draw(st.integers(0, 3))
    module = f"m{len(program.steps)}"
    if len(x.shape) == 3 and draw(st.booleans()):
        channels, height, width = x.shape
        kernel = draw(st.integers(1, min(height, width)))
        out_channels = draw(st.integers(1, 2))
        conv = f"torch.nn.Conv2d({channels}, {out_channels}, {kernel})"
        program.step(f"torch.manual_seed({seed}); {module} = {conv}")
        program.modules.append(module)
        program.accumulates(channels * kernel * kernel + 1)
        side = (height - kernel + 1, width - kernel + 1)
        return f"{module}({x.name}[None])", (1, out_channels, *side)
    n, m = x.shape[-1], draw(st.integers(1, 3))
    bias = draw(st.booleans())
    if bias and len(x.shape) > 2 and not program.contiguous:
        # torch names a strided 3-D input's node by the kernel it picks (AddBackward0, which
        # depends on the memory layout, issue 10).
        return None
    program.step(f"torch.manual_seed({seed}); {module} = torch.nn.Linear({n}, {m}, bias={bias})")
    program.modules.append(module)
    program.accumulates(n + 1)
    return f"{module}({x.name})", (*x.shape[:-1], m)
