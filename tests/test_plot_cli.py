"""``fdiff plot``: fdiff.cli._plot through a local parser, and through ``python -m fdiff``."""

import errno
import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

from fdiff.cli import main
from fdiff.cli._plot import MAX_GRID, add_arguments, run
from fdiff.cli._usage import Parser
from fdiff.fields.expr import ExpressionError


def _plot(*argv: str) -> int:
    parser = Parser(prog="fdiff plot")
    add_arguments(parser)
    return run(parser.parse_args(list(argv)))


@pytest.mark.slow
def test_expression_with_descent_writes_a_png_and_reports(tmp_path, capsys):
    out = tmp_path / "field.png"
    argv = ["3*a**3 + 2*b**4", "--xlim", "-2", "2", "--ylim", "-2", "2", "--out", str(out)]
    assert _plot(*argv, "--descent", "1.5,1.0", "--lr", "0.1", "--steps", "50", "--dpi", "40") == 0
    assert imread(out).shape == (224, 256, 4)
    printed = capsys.readouterr().out
    assert f"wrote {out} (101x101 grid of f(a, b) = 3 * a ** 3 + 2 * b ** 4)" in printed
    assert "path 1: diverged at step" in printed


@pytest.mark.parametrize(
    ("example", "report"),
    [("000.1", "path 1: 20 steps from (1, 3) to (0.2, 2.6), f 4 -> 0"), ("002.1", "diverged")],
)
def test_seed_presets(tmp_path, capsys, example, report):
    out = tmp_path / "f.png"
    assert _plot("--example", example, "--out", str(out), "--grid", "41", "--dpi", "30") == 0
    assert out.stat().st_size > 0
    assert report in capsys.readouterr().out


@pytest.mark.slow
def test_stream_normalize_svg_and_masked_points(tmp_path, capsys):
    out = tmp_path / "f.svg"
    argv = ["log(x) * y", "--vars", "x,y", "--out", str(out), "--grid", "31"]
    assert _plot(*argv, "--stream", "--normalize", "--color-by", "log-magnitude", "--ascent") == 0
    assert out.read_bytes().lstrip().startswith(b"<?xml")
    assert "grid points (52%) have a non-finite value or gradient" in capsys.readouterr().out


