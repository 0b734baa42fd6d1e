"""The catalog against the seeds' documented numbers, under all three engines."""

import re

import pytest

from fdiff.crosscheck import compare, run_engine, run_torch_source
from fdiff.examples import CATALOG, Printed, get

# Every id of ../shared/SEED_EXAMPLES.md, typed from that document.
SEED_IDS = [
    "000.1", "000.2a", "000.2b", "000.3", "000.4",
    "001.1", "001.2", "001.3", "001.4", "001.5", "001.6",
    "002.1", "002.2", "002.3",
    "003.1", "003.2", "003.3",
    "004.1", "004.2",
]  # fmt: skip

# What the pure JAX rewrite deliberately does not report, and why (see each example's notes).
# `X.grad` of a non-leaf: torch keeps none (None); a pure function has no such attribute, and
# asking for an intermediate's gradient is explicit (`tap`, as 004.2's b2/c2 show).
JAX_OMITS = {
    "000.4": {"result.grad_fn"},  # the biased conv is two jaxpr equations (conv, add)
    "001.1": {"y.grad", "z.grad"},
    "001.2": {"a.requires_grad"},  # a flag set by the program, not a computed quantity
    "001.5": {"x.requires_grad"},  # likewise
    "001.6": {"b.grad", "c.grad", "out.grad"},
    "002.2": {"backward_failed", "y.grad"},  # JAX raises nothing: a constant's gradient is 0
    "004.2": {"b.grad", "c.grad"},
}


def test_catalog_has_exactly_the_seed_ids():
    assert list(CATALOG) == SEED_IDS


@pytest.mark.parametrize("example_id", SEED_IDS)
def test_jax_rewrite_matches_documented(example_id):
    result = run_engine(get(example_id), "jax")
    assert result.status == "pass", result.failures
    assert set(result.skipped) == JAX_OMITS.get(example_id, set())


@pytest.mark.parametrize("example_id", SEED_IDS)
def test_fdiff_torch_runs_the_seed_source_unchanged(example_id):
    result = run_engine(get(example_id), "fdiff.torch")
    assert result.status == "pass", result.failures


@pytest.mark.parametrize("example_id", SEED_IDS)
def test_real_torch_matches_documented(example_id, real_torch):
    result = run_engine(get(example_id), "torch")
    assert result.status == "pass", result.failures


def _normalised(text: str) -> str:
    return re.sub(r" object at 0x[0-9a-f]+", " object at 0x...", text)


@pytest.mark.parametrize("example_id", SEED_IDS)
def test_fdiff_torch_prints_what_torch_prints(example_id, real_torch):
    import fdiff.torch

    source = get(example_id).torch_source
    _, ours = run_torch_source(source, fdiff.torch)
    _, theirs = run_torch_source(source, real_torch)
    assert _normalised(ours) == _normalised(theirs)


def test_fdiff_torch_prints_the_seed_transcript():
    import fdiff.torch

    _, stdout = run_torch_source(get("000.1").torch_source, fdiff.torch)
    # The seed's own printed output (000_d3cb4809fd174ff9.txt).
    assert stdout == "loss: tensor([4.], grad_fn=<PowBackward0>)\nparams.grad: tensor([8., 4.])\n"


def test_printed_tolerance_is_half_a_unit_in_the_last_digit():
    assert compare(Printed(0.3333), 0.33334)[1] is None
    assert compare(Printed(0.3333), 0.33336)[1] is not None
    assert compare(Printed([5.12e-02], scientific=True), [0.0512004])[1] is None
    assert compare(Printed([5.12e-02], scientific=True), [0.0512006])[1] is not None


def test_compare_rejects_wrong_shape_type_and_name():
    assert "shape" in compare(Printed([4.0]), 4.0)[1]
    assert compare(Printed(4.0), None)[1] is not None
    assert compare(None, 0.0)[1] is not None
    assert compare("PowBackward0", "MulBackward0")[1] is not None
    assert compare(False, True)[1] is not None


def test_torch_engine_reports_not_installed_when_torch_cannot_be_imported(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    assert run_engine(get("000.1"), "torch").status == "not installed"
    assert run_engine(get("000.1"), "fdiff.torch").status == "pass"  # swaps `torch` in, back out
    assert sys.modules["torch"] is None
