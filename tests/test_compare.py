"""``fdiff compare``: seed documents' full programs agree; crafted scripts differ.

Each compare starts two subprocesses (about 10 s of imports each on a loaded 2-core machine),
so the default run compares one seed document and the crafted scripts, all at once in one
module fixture; the ``slow`` profile compares every other seed document too. The tests then
read the reports, the text format and the JSON form.
"""

from __future__ import annotations

import functools
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fdiff.cli import main
from fdiff.compare import (
    OUTCOMES,
    Report,
    compare_example,
    compare_script,
    compare_tensors,
    explain,
    format_report,
    report_json,
)
from fdiff.examples import CATALOG

DATA = Path(__file__).parent / "data" / "compare"
DOCUMENTS = sorted({example.document for example in CATALOG.values()})
SCRIPTS = ("agree", "unseeded", "missing_op", "float64", "shape_error")


def _compare_all(jobs: dict) -> dict[str, Report]:
    """Run ``{key: (function, argument)}`` compares in parallel threads (each waits on two
    subprocesses); their reports by key."""
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {key: pool.submit(function, arg) for key, (function, arg) in jobs.items()}
        return {key: future.result() for key, future in futures.items()}


@pytest.fixture(scope="module")
def reports(real_torch) -> dict[str, Report]:
    """Every script of tests/data/compare, by stem."""
    jobs = {"typo_no_x64": (functools.partial(compare_script, x64=False), DATA / "typo_no_x64.py")}
    return _compare_all(jobs | {name: (compare_script, DATA / f"{name}.py") for name in SCRIPTS})


@pytest.fixture(scope="module")
def documents(real_torch) -> dict[str, Report]:
    """Every seed document, by name (the slow profile only: about 20 s each)."""
    return _compare_all({doc: (compare_example, doc) for doc in DOCUMENTS})


def assert_document_agrees(report: Report, document: str) -> None:
    assert report.agree, format_report(report)
    assert report.exit_code == 0
    # the assembled program holds every example of the document, and each printed something
    for example in (e for e in CATALOG.values() if e.document == document):
        assert f"# --- {example.id}:" in report.source
    assert report.transcript and all(row.status == "same" for row in report.transcript)
    assert any(t.name.endswith(".grad") for t in report.tensors)
    assert report.explanations == []


@pytest.mark.slow
@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_seed_document_agrees(documents, document):
    assert_document_agrees(documents[document], document)
    data = json.loads(json.dumps(report_json(documents[document]), allow_nan=False))
    _check_schema(data, SCHEMA)


def test_agreeing_script_reports_every_tensor(reports):
    report = reports["agree"]
    assert report.agree, format_report(report)
    names = {t.name for t in report.tensors}
    assert {"x", "x.grad", "w", "w.grad", "model.weight", "model.weight.grad"} <= names
    assert {"model.bias.grad", "loss"} <= names
    text = format_report(report)
    assert "0x…" in text  # object addresses are normalised, so `print(object())` agrees
    assert text.rstrip().endswith("agree on " + str(DATA / "agree.py"))


def test_unseeded_random_draws_differ_and_are_explained(reports):
    report = reports["unseeded"]
    assert report.exit_code == 1
    failed = {t.name for t in report.tensors if not t.ok}
    assert {"x", "x.grad"} <= failed
    assert [name for name, _ in report.explanations] == ["unseeded-random"]
    text = format_report(report)
    assert "[unseeded-random]" in text and "torch.manual_seed" in text
    assert "FAIL (values differ)" in text
    assert text.rstrip().splitlines()[-1].startswith("DIFFER")


def test_missing_op_names_the_function_and_line(reports):
    report = reports["missing_op"]
    assert report.exit_code == 1
    assert report.error("torch") is None
    error = report.error("fdiff.torch")
    assert error["type"] == "UnsupportedAttributeError"
    assert error["missing"] == "Tensor.logcumsumexp"
    assert error["line"] == 8 and error["source"] == "y = x.logcumsumexp(0).sum()"
    # the static scan finds the name after the one the run stopped on: all in one run
    assert report.unsupported == [("Tensor.logcumsumexp", 8), ("torch.special.zeta", 11)]
    assert report_json(report)["unsupported"] == [
        {"name": "Tensor.logcumsumexp", "line": 8},
        {"name": "torch.special.zeta", "line": 11},
    ]
    text = format_report(report)
    assert "unsupported by fdiff.torch: Tensor.logcumsumexp (line 8: y = x.logcumsumexp" in text
    assert "unsupported by fdiff.torch: torch.special.zeta (line 11: print(torch.special" in text
    # what was printed before the failure is still compared
    assert report.transcript[0].status == "same" and report.transcript[0].torch == "before"
    assert report.transcript[1].status == "torch only"


