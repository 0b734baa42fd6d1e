"""Graph inspection (``grad_fn.next_functions``, ``name()``, ``AccumulateGrad``,
``torch.autograd.graph.Node``) and ``gradcheck``/``gradgradcheck``, against real torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import assert_same, run_both

ROOT = Path(__file__).resolve().parent.parent


def _walk(node):
    """The graph below ``node`` as nested ``(name, [inputs])``; ``None`` for a missing edge."""
    if node is None:
        return None
    return (node.name(), [_walk(n) for n, _ in node.next_functions])


def test_linear_graph_walks_as_torchs(real_torch):
    """``AddmmBackward0 -> (bias AccumulateGrad, input node, TBackward0 of the weight)``,
    ``MmBackward0`` without bias, ``None`` for an input that does not require grad."""

    def program(torch):
        torch.manual_seed(0)
        hidden, out = torch.nn.Linear(3, 4), torch.nn.Linear(4, 2, bias=False)
        x = torch.randn(5, 3)
        loss = out(hidden(x).relu()).sum()
        transposed = loss.grad_fn.next_functions[0][0].next_functions[1][0]
        leaf = transposed.next_functions[0][0]
        return _walk(loss.grad_fn), leaf.next_functions, leaf.variable is out.weight

    assert_same(*run_both(real_torch, program))


def test_custom_function_and_hook_nodes_walk_as_torchs(real_torch):
    def program(torch):
        class Double(torch.autograd.Function):
            forward = staticmethod(lambda ctx, a, b: a * 2 + b)
            backward = staticmethod(lambda ctx, g: (g * 2, g))

        x = torch.ones(2, requires_grad=True)
        y = Double.apply(x.exp(), torch.ones(2))
        return _walk(y.sum().grad_fn)

    assert_same(*run_both(real_torch, program))


def test_nodes_are_autograd_graph_nodes(real_torch):
    def program(torch):
        x = torch.ones(2, requires_grad=True)
        y = x * 3
        accumulate = y.grad_fn.next_functions[0][0]
        node_type = torch.autograd.graph.Node
        return isinstance(y.grad_fn, node_type), isinstance(accumulate, node_type)

    assert_same(*run_both(real_torch, program))


_GRADCHECK = """
import json, sys
import jax
jax.config.update("jax_enable_x64", True)
import torch
import fdiff.torch

def checks(torch):
    class Cube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * g

    class WrongBackward(Cube):
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x**2 * g

    x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)
    w = torch.tensor([[1.0, 2.0], [0.5, -1.0], [3.0, 0.25]], dtype=torch.float64,
                     requires_grad=True)
    ag = torch.autograd
    try:
        ag.gradcheck(WrongBackward.apply, (x,))
        raised = None
    except RuntimeError as error:
        raised = [type(error).__name__, str(error).splitlines()[0]]
    return [
        ag.gradcheck(Cube.apply, (x,)),
        ag.gradcheck(lambda a, b: (a.sin() @ b).tanh(), (x, w)),
        ag.gradcheck(WrongBackward.apply, (x,), raise_exception=False),
        ag.gradgradcheck(Cube.apply, (x,)),
        ag.gradgradcheck(lambda a, b: (a.sin() @ b).tanh(), (x, w)),
        raised,
    ]

print(json.dumps([checks(fdiff.torch), checks(torch)]))
"""


@pytest.mark.slow
def test_gradcheck_and_gradgradcheck_agree_with_torch(real_torch):
    """float64 needs JAX's x64 mode, so the checks run in a process of their own."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", "-c", _GRADCHECK],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
        check=True,
    )
    fdiff_result, torch_result = json.loads(done.stdout)
    assert fdiff_result == torch_result
    assert torch_result[:5] == [True, True, False, True, True]
