"""Tests for ``fdiff.torch._printing``: torch's tensor repr reproduced with NumPy.

The literal expected strings are real PyTorch output (from the documented seed programs and
PyTorch sessions); the property test compares against the installed PyTorch directly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fdiff.torch._printing import format_item, format_tensor

SEED_OUTPUTS = [
    (np.array([4.0]), {"grad_fn": "PowBackward0"}, "tensor([4.], grad_fn=<PowBackward0>)"),
    (np.array(27.0), {"grad_fn": "MeanBackward0"}, "tensor(27., grad_fn=<MeanBackward0>)"),
    (np.array(5.3695), {}, "tensor(5.3695)"),
    (np.array(-18.0), {}, "tensor(-18.)"),
    (np.array([8.0, 4.0]), {}, "tensor([8., 4.])"),
    (np.array([5.0, 7.0, 10.0]), {}, "tensor([ 5.,  7., 10.])"),
    (
        np.ones((2, 2)),
        {"requires_grad": True},
        "tensor([[1., 1.],\n        [1., 1.]], requires_grad=True)",
    ),
    (np.array([51.2, 512.0, 0.0512]), {}, "tensor([5.1200e+01, 5.1200e+02, 5.1200e-02])"),
    (
        np.array([788.99, -150.23564, -1115.5402]),
        {"grad_fn": "MulBackward0"},
        "tensor([  788.9900,  -150.2356, -1115.5402], grad_fn=<MulBackward0>)",
    ),
    (
        np.array([[[[11.0, 7, 7], [10, 8, 7], [5, 7, 10]]]]),
        {},
        "tensor([[[[11.,  7.,  7.],\n          [10.,  8.,  7.],\n          [ 5.,  7., 10.]]]])",
    ),
    (np.array([2 / 3, -0.0, -0.0]), {}, "tensor([0.6667, -0.0000, -0.0000])"),
    (np.array([0.3439, 0.3180]), {}, "tensor([0.3439, 0.3180])"),
]


@pytest.mark.parametrize(("values", "kwargs", "expected"), SEED_OUTPUTS)
def test_seed_outputs(values, kwargs, expected):
    assert format_tensor(values, dtype="float32", **kwargs) == expected


@pytest.mark.parametrize(
    ("values", "dtype", "expected"),
    [
        (np.zeros((0, 3)), "float32", "tensor([], size=(0, 3))"),
        (np.zeros(0), "float32", "tensor([])"),
        (np.zeros(0), "int64", "tensor([], dtype=torch.int64)"),
        (np.zeros((2, 0)), "bool", "tensor([], size=(2, 0), dtype=torch.bool)"),
        (np.array([1, -20]), "int64", "tensor([  1, -20])"),
        (np.array([1, -20]), "int32", "tensor([  1, -20], dtype=torch.int32)"),
        (np.array([True, False]), "bool", "tensor([ True, False])"),
        (np.array([1.5, 2.0]), "float64", "tensor([1.5000, 2.0000], dtype=torch.float64)"),
        (np.array([np.nan, -np.inf, 1.0]), "float32", "tensor([nan, -inf, 1.])"),
        (np.array([np.nan, 2.25]), "float32", "tensor([   nan, 2.2500])"),
    ],
)
def test_dtypes_empty_and_specials(values, dtype, expected):
    assert format_tensor(values, dtype=dtype) == expected


def test_default_dtype_float64_shows_float32():
    assert format_tensor(np.array([1.0]), dtype="float64", default_dtype="float64") == (
        "tensor([1.])"
    )
    assert (
        format_tensor(np.array([1.0]), dtype="float32", default_dtype="float64")
        == "tensor([1.], dtype=torch.float32)"
    )


def test_format_item_matches_python_float_of_float32():
    assert format_item(0.3439, dtype="float32") == repr(float(np.float32(0.3439)))
    assert format_item(0.1, dtype="float64") == "0.1"


# --- differential test against real PyTorch ------------------------------------------------

DTYPES = ["float32", "float32", "float64", "float64", "int64", "int32", "bool"]
SPECIALS = [0.0, -0.0, math.nan, math.inf, -math.inf, 1e-5, 1e-4, 1e8, 1.5e8, 0.5, 1000.0]
BIG_SHAPES = [
    (1000,),
    (10, 100),
    (1001,),
    (2, 501),
    (40, 30),
    (7, 11, 13),
    (2, 3, 13, 14),
    (1, 1200),
    (1200, 1),
]


def _float_values(width: int) -> st.SearchStrategy[float]:
    scaled = st.builds(
        lambda m, e: m * 10.0**e, st.floats(-10, 10, width=width), st.integers(-9, 12)
    )
    return st.one_of(
        st.integers(-2000, 2000).map(float),
        st.floats(-100, 100, width=width),
        scaled,
        st.sampled_from(SPECIALS),
        st.floats(width=width),
    )


VALUES = {
    "float32": _float_values(32),
    "float64": _float_values(64),
    "int64": st.one_of(
        st.integers(-20, 20), st.integers(-(2**63), 2**63 - 1), st.integers(-99999, 99999)
    ),
    "int32": st.one_of(st.integers(-20, 20), st.integers(-(2**31), 2**31 - 1)),
    "bool": st.booleans(),
}


@st.composite
def tensors(draw) -> tuple[np.ndarray, str]:
    """A random shape (0-d to 4-d, some empty, some over 1000 elements) and matching values."""
    dtype = draw(st.sampled_from(DTYPES))
    if draw(st.integers(0, 9)) == 0:
        shape = draw(st.sampled_from(BIG_SHAPES))
    else:
        ndim = draw(st.integers(0, 4))
        shape = draw(st.lists(st.integers(1, 9), min_size=ndim, max_size=ndim))
        if ndim and draw(st.integers(0, 9)) == 5:  # sometimes empty
            shape[draw(st.integers(0, ndim - 1))] = 0
        shape = tuple(shape)
    # A small pool of drawn values, spread over the tensor: alignment and the format
    # choice depend on mixing values, and this keeps big tensors cheap to generate.
    pool = draw(st.lists(VALUES[dtype], min_size=1, max_size=8))
    seed = draw(st.integers(0, 2**32 - 1))
    index = np.random.default_rng(seed).integers(len(pool), size=shape)
    return np.asarray(pool, dtype=dtype)[index], dtype


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tensors(), st.sampled_from(["", "requires_grad", "grad_fn"]))
def test_matches_real_torch(real_torch, example, autograd):
    values, dtype = example
    t = real_torch.tensor(values)
    kwargs = {}
    if dtype.startswith("float") and autograd:
        t.requires_grad_(True)
        kwargs["requires_grad"] = True
        if autograd == "grad_fn":
            t = t.clone()  # same values, grad_fn=<CloneBackward0>
            kwargs["grad_fn"] = "CloneBackward0"
    assert format_tensor(values, dtype=dtype, **kwargs) == repr(t)
    assert str(t) == repr(t)


BOUNDARIES = [
    [1e8],
    [1e8, 1e6],
    [1.5e8, 1e6],
    [1e-4, 0.05],
    [9.9e-5, 0.05],
    [1.0, 1000.0],
    [0.5, 500.0],
    [0.5, 500.5],
    [1.0, 1000.5, -3.0],
    [123456789.0, 1.0],
    [0.0, -0.0],
    [math.nan],
    [-math.inf, math.inf, 0.0],
]


@pytest.mark.parametrize("values", BOUNDARIES)
def test_format_choice_boundaries_match_real_torch(real_torch, values):
    for dtype in ("float32", "float64"):
        v = np.array(values, dtype=dtype)
        for array in (v, v[:1].reshape(())):
            assert format_tensor(array, dtype=dtype) == repr(real_torch.tensor(array))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_suffix_wrapping_matches_real_torch(real_torch, dtype):
    """Sweep the last line's length across the point where suffixes move to a new line."""
    for digits in range(7):
        for n in range(1, 40):
            values = np.full(n, 10.0**digits, dtype=dtype)
            t = real_torch.tensor(values, requires_grad=True)
            assert format_tensor(values, dtype=dtype, requires_grad=True) == repr(t)
            got = format_tensor(values, dtype=dtype, grad_fn="CloneBackward0")
            assert got == repr(t.clone())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_real_torch_under_float64_default(real_torch, dtype):
    values = np.array([[1.25, -3.0], [np.nan, 1e-7]])
    empty = np.zeros((0, 2))
    previous = real_torch.get_default_dtype()
    real_torch.set_default_dtype(real_torch.float64)
    try:
        for v in (values, empty):
            expected = repr(real_torch.tensor(v.astype(dtype)))
            assert format_tensor(v, dtype=dtype, default_dtype="float64") == expected
    finally:
        real_torch.set_default_dtype(previous)