def test_int64_wraparound_without_x64_is_explained_and_a_typo_agrees(reports):
    report = reports["typo_no_x64"]
    assert [(row.status, row.torch, row.fdiff) for row in report.transcript] == [
        ("differ", "tensor([10000000000])", "tensor([1410065408])")  # 10**10 - 2 * 2**32
    ]
    # the typo is the script's own: the same AttributeError at the same line, not unsupported
    torch_error, fdiff_error = report.error("torch"), report.error("fdiff.torch")
    assert (torch_error["type"], torch_error["line"]) == ("AttributeError", 17)
    assert torch_error["message"] == "'Net' object has no attribute 'fc2'"
    assert fdiff_error["line"] == 17 and report.errors_agree and report.unsupported == []
    assert "unsupported by" not in format_report(report)
    assert [name for name, _ in report.explanations] == ["int32-wraparound"]
    assert (report.exit_code, report_json(report)["x64"]) == (1, False)


def test_float64_agrees_with_x64_on_by_default(reports):
    report = reports["float64"]
    assert report.agree, format_report(report)
    dtypes = {e: report.records[e]["tensors"]["x.grad"]["dtype"] for e in report.records}
    assert dtypes == {"torch": "torch.float64", "fdiff.torch": "torch.float64"}
    assert report.transcript[0].fdiff == "x.grad: tensor([2., 4.], dtype=torch.float64)"


@pytest.mark.slow
def test_float64_without_x64_is_explained(real_torch):
    report = compare_script(DATA / "float64.py", x64=False)
    assert report.exit_code == 1
    assert report.error("fdiff.torch")["type"] == "TypeError"
    assert report.error("fdiff.torch")["line"] == 5
    assert "without --no-x64" in dict(report.explanations)["float64-without-x64"]


def test_same_torch_error_in_both_engines_agrees_and_shows_both(reports):
    report = reports["shape_error"]
    assert report.agree, format_report(report)
    for engine in ("torch", "fdiff.torch"):
        error = report.error(engine)
        assert (error["type"], error["line"], error["missing"]) == ("RuntimeError", 7, None)
        assert "shapes cannot be multiplied" in error["message"]
    text = format_report(report)
    assert "  torch:       RuntimeError at line 7:" in text
    assert "  fdiff.torch: RuntimeError at line 7:" in text


ENGINE_SCHEMA = {
    "stdout": str,
    "stderr": str,
    "error": (dict, type(None)),
    "outcome": str,
    "failure": (str, type(None)),
    "signal": (str, type(None)),
    "returncode": (int, type(None)),
    "failure_line": (int, type(None)),
}
SCHEMA = {
    "script": str,
    "example": (str, type(None)),
    "agree": bool,
    "exit_code": int,
    "rtol": float,
    "atol": float,
    "engines": dict,
    "transcript": list,
    "tensors": list,
    "explanations": list,
    "unsupported": list,
    "x64": bool,
    "port": (str, type(None)),
    "port_missing": list,
}
ERROR_SCHEMA = {
    "type": str,
    "message": str,
    "line": (int, type(None)),
    "source": str,
    "missing": (str, type(None)),
}
TENSOR_SCHEMA = {
    "name": str,
    "shape_torch": (list, type(None)),
    "shape_fdiff": (list, type(None)),
    "max_abs_err": (float, type(None)),
    "max_rel_err": (float, type(None)),
    "ok": bool,
    "note": str,
}


def _check_schema(value: dict, schema: dict) -> None:
    assert set(value) == set(schema)
    for key, kind in schema.items():
        assert isinstance(value[key], kind), (key, value[key])


