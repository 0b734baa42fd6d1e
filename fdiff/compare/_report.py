"""The result of a comparison, :class:`Report`, and its two formats: text and JSON.

:func:`report_json` writes the object the package docstring (:mod:`fdiff.compare`) describes;
:func:`format_report` the side-by-side text ``fdiff compare`` prints.

>>> records = {e: {"stdout": "", "tensors": {}, "error": None} for e in SCRIPT_ENGINES}
>>> report = Report("s.py", "", records, [TranscriptRow("same", "1", "1")], [], 1e-5, 1e-6)
>>> report.agree, report_json(report)["transcript"]
(True, [{'status': 'same', 'torch': '1', 'fdiff': '1'}])
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from typing import Any

from fdiff.compare._runner import PORT_ENGINES, SCRIPT_ENGINES

__all__ = ["Report", "TensorComparison", "TranscriptRow", "format_report", "report_json"]


@dataclasses.dataclass(frozen=True)
class TranscriptRow:
    """One aligned pair of printed blocks (``None`` where one engine printed nothing): a line,
    or a value printed over several lines, its lines joined by ``"\\n"``."""

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
    x64: bool = True
    """Whether the ``fdiff.torch`` run had JAX's 64-bit mode on."""
    port: str | None = None
    """``--against``: the pure JAX port compared with the torch script (its engine ``"jax"``)."""
    port_source: str = ""
    port_missing: list[str] = dataclasses.field(default_factory=list)
    """``--against``: the tensors torch recorded that the port defines under no name."""

    @property
    def engines(self) -> tuple[str, str]:
        """The two engines: torch and ``fdiff.torch``, or torch and ``jax`` for a port."""
        return SCRIPT_ENGINES if self.port is None else PORT_ENGINES

    @property
    def other(self) -> str:
        """The engine compared with torch, as the report names it."""
        return "fdiff.torch" if self.port is None else "the JAX port"

    def error(self, engine: str) -> dict[str, Any] | None:
        return self.records[engine]["error"]

    def outcome(self, engine: str) -> str:
        """How the engine's run ended: ``"ok"``, ``"error"`` or a failed run's outcome."""
        record = self.records[engine]
        return record.get("outcome") or ("error" if record["error"] else "ok")

    @property
    def failed_runs(self) -> list[str]:
        """The engines whose run failed (timed out, killed, ended without a result, never
        started): there is nothing to compare, so the report has no verdict, exit code 3."""
        return [engine for engine in self.engines if self.records[engine].get("failure")]

    @property
    def errors_agree(self) -> bool:
        """Neither engine raised, or both raised the same exception type at the same line of
        the script (an error at no line of the script never agrees); for a port, two
        files, the same exception type."""
        torch_error, fdiff_error = (self.error(engine) for engine in self.engines)
        if torch_error is None or fdiff_error is None:
            return torch_error is fdiff_error
        if self.port is not None:
            return torch_error["type"] == fdiff_error["type"]
        if torch_error["line"] is None or torch_error["line"] != fdiff_error["line"]:
            return False
        return torch_error["type"] == fdiff_error["type"] or _same_missing_attribute(
            torch_error, fdiff_error
        )

    @property
    def unsupported(self) -> list[tuple[str, int | None]]:
        """``(name, line)`` for every name the script uses that torch has and fdiff.torch
        lacks, in the order of their lines: the static scan's (:mod:`fdiff.compare._scan`),
        and what the ``fdiff.torch`` run stopped on (a keyword, ``"torch.sum(dtype=...)"``,
        or indexing, ``"torch.nn.Sequential.__getitem__"``) unless torch failed alike; none
        for a port."""
        if self.port is not None:
            return []
        in_torch = self.records["torch"].get("names", {}).get("found", {})
        scanned = self.records["fdiff.torch"].get("names", {"lines": {}, "found": {}})
        found = {
            name: scanned["lines"][name]
            for name, present in scanned["found"].items()
            if not present and in_torch.get(name)
        }
        error = self.error("fdiff.torch")
        missing = (error or {}).get("missing")
        if missing and in_torch.get(missing) is not False and not self.errors_agree:
            found.setdefault(missing, error["line"])
        return sorted(found.items(), key=lambda item: (item[1] or 0, item[0]))

    @property
    def agree(self) -> bool:
        """Runs finished, errors agree, every block and tensor matches. For a port, a line
        only one side printed does not count (a port need not print what the script does),
        and there must be something to compare: a tensor, or a line printed alike."""
        unpaired = ("torch only", "fdiff only") if self.port is not None else ()
        compared = (
            self.port is None
            or self.tensors
            or any(row.status in ("same", "close", "differ") for row in self.transcript)
        )
        return bool(
            compared
            and not self.failed_runs
            and self.errors_agree
            and all(row.status in ("same", "close", *unpaired) for row in self.transcript)
            and all(t.ok for t in self.tensors)
        )

    @property
    def exit_code(self) -> int:
        """0 agree, 1 differ, 3 a run failed."""
        return 3 if self.failed_runs else 0 if self.agree else 1


def _same_missing_attribute(torch_error: dict[str, Any], fdiff_error: dict[str, Any]) -> bool:
    """torch's ``AttributeError`` for a name fdiff.torch reports as unsupported: a name torch
    lacks too (the script's typo, ``net.fc2``), which both engines raise alike."""
    attribute = re.search(r"has no attribute '(\w+)'", torch_error["message"])
    missing = fdiff_error.get("missing") or ""
    return (
        torch_error["type"] == "AttributeError"
        and fdiff_error["type"] in ("AttributeError", "UnsupportedAttributeError")
        and attribute is not None
        and missing.rpartition(".")[2] == attribute[1]
    )


