"""Running a script under both engines at once: one ``fdiff.compare._runner`` child each.

Each child runs in its own process group (``start_new_session``) and in its own empty temporary
working directory, with the script's folder first on ``sys.path`` (as ``python SCRIPT`` puts
it) and ``__file__`` the script's real path. An empty folder rather than a copy of the script's:
the two engines run at the same time, so each must see only its own writes, and copying a
folder of any size (a home directory) is not a cost to pay silently; files next to the script
are reached through ``Path(__file__).parent``, relative paths land in the private folder, which
is removed afterwards.

Both children are watched by one loop (no thread): their stdout and stderr are read as they
come, each kept whole up to :data:`OUTPUT_LIMIT` bytes and beyond that as its head and tail with
a line saying how much was left out, decoded as UTF-8 with ``errors="backslashreplace"``. A
child's clock starts when it has imported its engine (it says ``started``; until then it has
:data:`STARTUP_LIMIT` seconds); ``timeout`` seconds after that it dumps its stack (so the
report can name the script's line) and :data:`DUMP_SECONDS` later its whole process group is
killed with ``SIGKILL``, so processes the script started die with it; pipes such a process
still holds (it left the group) are read for at most :data:`DRAIN_SECONDS` more. Once the
script has finished (``finished``), its interpreter has :data:`EXIT_LIMIT` seconds to exit. A
run therefore ends within ``timeout`` plus its engine's start and exit plus a second, and both
run concurrently.

Each record (:func:`run_engines`) is the runner's (``tensors``, ``error``) plus ``stdout``,
``stderr`` and how the run ended: ``outcome`` (:data:`OUTCOMES`), ``failure`` (null, or one
line saying why the run failed), ``signal`` (null or a name such as ``"SIGSEGV"``),
``returncode`` (null or the child's exit status) and ``failure_line`` (null, or the script's
line in the stack dump of a run that was killed or crashed).

>>> _signal_name(-11), _signal_name(1)
('SIGSEGV', None)
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fdiff.compare._runner import PORT_ENGINES, SCRIPT_ENGINES
from fdiff.compare._scan import read_names

__all__ = [
    "DRAIN_SECONDS",
    "DUMP_SECONDS",
    "EXIT_LIMIT",
    "OUTCOMES",
    "OUTPUT_LIMIT",
    "STARTUP_LIMIT",
    "run_engines",
]

OUTCOMES = ("ok", "error", "timeout", "signal", "no result", "failed to start")
"""How a run ends: finished, finished by raising, killed at the deadline, killed by a signal,
exited without writing its record (``os._exit``, a crash in native code), or never started the
script (its engine failed to import, or the interpreter could not be started)."""
OUTPUT_LIMIT = 8 * 2**20
"""Bytes of stdout (and of stderr) kept whole; beyond it, the first and last half of it."""
STARTUP_LIMIT = 60.0
"""Seconds a child may take to import its engine before the script's clock starts."""
EXIT_LIMIT = 30.0
"""Seconds a child may take to exit once the script has finished (torch's teardown takes
seconds on a loaded machine)."""
DUMP_SECONDS = 0.5
"""Seconds between a child's timeout and its kill, for ``faulthandler`` to dump its stack."""
DRAIN_SECONDS = 1.0
"""Seconds to keep reading pipes after a child ended (a process the script started in a
session of its own can hold them open)."""
_READ_SIZE = 65536
_RUNNER = "import sys; from fdiff.compare._runner import main; sys.exit(main())"
"""The child's program (not ``-m fdiff.compare._runner``, which would import that module twice,
as ``__main__`` and through its package, and warn about it on the script's stderr)."""


