"""Second-order structure against real torch: which ``create_graph`` gradients require grad.

torch's gradient requires grad when its backward formula reads a tensor that requires grad. For
an op whose backward is one call (convolution, pooling, normalization, ``nll_loss``,
``softplus``) that holds whether or not the gradient's value depends on it: the gradient of a
convolution with respect to its input is constant in the input, yet requires grad in torch.
"""

from __future__ import annotations

import pytest
from support import assert_same, run_both

import fdiff.torch

OPS = {
    "conv2d": lambda F, x, w: F.conv2d(x, w),
    "avg_pool2d": lambda F, x, w: F.avg_pool2d(x, 2),
    "conv2d of a non-leaf": lambda F, x, w: F.conv2d(x * 2, w) * 3,
}


@pytest.mark.slow
def test_fused_backward_gradients_require_grad_as_torchs(real_torch):
    def program(torch):
        F = torch.nn.functional
        torch.manual_seed(0)
        x = torch.randn(1, 1, 4, 4, requires_grad=True)
        w = torch.randn(1, 1, 3, 3)
        results = []
        for op in OPS.values():
            (g,) = torch.autograd.grad(op(F, x, w).sum(), x, create_graph=True)
            results.append((g, g.requires_grad))
        log_probs = torch.randn(3, 4, requires_grad=True)
        (g,) = torch.autograd.grad(
            F.nll_loss(log_probs, torch.tensor([0, 1, 2])), log_probs, create_graph=True
        )
        results.append((g, g.requires_grad))
        return results

    assert_same(*run_both(real_torch, program))


def test_create_graph_through_a_tensor_changed_under_no_grad_is_refused(real_torch):
    """The first derivative follows torch (the changed value, the node's derivative); a
    recorded one would treat the changed value as a constant, so its second derivative would
    differ from torch's: refused instead."""

    def first_and_second(t):
        x = t.tensor([1.5, -0.5, 2.0], requires_grad=True)
        n = (x * x).sum().clone()
        with t.no_grad():
            n.clamp_(min=10.0)
        y = (x / n).sum() * x[0]
        (g,) = t.autograd.grad(y, x, create_graph=True)
        return g, t.autograd.grad(g.sum(), x)[0]

    second = first_and_second(real_torch)[1]
    assert second.abs().sum() > 0  # torch differentiates through the clamped norm's node
    with pytest.raises(fdiff.torch.UnsupportedError, match="changed in place under no_grad"):
        first_and_second(fdiff.torch)