def test_format_item_matches_real_torch(real_torch):
    for value, dtype in [(0.3439, "float32"), (1e-7, "float64"), (-5, "int64"), (1, "bool")]:
        t = real_torch.tensor(np.asarray(value, dtype=dtype))
        assert format_item(value, dtype=dtype) == str(t.item())


PRINT_OPTIONS = {
    "precision 2": {"precision": 2},
    "precision 6, scientific": {"precision": 6, "sci_mode": True},
    "never scientific": {"sci_mode": False},
    "threshold 5, edgeitems 1": {"threshold": 5, "edgeitems": 1},
    "linewidth 30": {"linewidth": 30},
    "profile short": {"profile": "short"},
    "profile full": {"profile": "full"},
    "profile short, then precision 5": {"profile": "short", "precision": 5},
}


@pytest.mark.parametrize("options", PRINT_OPTIONS.values(), ids=PRINT_OPTIONS)
def test_set_printoptions_prints_as_torch(real_torch, options):
    """Each option set, then the default profile again; the same prints as torch's."""
    from support import run_both

    def program(t):
        t.manual_seed(0)
        tensors = [
            t.randn(3, 4) * 100,
            t.tensor([1e-6, 1.0, 3.0]),
            t.tensor([1.0, 2.0, 3.0]),
            t.arange(2000.0).reshape(40, 50),
            t.tensor([0.0, float("nan"), float("inf")]),
            t.tensor([12345, -6]),
            t.ones(3, requires_grad=True) * 1.5,
        ]
        t.set_printoptions(**options)
        try:
            return [repr(x) for x in tensors]
        finally:
            t.set_printoptions(profile="default")

    ours, theirs = run_both(real_torch, program)
    assert ours == theirs
