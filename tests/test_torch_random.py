"""fdiff.torch._random gives PyTorch's CPU random numbers bit for bit, with or without torch."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import pathlib
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from support import BOX_MULLER_MAGNITUDE, assert_close, assert_same_random_draws

from fdiff.torch import _fma
from fdiff.torch._random import DEFAULT_SEED, STATE_SIZE, Generator, default_generator

DATA = pathlib.Path(__file__).parent / "data"
TABLE = json.loads((DATA / "torch_random_table.json").read_text())
_maker_spec = importlib.util.spec_from_file_location(
    "make_torch_random_table", DATA / "make_torch_random_table.py"
)
maker = importlib.util.module_from_spec(_maker_spec)
_maker_spec.loader.exec_module(maker)

ARG_NAMES = ("low", "high", "shape", "mean", "std", "dtype")
SIZES = [*range(101), 1000, 4097, 100003]


def bits(array: np.ndarray) -> np.ndarray:
    """Floats as their unsigned-integer bit patterns; integers unchanged."""
    return array.view(f"u{array.itemsize}") if array.dtype.kind == "f" else array


def assert_same_bits(actual: np.ndarray, expected: np.ndarray) -> None:
    assert (actual.dtype, actual.shape) == (expected.dtype, expected.shape)
    np.testing.assert_array_equal(bits(actual), bits(expected))


def ours(generator: Generator, spec: dict) -> np.ndarray:
    """Run a call spec (see make_torch_random_table.py) on a Generator."""
    return getattr(generator, spec["op"])(**{k: spec[k] for k in ARG_NAMES if k in spec})


def draw_magnitude(spec: dict) -> float:
    """Bounds the terms of each draw (see ``support.assert_same_random_draws``)."""
    if spec["op"] in ("randn", "normal"):
        return abs(spec.get("mean", 0.0)) + spec.get("std", 1.0) * BOX_MULLER_MAGNITUDE
    low, high = spec.get("low", 0.0), spec.get("high", 1.0)
    return abs(low) + abs(high - low)


def assert_matches_torch(torch, generator: Generator, spec: dict) -> None:
    """Make the same call on torch's default generator and on ``generator``; compare draws."""
    expected, actual = maker.torch_result(torch, spec), ours(generator, spec)
    assert_same_random_draws(torch, actual, expected, draw_magnitude(spec))


# --- without torch --------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", TABLE["scenarios"], ids=lambda s: f"seed{s['seed']}")
def test_matches_recorded_torch_table(scenario):
    generator = Generator(scenario["seed"])
    for spec in scenario["calls"]:
        result = ours(generator, spec)
        assert result.shape == tuple(spec["shape"])
        recorded = {k: spec[k] for k in ("bits", "ints", "sha256") if k in spec}
        assert maker.encode(result) == recorded, spec
    digest = hashlib.sha256(generator.get_state().tobytes()).hexdigest()
    assert digest == scenario["state_sha256"]


def test_documented_torch_values():
    # torch's documentation prints 4 decimals: atol is half a unit in the last printed digit
    assert_close(Generator(0).randn((2, 2)), [[1.5410, -0.2934], [-2.1788, 0.5684]], atol=5e-5)
    assert_close(Generator(0).randn(3), [1.5410, -0.2934, -2.1788], atol=5e-5)
    generator = Generator(0)
    generator.randn((5, 3))
    assert_close(generator.randn(3), [0.1227, -0.5663, 0.3731], atol=5e-5)


def test_default_seed_and_global_generator():
    assert Generator().initial_seed() == DEFAULT_SEED == 67280421310721
    assert isinstance(default_generator, Generator)


def test_manual_seed_wraps_and_resets_cached_normal():
    generator = Generator(2**64 - 1)
    assert generator.manual_seed(-1) is generator
    assert generator.initial_seed() == 2**64 - 1
    first = generator.randn(3, "float64")  # leaves a cached sample behind
    generator.manual_seed(-1)
    assert_same_bits(generator.randn(3, "float64"), first)


