"""Tutorial-style training scripts (tests/data/tutorials/) run through ``fdiff compare``: each
must agree with real torch (printed transcript and every tensor, at compare's default
tolerances), over whole training loops with Adam/AdamW/RMSprop/Adagrad/SGD, learning-rate
schedules, dropout and DataLoader shuffles on torch's generator, batch norm's running
statistics, cross entropy with label smoothing.

Each compare starts two subprocesses and trains for a few epochs (20-60 s on a loaded 2-core
machine), so the scripts run in the slow profile, all at once in one module fixture.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fdiff.compare import compare_script, format_report

TUTORIALS = Path(__file__).parent / "data" / "tutorials"
SCRIPTS = sorted(path.stem for path in TUTORIALS.glob("*.py"))


@pytest.fixture(scope="module")
def reports(real_torch) -> dict:
    with ThreadPoolExecutor(max_workers=len(SCRIPTS)) as pool:
        futures = {name: pool.submit(compare_script, TUTORIALS / f"{name}.py") for name in SCRIPTS}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.slow
@pytest.mark.parametrize("name", SCRIPTS)
def test_tutorial_agrees_with_torch(reports, name):
    report = reports[name]
    assert report.agree, format_report(report)
    assert report.exit_code == 0
    assert report.transcript and all(row.status == "same" for row in report.transcript)
    assert any(t.name.endswith(".grad") for t in report.tensors)


def test_the_tutorials_are_there():
    assert SCRIPTS == [
        "attention_heads", "attribute_typos", "autograd_extending", "cnn_argument_forms",
        "cnn_batchnorm", "inplace_split", "mlp_classifier", "schedulers", "views_reshape",
    ]  # fmt: skip
