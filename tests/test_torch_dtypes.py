"""torch's dtype rules against real PyTorch: type promotion, casts out of the graph, operand types.

torch promotes by category (bool < integer < float) and, within one, dimensioned tensors win
over 0-d tensors, which win over Python scalars: ``0-d float64 * float32 tensor`` is float32.
Most of the rule only shows with float64 tensors, which need JAX's x64 mode; this process must
keep 32-bit defaults (other tests rely on them), so those programs run in one subprocess with
x64 on, under both engines, and the test compares what each gave.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from support import assert_same, assert_same_error, run_both

import fdiff.torch

# Each program binds `out`, a tuple of tensors, from `T` (torch or fdiff.torch) and `F`.
X64_PROGRAMS = {
    "0-d float64 times float32": "out = (T.tensor(1.5, dtype=T.float64) * T.ones(2),)",
    "float32 0-d times float64": "out = (T.tensor(1.5) * T.ones(2, dtype=T.float64),)",
    "0-d float64 plus 0-d float32": "out = (T.tensor(1.5, dtype=T.float64) + T.tensor(2.0),)",
    "where with a 0-d float64": (
        "c = T.tensor([True, False])\n"
        "out = (T.where(c, T.tensor(1.5, dtype=T.float64), T.ones(2)),"
        " T.where(c, T.tensor(1.5, dtype=T.float64), 2.0),"
        " T.where(c, T.tensor([1, 2]), 2.5), T.where(c, 1, 2.5), T.where(c, 1, 2))"
    ),
    "integers meet floats": (
        "i = T.tensor([1, 2])\n"
        "out = (i * 2.5, i / 2, i / i, i ** 2.5, 2.5 ** i, i + T.tensor(0.5, dtype=T.float64),"
        " T.tensor(3) * 2.5, i * 2)"
    ),
    "int32 meets int64": (
        "j = T.tensor([1, 2], dtype=T.int32)\nout = (j + T.tensor(3), j + T.tensor([3, 4]), j * 2)"
    ),
    "bools meet numbers": "b = T.tensor([True, False])\nout = (b + 1, b + True, b * 1.5)",
    "comparison in the promoted dtype": (
        "out = (T.tensor(0.1, dtype=T.float64) == T.tensor([0.1]),"
        " T.maximum(T.ones(2), T.tensor(0.1, dtype=T.float64)))"
    ),
    "gradient of a 0-d float64 keeps its dtype": (
        "x = T.tensor(1.5, dtype=T.float64, requires_grad=True)\n"
        "w = T.tensor([0.5, 3.0], requires_grad=True)\n"
        "y = x * w\n(y * y).sum().backward()\nout = (y, x.grad, w.grad)"
    ),
    "BCE with logits takes the target's dtype": (
        "x = T.tensor([0.5, -1.0], dtype=T.float64, requires_grad=True)\n"
        "t = T.tensor([0.25, 1.0])\n"
        "y = F.binary_cross_entropy_with_logits(x, t)\ny.backward()\n"
        "z = F.binary_cross_entropy_with_logits(t, x.detach(), reduction='none')\n"
        "out = (y, x.grad, z, F.mse_loss(x.detach(), t))"
    ),
    "in-place ops keep their tensor's dtype": (
        "x = T.tensor(-2.0, dtype=T.float64, requires_grad=True)\n"
        "v = T.tensor([-2.0, 0.5]).clone()\nv.add_(x)\nv.mul_(x * 1.5)\n"
        "(v * 2).sum().backward()\nout = (v, x.grad)"
    ),
    "a float32 tensor and a NumPy int array: NumPy's float64": (
        "import numpy as np\nout = (T.ones(2) + np.array([1, 2]), T.ones(2) * np.ones(2))"
    ),
    "int64 beyond int32": "out = (T.tensor([2**40]) * 3, T.full((2,), 2**40) + 1)",
}

_WORKER = """
import json, sys
import jax
jax.config.update("jax_enable_x64", True)
import torch, fdiff.torch
programs = json.load(sys.stdin)

def run(source, engine):
    namespace = {"T": engine, "F": engine.nn.functional}
    exec(source, namespace)
    return [(str(t.dtype), t.detach().numpy().tolist(), t.requires_grad) for t in namespace["out"]]

