"""``fdiff landscape``: entry points, torch-style scripts, and one-line errors (exit 2)."""

from __future__ import annotations

import textwrap

import pytest

from fdiff.cli import main
from fdiff.cli._landscape import memory_budget
from fdiff.errors import InputError
from fdiff.landscape.entry import load_problem

PROBLEM = """
import jax.numpy as jnp

def loss(p):
    return jnp.sum((p["w"] - 1.0) ** 2) + p["b"] ** 2

def problem():
    run = [{"w": jnp.array([3.0, -1.0]), "b": jnp.array(2.0)},
           {"w": jnp.array([2.0, 0.5]), "b": jnp.array(1.0)},
           {"w": jnp.array([1.0, 1.0]), "b": jnp.array(0.0)}]
    return {"loss": loss, "params": run[-1], "trajectories": {"gd": run}}

def pair():
    return loss

def wrong_keys():
    return {"loss": loss, "weights": {}}
"""


@pytest.fixture
def entry(tmp_path):
    path = tmp_path / "problem.py"
    path.write_text(PROBLEM)
    return path


def _error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("fdiff: error: "), err
    return err


def test_help_lists_the_options(capsys):
    assert main(["landscape", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--directions", "--memory-budget", "--grid", "pca", "interpolate"):
        assert option in out


@pytest.mark.slow
def test_entry_point_with_a_recorded_run_writes_the_picture(entry, tmp_path, capsys):
    out = tmp_path / "landscape.png"
    argv = ["landscape", f"{entry}:problem", "--out", str(out), "--directions", "pca"]
    assert main([*argv, "--grid", "4", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert out.stat().st_size > 0
    assert "wrote" in printed and "gd: 2 steps" in printed
    assert "0.0% of its movement lies off the plane" in printed  # three points span a plane


def test_bad_entries_end_with_one_line(entry, tmp_path, capsys):
    out = str(tmp_path / "l.png")
    assert "neither `module:function`" in _error(capsys, ["landscape", "nothing", "--out", out])
    assert "no function 'absent'" in _error(capsys, ["landscape", f"{entry}:absent", "--out", out])
    assert "or a `(loss, params)` pair" in _error(
        capsys, ["landscape", f"{entry}:pair", "--out", out]
    )
    assert "keys ['loss', 'weights']" in _error(
        capsys, ["landscape", f"{entry}:wrong_keys", "--out", out]
    )
    assert "cannot import 'no_such_module_xyz'" in _error(
        capsys, ["landscape", "no_such_module_xyz:f", "--out", out]
    )
    assert "no such file" in _error(capsys, ["landscape", "missing.py", "--out", out])
    assert "must end in one of" in _error(
        capsys, ["landscape", f"{entry}:problem", "--out", str(tmp_path / "l.txt")]
    )
    assert "such as 512M" in _error(
        capsys, ["landscape", f"{entry}:problem", "--out", out, "--memory-budget", "lots"]
    )
    assert "either --normalize or --log-arrows" in _error(
        capsys, ["landscape", f"{entry}:problem", "--out", out, "--normalize", "--log-arrows"]
    )
    assert "--arrows 1 is out of range" in _error(
        capsys, ["landscape", f"{entry}:problem", "--out", out, "--arrows", "1"]
    )
    assert "--dpi 5 is out of range" in _error(
        capsys, ["landscape", f"{entry}:problem", "--out", out, "--dpi", "5"]
    )


def test_the_drawing_flags_reach_the_picture(entry, tmp_path, monkeypatch):
    """``fdiff plot``'s drawing flags draw the landscape too (log-length arrows, log colours)."""
    import fdiff.cli._landscape as landscape_cli

    drawn = {}

    def spy(field, paths, **options):
        drawn.update(options)
        return real(field, paths, **options)

    real = landscape_cli.plot_field
    monkeypatch.setattr(landscape_cli, "plot_field", spy)
    out = str(tmp_path / "l.png")
    argv = ["landscape", f"{entry}:problem", "--out", out, "--directions", "pca", "--grid", "4"]
    assert main([*argv, "--log-arrows", "--log-color", "--aspect", "auto", "--arrows", "8"]) == 0
    assert drawn["log_arrows"] and drawn["color_scale"] == "log"
    assert (drawn["aspect"], drawn["arrows"], drawn["stream"]) == ("auto", 8, False)


def test_a_script_missing_its_names_is_refused(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("import torch\nmodel = torch.nn.Linear(2, 1)\n")
    with pytest.raises(InputError, match="does not define loss_fn, inputs, targets"):
        load_problem(str(script))


def test_memory_budget_sizes():
    assert memory_budget("1.5G") == 3 << 29
    assert memory_budget("64KiB") == 65536
    with pytest.raises(InputError, match="such as 512M"):
        memory_budget("-5M")


@pytest.mark.slow
def test_torch_style_script_on_fdiff_torch(tmp_path, capsys):
    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent(
            """
            import torch
            torch.manual_seed(0)
            inputs, targets = torch.randn(16, 2), torch.randn(16, 1)
            model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(),
                                        torch.nn.Linear(4, 1))
            loss_fn = torch.nn.MSELoss()
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
            states = []
            for _ in range(5):
                states.append({k: v.clone() for k, v in model.state_dict().items()})
                optimizer.zero_grad()
                loss_fn(model(inputs), targets).backward()
                optimizer.step()
            states.append({k: v.clone() for k, v in model.state_dict().items()})
            trajectories = {"sgd": states}
            """
        )
    )
    out = tmp_path / "l.png"
    assert main(["landscape", str(script), "--out", str(out), "--grid", "6"]) == 0
    assert out.stat().st_size > 0
    assert "sgd: 5 steps" in capsys.readouterr().out
