"""Differential tests: torch programs run under real PyTorch and fdiff.torch, compared.

Everything a torch user can observe must agree (``differential.runner``): every named
tensor's value, dtype, ``requires_grad``, ``is_leaf`` and ``grad_fn.name()``, the ``.grad``
of leaves and of tensors that called ``retain_grad()``, and the exception (its builtin type
and step) when a program raises. Float values are compared within error bounds derived from
a float64 reference run of real torch (``differential.tolerance`` explains the derivation).

The default run is fast and derandomized: the deterministic programs of
``differential.features`` cover every feature and every op of fdiff.torch's op table
(``test_every_table_op_has_a_differential_sample`` enforces it), and a fixed sample of
random programs (``differential.generator``) mixes them. The ``slow`` profile draws hundreds
more, larger random programs: ``python -m pytest -m slow tests/test_torch_differential.py``.
Its draws are random but seeded, so a CI run is reproducible: ``FDIFF_SWEEP_SEED`` (default 0)
picks the sweep; set a new one (e.g. ``FDIFF_SWEEP_SEED=$RANDOM``) to look for new failures.
float64 programs run in a subprocess with JAX's x64 mode on (``differential.x64_worker``).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from differential.features import FEATURES, X64_FEATURES
from differential.generator import programs
from differential.runner import execute, recorded_ops
from differential.tolerance import assert_runs_match, sensitivities
from differential.x64_worker import frame, read_frame
from hypothesis import HealthCheck, given, seed, settings

from fdiff.torch._ops import OPS  # the op table: its names are what must be covered

DEFAULT_EXAMPLES = 15
DEFAULT_X64_EXAMPLES = 3
SLOW_EXAMPLES = 400
SLOW_X64_EXAMPLES = 100
SWEEP_SEED = int(os.environ.get("FDIFF_SWEEP_SEED", "0"))
# Ops that record no node, found in a program's source instead of its graph.
UNRECORDED = {
    "eq": " == ", "ne": " != ", "lt": " < ", "le": " <= ", "gt": " > ", "ge": " >= ",
    "argmax": "argmax(", "argmin": "argmin(",
    "isclose": "isclose(", "all": ".all()", "any": "torch.any(",
    "sort_indices": "sort(1).indices", "topk_indices": "topk(1).indices",
    "median_indices": "median(1).indices", "searchsorted": "searchsorted(",
    "scatter_reduce_prod": '"prod", include_self',
    "bitwise_not": "~(", "bitwise_and": ") & (", "bitwise_or": ") | (", "bitwise_xor": ") ^ (",
    "logical_not": "logical_not(", "logical_and": "logical_and(", "logical_or": "logical_or(",
    "isnan": "isnan(", "isinf": "isinf(", "isfinite": "isfinite(",
}  # fmt: skip


def check(program, torch) -> None:
    """Run ``program`` in both engines and the float64 reference; everything must agree."""
    import fdiff.torch

    expected = execute(program, torch)
    actual = execute(program, fdiff.torch)
    reference, sensitivity = sensitivities(program, torch)
    assert reference.error == expected.error, f"float64 reference: {reference.error}"
    assert_runs_match(program, actual, expected, sensitivity)


class X64Engines:
    """The float64 worker process: the same three runs, with JAX's x64 mode on there."""

    def __init__(self) -> None:
        tests = Path(__file__).parent
        path = os.pathsep.join([str(tests), str(tests.parent), os.environ.get("PYTHONPATH", "")])
        self.process = subprocess.Popen(
            [sys.executable, "-m", "differential.x64_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
        )

    def ask(self, program, engine: str):
        self.process.stdin.write(frame(pickle.dumps((program, engine))))
        self.process.stdin.flush()
        reply = read_frame(self.process.stdout)
        assert reply is not None, "the x64 worker died"
        status, result = pickle.loads(reply)
        assert status == "ok", result
        return result

    def check(self, program) -> None:
        expected = self.ask(program, "torch")
        actual, _ = self.ask(program, "fdiff")
        reference, sensitivity = self.ask(program, "reference")
        assert reference.error == expected.error, f"float64 reference: {reference.error}"
        assert_runs_match(program, actual, expected, sensitivity)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.process.stdout.close()


@pytest.fixture(scope="module", autouse=True)
def x64(real_torch):
    """The float64 worker, started with the module's first test so its imports overlap."""
    engines = X64Engines()
    yield engines
    engines.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", FEATURES)
def test_feature_program_matches_torch(real_torch, name):
    check(FEATURES[name], real_torch)


@pytest.mark.parametrize("name", X64_FEATURES)
def test_float64_feature_program_matches_torch(x64, name):
    x64.check(X64_FEATURES[name])


@pytest.mark.slow
@settings(
    max_examples=DEFAULT_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(program=programs())
def test_random_program_matches_torch(real_torch, program):
    check(program, real_torch)


@settings(
    max_examples=DEFAULT_X64_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(program=programs(x64=True))
def test_random_float64_program_matches_torch(x64, program):
    x64.check(program)


@pytest.mark.slow  # re-runs every feature program to collect its ops: ~20 s
def test_every_table_op_has_a_differential_sample(x64):
    """Every op-table entry is run by a feature program (unrecorded ones: written in one).

    The ops are read from the graphs the feature programs build in fdiff.torch (each node's
    op-table entry), so removing a feature program, or the line that alone reaches an op,
    fails here; ops that record no node (comparisons, argmax) are found in the source.
    """
    import fdiff.torch

    assert set(UNRECORDED) == {name for name, spec in OPS.items() if not spec.differentiable}
    seen = set()
    for program in FEATURES.values():
        seen |= recorded_ops(execute(program, fdiff.torch).tensors)
    for program in X64_FEATURES.values():
        seen |= x64.ask(program, "fdiff")[1]
    sources = "\n".join(p.source for p in [*FEATURES.values(), *X64_FEATURES.values()])
    seen |= {op for op, text in UNRECORDED.items() if text in sources}
    missing = sorted(set(OPS) - seen)
    assert not missing, f"op-table entries no differential program ran: {missing}"


def test_x64_stays_off_in_this_process():
    """float64 programs ran elsewhere: this process's JAX still has 32-bit defaults."""
    import jax

    assert not jax.config.jax_enable_x64
    assert np.asarray(jax.numpy.zeros(1)).dtype == np.float32


@pytest.mark.slow
@seed(SWEEP_SEED)
@settings(
    max_examples=SLOW_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(program=programs(max_steps=10))
def test_many_random_programs_match_torch(real_torch, program):
    check(program, real_torch)


@pytest.mark.slow
@seed(SWEEP_SEED)
@settings(
    max_examples=SLOW_X64_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(program=programs(x64=True, max_steps=10))
def test_many_random_float64_programs_match_torch(x64, program):
    x64.check(program)


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda seen: setattr(seen, "value", seen.value * (1 + 1e-4)),
        lambda seen: setattr(seen, "grad", seen.grad * (1 + 1e-4)),
        lambda seen: setattr(seen, "grad_fn", "MulBackward0"),
        lambda seen: setattr(seen, "requires_grad", False),
        lambda seen: setattr(seen, "grad", None),
    ],
    ids=["value off by 1e-4", "grad off by 1e-4", "grad_fn", "requires_grad", "grad missing"],
)
def test_the_comparison_catches_a_wrong_run(real_torch, corrupt):
    """The harness itself: a run that differs from torch's in one observable fails."""
    program = FEATURES["retain_grad and retain_graph"]
    expected = execute(program, real_torch)
    actual = execute(program, real_torch)
    _, sensitivity = sensitivities(program, real_torch)
    assert_runs_match(program, actual, expected, sensitivity)
    corrupt(actual.observed["v1"])  # sin(x0 * x1): retained, so it has a .grad
    with pytest.raises(AssertionError):
        assert_runs_match(program, actual, expected, sensitivity)
