"""The ``fdiff`` command line: list, show, run, check, and its one-line errors."""

import subprocess
import sys

import pytest

from fdiff.cli import main
from fdiff.examples import CATALOG


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


def test_help_loads_neither_jax_nor_matplotlib():
    probe = (
        "import sys; from fdiff.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('jax', 'matplotlib', 'numpy') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
