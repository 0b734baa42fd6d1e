"""Memory layouts through ops: strides, ``is_contiguous()``, ``view`` against ``reshape``, and
random fills in memory order, fdiff.torch against real torch.

torch's elementwise ops keep the layout of their inputs (TensorIterator), most others return
row-major tensors; each program below runs under both engines and compares ``stride()``,
``is_contiguous()`` and the values, or the error.
"""

from __future__ import annotations

import pytest
from support import assert_same, assert_same_error, assert_same_random_draws, run_both

import fdiff.torch as fdiff_torch
from fdiff.torch import _views
from fdiff.torch._opspec import OPS

# Inputs: x is (4, 3) with strides (1, 4); p is (4, 2, 3) with strides (1, 12, 4).
PROGRAMS = {
    "exp": "x.exp()",
    "neg": "-x",
    "times_scalar": "x * 2",
    "plus_contiguous": "x + c",
    "contiguous_plus": "c + x",
    "broadcast_row": "x + c[0]",
    "broadcast_column": "x + c[:, :1]",
    "column_plus": "c[:, :1] + x",
    "zero_dim_times": "torch.tensor(2.0) * x",
    "int_plus_float": "x.long() + x",
    "mask_times": "(x > 0) * x",
    "where": "torch.where(x > 0, x, 0.0)",
    "two_permutations": "p + q",
    "other_permutation_first": "q + p",
    "permuted_exp": "p.exp()",
    "sliced_times": "c.t()[::2] * 2",
    "expanded_exp": "c[:, :1].expand(4, 5).exp()",
    "size_one_dims": "torch.ones(1, 4, 1, 3).permute(3, 2, 1, 0).exp()",
    "channels_last": "torch.ones(2, 3, 4, 5).permute(0, 2, 3, 1).permute(0, 3, 1, 2).exp()",
    "channels_last_plus": "torch.ones(2, 3, 4, 5).permute(0, 2, 3, 1).permute(0, 3, 1, 2) + 1",
    "pow": "x ** 2",
    "rpow": "2 ** x",
    "rsub": "1 - x",
    "rdiv": "1 / x",
    "clamp": "x.clamp(0, 1)",
    "relu": "F.relu(x)",
    "gelu": "F.gelu(x)",
    "mse_none": "F.mse_loss(x, x * 2, reduction='none')",
    "isclose": "torch.isclose(x, x)",
    "clone": "x.clone()",
    "clone_not_dense": "c.t()[:, ::2].clone()",
    "to_long": "x.long()",
    "sort": "x.sort(1).values",
    "zeros_like": "torch.zeros_like(x)",
    "ones_like_not_dense": "torch.ones_like(c.t()[:, ::2])",
    "sum_dim": "p.sum(1)",
    "sum_keepdim": "p.sum(1, keepdim=True)",
    "amax": "p.amax(1)",
    "std": "p.std(1)",
    "matmul": "x @ c.t()[:3, :2]",
    "linear": "F.linear(x, c[:2])",
    "softmax": "x.softmax(1)",
    "cumsum": "x.cumsum(0)",
    "topk": "x.topk(2, 1).values",
    "tril": "x.tril()",
    "masked_fill": "x.masked_fill(x > 0, 1.0)",
    "gather": "x.gather(1, torch.zeros(4, 3, dtype=torch.long))",
    "cat": "torch.cat([x, x])",
    "stack": "torch.stack([x, x])",
    "layer_norm": "F.layer_norm(x, (3,))",
    "contiguous": "(x * 2).contiguous()",
    "reshape_copies": "(x * 2).reshape(-1)",
    "reshape_views": "(x * 2).t().reshape(-1)",
    "flatten": "p.exp().flatten(1)",
    "view_merging_dense": "p.exp().permute(1, 2, 0).view(6, 4)",
    "unsqueeze_exp": "x.unsqueeze(1).exp()",
    "index_none": "x[None, :, None]",
    "index_step": "x[::2, 1:]",
    "index_ellipsis": "p[..., 1]",
    "index_ellipsis_none": "p[0, ..., None]",
    "diagonal": "p.diagonal(0, 0, 2)",
    "expand_new_dim": "x.expand(2, 4, 3)",
    "select_exp": "p[:, 1].exp()",
    "unbind_times": "p.unbind(1)[0] * 1",
    "split_exp": "p.split(1, 2)[1].exp()",
    "detach": "(x * 2).detach()",
    "data": "(x * 2).data",
    "in_place_keeps": "x.clone().add_(1)",
}