class _Capture:
    """One output stream, kept whole up to ``limit`` bytes, else as its head and tail.

    >>> capture = _Capture(limit=8)
    >>> for chunk in (b"ab\\n", b"cdefgh\\n", b"ij\\n"):
    ...     capture.add(chunk)
    >>> capture.text()
    'ab\\nc\\n[fdiff compare: 5 bytes of output left out here]\\n\\nij\\n'
    """

    def __init__(self, limit: int = OUTPUT_LIMIT) -> None:
        self.limit = limit
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = self.limit // 2 - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        self.tail += chunk
        excess = len(self.tail) - (self.limit - self.limit // 2)
        if excess > 0:
            del self.tail[:excess]
            self.dropped += excess

    def text(self) -> str:
        decode = lambda data: bytes(data).decode("utf-8", errors="backslashreplace")  # noqa: E731
        if not self.dropped:
            return decode(self.head + self.tail)
        note = f"[fdiff compare: {self.dropped} bytes of output left out here]"
        return f"{decode(self.head)}\n{note}\n{decode(self.tail)}"


def _signal_name(returncode: int) -> str | None:
    if returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """``SIGKILL`` to the child's whole process group (it leads a session of its own)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(process.pid, signal.SIGKILL)


class _Run:
    """One engine's child: its process, pipes, clock and captured output."""

    def __init__(self, engine: str, script: Path, folder: Path, env: dict[str, str]) -> None:
        self.engine, self.script, self.record_path = engine, script, folder / "record.json"
        self.stdout, self.stderr = _Capture(), _Capture()
        self.started: float | None = None
        self.finished: float | None = None
        self.status = b""
        self.timed_out = False
        self.ended: float | None = None
        self.launch_error: OSError | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.status_fd = -1
        self.launched = time.monotonic()
        self.env, self.cwd = env, folder / "cwd"
        self.cwd.mkdir()

    def launch(self, timeout: float) -> None:
        status_read, status_write = os.pipe()
        command = [
            *(sys.executable, "-u", "-c", _RUNNER),
            *("--engine", self.engine, "--out", str(self.record_path)),
            *("--status-fd", str(status_write), "--timeout", repr(timeout), str(self.script)),
        ]
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=self.cwd,
                env=self.env,
                pass_fds=(status_write,),
                start_new_session=True,
            )
        except OSError as error:
            self.launch_error = error
            os.close(status_read)
        else:
            self.status_fd = status_read
        finally:
            os.close(status_write)
            self.launched = time.monotonic()

    def deadline(self, timeout: float) -> float:
        if self.started is None:
            return self.launched + STARTUP_LIMIT
        if self.finished is None:
            return self.started + timeout + DUMP_SECONDS
        return self.finished + EXIT_LIMIT

    def read_status(self, chunk: bytes) -> None:
        """``started`` and ``finished``, as the runner writes them on its status pipe."""
        self.status += chunk
        now = time.monotonic()
        if self.started is None and b"started\n" in self.status:
            self.started = now
        if self.finished is None and b"finished\n" in self.status:
            self.finished = now


def _watch(runs: list[_Run], timeout: float) -> None:
    """Read every child's output until all have ended (or been killed) and their pipes drained."""
    selector = selectors.DefaultSelector()
    for run in runs:
        if run.process is None:
            continue
        assert run.process.stdout is not None and run.process.stderr is not None
        selector.register(run.process.stdout, selectors.EVENT_READ, (run, run.stdout))
        selector.register(run.process.stderr, selectors.EVENT_READ, (run, run.stderr))
        selector.register(run.status_fd, selectors.EVENT_READ, (run, None))
    try:
        while selector.get_map():
            now = time.monotonic()
            waits = [0.1]
            for run in runs:
                if run.process is None or run.ended is not None:
                    continue
                if run.process.poll() is not None:
                    run.ended = now
                    _kill_group(run.process)  # processes the script left behind end with it
                elif now >= run.deadline(timeout):
                    run.timed_out = True
                    _kill_group(run.process)
                else:
                    waits.append(run.deadline(timeout) - now)
            for key in list(selector.get_map().values()):  # stop waiting on what a stray holds
                run = key.data[0]
                if run.ended is not None and now - run.ended > DRAIN_SECONDS:
                    selector.unregister(key.fileobj)
            for key, _ in selector.select(max(0.0, min(waits))):
                run, capture = key.data
                chunk = os.read(key.fd, _READ_SIZE)
                if not chunk:
                    selector.unregister(key.fileobj)
                elif capture is not None:
                    capture.add(chunk)
                else:
                    run.read_status(chunk)
    finally:
        selector.close()
        for run in runs:
            if run.process is not None:
                _kill_group(run.process)
                run.process.wait()
                for stream in (run.process.stdout, run.process.stderr):
                    if stream is not None:
                        stream.close()
            if run.status_fd >= 0:
                os.close(run.status_fd)


_DUMP_START = re.compile(r"^(?:Fatal Python error: .*|Timeout \([\d:.]+\)!)$", re.MULTILINE)