def test_state_round_trip_keeps_cached_normal():
    generator = Generator(5)
    generator.randn(1)
    saved = generator.get_state()
    assert saved.shape == (STATE_SIZE,) and saved.dtype == np.uint8
    expected = [generator.randn(1), generator.randn(20), generator.randint(0, 3, 4)]
    generator.manual_seed(0)
    generator.set_state(saved)
    actual = [generator.randn(1), generator.randn(20), generator.randint(0, 3, 4)]
    for a, e in zip(actual, expected, strict=True):
        assert_same_bits(a, e)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda g: g.randn(-1), r"negative dimension -1: \[-1\]"),
        (lambda g: g.rand((2, -3)), r"negative dimension -3: \[2, -3\]"),
        (lambda g: g.randn(2, "int32"), r"unsupported dtype 'int32'.*'float32', 'float64'"),
        (lambda g: g.rand(2, "float16"), r"unsupported dtype 'float16'"),
        (lambda g: g.randint(5, 5, 2), r"'low' to be less than 'high'.*low=5 >= high=5"),
        (lambda g: g.randint(0, 2**63, 2), r"'high' to fit in int64"),
        (lambda g: g.manual_seed(2**64), r"seed must be in \[-2\*\*63, 2\*\*64\)"),
        (lambda g: g.normal(3, 0.0, -1.0), r"std >= 0.0, but found std -1.0"),
        (lambda g: g.uniform(3, 2.0, 1.0), r"\[low, high\) range.*low=2.0 > high=1.0"),
        (lambda g: g.uniform(3, 0.0, 1e39), r"'high' to be a finite float32"),
        (lambda g: g.uniform(3, -1e308, 1e308, "float64"), r"high - low to fit in float64"),
        (lambda g: g.set_state(np.zeros(10, np.uint8)), r"state of 5056 bytes, got 10"),
        (lambda g: g.set_state(np.zeros(STATE_SIZE, np.uint8)), r"'left' must be in \[1, 624\]"),
    ],
)
def test_rejects_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call(Generator(0))


def exact_float32(value: Fraction) -> np.float32:
    """``value`` correctly rounded to float32 (ties to even)."""
    guess = np.float32(float(value))
    candidates = [np.nextafter(guess, -np.inf), guess, np.nextafter(guess, np.inf)]
    return min(
        candidates, key=lambda c: (abs(Fraction(float(c)) - value), int(c.view(np.uint32)) & 1)
    )


finite32 = st.floats(-(2.0**60), 2.0**60, width=32)
finite64 = st.floats(allow_nan=False, allow_infinity=False)


@given(finite32, finite32, finite32)
@example(1 + 2**-23, 2**-24 * (1 - 2**-23), 1 + 3 * 2**-23)  # a float64 sum on a float32 tie
@example(1e-30, 1e-15, 0.0)  # a float32 subnormal result
def test_fma32_is_correctly_rounded(a, b, c):
    a, b, c = np.float32(a), np.float32(b), np.float32(c)
    exact = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
    result = _fma.fma32(np.array([a]), b, c)[0]
    assert result == exact_float32(exact)  # equal values: equal bits, but for the sign of 0


@given(finite64, finite64, finite64)
@example(1 + 2**-52, 2**-53 * (1 - 2**-52), 1 + 3 * 2**-52)  # a tie after two roundings
@example(0.5, 2**-1073, 0.0)  # a subnormal product
@example(3.0, 1e308, 0.0)  # overflow
def test_fma64_is_correctly_rounded(a, b, c):
    exact = Fraction(a) * Fraction(b) + Fraction(c)
    try:
        expected = float(exact)
    except OverflowError:
        expected = math.inf if exact > 0 else -math.inf
    assert _fma.fma64(np.array([a]), b, c)[0] == expected


# --- against real torch ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", ["rand", "randn"])
@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_every_size_in_sequence(real_torch, op, dtype, seed):
    real_torch.manual_seed(seed)
    generator = Generator(seed)
    for n in SIZES:
        assert_matches_torch(real_torch, generator, {"op": op, "shape": [n], "dtype": dtype})


@pytest.mark.parametrize("shape", [[], [0, 5], [16, 1], [1, 16], [2, 3, 4], [3, 5, 7], [4, 1, 4]])
def test_multidimensional_shapes(real_torch, shape):
    real_torch.manual_seed(3)
    generator = Generator(3)
    for op in ("rand", "randn"):
        for dtype in ("float32", "float64"):
            assert_matches_torch(real_torch, generator, {"op": op, "shape": shape, "dtype": dtype})
    assert_matches_torch(
        real_torch, generator, {"op": "randint", "low": -9, "high": 9, "shape": shape}
    )


