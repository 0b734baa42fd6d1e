"""``torch.compile`` and ``Module.compile``: torch's wrapper, names and checks, the eager values.

Each program runs under fdiff.torch and real torch. Real torch compiles with its ``eager``
backend here (Dynamo's tracing and guards, no C++ build), which computes what Inductor's code
computes up to rounding; fdiff.torch runs the eager code under any supported backend.
"""

from __future__ import annotations

import pytest
from support import assert_same, assert_same_error, run_both

import fdiff.torch
from fdiff.torch._compile_options import InvalidBackend

# Real torch's first torch.compile imports torch._dynamo, which warns about its own use of a
# deprecated torch.jit API (not about this code).
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script_method` is deprecated:DeprecationWarning"
)


def _mlp(t):
    t.manual_seed(0)  # torch's generator: the same initial weights in both engines
    return t.nn.Sequential(t.nn.Linear(3, 4), t.nn.Tanh(), t.nn.Linear(4, 1))


def test_a_compiled_module_prints_names_and_trains_as_torchs(real_torch):
    def program(t):
        model = _mlp(t)
        compiled = t.compile(model, backend="eager")
        x = t.linspace(-1, 1, 12).reshape(4, 3)
        optimizer = t.optim.SGD(compiled.parameters(), lr=0.1)
        losses = []
        for _ in range(3):
            optimizer.zero_grad()
            loss = ((compiled(x) - 1) ** 2).mean()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        return (
            repr(compiled),
            list(compiled.state_dict()),
            [name for name, _ in compiled.named_parameters()],
            compiled._orig_mod is model,
            compiled.training,
            compiled[0] if isinstance(compiled, t.nn.Sequential) else "not subscriptable",
            losses,
            [p.detach() for p in model.parameters()],
        )

    actual, expected = run_both(real_torch, program)
    assert_same(actual, expected)


def test_a_compiled_function_and_the_decorator_forms(real_torch):
    def program(t):
        @t.compile(fullgraph=True, backend="eager")
        def scaled_sine(x):
            return 2 * x.sin()

        def cube(x):
            return x**3

        compiled_cube = t.compile(cube, backend="eager", dynamic=True, mode="max-autotune")
        x = t.tensor([0.5, -1.0, 2.0], requires_grad=True)
        (scaled_sine(x).sum() + compiled_cube(x).sum()).backward()
        return (
            scaled_sine.__name__,
            compiled_cube.__wrapped__ is cube,
            t.compile(cube, disable=True) is cube,
            x.grad,
        )

    actual, expected = run_both(real_torch, program)
    assert_same(actual, expected)


def test_module_compile_compiles_in_place(real_torch):
    def program(t):
        model = _mlp(t)
        returned = model.compile(backend="eager")
        return returned, type(model).__name__, model(t.ones(2, 3))

    actual, expected = run_both(real_torch, program)
    assert_same(actual, expected)


TORCH_ERRORS = {
    "an unknown mode": lambda t: t.compile(t.nn.Linear(2, 1), mode="fastest"),
    "both mode and options": lambda t: t.compile(t.nn.Linear(2, 1), mode="default", options={}),
    "Module.compile with an unknown mode": lambda t: t.nn.Linear(2, 1).compile(mode="fastest"),
    "not a callable": lambda t: t.compile(3),
}


@pytest.mark.parametrize("program", TORCH_ERRORS.values(), ids=TORCH_ERRORS)
def test_torchs_errors(real_torch, program):
    assert_same_error(real_torch, program)


def test_an_unknown_backend_is_torchs_invalid_backend(real_torch):
    with pytest.raises(real_torch._dynamo.exc.InvalidBackend) as theirs:
        real_torch.compile(real_torch.nn.Linear(2, 1), backend="turbo")
    with pytest.raises(InvalidBackend) as ours:
        fdiff.torch.compile(fdiff.torch.nn.Linear(2, 1), backend="turbo")
    assert str(ours.value) == str(theirs.value)
    assert isinstance(ours.value, RuntimeError)


@pytest.mark.parametrize(
    "arguments, op",
    [
        ({"options": {"max_autotune": True}}, "torch.compile(options=...)"),
        ({"backend": lambda graph, inputs: graph.forward}, "torch.compile(backend=<a callable>)"),
        ({"backend": "cudagraphs"}, "torch.compile(backend='cudagraphs')"),
    ],
    ids=["inductor options", "a backend callable", "another torch backend"],
)
def test_what_would_change_the_compiled_code_is_refused_by_name(arguments, op):
    with pytest.raises(fdiff.torch.UnsupportedError) as info:
        fdiff.torch.compile(fdiff.torch.nn.Linear(2, 1), **arguments)
    assert info.value.op == op