def _crash_line(stderr: str, script: Path) -> int | None:
    """The script's line in the last stack dump of ``faulthandler`` (innermost frame first).

    >>> dump = 'Timeout (0:00:02)!\\nThread 0x7f:\\n  File "/s.py", line 4 in <module>'
    >>> _crash_line(dump, Path("/s.py"))
    4
    """
    starts = [m.end() for m in _DUMP_START.finditer(stderr)]
    if not starts:
        return None
    found = re.search(rf'File "{re.escape(str(script))}", line (\d+)', stderr[starts[-1] :])
    return int(found[1]) if found else None


def _stderr_tail(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "it printed nothing on stderr"


def _record(run: _Run, timeout: float) -> dict[str, Any]:
    """The runner's record completed with how the run ended (see the module docstring)."""
    record: dict[str, Any] = {"tensors": {}, "error": None}
    stdout, stderr = run.stdout.text(), run.stderr.text()
    returncode = None if run.process is None else run.process.returncode
    ended = {"failure": None, "signal": None, "returncode": returncode, "failure_line": None}
    if run.launch_error is not None:
        ended.update(outcome="failed to start", failure=f"could not start: {run.launch_error}")
    elif run.timed_out and run.started is None:
        failure = f"its engine did not start within {STARTUP_LIMIT:g} s"
        ended.update(outcome="failed to start", failure=failure, returncode=None)
    elif run.timed_out and run.finished is not None:
        failure = (
            f"the script finished, but its process did not exit within {EXIT_LIMIT:g} s "
            "(an atexit function that never returns?): killed with its process group"
        )
        ended.update(outcome="timeout", failure=failure, returncode=None)
    elif run.timed_out:
        failure = f"ran past the {timeout:g} s timeout: killed with its process group"
        ended.update(outcome="timeout", failure=failure, returncode=None)
    elif returncode is not None and returncode < 0:
        name = _signal_name(returncode)
        ended.update(outcome="signal", failure=f"killed by {name}", signal=name)
    elif run.started is None:
        failure = f"could not start its engine: {_stderr_tail(stderr)}"
        ended.update(outcome="failed to start", failure=failure)
    elif returncode != 0 or not run.record_path.exists():
        failure = (
            f"exited with status {returncode} without a result "
            "(os._exit, or a crash in native code?)"
        )
        ended.update(outcome="no result", failure=failure)
    else:
        try:
            record = json.loads(run.record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            ended.update(outcome="no result", failure=f"its record is unreadable: {error}")
        else:
            ended["outcome"] = "error" if record["error"] else "ok"
    if ended["outcome"] in ("timeout", "signal", "no result"):
        ended["failure_line"] = _crash_line(stderr, run.script)
    names = read_names(run.record_path)  # written before the script ran, so even on a timeout
    return {**record, "stdout": stdout, "stderr": stderr, "names": names, **ended}


def run_engines(
    script: Path, timeout: float = 300.0, x64: bool = True, port: Path | None = None
) -> dict[str, dict[str, Any]]:
    """Run ``script`` under both engines, concurrently; their records by engine.

    ``x64`` turns JAX's 64-bit mode on in the ``fdiff.torch`` child (``JAX_ENABLE_X64``), so
    ``torch.float64`` and ``int64`` work there as in torch; ``fdiff.torch``'s default dtype
    stays float32 either way. With ``port``, the engines are :data:`PORT_ENGINES`: ``script``
    under torch and ``port`` under plain JAX, in JAX's own default mode (``x64`` unused).
    """
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    env["PYTHONIOENCODING"] = "utf-8"
    if port is None:
        plan = [(engine, script.resolve()) for engine in SCRIPT_ENGINES]
    else:
        plan = list(zip(PORT_ENGINES, (script.resolve(), port.resolve()), strict=True))
    with tempfile.TemporaryDirectory(prefix="fdiff-compare-") as temporary:
        runs = []
        for engine, path in plan:
            folder = Path(temporary) / engine
            folder.mkdir()
            engine_env = dict(env)
            if engine == "fdiff.torch":
                engine_env["JAX_ENABLE_X64"] = "1" if x64 else "0"
            runs.append(_Run(engine, path, folder, engine_env))
        for run in runs:
            run.launch(timeout)
        _watch(runs, timeout)
        return {run.engine: _record(run, timeout) for run in runs}
