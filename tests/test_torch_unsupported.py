"""What torch has and fdiff.torch lacks raises ``fdiff.torch.UnsupportedError`` naming it.

Each case is a torch program that works under real torch (checked) and names, under fdiff.torch,
the missing op in ``.op``; misses of private and dunder names stay plain ``AttributeError``s.
"""

from __future__ import annotations

import pytest
from support import assert_same

import fdiff.torch

CASES = {
    "torch.logcumsumexp": lambda torch: torch.logcumsumexp(torch.ones(3), 0),
    "torch.special.zeta": lambda torch: torch.special.zeta(torch.ones(2) * 2, 1.0),
    "torch.linalg.norm": lambda torch: torch.linalg.norm(torch.ones(3)),
    "torch.fft.fft": lambda torch: torch.fft.fft(torch.ones(4)),
    "torch.nn.functional.pairwise_distance": lambda torch: torch.nn.functional.pairwise_distance(
        torch.ones(2), torch.ones(2)
    ),
    "torch.nn.GRU": lambda torch: torch.nn.GRU(2, 3),
    "torch.nn.Module.half": lambda torch: torch.nn.Linear(2, 2).half(),
    "torch.nn.init.orthogonal_": lambda torch: torch.nn.init.orthogonal_(torch.ones(2, 2)),
    "torch.nn.init.trunc_normal_": lambda torch: torch.nn.init.trunc_normal_(torch.ones(2, 2)),
    "torch.optim.LBFGS": lambda torch: torch.optim.LBFGS([torch.ones(1, requires_grad=True)]),
    "torch.autograd.forward_ad.dual_level": lambda torch: torch.autograd.forward_ad.dual_level(),
    "Tensor.logcumsumexp": lambda torch: torch.ones(3).logcumsumexp(0),
    "Tensor.is_sparse": lambda torch: torch.ones(3).is_sparse,
    "torch.sum(dtype=...)": lambda torch: torch.sum(torch.ones(3), dtype=torch.float32),
    "torch.sum(dtype=...) as a method": lambda torch: torch.ones(3).sum(dtype=torch.float32),
    "torch.ones(layout=...)": lambda torch: torch.ones(2, layout=None),
    "torch.exp(out=...)": lambda torch: torch.exp(torch.ones(2), out=torch.zeros(2)),
    "torch.cumsum(dtype=...)": lambda torch: torch.ones(2, 3).cumsum(1, dtype=torch.float64),
    "Tensor.to(memory_format=...)": lambda torch: torch.ones(2).to(memory_format=None),
    "torch.nn.functional.embedding(max_norm=...)": (
        lambda torch: torch.nn.functional.embedding(
            torch.tensor([0, 1]), torch.ones(2, 3), max_norm=1.0
        )
    ),
    "torch.nn.functional.max_pool2d(return_indices=True)": (
        lambda torch: torch.nn.functional.max_pool2d(torch.ones(1, 2, 2), 2, return_indices=True)
    ),
}


def _op(case: str) -> str:
    return case.removesuffix(" as a method")


@pytest.mark.parametrize("case", CASES)
def test_a_missing_op_raises_unsupported_error_naming_it(case):
    with pytest.raises(fdiff.torch.UnsupportedError) as caught:
        CASES[case](fdiff.torch)
    assert isinstance(caught.value, NotImplementedError)
    assert caught.value.op == _op(case)
    assert f"`{_op(case)}`" in str(caught.value)


@pytest.mark.torch
@pytest.mark.parametrize("case", CASES)
def test_real_torch_has_each_missing_op(real_torch, case):
    """The cases are torch's API: each runs under real torch."""
    CASES[case](real_torch)


def test_missing_tensor_attributes_are_attribute_errors_too():
    x = fdiff.torch.ones(2)
    assert not hasattr(x, "logcumsumexp")
    with pytest.raises(AttributeError) as caught:
        _ = x.is_sparse
    assert isinstance(caught.value, fdiff.torch.UnsupportedError)
    assert (caught.value.name, caught.value.obj) == ("is_sparse", x)


@pytest.mark.parametrize(
    "lookup",
    [
        lambda: fdiff.torch.ones(2).__cuda_array_interface__,
        lambda: fdiff.torch.ones(2)._not_an_attribute,
        lambda: fdiff.torch.__not_a_module_attribute__,
        lambda: fdiff.torch.special._private,
    ],
    ids=["tensor dunder", "tensor private", "module dunder", "missing module private"],
)
def test_private_and_dunder_misses_stay_plain_attribute_errors(lookup):
    with pytest.raises(AttributeError) as caught:
        lookup()
    assert not isinstance(caught.value, fdiff.torch.UnsupportedError)


def test_unsupported_error_is_exported():
    assert "UnsupportedError" in fdiff.torch.__all__
    assert issubclass(fdiff.torch.UnsupportedError, NotImplementedError)


CREATION = ["tensor", "ones", "zeros", "full", "eye", "arange", "linspace", "rand", "randn"]
CREATION_ARGS = {"tensor": ([1.0],), "full": ((2,), 3.0), "linspace": (0.0, 1.0, 3), "eye": (2,)}


@pytest.mark.parametrize("name", CREATION)
def test_creation_on_the_cpu_device_matches_torch_and_other_devices_are_refused(real_torch, name):
    args = CREATION_ARGS.get(name, (2,))
    real_torch.manual_seed(0)
    fdiff.torch.manual_seed(0)
    expected = getattr(real_torch, name)(*args, device="cpu")
    actual = getattr(fdiff.torch, name)(*args, device="cpu")
    assert_same(actual, expected)
    with pytest.raises(fdiff.torch.UnsupportedError) as raised:
        getattr(fdiff.torch, name)(*args, device="cuda")
    assert raised.value.op == "torch.cuda"