@pytest.mark.parametrize(
    ("low", "high"),
    [
        (0, 1),
        (-5, 5),
        (0, 2**28 - 1),
        (0, 2**28),
        (-(2**31), 2**31),
        (0, 2**32),
        (7, 2**40 + 11),
        (-(2**63), 2**63 - 1),
        (2**63 - 3, 2**63 - 1),
    ],
)
def test_randint_ranges(real_torch, low, high):
    real_torch.manual_seed(17)
    generator = Generator(17)
    for n in (1, 15, 16, 1000):
        assert_matches_torch(
            real_torch, generator, {"op": "randint", "low": low, "high": high, "shape": [n]}
        )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("low", "high"),
    [
        (-0.0, 0.0),
        (0.0, -0.0),
        (3.0, 3.0),
        (-0.0, 1e-45),  # results that round up to high
        (-0.0, 5e-324),
        (1.0, 1.0 + 2 * 2**-23),
        (1.0, 1.0 + 2 * 2**-52),
        (-1e-37, 1e-37),
        (-1e30, 1e30),
    ],
)
def test_uniform_edges(real_torch, low, high, dtype):
    real_torch.manual_seed(4)
    generator = Generator(4)
    spec = {"op": "uniform", "shape": [300], "low": low, "high": high, "dtype": dtype}
    assert_matches_torch(real_torch, generator, spec)


@pytest.mark.parametrize("seed", [0, 5, 2**32 + 5, 2**63, 2**64 - 1, -1, -(2**63)])
def test_seeds(real_torch, seed):
    real_torch.manual_seed(seed)
    generator = Generator(seed)
    assert generator.initial_seed() == real_torch.initial_seed()
    assert_same_bits(generator.get_state(), real_torch.get_rng_state().numpy())
    assert_matches_torch(real_torch, generator, {"op": "randn", "shape": [7], "dtype": "float32"})


def test_state_interchange_with_torch(real_torch):
    real_torch.manual_seed(8)
    generator = Generator(8)
    for n in (5, 619, 3, 624):  # odd normal counts leave a cached sample; 624 wraps the engine
        assert_matches_torch(
            real_torch, generator, {"op": "randn", "shape": [n], "dtype": "float64"}
        )
        assert_same_bits(generator.get_state(), real_torch.get_rng_state().numpy())
    spec = {"op": "randn", "shape": [3], "dtype": "float32"}
    from_torch = Generator(0)
    from_torch.set_state(real_torch.get_rng_state().numpy())
    assert_matches_torch(real_torch, from_torch, spec)
    to_torch = Generator(9)
    to_torch.randn(1)  # a cached sample travels too
    real_torch.set_rng_state(real_torch.from_numpy(to_torch.get_state()))
    assert_matches_torch(real_torch, to_torch, spec)


widths = st.one_of(st.just(0.0), st.floats(0, 1e-40), st.floats(0, 10))
calls = st.one_of(
    st.fixed_dictionaries(
        {
            "op": st.sampled_from(["rand", "randn"]),
            "shape": st.lists(st.integers(0, 20), max_size=3),
            "dtype": st.sampled_from(["float32", "float64"]),
        }
    ),
    st.fixed_dictionaries(
        {
            "op": st.just("randint"),
            "low": st.integers(-(2**40), 2**40),
            "span": st.integers(1, 2**41),
            "shape": st.lists(st.integers(0, 20), max_size=2),
        }
    ),
    st.fixed_dictionaries(
        {
            "op": st.just("uniform"),
            "shape": st.lists(st.integers(0, 40), max_size=1),
            "low": st.floats(-10, 10),
            "span": widths,
            "dtype": st.sampled_from(["float32", "float64"]),
        }
    ),
    st.fixed_dictionaries(
        {
            "op": st.just("normal"),
            "shape": st.lists(st.integers(0, 40), max_size=1),
            "mean": st.floats(-10, 10),
            "std": widths,
            "dtype": st.sampled_from(["float32", "float64"]),
        }
    ),
)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(-(2**63), 2**64 - 1), specs=st.lists(calls, min_size=1, max_size=8))
def test_random_call_sequences(real_torch, seed, specs):
    real_torch.manual_seed(seed)
    generator = Generator(seed)
    for spec in specs:
        if "span" in spec:
            spec = {**spec, "high": spec["low"] + spec.pop("span")}
        assert_matches_torch(real_torch, generator, spec)
    assert_same_bits(generator.get_state(), real_torch.get_rng_state().numpy())
