"""The ``fdiff`` command line: list, show, run, check, its one-line errors and its endings."""

import contextlib
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

import fdiff
from fdiff.cli import main
from fdiff.cli._exit import BROKEN_PIPE, INTERRUPTED, Interrupts, ending_status
from fdiff.examples import CATALOG

ROOT = Path(__file__).resolve().parent.parent


def test_list_prints_every_id(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(CATALOG)


def test_show_puts_torch_source_next_to_jax_rewrite(capsys):
    assert main(["show", "000.2b"]) == 0
    out = capsys.readouterr().out
    assert "b = y * params.detach()" in out
    assert "jax.lax.stop_gradient(params)" in out
    assert "def product_loss" in out  # the helper the rewrite calls is shown too


def test_run_prints_a_transcript_in_the_seed_style(capsys):
    assert main(["run", "000.1"]) == 0
    out = capsys.readouterr().out
    assert "loss: tensor([4.], grad_fn=<PowBackward0>)" in out
    assert "params.grad: tensor([8., 4.])" in out


def test_run_under_fdiff_torch_prints_the_programs_output(capsys):
    assert main(["run", "003.3", "--engine", "fdiff.torch"]) == 0
    out = capsys.readouterr().out
    assert "Second call\ntensor([[8., 4., 4., 4., 4.]," in out


def test_check_subset_passes(capsys):
    assert main(["check", "000.1", "004.2", "--engines", "jax,fdiff.torch"]) == 0
    assert "2/2 examples match" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "9.9"], "unknown example id `9.9`"),
        (["run", "000.1", "--engine", "numpy"], "invalid choice: 'numpy'"),
        (["check", "--engines", "jax,tf"], "unknown engine `tf`"),
        ([], "the following arguments are required: command"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("fdiff: error: ")
    assert message in err


@pytest.mark.slow
def test_console_script_check_exits_zero():
    done = subprocess.run(
        [sys.executable, "-m", "fdiff", "check", "000.4", "--engines", "jax"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "000.4" in done.stdout


def test_check_verbose_lists_what_the_jax_rewrite_does_not_express(capsys):
    assert main(["check", "002.2", "--engines", "jax", "-v"]) == 0
    assert "jax: not expressed: y.grad, backward_failed" in capsys.readouterr().out


def test_a_bug_is_not_reported_as_bad_input(monkeypatch):
    import fdiff.cli._list

    def broken(args):
        raise ValueError("an internal bug")

    monkeypatch.setattr(fdiff.cli._list, "run", broken)
    with pytest.raises(ValueError, match="an internal bug"):
        main(["list"])


@pytest.mark.parametrize("argv", [["--help"], ["list"], ["show", "003.1"]])
def test_help_list_and_show_load_neither_jax_nor_matplotlib_nor_numpy(argv):
    probe = (
        "import sys; from fdiff.cli import main\n"
        f"status = main({argv!r})\n"
        "print(status, sorted(m for m in ('jax', 'matplotlib', 'numpy') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "0 []"


def test_version_is_the_packages_and_pyproject_reads_it_from_there(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"fdiff {fdiff.__version__}\n"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "fdiff.__version__"}


def _fdiff(*argv: str, stdout) -> tuple[int, str]:
    """``python -m fdiff ARGV`` with this stdout: its exit status and its stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "fdiff", *argv], stdout=stdout, stderr=subprocess.PIPE, timeout=60
    )
    return done.returncode, done.stderr.decode()


def test_closed_stdout_ends_quietly_with_141():
    reader, writer = os.pipe()
    os.close(reader)  # the reader left before anything was written: `fdiff list | head -0`
    try:
        assert _fdiff("list", stdout=writer) == (BROKEN_PIPE, "")
    finally:
        os.close(writer)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_stdout_is_one_line_and_exit_2():
    with open("/dev/full", "wb") as full:
        status, stderr = _fdiff("list", stdout=full)
    assert (status, stderr) == (
        2,
        "fdiff: error: cannot write to standard output: No space left on device\n",
    )


_STALL_IMPORT = """
import sys, time
class Stall:  # holds the import of the command's module, as a slow JAX import would
    def find_spec(self, name, path=None, target=None):
        if name == "fdiff.cli._list":
            print("importing", flush=True)
            time.sleep(60)
sys.meta_path.insert(0, Stall())
from fdiff.cli import main
sys.exit(main())
"""


def test_ctrl_c_while_the_command_loads_is_one_line_and_130():
    with subprocess.Popen(
        [sys.executable, "-c", _STALL_IMPORT, "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout.readline() == "importing\n"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert (process.returncode, stderr) == (INTERRUPTED, "fdiff: interrupted\n")


def test_ctrl_c_while_loading_in_process_returns_130_instead_of_ending_python(monkeypatch, capsys):
    import fdiff.cli

    def interrupted_import(name):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in the middle of a module's import
        raise AssertionError("the interrupt did not stop the import")

    monkeypatch.setattr(fdiff.cli.importlib, "import_module", interrupted_import)
    assert main(["list"]) == INTERRUPTED
    assert capsys.readouterr().err == "fdiff: interrupted\n"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def test_an_interrupt_that_a_library_turned_into_another_error_still_ends_with_130(capsys):
    interrupts = Interrupts()
    with pytest.raises(ImportError):
        ending_status(ImportError("initialization failed"), interrupts)  # no Ctrl-C: a bug
    interrupts.seen = True  # pybind11 reports a KeyboardInterrupt in a module's init this way
    assert ending_status(ImportError("initialization failed"), interrupts) == INTERRUPTED
    assert capsys.readouterr().err == "fdiff: interrupted\n"


_SPAWN_AND_WAIT = """
import subprocess, time
subprocess.Popen(["sleep", "{token}"])
while True:
    time.sleep(0.05)
"""


def _processes_with(token: str) -> list[int]:
    """Ids of the processes whose command line holds ``token`` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if token.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc")
def test_ctrl_c_during_compare_kills_the_engines_process_groups(tmp_path, real_torch):
    token = f"{os.getpid()}{time.monotonic_ns() % 10**6}"  # a unique `sleep` argument
    script = tmp_path / "spawn.py"
    script.write_text(_SPAWN_AND_WAIT.format(token=token), encoding="utf-8")
    command = [sys.executable, "-m", "fdiff", "compare", str(script), "--timeout", "120"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        deadline = time.monotonic() + 60
        while len(_processes_with(f"sleep\0{token}")) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)  # both engines run the script: each has started its `sleep`
        assert len(_processes_with(f"sleep\0{token}")) == 2
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert (process.returncode, stderr) == (INTERRUPTED, b"fdiff: interrupted\n")
    deadline = time.monotonic() + 10
    while _processes_with(f"sleep\0{token}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with(f"sleep\0{token}") == []
