"""Run one torch-style script under real PyTorch and under ``fdiff.torch``, and compare.

Each engine runs the script in its own subprocess (``python -m fdiff.compare._runner``), which
records what the script printed, every global tensor that requires grad (module parameters
included) with its ``.grad``, and the error it raised, if any. :func:`compare_script` lines up
the two transcripts, compares the tensors within ``rtol``/``atol`` and applies the
:data:`RULES` that explain known semantic differences. The engines *agree* when neither raised
(or both raised the same exception type at the same line), every transcript line matches
(numbers within tolerance, object addresses such as ``0x7f3a...`` ignored) and every tensor
matches.

JSON report (``fdiff compare --json``, :func:`report_json`), one object:

- ``script`` (str): the compared file (for ``--example``, the example id is in ``example``);
- ``example`` (str or null): the catalog id given with ``--example``;
- ``agree`` (bool), ``exit_code`` (int): 0 when the engines agree, 1 otherwise;
- ``rtol``, ``atol`` (float): the tolerances used;
- ``engines`` (object): for ``"torch"`` and ``"fdiff.torch"``, an object with ``stdout`` (str)
  and ``error`` (null or an object with ``type`` (str), ``message`` (str), ``line`` (int or
  null: the script's line), ``source`` (str: that line's text) and ``missing`` (str or null:
  the function ``fdiff.torch`` lacks, such as ``"Tensor.cumsum"``));
- ``transcript`` (list): one object per aligned line, ``status`` (str: ``"same"``, ``"close"``
  (numbers within tolerance), ``"differ"``, ``"torch only"`` or ``"fdiff only"``), ``torch``
  and ``fdiff`` (str or null);
- ``tensors`` (list): one object per tensor name, ``name`` (str), ``shape_torch`` and
  ``shape_fdiff`` (list of int, or null where that engine has no such tensor),
  ``max_abs_err`` and ``max_rel_err`` (float, or null where not comparable or not finite),
  ``ok`` (bool), ``note`` (str, empty when ok);
- ``explanations`` (list): one object per rule that applies, ``rule`` (str), ``message`` (str).

>>> compared = compare_tensors(
...     {"x": {"shape": [2], "dtype": "torch.float32", "values": [1.0, 2.0]}},
...     {"x": {"shape": [2], "dtype": "torch.float32", "values": [1.0, 2.5]}},
... )
>>> compared[0].name, compared[0].max_abs_err, compared[0].ok
('x', 0.5, False)
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.util
import itertools
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from fdiff.compare._rules import RULES, Rule, explain, tensor_values

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "RULES",
    "Report",
    "Rule",
    "TensorComparison",
    "TranscriptRow",
    "compare_example",
    "compare_script",
    "compare_tensors",
    "format_report",
    "report_json",
]

DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-6
ENGINES = ("torch", "fdiff.torch")

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?\b(?:nan|inf)\b")


@dataclasses.dataclass(frozen=True)
class TranscriptRow:
    """One aligned pair of printed lines (``None`` where one engine printed nothing)."""

    status: str
    torch: str | None
    fdiff: str | None


@dataclasses.dataclass(frozen=True)
class TensorComparison:
    """One named tensor under both engines."""

    name: str
    shape_torch: tuple[int, ...] | None
    shape_fdiff: tuple[int, ...] | None
    max_abs_err: float | None
    max_rel_err: float | None
    ok: bool
    note: str = ""


@dataclasses.dataclass
class Report:
    """Both engines' records, the aligned transcript, the tensor table and the explanations."""

    script: str
    source: str
    records: dict[str, dict[str, Any]]
    transcript: list[TranscriptRow]
    tensors: list[TensorComparison]
    rtol: float
    atol: float
    example: str | None = None
    explanations: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def error(self, engine: str) -> dict[str, Any] | None:
        return self.records[engine]["error"]

    @property
    def errors_agree(self) -> bool:
        """Neither engine raised, or both raised the same exception type at the same line."""
        torch_error, fdiff_error = self.error("torch"), self.error("fdiff.torch")
        if torch_error is None or fdiff_error is None:
            return torch_error is fdiff_error
        return (torch_error["type"], torch_error["line"]) == (
            fdiff_error["type"],
            fdiff_error["line"],
        )

    @property
    def agree(self) -> bool:
        return (
            self.errors_agree
            and all(row.status in ("same", "close") for row in self.transcript)
            and all(t.ok for t in self.tensors)
        )

    @property
    def exit_code(self) -> int:
        return 0 if self.agree else 1


