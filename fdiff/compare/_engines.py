"""Running a script under both engines: one ``python -m fdiff.compare._runner`` child each.

The two children run in parallel, each with its own deadline; a child that times out or
writes no record is reported as an error of that engine (``TimeoutExpired``, ``RunnerError``),
so the comparison always has two records.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from fdiff.compare._runner import SCRIPT_ENGINES

__all__ = ["run_engines"]


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
        for engine in SCRIPT_ENGINES:
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
