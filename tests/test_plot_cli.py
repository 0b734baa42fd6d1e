"""``fdiff plot``: fdiff.cli._plot through a local parser, and through ``python -m fdiff``."""

import argparse
import subprocess
import sys

import pytest
from matplotlib.image import imread

from fdiff.cli._plot import MAX_GRID, add_arguments, run
from fdiff.fields.expr import ExpressionError


def _plot(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="fdiff plot")
    add_arguments(parser)
    return run(parser.parse_args(list(argv)))


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


def test_stream_normalize_svg_and_masked_points(tmp_path, capsys):
    out = tmp_path / "f.svg"
    argv = ["log(x) * y", "--vars", "x,y", "--out", str(out), "--grid", "31"]
    assert _plot(*argv, "--stream", "--normalize", "--color-by", "log-magnitude", "--ascent") == 0
    assert out.read_bytes().lstrip().startswith(b"<?xml")
    assert "grid points (52%) have a non-finite value or gradient" in capsys.readouterr().out


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
    (["a", "--vars", "a"], ExpressionError, "two different variable names"),
    (["--example", "009.9"], ValueError, "no gradient-field preset for example '009.9'"),
    (["a", "--example", "000.1"], ValueError, "not both"),
    ([], ValueError, "give an expression to plot"),
    (["log(a) - log(-a)"], ValueError, "not finite anywhere"),
]


@pytest.mark.parametrize(("argv", "error", "message"), REJECTED)
def test_rejected_input_raises_one_line_errors(tmp_path, argv, error, message):
    with pytest.raises(error) as info:
        _plot("--out", str(tmp_path / "f.png"), "--grid", "11", *argv)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "f.png").exists()


@pytest.mark.parametrize(
    ("out", "message"), [("f.jpg", "must end in one of .png"), ("missing/f.png", "does not exist")]
)
def test_bad_output_paths_are_refused_before_any_work(tmp_path, out, message):
    with pytest.raises(ValueError, match=message):
        _plot("a*b", "--out", str(tmp_path / out))


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