@pytest.mark.parametrize("name", [*SCRIPTS, "typo_no_x64"])
def test_json_report_follows_the_documented_schema(reports, name):
    data = json.loads(json.dumps(report_json(reports[name]), allow_nan=False))
    _check_schema(data, SCHEMA)
    assert data["exit_code"] == (0 if data["agree"] else 1)  # no run failed here
    assert set(data["engines"]) == {"torch", "fdiff.torch"}
    for engine in data["engines"].values():
        _check_schema(engine, ENGINE_SCHEMA)
        assert engine["outcome"] == ("ok" if engine["error"] is None else "error")
        assert engine["outcome"] in OUTCOMES
        assert (engine["failure"], engine["signal"], engine["returncode"]) == (None, None, 0)
        if engine["error"] is not None:
            _check_schema(engine["error"], ERROR_SCHEMA)
    for row in data["transcript"]:
        assert set(row) == {"status", "torch", "fdiff"}
        assert row["status"] in ("same", "close", "differ", "torch only", "fdiff only")
    for tensor in data["tensors"]:
        _check_schema(tensor, TENSOR_SCHEMA)
    for explanation in data["explanations"]:
        assert set(explanation) == {"rule", "message"}
    for name in data["unsupported"]:
        _check_schema(name, {"name": str, "line": (int, type(None))})


def test_schema_is_documented_in_module_and_semantics_doc():
    import fdiff.compare

    doc = (Path(__file__).parent.parent / "docs" / "semantics.md").read_text(encoding="utf-8")
    keys = [*SCHEMA, *ENGINE_SCHEMA, *ERROR_SCHEMA, *TENSOR_SCHEMA, "status", "rule", "message"]
    for key in keys:
        assert f"``{key}``" in fdiff.compare.__doc__, key
        assert f"`{key}`" in doc, key


