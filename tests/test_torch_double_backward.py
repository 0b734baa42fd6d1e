"""Second-order structure against real torch: which ``create_graph`` gradients require grad.

torch's gradient requires grad when its backward formula reads a tensor that requires grad. For
an op whose backward is one call (convolution, pooling, normalization, ``nll_loss``,
``softplus``) that holds whether or not the gradient's value depends on it: the gradient of a
convolution with respect to its input is constant in the input, yet requires grad in torch.
"""

from __future__ import annotations

import pytest
from support import assert_same, run_both

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