@pytest.mark.slow
def test_no_contours_computes_and_draws_the_gradient_only(tmp_path, capsys, monkeypatch):
    import fdiff.cli._plot as plot_cli

    seen, real = [], plot_cli.gradient_field

    def recorded(*args, **kwargs):
        seen.append(real(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(plot_cli, "gradient_field", recorded)
    out = tmp_path / "f.png"
    argv = ["log(a) * b", "--out", str(out), "--grid", "31", "--dpi", "30", "--descent", "1,1"]
    assert _plot(*argv, "--no-contours", "--stream") == 0
    assert seen[-1].values is None and imread(out).shape == (168, 192, 4)
    printed = capsys.readouterr().out
    assert "non-finite gradient" in printed and "value or gradient" not in printed
    assert _plot(*argv) == 0 and seen[-1].values is not None


REJECTED = [
    (["a**"], ExpressionError, "expression 'a**' is incomplete at column 4"),
    (["a.real"], ExpressionError, "attribute access '.real' at column 2"),
    (["__import__('os')"], ExpressionError, "unknown function '__import__' at column 1"),
    (["lambda: a"], ExpressionError, "lambda"),
    (["a[0]"], ExpressionError, "subscript"),
    (["open(a)"], ExpressionError, "unknown function 'open'"),
    (["a" * 300], ExpressionError, "characters long"),
    (["a", "--grid", str(MAX_GRID + 1)], ValueError, "--grid 4001 is out of range"),
    (["a", "--grid", "1"], ValueError, "--grid 1 is out of range"),
    (["a", "--steps", "10000000"], ValueError, "--steps"),
    (["a", "--dpi", "5"], ValueError, "--dpi"),
    (["a", "--lr", "-1"], ValueError, "--lr must be a positive number"),
    (["a", "--momentum", "1"], ValueError, "--momentum"),
    (["a", "--descent", "1"], ValueError, "--descent '1' must be two finite numbers"),
    (["a", "--descent", "x,1"], ValueError, "--descent"),
    (["a", "--xlim", "1", "0"], ValueError, "`xlim` must be finite with low < high"),
    (["a", "--xlim", "1", "1.00000001"], ValueError, "too narrow for 11 distinct float32"),
    (["a", "--ylim", "1e8", "1.0000001e8"], ValueError, "too narrow for 11 distinct float32"),
    (["a", "--ylim", "0", "1e-43"], ValueError, "too narrow for 11 distinct float32"),
    (["a", "--ylim", "-1e39", "1"], ValueError, "outside float32's range"),
    (["a", "--vars", "a"], ExpressionError, "two different variable names"),
    (["--example", "009.9"], ValueError, "no gradient-field preset for example '009.9'"),
    (["a", "--example", "000.1"], ValueError, "not both"),
    ([], ValueError, "give an expression to plot"),
    (["log(a) - log(-a)"], ValueError, "not finite anywhere"),
    (["a^2"], ExpressionError, "uses operator '^' at column 2; use ** for powers"),
    (["a", "--optimizer", "adam"], ValueError, "--optimizer needs start points: give --descent"),
    (["a", "--descent", "1,1", "--optimizer", "lion"], ValueError, "unknown optimizer 'lion'"),
    (["a", "--descent", "1,1", "--optimizer", "adam:x"], ValueError, "must be a positive number"),
    (["a", "--descent", "1,1", "--optimizer", "sgd,sgd"], ValueError, "'sgd lr 0.1' twice"),
    (["a", "--descent", "1,1", "--optimizer", "sgd", "--momentum", "0.5"], ValueError, "name 'm"),
    (["a", "--log-color", "--color-scale", "linear"], ValueError, "--log-color or --color-scale"),
    (["a", "--normalize", "--log-arrows"], ValueError, "--normalize or --log-arrows"),
]


@pytest.mark.parametrize(("argv", "error", "message"), REJECTED)
def test_rejected_input_raises_one_line_errors(tmp_path, argv, error, message):
    with pytest.raises(error) as info:
        _plot("--out", str(tmp_path / "f.png"), "--grid", "11", *argv)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "f.png").exists()


def test_a_bad_extension_is_refused_before_any_work(tmp_path):
    with pytest.raises(ValueError, match=r"must end in one of \.png"):
        _plot("a*b", "--out", str(tmp_path / "f.jpg"))


@pytest.fixture
def no_work(monkeypatch):
    """Any attempt to compute a field fails the test: the output must be refused first."""
    import fdiff.cli._plot as plot_cli

    def refused(*args, **kwargs):
        raise AssertionError("computed before the output was checked")

    monkeypatch.setattr(plot_cli, "gradient_field", refused)


@pytest.mark.parametrize(
    ("out", "reason"),
    [
        ("missing/f.png", "the folder '{tmp}/missing' is missing"),
        ("folder.png", "it is a directory"),
        ("/proc/f.png", "(No such file or directory|Permission denied)"),  # root, or not
    ],
)
def test_unwritable_outputs_are_one_line_before_any_work(tmp_path, capsys, no_work, out, reason):
    (tmp_path / "folder.png").mkdir()
    target = out if out.startswith("/") else str(tmp_path / out)
    assert main(["plot", "a*b", "--out", target]) == 2
    line = re.escape(f"fdiff: error: cannot write '{target}': ")
    assert re.fullmatch(line + reason.format(tmp=tmp_path) + "\n", capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.png"]


def test_a_failed_write_leaves_no_file_and_the_old_one_intact(tmp_path, capsys, monkeypatch):
    def disk_full(figure, path, **options):
        Path(path).write_bytes(b"\x89PNG half")  # part of the image, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Figure, "savefig", disk_full)
    out, kept = tmp_path / "new.png", tmp_path / "kept.png"
    kept.write_bytes(b"the previous picture")
    for target in (out, kept):
        assert main(["plot", "a*b", "--grid", "11", "--out", str(target)]) == 2
        assert capsys.readouterr().err == (
            f"fdiff: error: cannot write '{target}': No space left on device\n"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.png"]
    assert kept.read_bytes() == b"the previous picture"


def test_a_new_output_gets_the_permissions_open_gives(tmp_path):
    out = tmp_path / "f.png"
    assert _plot("a*b", "--grid", "11", "--dpi", "20", "--out", str(out)) == 0
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


_SAVE_SLOWLY = """
import sys, time
from pathlib import Path
from matplotlib.figure import Figure
def save_slowly(figure, path, **options):
    Path(path).write_bytes(b"half an image")
    print("writing", flush=True)
    time.sleep(60)
Figure.savefig = save_slowly
from fdiff.cli import main
sys.exit(main())
"""


@pytest.mark.slow
def test_ctrl_c_while_writing_is_one_line_130_and_no_file(tmp_path):
    command = [sys.executable, "-c", _SAVE_SLOWLY, "plot", "a*b", "--grid", "11", "--out", "f.png"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    ) as process:
        assert process.stdout.readline() == "writing\n"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert (process.returncode, stderr) == (130, "fdiff: interrupted\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "title", "report"),
    [
        (["-a*b", "--descent", "-1,2"], "-a * b", "path 1: 50 steps from (-1, 2)"),
        (["--descent=-1.5,2", "--", "-a"], "-a", "path 1: 50 steps from (-1.5, 2)"),
        (
            ["a*b", "--descent", "-1.5,2", "--descent", "-1,-2"],
            "a * b",
            "path 2: 50 steps from (-1, -2)",
        ),
    ],
)
def test_values_starting_with_minus_are_values(tmp_path, capsys, argv, title, report):
    out = tmp_path / "f.png"
    window = ["--xlim", "-1e3", "1e3", "--ylim", "-.5", "-0.25", "--grid", "11", "--dpi", "20"]
    assert main(["plot", *window, "--out", str(out), *argv]) == 0
    printed = capsys.readouterr().out
    assert f"grid of f(a, b) = {title})" in printed and report in printed


def test_an_option_like_expression_needs_double_dash(tmp_path, capsys):
    assert main(["plot", "-a", "--out", str(tmp_path / "f.png")]) == 2
    assert capsys.readouterr().err == (
        "fdiff: error: unrecognized arguments: -a "
        "(a value that starts with - and looks like an option goes after --)\n"
    )


@pytest.mark.slow
def test_through_the_fdiff_cli(tmp_path):
    out = tmp_path / "f.png"
    good = [sys.executable, "-m", "fdiff", "plot", "a*b", "--grid", "11", "--out", str(out)]
    done = subprocess.run(good, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.exists()
    bad = [sys.executable, "-m", "fdiff", "plot", "a**", "--out", str(out)]
    done = subprocess.run(bad, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()  # one line: "fdiff...: error: <message>"
    assert line.endswith("error: expression 'a**' is incomplete at column 4")


def test_optimizers_compared_from_the_same_starts(tmp_path, capsys):
    out = tmp_path / "f.png"
    argv = ["a**2 + 4*b**2", "--descent", "-1.5,1", "--descent", "1,-0.5", "--steps", "4"]
    options = ["--optimizer", "sgd,momentum:0.02,adam:0.3", "--grid", "11", "--dpi", "20"]
    assert _plot(*argv, *options, "--log-color", "--aspect", "auto", "--out", str(out)) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[1].startswith("sgd lr 0.1 path 1: 4 steps from (-1.5, 1)")
    assert [line.split(" path ")[0] for line in printed[1:]] == [
        "sgd lr 0.1", "sgd lr 0.1", "momentum lr 0.02", "momentum lr 0.02",
        "adam lr 0.3", "adam lr 0.3",
    ]  # fmt: skip
    assert imread(out).shape[:2] == (112, 220)  # the 11 x 5.6 inch comparison figure