DEFAULT_RUN = frozenset({
    "times_scalar", "contiguous_plus", "two_permutations", "sliced_times", "size_one_dims",
    "clone_not_dense", "contiguous", "index_ellipsis_none", "times_scalar_view", "uniform_",
})  # fmt: skip
"""The programs of the default run; the others run in the slow profile (compile time)."""


def _cases(programs: dict[str, str]) -> list:
    return [
        pytest.param(text, id=name, marks=() if name in DEFAULT_RUN else pytest.mark.slow)
        for name, text in programs.items()
    ]


def _inputs(torch):
    base = torch.arange(24.0).reshape(2, 3, 4) / 10 - 1
    x = base[0].t()  # (4, 3), strides (1, 4)
    c = torch.arange(12.0).reshape(4, 3) / 7
    p = base.permute(2, 0, 1)
    q = (torch.arange(24.0) / 5).reshape(3, 2, 4).permute(2, 1, 0)
    return {"torch": torch, "F": torch.nn.functional, "x": x, "c": c, "p": p, "q": q}


@pytest.mark.parametrize("expression", _cases(PROGRAMS))
def test_layout_matches_torch(real_torch, expression):
    def program(torch):
        result = eval(expression, _inputs(torch))
        return result, result.stride(), result.is_contiguous()

    actual, expected = run_both(real_torch, program)
    assert_same(actual, expected)


VIEW_ERRORS = {
    "times_scalar_view": "(c.t() * 2).view(-1)",
    "exp_transposed": "x.exp().view(-1)",
    "sum_of_two_layouts": "(x + c).view(-1)",
    "like": "torch.zeros_like(x).view(-1)",
    "clone": "x.clone().view(12)",
    "permuted": "(p * 1).view(-1)",
}


@pytest.mark.parametrize("expression", _cases(VIEW_ERRORS))
def test_view_of_transposed_result_raises_as_torch(real_torch, expression):
    assert_same_error(real_torch, lambda torch: eval(expression, _inputs(torch)))


def test_unknown_layout_is_unsupported_not_guessed():
    """einsum's output layout depends on torch's contraction path: fdiff refuses to guess."""
    x = fdiff_torch.ones(3, 4)
    with pytest.raises(fdiff_torch.UnsupportedError, match=r"torch\.einsum's result"):
        fdiff_torch.einsum("ij->ji", x).view(-1)


RANDOM_FILLS = {
    "rand_like": "torch.rand_like(x)",
    "randn_like": "torch.randn_like(x)",
    "uniform_": "torch.zeros(3, 4).t().uniform_()",
    "normal_": "torch.zeros(2, 3, 4).permute(2, 0, 1).normal_()",
    "randn_like_large": "torch.randn_like(p)",
    "normal_contiguous_view": "torch.zeros(2, 3, 4)[1:].normal_()",
    "dropout": "F.dropout(torch.ones(3, 4).t(), 0.5)",
}


@pytest.mark.parametrize("expression", _cases(RANDOM_FILLS))
def test_random_fills_draw_in_memory_order(real_torch, expression):
    def program(torch):
        namespace = _inputs(torch)
        torch.manual_seed(0)
        result = eval(expression, namespace)
        return result.detach().numpy(), result.stride()

    (actual, actual_strides), (expected, expected_strides) = run_both(real_torch, program)
    assert actual_strides == expected_strides
    assert_same_random_draws(real_torch, actual, expected, magnitude=8.0)


def test_every_op_has_a_layout_rule():
    """A new op must be classified (elementwise, like its input, row-major or a view op);
    these are the ones left unknown on purpose (their result's layout is refused, or is
    written into a tensor that keeps its own)."""
    classified = _views.ELEMENTWISE | _views.LIKE_INPUT | _views.CONTIGUOUS
    views = {spec.name for spec in _views.VIEW_OPS}
    unclassified = {name for name in OPS if name not in classified | views}
    assert unclassified == {
        "copy_slices", "einsum_mul", "einsum_permute", "einsum_sum", "einsum_view",
        "index_put", "replayed_gradient", "view_of_base",
    }  # fmt: skip
    assert classified <= OPS.keys()