json.dump({name: [run(s, torch), run(s, fdiff.torch)] for name, s in programs.items()}, sys.stdout)
"""


@pytest.fixture(scope="module")
def x64_results(real_torch):
    """``{program name: [torch's outputs, fdiff.torch's]}``, run with x64 on in a subprocess."""
    done = subprocess.run(
        [sys.executable, "-c", _WORKER],
        input=json.dumps(X64_PROGRAMS),
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent,
    )
    return json.loads(done.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("name", X64_PROGRAMS)
def test_type_promotion_with_x64_matches_torch(x64_results, name):
    expected, actual = x64_results[name]
    assert [(d, g) for d, _, g in actual] == [(d, g) for d, _, g in expected]
    for (_, a, _), (_, e, _) in zip(actual, expected, strict=True):
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)  # float32 results


def test_this_process_keeps_32_bit_defaults():
    import jax

    assert not jax.config.jax_enable_x64


PROMOTIONS = {
    "int tensor and Python float": lambda t: t.tensor([1, 2]) * 2.5,
    "true division of integers": lambda t: t.tensor([1, 3]) / t.tensor([2, 2]),
    "bool tensor and Python int": lambda t: t.tensor([True, False]) + 1,
    "bool tensors": lambda t: t.tensor([True, False]) + t.tensor([True, True]),
    "where of an int tensor and a float": lambda t: t.where(
        t.tensor([True, False]), t.tensor([1, 2]), 0.5
    ),
    "where of two Python numbers": lambda t: t.where(t.tensor([True, False]), 1, 2.5),
    "0-d int tensor meets a float tensor": lambda t: t.tensor(3) * t.tensor([0.5, 1.5]),
}


@pytest.mark.parametrize("program", PROMOTIONS.values(), ids=PROMOTIONS)
def test_type_promotion_without_x64(real_torch, program):
    assert_same(*run_both(real_torch, program))


@pytest.mark.parametrize("cast", ["long", "bool"])  # int32 is stored as int64 without x64
def test_a_cast_to_a_non_float_dtype_leaves_the_graph(real_torch, cast):
    def program(torch):
        x = torch.tensor([1.5, -2.0], requires_grad=True)
        y = getattr(x * 2, cast)()
        return y, y.is_leaf, y.grad_fn, getattr(x, cast)().requires_grad

    actual, expected = run_both(real_torch, program)
    assert expected[1:] == (True, None, False)
    assert_same(actual, expected)


def test_a_cast_to_a_float_dtype_stays_in_the_graph(real_torch):
    def program(torch):
        y = torch.tensor([1, 2]).float().requires_grad_() * 1
        return y, y.to(torch.int64).float().requires_grad, y.grad_fn.name()

    assert_same(*run_both(real_torch, program))


IN_PLACE_CASTS = {
    "long += float tensor": lambda t: t.tensor([1, 2]).add_(t.tensor([0.5, 1.0])),
    "long += Python float": lambda t: t.tensor([1, 2]).add_(0.5),
    "long *= 0-d float": lambda t: t.tensor([1, 2]).mul_(t.tensor(0.5)),
    "long /= int": lambda t: t.tensor([1, 2]).div_(2),
    "bool += int": lambda t: t.tensor([True]).add_(1),
}


@pytest.mark.parametrize("program", IN_PLACE_CASTS.values(), ids=IN_PLACE_CASTS)
def test_an_in_place_result_of_a_higher_category_is_refused(real_torch, program):
    assert_same_error(real_torch, program)


def test_in_place_ops_of_a_lower_category_keep_the_dtype(real_torch):
    def program(torch):
        x, i = torch.tensor([1.5, 2.0]), torch.tensor([1, 2])
        return x.add_(torch.tensor([1, 2])), x.mul_(True), i.add_(True), i.sub_(torch.tensor(1))

    assert_same(*run_both(real_torch, program))


UNSUPPORTED_OPERANDS = {
    "None + tensor": lambda t: None + t.ones(1),
    "tensor + None": lambda t: t.ones(1) + None,
    "tensor * list": lambda t: t.ones(1) * [1.0],
    "tensor - tuple": lambda t: t.ones(2) - (1, 2),
    "None / tensor": lambda t: None / t.ones(1),
    "tensor ** None": lambda t: t.ones(1) ** None,
    "tensor @ None": lambda t: t.ones(1) @ None,
    "tensor < None": lambda t: t.ones(1) < None,
    "requiring grad + None": lambda t: t.ones(1, requires_grad=True) + None,
}


@pytest.mark.parametrize("program", UNSUPPORTED_OPERANDS.values(), ids=UNSUPPORTED_OPERANDS)
def test_unsupported_operand_types_raise_torchs_type_error(real_torch, program):
    assert_same_error(real_torch, program)


@pytest.mark.parametrize("name", ["add", "mul", "maximum", "sub"])
def test_torch_functions_refuse_none_with_a_type_error(real_torch, name):
    with pytest.raises(TypeError, match="NoneType"):
        getattr(real_torch, name)(real_torch.ones(1), None)
    with pytest.raises(TypeError, match="NoneType"):
        getattr(fdiff.torch, name)(fdiff.torch.ones(1, requires_grad=True), None)


def test_equality_with_none_is_false(real_torch):
    assert_same(*run_both(real_torch, lambda t: (t.ones(1) == None, t.ones(1) != None)))  # noqa: E711


def test_shape_mismatch_stays_a_runtime_error(real_torch):
    for torch in (real_torch, fdiff.torch):
        with warnings.catch_warnings(), pytest.raises(RuntimeError, match="must match the size"):
            torch.ones(2, requires_grad=True) + torch.ones(3)


def test_the_default_dtype_is_torchs(real_torch):
    def program(t):
        t.set_default_dtype(t.float32)  # the default already: accepted by both
        return (
            t.get_default_dtype(),
            t.is_floating_point(t.ones(1)),
            t.is_floating_point(t.ones(1).long()),
        )

    ours, theirs = run_both(real_torch, program)
    assert (str(ours[0]), *ours[1:]) == (str(theirs[0]), *theirs[1:])


@pytest.mark.parametrize(
    "program",
    [
        lambda t: t.set_default_dtype(t.int64),
        lambda t: t.set_default_dtype("float32"),
        lambda t: t.is_floating_point([1.0]),
    ],
    ids=["an integer default", "a string", "is_floating_point of a list"],
)
def test_default_dtype_errors_are_torchs(real_torch, program):
    assert_same_error(real_torch, program)


def test_another_float_default_is_refused_by_name():
    with pytest.raises(fdiff.torch.UnsupportedError) as info:
        fdiff.torch.set_default_dtype(fdiff.torch.float64)
    assert info.value.op == "torch.set_default_dtype(torch.float64)"
    assert fdiff.torch.get_default_dtype() is fdiff.torch.float32
