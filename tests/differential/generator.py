"""Random programs: op steps, autograd blocks, and an ending that runs backward.

A program starts from one float input and takes 1 to ``max_steps`` steps, each an op family
(:mod:`~differential.ops_strategies`, :mod:`~differential.composite_strategies`) or an
autograd block: in-place ops on a fresh clone, in-place ops through a view of one (with
version-counter violations), ``detach()``, a ``torch.no_grad()`` block.
It ends with one backward pattern from ``ENDINGS``: a weighted loss's backward, after
``retain_grad()`` on intermediates, twice with ``retain_graph``, twice without (torch raises
when a node saved tensors), ``autograd.grad(create_graph=True)`` then a second derivative,
several losses accumulating, an SGD step under ``no_grad`` and a second forward, or tensor
hooks before a backward. A custom ``autograd.Function`` is one of the op families.

>>> [ending.__name__ for ending in ENDINGS][:2]
['plain_backward', 'retained_intermediates']
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from differential import composite_strategies as composite
from differential import ops_strategies as ops
from differential.program import Program, Var

MAX_STEPS = 6


def in_place(draw, program: Program, x: Var):
    """A clone of ``x`` (fresh: nothing shares it) written by 1 to 3 in-place ops."""
    target = program.emit(f"{x.name}.clone()", x.shape, x.dtype)
    # Never the target itself: `v.mul_(v)` modifies a tensor its own node saved, which torch
    # refuses at backward and fdiff.torch (no version counters yet, issue 10) does not.
    fits = [
        v
        for v in program.values
        if v is not target and v.shape is not None and _broadcasts_to(v.shape, x.shape)
    ]
    for _ in range(draw(st.integers(1, 3))):
        other = draw(st.sampled_from(fits)).name if fits else "2.0"
        t = target.name
        choices = [
            f"{t}.add_({other})", f"{t}.add_({other}, alpha=-0.5)", f"{t}.sub_({other})",
            f"{t}.mul_({other})", f"{t}.mul_(-2)", f"{t}.div_({other}.abs() + 1)",
            f"{t}.div_(4)", f"{t}.clamp_(-1, 1)", f"{t}.clamp_(min=0)", f"{t}.zero_()",
            f"{t}.fill_(0.5)", f"{t}.copy_({other})", f"{t} += {other}", f"{t} *= 0.5",
        ]  # fmt: skip
        if x.shape and x.shape[0]:  # a row to write (an empty first dim has none)
            i = draw(st.integers(0, x.shape[0] - 1))
            row = f"{other}[{i}]" if fits and _row_fits(program, other, x.shape) else "1.5"
            choices += [
                f"{t}[{i}] = {row}", f"{t}[{t} > 0] = 0.25", f"{t}[torch.tensor([{i}])] = -1.0",
            ]  # fmt: skip
        program.step(draw(st.sampled_from(choices)))
    return None


def view_in_place(draw, program: Program, x: Var):
    """A clone of ``x``, a view of it written in place (the clone follows: torch's CopySlices,
    the view's grad_fn AsStridedBackward0), and sometimes a node that saved the clone or the
    view before the write: torch's version-counter error at backward, message and all."""
    base = program.emit(f"{x.name}.clone()", x.shape, x.dtype)
    b, shape = base.name, x.shape
    views = [(f"{b}.view(-1)", (math.prod(shape),)), (f"{b}.unsqueeze(0)", (1, *shape))]
    if shape:
        views += [(f"{b}[0]", shape[1:]), (f"{b}[:1]", (1, *shape[1:]))]
    if len(shape) == 2:
        views += [(f"{b}.t()", shape[::-1]), (f"{b}.transpose(0, 1)[1:]", (shape[1] - 1, shape[0]))]
    view = program.emit(*draw(st.sampled_from(views)))
    if draw(st.booleans()):
        saver = draw(st.sampled_from((b, view.name)))
        program.emit(f"{saver}.sin()", base.shape if saver == b else view.shape)
    v = view.name
    for _ in range(draw(st.integers(1, 2))):
        choices = [f"{v}.mul_(2)", f"{v}.add_({x.name}.sum())", f"{v}.zero_()", f"{b}.mul_(-1)"]
        if view.shape:
            choices.append(f"{v}[0] = 1.5")
        program.step(draw(st.sampled_from(choices)))
    return None


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    return ops.broadcasts(shape, target) and np.broadcast_shapes(shape, target) == target


def _row_fits(program: Program, name: str, shape: tuple[int, ...]) -> bool:
    var = next(v for v in program.values if v.name == name)
    return var.shape == shape


def detach(draw, program: Program, x: Var):
    """``x.detach()``, alone or combined with a value that still requires grad."""
    other = draw(st.sampled_from(program.values[-3:]))
    if ops.broadcasts(x.shape, other.shape) and draw(st.booleans()):
        return f"{x.name}.detach() * {other.name}", np.broadcast_shapes(x.shape, other.shape)
    return f"{x.name}.detach()", x.shape


def no_grad_block(draw, program: Program, x: Var):
    """An elementwise op inside ``with torch.no_grad():``: a leaf that requires no grad."""
    made = draw(st.sampled_from((ops.unary, ops.binary)))(draw, program, x)
    program.emit(*made, block="with torch.no_grad():")
    return None


def x64_conversion(draw, program: Program, x: Var):
    """float32 <-> float64 conversions (x64 programs only): ToCopyBackward0 both ways."""
    if not program.x64 or program.precision == "float64":
        return None
    if x.dtype == "float64":
        return f"{x.name}.float()", x.shape
    return draw(st.sampled_from((f"{x.name}.double()", f"{x.name}.to(torch.float64)"))), x.shape


_SCALED_SQUARE = """class ScaledSquare(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, k):
        ctx.save_for_backward(a)
        ctx.k = k
        return a * a * k
    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return 2 * a * grad * ctx.k, None"""


def custom_function(draw, program: Program, x: Var):
    """``ScaledSquare.apply(x, k)``: a custom ``autograd.Function`` (defined once)."""
    if _SCALED_SQUARE not in program.steps:
        program.step(_SCALED_SQUARE)
    return f"ScaledSquare.apply({x.name}, {draw(st.sampled_from(('0.5', '-2.0')))})", x.shape


FAMILIES = (
    ops.unary, ops.unary, ops.binary, ops.binary, ops.reduction, ops.reshape, ops.rearrange,
    composite.index, composite.mask_index, composite.join, composite.matmul, composite.loss,
    composite.integers, composite.layer, in_place, view_in_place, detach, no_grad_block,
    x64_conversion, custom_function,
)  # fmt: skip
MOVES_DIMS = (ops.rearrange, composite.index, composite.mask_index)


# --- endings: how the program runs backward ---------------------------------------------------


def _loss(program: Program) -> str:
    return f"weigh({', '.join(program.names)})" if program.names else "weigh(x0)"


def plain_backward(draw, program: Program) -> None:
    program.step(f"{_loss(program)}.backward()")


def retained_intermediates(draw, program: Program) -> None:
    for name in draw(st.lists(st.sampled_from(program.names or ["x0"]), max_size=2, unique=True)):
        program.step(f"{name}.retain_grad()")
    program.step(f"{_loss(program)}.backward()")


def twice_retaining(draw, program: Program) -> None:
    loss = program.emit(_loss(program), ())
    program.step(f"{loss.name}.backward(retain_graph=True)")
    program.step(f"{loss.name}.backward()")


def twice_without_retaining(draw, program: Program) -> None:
    loss = program.emit(_loss(program), ())
    program.step(f"{loss.name}.backward()")
    program.step(f"{loss.name}.backward()")


def second_derivative(draw, program: Program) -> None:
    """``autograd.grad(create_graph=True)`` for every leaf, then backward through it.

    ``+ (leaf ** 3).sum()`` per leaf (inputs and layer parameters) makes every gradient
    depend on its leaf, so the second backward reaches every leaf again: which leaves torch's
    double-backward graph reaches otherwise depends on what each backward formula reads (a
    ``pow(0.)`` reads nothing; tests/test_torch_autograd.py checks the edges themselves).
    """
    leaves = [name for name, (_, requires_grad) in program.inputs.items() if requires_grad]
    leaves += [f"*{module}.parameters()" for module in program.modules]
    listed = f"[{', '.join(leaves)}]"
    loss = program.emit(f"{_loss(program)} + sum((p ** 3).sum() for p in {listed})", ())
    grads = program.emit(f"torch.autograd.grad({loss.name}, {listed}, create_graph=True)", None)
    program.replayed.add(grads.name)
    program.step(f"weigh(*[g * g for g in {grads.name}]).backward()")


def several_losses(draw, program: Program) -> None:
    names = program.names or ["x0"]
    cut = draw(st.integers(0, len(names)))
    for group in (names[:cut], names[cut:]):
        if group:
            program.step(f"weigh({', '.join(group)}).backward()")


def step_and_forward_again(draw, program: Program) -> None:
    """An SGD step on a leaf under ``no_grad``, then a second forward and backward.

    The stepped leaf is a new input used only by elementwise ops: a view of it would change
    with it in torch and not in fdiff.torch (no views yet, issue 10).
    """
    first, (array, _) = next(iter(program.inputs.items()))
    w = program.input(array.copy())
    program.step(f"weigh({', '.join([*program.names, f'{w.name} * {first}'])}).backward()")
    program.step(f"with torch.no_grad():\n    {w.name} -= 0.25 * {w.name}.grad")
    again = program.emit(f"weigh({w.name} * {w.name}, {w.name}.sin())", ())
    program.step(f"{again.name}.backward()")


def hooked_backward(draw, program: Program) -> None:
    """Tensor hooks (replacing the gradient or not) on intermediates or the input, then a
    backward; a hook on a tensor that does not require grad raises in both engines."""
    hooks = ("lambda g: g * 2", "lambda g: g - 1", "lambda g: None", "lambda g: g.clamp(-1, 1)")
    names = draw(st.lists(st.sampled_from(["x0", *program.names]), min_size=1, max_size=2))
    for name in names:
        program.step(f"{name}.register_hook({draw(st.sampled_from(hooks))})")
    program.step(f"{_loss(program)}.backward()")


ENDINGS = (
    plain_backward, retained_intermediates, twice_retaining, twice_without_retaining,
    second_derivative, several_losses, step_and_forward_again, hooked_backward,
)  # fmt: skip


@st.composite
def programs(draw, x64: bool = False, max_steps: int = MAX_STEPS) -> Program:
    """A random program; ``x64=True``: float64 inputs (all, or mixed with float32, where torch's
    type promotion decides each result's dtype)."""
    program = Program(observe_early=draw(st.booleans()), x64=x64)
    if x64:
        program.precision = draw(st.sampled_from(("float64", "float32")))
    if x64 and program.precision == "float32":  # mixed: a float64 input meets float32 ones
        program.precision = "mixed"
        program.input(ops.draw_array(draw, draw(ops.shapes), np.float64))
    else:
        ops.float_input(draw, program, draw(ops.shapes))
    for _ in range(draw(st.integers(1, max_steps))):
        floats = [v for v in program.values if v.dtype.startswith("float")]
        x = draw(st.sampled_from(floats[-3:]))
        family = draw(st.sampled_from(FAMILIES))
        made = family(draw, program, x)
        if made is not None:
            program.emit(*made)
            if family in MOVES_DIMS or ".expand" in made[0] or ".t()" in made[0]:
                program.contiguous = False
    draw(st.sampled_from(ENDINGS))(draw, program)
    program.accumulates(_backward_terms(program))
    return program


def _backward_terms(program: Program) -> int:
    """A bound on the terms of one sum in backward: a leaf's uses plus broadcast reductions."""
    largest = max((math.prod(v.shape) for v in program.values if v.shape is not None), default=1)
    return largest + len(program.steps)
