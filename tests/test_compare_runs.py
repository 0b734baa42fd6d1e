"""``fdiff compare`` never says "agree" about runs that failed, and never hangs.

The issue found a false "agree" (exit 0) whenever both engines failed alike: both timed out,
both exited through ``os._exit``, both segfaulted, both waited on a thread that never ends. A
failed run is now its own outcome (exit 3), named, with what the script printed before it.

Each compare starts two Python processes that import torch and JAX (about 8 CPU-seconds), so
the default run makes three, at once, in one module fixture: a script whose child process
outlives the timeout (both engines time out, through the command line, under a subprocess
guard), a script that crashes differently under each engine (``os._exit`` under torch, a
segfault under fdiff.torch), and one that runs fine with a latin-1 source, non-UTF-8 output,
``sys.stdout.buffer`` and files in its working directory. The slow profile adds the symmetric
cases one by one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fdiff.compare import Report, compare_script, format_report, report_json
from fdiff.compare._engines import _Capture
from fdiff.compare._runner import SCRIPT_ENGINES

GUARD_SECONDS = 240
"""A generous bound for one ``fdiff compare`` with ``--timeout 2``: two engine imports on a
loaded machine plus the timeout; a compare that hangs (the bug) never returns."""

CHILD_OUTLIVES = """\
import subprocess
import torch

child = subprocess.Popen(["sleep", "97531"])
print("child", child.pid)
print("looping")
while True:
    pass
"""
CRASHES = """\
import ctypes
import os
import torch

print("before the crash")
if torch.__name__ == "torch":
    os._exit(1)
ctypes.string_at(0)
"""
RUNS_FINE = """\
# -*- coding: latin-1 -*-
import os
import sys
from pathlib import Path

import torch

import runs_fine_helper

print("caf\xe9", runs_fine_helper.VALUE)
sys.stdout.buffer.write(b"raw \\xff\\xfe bytes\\n")
sys.stderr.buffer.write(b"err \\xff\\n")
Path(torch.__name__ + ".txt").write_text("mine")
print("cwd private:", Path.cwd() != Path(__file__).resolve().parent, len(os.listdir(".")))
x = torch.tensor([1.5, -2.0], requires_grad=True)
(x * x).sum().backward()
"""
OS_EXIT = 'import os\nimport torch\n\nprint("before exit")\nos._exit(1)\n'
SEGFAULT = 'import ctypes\nimport torch\n\nprint("before the crash")\nctypes.string_at(0)\n'
THREAD = """\
import threading
import time
import torch

print("main done")
threading.Thread(target=lambda: time.sleep(10**6)).start()
"""


def line_of(source: str, text: str) -> int:
    """The 1-based number of the first line of ``source`` that contains ``text``."""
    return next(n for n, line in enumerate(source.splitlines(), 1) if text in line)


def _write(folder: Path, name: str, source: str, encoding: str = "utf-8") -> Path:
    path = folder / f"{name}.py"
    path.write_bytes(source.encode(encoding))
    return path


def _cli_json(script: Path) -> tuple[int, dict]:
    """``fdiff compare SCRIPT --timeout 2 --json`` in a subprocess, under :data:`GUARD_SECONDS`."""
    done = subprocess.run(
        [sys.executable, "-m", "fdiff", "compare", str(script), "--timeout", "2", "--json"],
        capture_output=True,
        text=True,
        timeout=GUARD_SECONDS,
        check=False,
    )
    return done.returncode, json.loads(done.stdout)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scripts")
    (path / "runs_fine_helper.py").write_text("VALUE = 42\n")
    return path


@pytest.fixture(scope="module")
def runs(real_torch, folder) -> dict:
    """The three default compares, run at once: their results by name."""
    jobs = {
        "child outlives": (_cli_json, _write(folder, "child", CHILD_OUTLIVES)),
        "crashes": (compare_script, _write(folder, "crashes", CRASHES)),
        "runs fine": (compare_script, _write(folder, "runs_fine", RUNS_FINE, "latin-1")),
    }
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {name: pool.submit(function, arg) for name, (function, arg) in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


def _process_state(pid: int) -> str | None:
    """The state letter of process ``pid`` (``"Z"`` for a zombie), ``None`` when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


@pytest.mark.slow
def test_a_child_process_outliving_the_timeout_is_killed_and_both_timeouts_are_no_agreement(
    runs,
):
    returncode, data = runs["child outlives"]
    assert returncode == 3 and data["exit_code"] == 3 and data["agree"] is False
    for name, engine in data["engines"].items():
        assert engine["outcome"] == "timeout", (name, engine)
        assert engine["failure"].startswith("ran past the 2 s timeout: killed with its process")
        # the interpreter's stack can stand on either line of the loop when it is dumped
        loop = line_of(CHILD_OUTLIVES, "while True")
        assert engine["failure_line"] in (loop, loop + 1), (name, engine["failure_line"])
        assert (engine["signal"], engine["returncode"], engine["error"]) == (None, None, None)
        assert engine["stdout"].splitlines()[1] == "looping"  # printed before the kill
        if Path("/proc").is_dir():  # the script's child died with its process group
            pid = int(engine["stdout"].split()[1])
            assert _process_state(pid) in (None, "Z"), (name, pid)
    assert data["transcript"][1] == {"status": "same", "torch": "looping", "fdiff": "looping"}