@pytest.mark.slow
def test_cli_json_and_exit_status(real_torch, capsys):
    assert main(["compare", str(DATA / "missing_op.py"), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["engines"]["fdiff.torch"]["error"]["missing"] == "Tensor.logcumsumexp"
    assert data["agree"] is False and data["script"] == str(DATA / "missing_op.py")


@pytest.mark.slow
def test_cli_example_text_report(real_torch, capsys):
    assert main(["compare", "--example", "004.1", "--tol", "1e-4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("fdiff compare <example 004.1>  (rtol 0.0001, atol 1e-06)")
    assert "agree: torch and fdiff.torch agree" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["compare", "no_such_script.py"], "does not exist"),
        (["compare", "README.md"], "is not a Python script"),
        (["compare"], "give either a script"),
        (["compare", "a.py", "--example", "000.1"], "give either a script"),
        (["compare", "--example", "no.such"], "unknown example id"),
        (["compare", "a.py", "--tol", "-1"], "tolerances must be non-negative"),
        (["compare", "a.py", "--tol", "inf"], "tolerances must be non-negative finite"),
        (["compare", "a.py", "--tol", "nan"], "tolerances must be non-negative finite"),
        (["compare", "a.py", "--atol", "inf"], "tolerances must be non-negative finite"),
        (["compare", "a.py", "--timeout", "inf"], "timeout must be a finite number"),
        (["compare", "a.py", "--timeout", "nan"], "timeout must be a finite number"),
        (["compare", "a.py", "--timeout", "0"], "at least 0.1, got 0.0"),
        (["compare", "a.py", "--timeout", "-5"], "at least 0.1, got -5.0"),
        (["compare", "a.py", "--timeout", "1e-9"], "at least 0.1, got 1e-09"),
        (["compare", "bad.py"], "`bad.py` line 2: SyntaxError: '(' was never closed"),
        (["compare", "nul.py"], "`nul.py`: SyntaxError: source code string cannot contain null"),
    ],
)
def test_cli_bad_input_exits_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text("import torch\n")
    (tmp_path / "bad.py").write_text("import torch\nx = (1,\n")
    (tmp_path / "nul.py").write_bytes(b"x = 1\0\n")
    (tmp_path / "README.md").write_text("not python\n")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("fdiff: error: ") and message in err and err.count("\n") == 1


def _record(values, grads, dtype="torch.float32"):
    tensor = {"shape": [len(values)], "dtype": dtype, "values": values}
    return {"x": tensor, "x.grad": {**tensor, "values": grads}}


def _synthetic(torch_tensors, fdiff_tensors, source, errors=(None, None)) -> Report:
    records = {
        "torch": {"stdout": "", "tensors": torch_tensors, "error": errors[0]},
        "fdiff.torch": {"stdout": "", "tensors": fdiff_tensors, "error": errors[1]},
    }
    return Report(
        "s.py", source, records, [], compare_tensors(torch_tensors, fdiff_tensors), 1e-5, 1e-6
    )


def test_kink_rule_needs_every_difference_at_zero():
    source = "y = x.abs().sum()\n"
    at_zero = _synthetic(_record([0.0, 2.0], [0.0, 1.0]), _record([0.0, 2.0], [1.0, 1.0]), source)
    assert [name for name, _ in explain(at_zero)] == ["kink-gradient"]
    away = _synthetic(_record([0.0, 2.0], [0.0, 1.0]), _record([0.0, 2.0], [1.0, 3.0]), source)
    assert explain(away) == []
    no_kink_op = _synthetic(_record([0.0], [0.0]), _record([0.0], [1.0]), "y = (x * x).sum()\n")
    assert explain(no_kink_op) == []


def test_rules_stay_silent_when_runs_agree():
    same = _record([1.0, 2.0], [3.0, 4.0])
    report = _synthetic(same, same, "x = torch.randn(2)\nimport numpy as np\nnp.random.rand()\n")
    assert report.agree and explain(report) == []


def test_numpy_randomness_without_seed_is_explained_and_seeded_is_not():
    torch_side, fdiff_side = _record([0.1], [0.2]), _record([0.5], [1.0])
    source = "import numpy as np\nx = torch.tensor(np.random.rand(1), requires_grad=True)\n"
    assert [n for n, _ in explain(_synthetic(torch_side, fdiff_side, source))] == [
        "unseeded-random"
    ]
    seeded = "np.random.seed(0)\n" + source
    assert explain(_synthetic(torch_side, fdiff_side, seeded)) == []


def test_dtype_difference_fails_and_is_explained():
    torch_side = _record([1.0], [2.0], dtype="torch.float64")
    report = _synthetic(torch_side, _record([1.0], [2.0]), "x = torch.ones(1, dtype=torch.float64)")
    assert not report.agree
    assert [n for n, _ in explain(report)] == ["float64-without-x64"]


def test_cuda_missing_is_explained():
    error = {
        "type": "AttributeError",
        "message": "no cuda",
        "line": 3,
        "source": "",
        "missing": "torch.cuda",
    }
    report = _synthetic({}, {}, "torch.cuda.manual_seed(0)\n", errors=(None, error))
    assert [n for n, _ in explain(report)] == ["no-cuda"]


def test_nan_in_both_engines_counts_as_equal():
    nan = float("nan")
    [row] = compare_tensors(
        {"x": {"shape": [2], "dtype": "f", "values": [nan, 1.0]}},
        {"x": {"shape": [2], "dtype": "f", "values": ["nan", 1.0]}},
    )
    assert row.ok and row.max_abs_err == 0.0


def test_missing_op_is_read_from_the_typed_error(monkeypatch):
    import fdiff.torch
    from fdiff.compare._runner import missing_name

    class UnsupportedError(NotImplementedError):  # the shape of fdiff.torch's typed error
        def __init__(self, op):
            super().__init__(f"fdiff.torch does not support {op}")
            self.op = op

    monkeypatch.setattr(fdiff.torch, "UnsupportedError", UnsupportedError, raising=False)
    assert missing_name(UnsupportedError("torch.special.zeta"), None) == "torch.special.zeta"
    try:  # `from torch import x` turns the error into an ImportError: the cause is read
        try:
            raise UnsupportedError("torch.sum(dtype=...)")
        except UnsupportedError as error:
            raise ImportError("cannot import name") from error
    except ImportError as error:
        assert missing_name(error, error.__traceback__) == "torch.sum(dtype=...)"


def test_a_tensor_that_cannot_be_read_is_reported_not_dropped():
    from fdiff.compare._runner import collect_tensors

    class Unreadable:
        requires_grad, shape, dtype, grad = True, (3,), "torch.float32", None

        def detach(self):
            raise RuntimeError("storage was freed")

        tolist = detach

    record = {"shape": [3], "dtype": "torch.float32", "values": [1.0, 2.0, 3.0]}
    fdiff_side = collect_tensors({"w": Unreadable()})
    assert fdiff_side["w"]["unreadable"] == "RuntimeError: storage was freed"
    [row] = compare_tensors({"w": record}, fdiff_side)
    assert (
        not row.ok
        and row.note == "could not read under fdiff.torch: RuntimeError: storage was freed"
    )


def test_flushed_subnormals_are_explained_only_when_torch_kept_one():
    source = "y = torch.log(x * 1e-30)\n"
    kept = _synthetic(_record([1e-39, 2.0], [1.0, 1.0]), _record([0.0, 2.0], [5.0, 1.0]), source)
    assert [name for name, _ in explain(kept)] == ["subnormals-flushed"]
    normal = _synthetic(_record([1e-30, 2.0], [1.0, 1.0]), _record([0.0, 2.0], [5.0, 1.0]), source)
    assert explain(normal) == []