_STDERR_LINES = 8
_STDERR_WIDTH = 120
"""The last lines of a failed run's stderr the text report shows, and their width."""
_RUNNER_FRAME = re.compile(r'File "(<string>|.*fdiff/compare/_runner\.py)", line')
"""A stack frame of the runner itself, not of the script: left out of a failed run's stderr."""
_RUN_FIELDS = ("failure", "signal", "returncode", "failure_line")
"""How each engine's run ended, in the JSON report (see :mod:`fdiff.compare._engines`)."""
_MARKS = {"same": "=", "close": "~", "differ": "|", "torch only": "<", "fdiff only": ">"}


def _printed(report: Report, side: str) -> list[str]:
    """Every line one side printed, a multi-line block's lines one by one."""
    return [line for row in report.transcript for line in (getattr(row, side) or "").split("\n")]


def _error_line(error: dict[str, Any]) -> str:
    where = f" at line {error['line']}" if error["line"] else ""
    return f"{error['type']}{where}: {error['message']}".splitlines()[0]


def _shape(comparison: TensorComparison) -> str:
    t, f = comparison.shape_torch, comparison.shape_fdiff
    text = lambda s: "-" if s is None else str(list(s))  # noqa: E731
    return text(t) if t == f else f"{text(t)} vs {text(f)}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.1e}"


def _failure_lines(report: Report) -> list[str]:
    """Each failed run: why, where the script was, and the last lines of its stderr."""
    lines = ["", "runs that failed:"]
    for engine in report.failed_runs:
        record = report.records[engine]
        line = record.get("failure_line")
        where = ""
        if line and line <= len(report.source.splitlines()):
            where = f" at line {line}: {report.source.splitlines()[line - 1].strip()}"
        lines.append(f"  {engine + ':':13s}{record['failure']}{where}")
        stderr = [
            text
            for text in record.get("stderr", "").splitlines()
            if text.strip() and not _RUNNER_FRAME.search(text)
        ]
        lines += [f"      stderr | {text[:_STDERR_WIDTH]}" for text in stderr[-_STDERR_LINES:]]
    return lines


def _verdict(report: Report) -> str:
    subject = report.script if report.port is None else f"{report.script} and {report.port}"
    if report.failed_runs:
        failed = " and ".join(f"{e} ({report.outcome(e)})" for e in report.failed_runs)
        return f"RUN FAILED: no verdict on {subject}: {failed} did not finish"
    if report.agree:
        return f"agree: torch and {report.other} agree on {subject}"
    return f"DIFFER: torch and {report.other} differ on {subject}"


def format_report(report: Report) -> str:
    """The human-readable report: transcripts side by side, errors, tensor table, verdict."""
    against = "" if report.port is None else f" --against {report.port}"
    lines = [
        f"fdiff compare {report.script}{against}  (rtol {report.rtol:g}, atol {report.atol:g})",
        "",
    ]
    width = min(60, max([len("torch"), *map(len, _printed(report, "torch"))]))
    lines.append(f"  {'torch':{width}s}   {report.engines[1]}")
    for row in report.transcript:
        pairs = itertools.zip_longest(
            (row.torch or "").split("\n"), (row.fdiff or "").split("\n"), fillvalue=""
        )
        lines += [f"  {t:{width}s} {_MARKS[row.status]} {f}".rstrip() for t, f in pairs]
    if not report.transcript:
        lines.append("  (neither engine printed anything)")
    errors = [(e, report.error(e)) for e in report.engines if report.error(e)]
    if errors:
        lines += ["", "errors:"]
        for engine, error in errors:
            lines.append(f"  {engine + ':':13s}{_error_line(error)}")
    if report.unsupported:
        source = report.source.splitlines()
        lines.append("")
        for name, line in report.unsupported:
            where = f" (line {line}: {source[line - 1].strip()})" if line else ""
            lines.append(f"  unsupported by fdiff.torch: {name}{where}")
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
        lines += [
            "",
            "  (no tensor requires grad)" if report.port is None else "  (no tensor compared)",
        ]
    if report.port_missing:
        lines += [
            "",
            f"  not in the port (no global of that name): {', '.join(report.port_missing)}",
        ]
    if report.explanations:
        lines += ["", "explanations:"]
        lines += [f"  [{name}] {message}" for name, message in report.explanations]
    if report.failed_runs:
        lines += _failure_lines(report)
    lines += ["", _verdict(report)]
    return "\n".join(lines) + "\n"


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def report_json(report: Report) -> dict[str, Any]:
    """The report as the JSON object :mod:`fdiff.compare` describes."""
    return {
        "script": report.script,
        "example": report.example,
        "agree": report.agree,
        "exit_code": report.exit_code,
        "rtol": report.rtol,
        "atol": report.atol,
        "engines": {
            engine: {
                "stdout": report.records[engine]["stdout"],
                "stderr": report.records[engine].get("stderr", ""),
                "error": report.error(engine),
                "outcome": report.outcome(engine),
                **{field: report.records[engine].get(field) for field in _RUN_FIELDS},
            }
            for engine in report.engines
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
        "unsupported": [{"name": name, "line": line} for name, line in report.unsupported],
        "x64": report.x64,
        "port": report.port,
        "port_missing": list(report.port_missing),
    }