def test_os_exit_and_a_segfault_are_failed_runs_with_their_output(runs):
    report = runs["crashes"]
    assert (report.agree, report.exit_code, report.failed_runs) == (False, 3, list(SCRIPT_ENGINES))
    torch_run, fdiff_run = report.records["torch"], report.records["fdiff.torch"]
    assert torch_run["outcome"] == "no result" and torch_run["returncode"] == 1
    assert "exited with status 1 without a result" in torch_run["failure"]
    assert fdiff_run["outcome"] == "signal" and fdiff_run["signal"] == "SIGSEGV"
    assert fdiff_run["failure_line"] == line_of(CRASHES, "string_at")
    assert [(row.status, row.torch) for row in report.transcript] == [("same", "before the crash")]
    text = format_report(report)
    assert "  fdiff.torch: killed by SIGSEGV at line 8: ctypes.string_at(0)" in text
    assert text.rstrip().splitlines()[-1].startswith("RUN FAILED: no verdict on ")
    engines = report_json(report)["engines"]
    assert engines["fdiff.torch"]["outcome"] == "signal"
    assert engines["torch"]["outcome"] == "no result"


def test_latin1_source_non_utf8_output_and_private_working_directories(runs):
    report = runs["runs fine"]
    assert report.agree and report.exit_code == 0, format_report(report)
    assert 'print("caf\xe9", ' in report.source  # the coding cookie was honoured here too
    for engine in SCRIPT_ENGINES:
        record = report.records[engine]
        assert record["outcome"] == "ok"
        assert record["stdout"].splitlines() == [
            "caf\xe9 42",
            "raw \\xff\\xfe bytes",  # non-UTF-8 bytes, kept visible with backslashreplace
            "cwd private: True 1",  # an empty folder of its own: only the file it wrote
        ]
        assert "err \\xff" in record["stderr"]
    assert {t.name for t in report.tensors} == {"x", "x.grad"}


def _failed(outcome: str, failure: str) -> dict:
    return {
        "stdout": "partial\n",
        "stderr": "",
        "tensors": {},
        "error": None,
        "outcome": outcome,
        "failure": failure,
        "signal": None,
        "returncode": None,
        "failure_line": 3,
    }


def test_identical_failures_never_agree():
    records = {e: _failed("timeout", "ran past the 5 s timeout") for e in SCRIPT_ENGINES}
    report = Report("s.py", "a\nb\nwhile True: pass\n", records, [], [], 1e-5, 1e-6)
    assert (report.agree, report.exit_code) == (False, 3)
    text = format_report(report)
    assert "  torch:       ran past the 5 s timeout at line 3: while True: pass" in text
    assert "torch (timeout) and fdiff.torch (timeout) did not finish" in text


def test_identical_errors_outside_the_script_never_agree():
    error = {"type": "RunnerError", "message": "x", "line": None, "source": "", "missing": None}
    records = {e: {"stdout": "", "tensors": {}, "error": dict(error)} for e in SCRIPT_ENGINES}
    assert not Report("s.py", "", records, [], [], 1e-5, 1e-6).agree
    for record in records.values():
        record["error"]["line"] = 1  # the script's own exception, at the same line: agree
    assert Report("s.py", "", records, [], [], 1e-5, 1e-6).agree


def test_an_interpreter_that_cannot_start_is_a_failed_run(real_torch, folder, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(folder / "no-such-python"))
    report = compare_script(_write(folder, "never_started", OS_EXIT))
    assert report.exit_code == 3
    for engine in SCRIPT_ENGINES:
        assert report.outcome(engine) == "failed to start"
        assert report.records[engine]["failure"].startswith("could not start: ")


def test_output_beyond_the_limit_keeps_head_and_tail_and_says_so():
    capture = _Capture(limit=20)
    chunks = [f"line {n}\n".encode() for n in range(100)]
    for chunk in chunks:
        capture.add(chunk)
    lines = capture.text().splitlines()
    assert lines[0] == "line 0" and lines[-1] == "line 99"
    left_out = sum(map(len, chunks)) - 20
    assert f"[fdiff compare: {left_out} bytes of output left out here]" in lines
    assert len(capture.head) + len(capture.tail) == 20


@pytest.mark.slow
@pytest.mark.parametrize(
    ("source", "outcome", "failure", "where"),
    [
        (OS_EXIT, "no result", "exited with status 1 without a result", None),
        (SEGFAULT, "signal", "killed by SIGSEGV", "string_at"),
        (THREAD, "timeout", "ran past the 2 s timeout", "time.sleep"),
    ],
    ids=["os._exit", "segfault", "thread"],
)
def test_both_engines_failing_alike_is_no_agreement(
    real_torch, folder, source, outcome, failure, where
):
    report = compare_script(_write(folder, f"alike_{outcome.replace(' ', '_')}", source), timeout=2)
    assert report.exit_code == 3, format_report(report)
    for engine in SCRIPT_ENGINES:
        record = report.records[engine]
        assert record["outcome"] == outcome and record["failure"].startswith(failure)
        assert record["failure_line"] == (where and line_of(source, where))
        assert record["stdout"].startswith(("before", "main done"))


@pytest.mark.slow
def test_an_engine_that_fails_to_import_is_a_failed_run(real_torch, folder, monkeypatch):
    fake = folder / "fake_torch" / "torch"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('this torch is broken')\n")
    paths = (str(fake.parent), os.environ.get("PYTHONPATH"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
    report = compare_script(_write(folder, "broken_torch", OS_EXIT))
    assert report.exit_code == 3
    record = report.records["torch"]
    assert record["outcome"] == "failed to start"
    assert record["failure"] == "could not start its engine: ImportError: this torch is broken"
