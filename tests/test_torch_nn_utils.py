"""``fdiff.torch.nn.utils`` against real PyTorch: clip_grad_norm_ (every norm type, the
returned total norm, the clamp at 1, error_if_nonfinite), clip_grad_value_,
parameters_to_vector and vector_to_parameters.

Norms are sums of at most 12 terms: compared at the float32 defaults (RTOL about 84 units of
roundoff), as the optimizer tests compare their few-term sums.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from support import assert_same, assert_same_error, run_both

import fdiff.torch


def _parameters_with_grads(torch, scale: float):
    rng = np.random.default_rng(0)
    params = [
        torch.tensor(rng.normal(size=shape).astype(np.float32), requires_grad=True)
        for shape in ((3, 2), (4,), (2,))
    ]
    params.append(torch.ones(2, requires_grad=True))  # no grad: skipped
    loss = sum(((p * scale) ** 3).sum() for p in params[:3])
    loss.backward()
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("scale", [0.1, 2.0], ids=["below max (coefficient 1)", "clipped"])
def test_clip_grad_norm_matches_torch(real_torch, norm_type, scale):
    norm_type = float(norm_type) if norm_type == "inf" else norm_type

    def program(torch):
        params = _parameters_with_grads(torch, scale)
        total = torch.nn.utils.clip_grad_norm_(params, max_norm=1.5, norm_type=norm_type)
        return total, [p.grad for p in params]

    assert_same(*run_both(real_torch, program))


def test_clip_grad_norm_of_a_lone_tensor_and_of_no_grads(real_torch):
    def program(torch):
        w = torch.tensor([3.0, 4.0], requires_grad=True)
        (w * w).sum().backward()
        total = torch.nn.utils.clip_grad_norm_(w, 2)
        empty = torch.nn.utils.clip_grad_norm_([torch.ones(2, requires_grad=True)], 1.0)
        return total, w.grad, empty

    assert_same(*run_both(real_torch, program))


def test_clip_grad_norm_of_an_empty_generator_warns_as_torch(real_torch):
    for torch in (real_torch, fdiff.torch):
        with pytest.warns(UserWarning, match="empty generator, no gradient clipping"):
            torch.nn.utils.clip_grad_norm_((p for p in []), 1.0)


def test_clip_grad_norm_non_finite_raises_torchs_error(real_torch):
    def program(torch):
        w = torch.tensor([1.0, 2.0], requires_grad=True)
        (w * float("inf")).sum().backward()
        torch.nn.utils.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)

    assert_same_error(real_torch, program)


def test_clip_grad_norm_non_finite_scales_by_default(real_torch):
    def program(torch):
        w = torch.tensor([1.0, 2.0], requires_grad=True)
        (w * float("inf")).sum().backward()
        return torch.nn.utils.clip_grad_norm_([w], 1.0), w.grad

    assert_same(*run_both(real_torch, program))


def test_get_total_norm_and_clip_grads_with_norm_match_torch(real_torch):
    def program(torch):
        params = _parameters_with_grads(torch, 2.0)
        grads = [p.grad for p in params if p.grad is not None]
        total = torch.nn.utils.get_total_norm(grads, norm_type=3.0)
        empty = torch.nn.utils.get_total_norm([])
        torch.nn.utils.clip_grads_with_norm_(params, 0.5, total)
        return total, empty, [p.grad for p in params]

    assert_same(*run_both(real_torch, program))


def test_clip_grad_value_matches_torch(real_torch):
    def program(torch):
        params = _parameters_with_grads(torch, 1.5)
        assert torch.nn.utils.clip_grad_value_(params, clip_value=2) is None
        return [p.grad for p in params]

    assert_same(*run_both(real_torch, program))


def test_parameters_to_vector_and_back(real_torch):
    def program(torch):
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 2)
        vec = torch.nn.utils.parameters_to_vector(model.parameters())
        name = vec.grad_fn.name()
        torch.nn.utils.vector_to_parameters(torch.arange(8.0), model.parameters())
        params = [p.detach().clone() for p in model.parameters()]
        return vec, name, params, [p.requires_grad for p in model.parameters()]

    assert_same(*run_both(real_torch, program))


def test_vector_to_parameters_refuses_a_non_tensor(real_torch):
    assert_same_error(
        real_torch,
        lambda torch: torch.nn.utils.vector_to_parameters([1.0], [torch.zeros(1)]),
    )


def test_imports_as_torch_spells_them():
    from fdiff.torch.nn.utils import clip_grad_norm_
    from fdiff.torch.nn.utils.clip_grad import clip_grad_value_

    assert fdiff.torch.nn.utils.clip_grad_norm_ is clip_grad_norm_
    assert fdiff.torch.nn.utils.clip_grad_value_ is clip_grad_value_


@pytest.mark.parametrize("norm_type", [0.0, -math.inf])
def test_unsupported_norm_types_and_foreach_are_refused_by_name(norm_type):
    w = fdiff.torch.ones(2, requires_grad=True)
    w.sum().backward()
    with pytest.raises(fdiff.torch.UnsupportedError) as info:
        fdiff.torch.nn.utils.clip_grad_norm_([w], 1.0, norm_type=norm_type)
    assert info.value.op == f"torch.nn.utils.clip_grad_norm_(norm_type={norm_type})"
    with pytest.raises(fdiff.torch.UnsupportedError) as info:
        fdiff.torch.nn.utils.clip_grad_value_([w], 1.0, foreach=True)
    assert info.value.op == "torch.nn.utils.clip_grad_value_(foreach=True)"