# --- running ------------------------------------------------------------------------------------


def _runner_failure(kind: str, message: str) -> dict[str, Any]:
    error = {"type": kind, "message": message, "line": None, "source": "", "missing": None}
    return {"stdout": "", "tensors": {}, "error": error}


def run_engines(script: Path, timeout: float = 300.0) -> dict[str, dict[str, Any]]:
    """Run ``script`` under both engines, in parallel subprocesses; return their records."""
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    records: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="fdiff-compare-") as folder:
        processes = {}
        for engine in ENGINES:
            out = Path(folder) / f"{engine}.json"
            command = [
                sys.executable,
                "-m",
                "fdiff.compare._runner",
                "--engine",
                engine,
                "--out",
                str(out),
                str(script),
            ]
            processes[engine] = (
                out,
                subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    env=env,
                    text=True,
                ),
            )
        for engine, (out, process) in processes.items():
            try:
                _, stderr = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
                records[engine] = _runner_failure("TimeoutExpired", f"ran past {timeout:g} s")
                continue
            try:
                records[engine] = json.loads(out.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                tail = (stderr or "").strip().splitlines()[-1:] or ["no output"]
                records[engine] = _runner_failure("RunnerError", tail[0])
    return records


def _check_script(path: Path) -> None:
    if path.suffix != ".py":
        raise ValueError(f"`{path}` is not a Python script: give a file ending in .py")
    if not path.is_file():
        raise ValueError(f"`{path}` does not exist")
    if importlib.util.find_spec("torch") is None:
        raise ValueError("real PyTorch is not installed: pip install 'fdiff[torch]'")


def compare_script(
    script: str | Path,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    timeout: float = 300.0,
) -> Report:
    """Run ``script`` under real PyTorch and under ``fdiff.torch`` and compare the two runs.

    Args:
        script: a ``.py`` file of torch-style code.
        rtol, atol: tolerances for tensors and printed numbers (``|f - t| <= atol + rtol*|t|``).
        timeout: seconds each engine may run.

    Returns:
        The :class:`Report`, explanations included.

    Raises:
        ValueError: the file is missing or not ``.py``, a tolerance is negative, or real
            PyTorch is not installed.
    """
    if not (rtol >= 0 and atol >= 0):
        raise ValueError(f"tolerances must be non-negative numbers, got rtol={rtol}, atol={atol}")
    path = Path(script)
    _check_script(path)
    records = run_engines(path, timeout)
    report = Report(
        script=str(path),
        source=path.read_text(encoding="utf-8"),
        records=records,
        transcript=align_transcripts(
            records["torch"]["stdout"], records["fdiff.torch"]["stdout"], rtol, atol
        ),
        tensors=compare_tensors(
            records["torch"]["tensors"], records["fdiff.torch"]["tensors"], rtol, atol
        ),
        rtol=rtol,
        atol=atol,
    )
    report.explanations = explain(report)
    return report


def example_script(example_id: str) -> str:
    """The full program of a catalog example, or of a whole seed document's examples.

    ``example_id`` is an example id (``"000.1"``) or a document name (``"000_d3cb...txt"``),
    whose examples' torch-style sources are concatenated in catalog order.
    """
    from fdiff.examples import CATALOG, get

    chosen = [e for e in CATALOG.values() if e.document == example_id]
    if not chosen:
        try:
            chosen = [get(example_id)]
        except KeyError as error:
            raise ValueError(error.args[0]) from None
    return "\n".join(f"# --- {e.id}: {e.title}\n{e.torch_source}" for e in chosen)


def compare_example(
    example_id: str, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL, timeout: float = 300.0
) -> Report:
    """:func:`compare_script` on an example's torch-style source (see :func:`example_script`)."""
    source = example_script(example_id)
    with tempfile.TemporaryDirectory(prefix="fdiff-example-") as folder:
        path = Path(folder) / f"example_{re.sub(r'[^0-9A-Za-z]+', '_', example_id)}.py"
        path.write_text(source, encoding="utf-8")
        report = compare_script(path, rtol, atol, timeout)
    report.script, report.example = f"<example {example_id}>", example_id
    return report


# --- comparing ----------------------------------------------------------------------------------


def _numbers(line: str) -> tuple[str, list[float]]:
    return _NUMBER.sub("#", line), [float(n) for n in _NUMBER.findall(line)]


def line_status(torch_line: str, fdiff_line: str, rtol: float, atol: float) -> str:
    """``"same"``, ``"close"`` (same text but numbers within tolerance) or ``"differ"``.

    >>> line_status("tensor([1.0000])", "tensor([1.0000])", 1e-5, 1e-6)
    'same'
    >>> line_status("loss 0.30000001", "loss 0.3", 1e-5, 1e-6)
    'close'
    >>> line_status("loss 0.3", "loss 0.4", 1e-5, 1e-6)
    'differ'
    """
    if torch_line == fdiff_line:
        return "same"
    (torch_text, torch_numbers), (fdiff_text, fdiff_numbers) = (
        _numbers(torch_line),
        _numbers(fdiff_line),
    )
    if torch_text != fdiff_text or len(torch_numbers) != len(fdiff_numbers):
        return "differ"
    close = np.allclose(fdiff_numbers, torch_numbers, rtol=rtol, atol=atol, equal_nan=True)
    return "close" if close else "differ"


def align_transcripts(
    torch_out: str, fdiff_out: str, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL
) -> list[TranscriptRow]:
    """Line up two transcripts (object addresses normalised) into :class:`TranscriptRow` s.

    >>> [row.status for row in align_transcripts("a\\nb at 0x7f01\\nc\\n", "a\\nb at 0x55aa\\n")]
    ['same', 'same', 'torch only']
    """
    left = [_ADDRESS.sub("0x…", line) for line in torch_out.splitlines()]
    right = [_ADDRESS.sub("0x…", line) for line in fdiff_out.splitlines()]
    rows: list[TranscriptRow] = []
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    for _, i1, i2, j1, j2 in matcher.get_opcodes():
        for a, b in itertools.zip_longest(left[i1:i2], right[j1:j2]):
            if a is None:
                rows.append(TranscriptRow("fdiff only", None, b))
            elif b is None:
                rows.append(TranscriptRow("torch only", a, None))
            else:
                rows.append(TranscriptRow(line_status(a, b, rtol, atol), a, b))
    return rows


def compare_tensors(
    torch_tensors: dict[str, Any],
    fdiff_tensors: dict[str, Any],
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
) -> list[TensorComparison]:
    """Compare the runner's tensor records by name (torch's order, then fdiff-only names)."""
    rows = []
    for name in [*torch_tensors, *(n for n in fdiff_tensors if n not in torch_tensors)]:
        want, got = torch_tensors.get(name), fdiff_tensors.get(name)
        shape_t = tuple(want["shape"]) if want else None
        shape_f = tuple(got["shape"]) if got else None
        if want is None or got is None:
            missing = "fdiff.torch" if got is None else "torch"
            rows.append(
                TensorComparison(
                    name, shape_t, shape_f, None, None, False, f"missing under {missing}"
                )
            )
            continue
        if shape_t != shape_f:
            rows.append(
                TensorComparison(name, shape_t, shape_f, None, None, False, "shapes differ")
            )
            continue
        t, f = tensor_values(want), tensor_values(got)
        both_nan = np.isnan(t) & np.isnan(f)
        with np.errstate(invalid="ignore"):
            error = np.where(both_nan | (t == f), 0.0, np.abs(f - t))
            relative = np.divide(error, np.abs(t), out=np.zeros_like(error), where=t != 0)
        max_abs = float(np.max(error, initial=0.0))
        max_rel = float(np.max(relative, initial=0.0))
        ok = bool(np.allclose(f, t, rtol=rtol, atol=atol, equal_nan=True))
        note = "" if ok else "values differ"
        if want["dtype"] != got["dtype"]:
            ok, note = False, f"dtype {want['dtype']} vs {got['dtype']}"
        rows.append(TensorComparison(name, shape_t, shape_f, max_abs, max_rel, ok, note))
    return rows


# --- output -------------------------------------------------------------------------------------

_MARKS = {"same": "=", "close": "~", "differ": "|", "torch only": "<", "fdiff only": ">"}


def _error_line(error: dict[str, Any]) -> str:
    where = f" at line {error['line']}" if error["line"] else ""
    return f"{error['type']}{where}: {error['message']}".splitlines()[0]


def _shape(comparison: TensorComparison) -> str:
    t, f = comparison.shape_torch, comparison.shape_fdiff
    text = lambda s: "-" if s is None else str(list(s))  # noqa: E731
    return text(t) if t == f else f"{text(t)} vs {text(f)}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.1e}"


def format_report(report: Report) -> str:
    """The human-readable report: transcripts side by side, errors, tensor table, verdict."""
    lines = [f"fdiff compare {report.script}  (rtol {report.rtol:g}, atol {report.atol:g})", ""]
    width = min(60, max([len("torch"), *(len(r.torch or "") for r in report.transcript)]))
    lines.append(f"  {'torch':{width}s}   fdiff.torch")
    for row in report.transcript:
        lines.append(
            f"  {row.torch or '':{width}s} {_MARKS[row.status]} {row.fdiff or ''}".rstrip()
        )
    if not report.transcript:
        lines.append("  (neither engine printed anything)")
    errors = [(e, report.error(e)) for e in ENGINES if report.error(e)]
    if errors:
        lines += ["", "errors:"]
        for engine, error in errors:
            lines.append(f"  {engine + ':':13s}{_error_line(error)}")
            if error["missing"]:
                lines.append(
                    f"  fdiff.torch does not support `{error['missing']}` "
                    f"(line {error['line']}: {error['source']})"
                )
    if report.tensors:
        name_width = max(6, *(len(t.name) for t in report.tensors))
        shape_width = max(5, *(len(_shape(t)) for t in report.tensors))
        lines += [
            "",
            f"  {'tensor':{name_width}s}  {'shape':{shape_width}s}  max abs err  max rel err  ok",
        ]
        for t in report.tensors:
            verdict = "ok" if t.ok else f"FAIL ({t.note})"
            lines.append(
                f"  {t.name:{name_width}s}  {_shape(t):{shape_width}s}  "
                f"{_number(t.max_abs_err):>11s}  {_number(t.max_rel_err):>11s}  "
                f"{verdict}"
            )
    else:
        lines += ["", "  (no tensor requires grad)"]
    if report.explanations:
        lines += ["", "explanations:"]
        lines += [f"  [{name}] {message}" for name, message in report.explanations]
    verdict = "agree" if report.agree else "DIFFER"
    lines += [
        "",
        f"{verdict}: torch and fdiff.torch {'agree' if report.agree else 'differ'}"
        f" on {report.script}",
    ]
    return "\n".join(lines) + "\n"


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def report_json(report: Report) -> dict[str, Any]:
    """The report as the JSON object the module docstring describes."""
    return {
        "script": report.script,
        "example": report.example,
        "agree": report.agree,
        "exit_code": report.exit_code,
        "rtol": report.rtol,
        "atol": report.atol,
        "engines": {
            engine: {"stdout": report.records[engine]["stdout"], "error": report.error(engine)}
            for engine in ENGINES
        },
        "transcript": [dataclasses.asdict(row) for row in report.transcript],
        "tensors": [
            {
                "name": t.name,
                "shape_torch": None if t.shape_torch is None else list(t.shape_torch),
                "shape_fdiff": None if t.shape_fdiff is None else list(t.shape_fdiff),
                "max_abs_err": _finite(t.max_abs_err),
                "max_rel_err": _finite(t.max_rel_err),
                "ok": t.ok,
                "note": t.note,
            }
            for t in report.tensors
        ],
        "explanations": [{"rule": name, "message": text} for name, text in report.explanations],
    }
