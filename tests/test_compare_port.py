"""``fdiff compare SCRIPT --against PORT``: a torch script against its pure JAX port.

The rules are tested on reports built from records (no subprocess): each with the evidence
that makes it fire and with the same sources but values that differ otherwise, where it must
stay silent. The numbers are torch's and JAX's documented behaviour, worked out by hand (torch's
``max(dim)`` sends a tied row's gradient to one index, ``jnp.max`` splits it; torch's ``var``
divides by n - 1...). The runs of tests/data/ports (naive ports of seed programs, and correct
ones) start two interpreters each: they are in the slow profile.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fdiff.cli import main
from fdiff.compare import compare_example, compare_port, format_report, port_report
from fdiff.compare._port_record import port_tensors
from fdiff.compare._port_text import unwrapped
from fdiff.examples import CATALOG

PORTS = Path(__file__).parent / "data" / "ports"


def _record(values, shape=None, dtype="torch.float32"):
    return {"shape": [len(values)] if shape is None else shape, "dtype": dtype, "values": values}


def _report(source, port_source, torch_tensors, port_tensors_, torch_out="", port_out=""):
    jax_tensors = {
        name: {**record, "dtype": record["dtype"].removeprefix("torch.")}
        for name, record in port_tensors_.items()
    }
    records = {
        "torch": {"stdout": torch_out, "error": None, "tensors": torch_tensors},
        "jax": {"stdout": port_out, "error": None, "tensors": jax_tensors},
    }
    return port_report("s.py", source, "p.py", port_source, records)


def _rules(report):
    return [name for name, _ in report.explanations]


# --- the rules, on records ---------------------------------------------------------------------

TIES_TORCH = "a = torch.tensor([[1., 1.], [2., 0.]], requires_grad=True)\na.max(dim=1).values.sum()"
TIES_PORT = "jax.grad(lambda a: jnp.max(a, axis=1).sum())(a)"


def test_max_ties_fires_when_a_tied_rows_gradient_is_split():
    a = _record([1.0, 1.0, 2.0, 0.0], [2, 2])
    torch_grad = _record([1.0, 0.0, 1.0, 0.0], [2, 2])  # torch: one index per row
    port_grad = _record([0.5, 0.5, 1.0, 0.0], [2, 2])  # JAX: split among the ties
    report = _report(
        TIES_TORCH, TIES_PORT, {"a": a, "a.grad": torch_grad}, {"a": a, "a.grad": port_grad}
    )
    assert report.exit_code == 1
    assert _rules(report) == ["max-min-ties"]
    assert "jnp.take_along_axis" in report.explanations[0][1]
    doubled = _record([2.0, 0.0, 2.0, 0.0], [2, 2])  # not a split: twice the gradient
    report = _report(
        TIES_TORCH, TIES_PORT, {"a": a, "a.grad": torch_grad}, {"a": a, "a.grad": doubled}
    )
    assert "max-min-ties" not in _rules(report)


def test_var_unbiased_names_n_from_the_ratio():
    # v = [0, 3, 3]: squared deviations 4, 1, 1; torch 6 / 2 = 3, JAX 6 / 3 = 2
    v = _record([0.0, 3.0, 3.0])
    torch_tensors = {"v": v, "spread": _record([3.0], [])}
    report = _report(
        "spread = v.var()",
        "spread = jnp.var(v)",
        torch_tensors,
        {"v": v, "spread": _record([2.0], [])},
    )
    assert _rules(report) == ["var-unbiased"]
    assert "n = 3" in report.explanations[0][1] and "ddof=1" in report.explanations[0][1]
    std = _report(
        "s = v.std()",
        "s = jnp.std(v)",
        {"v": v, "s": _record([3**0.5], [])},
        {"v": v, "s": _record([2**0.5], [])},
    )
    assert _rules(std) == ["var-unbiased"] and "std" in std.explanations[0][1]
    other = _report(
        "spread = v.var()",
        "spread = jnp.var(v)",
        torch_tensors,
        {"v": v, "spread": _record([2.5], [])},
    )
    assert other.explanations == []
    fixed_source = _report(
        "spread = v.var()",
        "spread = jnp.var(v, ddof=1)",
        torch_tensors,
        {"v": v, "spread": _record([2.0], [])},
    )
    assert fixed_source.explanations == []


def test_kink_subgradient_at_clamps_bounds_and_abs_at_zero():
    c = _record([0.0, 1.0, 2.0])
    clamp = _report(
        "c.clamp(0.0, 1.0).sum().backward()",
        "jax.grad(lambda c: jnp.clip(c, 0.0, 1.0).sum())(c)",
        {"c": c, "c.grad": _record([1.0, 1.0, 0.0])},  # torch: the bounds pass the gradient
        {"c": c, "c.grad": _record([0.5, 0.5, 0.0])},  # JAX: half of it
    )
    assert _rules(clamp) == ["kink-subgradient"]
    x = _record([0.0, 2.0])
    absolute = _report(
        "x.abs().sum().backward()",
        "jax.grad(lambda x: jnp.abs(x).sum())(x)",
        {"x": x, "x.grad": _record([0.0, 1.0])},  # torch: abs'(0) = 0
        {"x": x, "x.grad": _record([1.0, 1.0])},  # JAX: abs'(0) = 1
    )
    assert _rules(absolute) == ["kink-subgradient"]
    away = _report(
        "x.abs().sum().backward()",
        "jax.grad(lambda x: jnp.abs(x).sum())(x)",
        {"x": x, "x.grad": _record([0.0, 1.0])},
        {"x": x, "x.grad": _record([0.0, 3.0])},  # differs at 2, away from the kink
    )
    assert away.explanations == []


def test_pow_norm_and_where_nan_rules_need_nan_at_the_right_places():
    x = _record([0.0, 2.0])
    pow_report = _report(
        "(x ** 0.0).sum().backward()",
        "jax.grad(lambda x: (x ** 0.0).sum())(x)",
        {"x": x, "x.grad": _record([0.0, 0.0])},  # torch: 0 where the base is 0
        {"x": x, "x.grad": _record(["nan", 0.0])},  # JAX: 0 * 0 ** -1
    )
    assert _rules(pow_report) == ["pow-at-zero"]
    z = _record([0.0, 0.0])
    norm_report = _report(
        "z.norm().backward()",
        "jax.grad(jnp.linalg.norm)(z)",
        {"z": z, "z.grad": _record([0.0, 0.0])},
        {"z": z, "z.grad": _record(["nan", "nan"])},
    )
    assert _rules(norm_report) == ["norm-at-zero"]
    where_report = _report(
        "t.clamp(min=1e-12).sqrt().sum().backward()",
        "jax.grad(lambda t: jnp.where(t > 0, jnp.sqrt(t), 0.0).sum())(t)",
        {"t": x, "t.grad": _record([0.0, 1 / (2 * 2**0.5)])},  # sqrt'(2)
        {"t": x, "t.grad": _record(["nan", 1 / (2 * 2**0.5)])},
    )
    assert _rules(where_report) == ["where-nan"]
    nan_away_from_zero = _report(
        "(x ** 0.0).sum().backward()",
        "jax.grad(lambda x: (x ** 0.0).sum())(x)",
        {"x": x, "x.grad": _record([0.0, 0.0])},
        {"x": x, "x.grad": _record([0.0, "nan"])},  # NaN where x = 2: not pow at 0
    )
    assert nan_away_from_zero.explanations == []


def test_x64_and_int32_rules():
    d = _record([0.1, 0.2], dtype="torch.float64")
    x64 = _report(
        "d = torch.tensor([0.1, 0.2], dtype=torch.float64)",
        "d = jnp.array([0.1, 0.2])",
        {"d": d},
        {"d": {**d, "dtype": "float32"}},
    )
    assert _rules(x64) == ["x64"]
    enabled = _report(
        "", "jax.config.update('jax_enable_x64', True)", {"d": d}, {"d": {**d, "dtype": "float32"}}
    )
    assert enabled.explanations == []
    wrapped = _report("", "", {}, {}, "product 10000000000\n", "product 1410065408\n")
    assert _rules(wrapped) == ["int64-int32"]  # 10**10 wrapped to 32 bits
    assert wrapped.exit_code == 1
    dtype_line = _report("", "", {}, {}, "torch.int64\n", "int32\n")
    assert _rules(dtype_line) == ["int64-int32"]
    other_number = _report("", "", {}, {}, "product 10000000000\n", "product 1410065409\n")
    assert other_number.explanations == []


def test_rng_init_loss_and_layout_rules():
    torch_w, port_w = _record([0.1, -0.2]), _record([0.3, 0.1])
    rng = _report(
        "w = torch.randn(2, requires_grad=True)",
        "w = jax.random.normal(key, (2,))",
        {"w": torch_w},
        {"w": port_w},
    )
    assert _rules(rng) == ["rng-streams"]
    assert (
        _report(
            "w = torch.randn(2)", "w = jnp.array([0.3, 0.1])", {"w": torch_w}, {"w": port_w}
        ).explanations
        == []
    )

    bound = 1 / 4**0.5  # nn.Linear(4, 1): U(-1/2, 1/2)
    weight = _record([0.4, -0.3, 0.1, bound], [1, 4])
    wide = _record([0.9, -0.3, 0.1, 0.2], [1, 4])
    init = _report(
        "net = nn.Linear(4, 1)", "w = init(key)", {"net.weight": weight}, {"net.weight": wide}
    )
    assert _rules(init) == ["default-init"]
    narrow = _record([0.2, -0.3, 0.1, 0.2], [1, 4])
    assert (
        _report(
            "net = nn.Linear(4, 1)", "", {"net.weight": weight}, {"net.weight": narrow}
        ).explanations
        == []
    )

    # mse over 3 elements: the port's sum is 3 times torch's mean, gradients too
    loss = _report(
        "error = F.mse_loss(pred, y)",
        "error = jnp.sum((pred - y) ** 2)",
        {"error": _record([5 / 3], []), "pred.grad": _record([2 / 3, 0.0, 4 / 3])},
        {"error": _record([5.0], []), "pred.grad": _record([2.0, 0.0, 4.0])},
    )
    assert _rules(loss) == ["loss-reduction"]
    assert "3 times" in loss.explanations[0][1]
    uneven = _report(
        "error = F.mse_loss(pred, y)",
        "",
        {"error": _record([5 / 3], [])},
        {"error": _record([4.0], [])},
    )
    assert uneven.explanations == []

    layout = _report(
        "conv = nn.Conv2d(1, 2, 3)",
        "",
        {"conv.weight": _record([0.0] * 18, [2, 1, 3, 3])},
        {"conv.weight": _record([0.0] * 18, [3, 3, 1, 2])},
    )
    assert _rules(layout) == ["nchw-nhwc"]
    assert "HWIO.transpose(3, 2, 0, 1)" in layout.explanations[0][1]


def test_nothing_compared_is_not_agreement_and_one_sided_lines_do_not_count():
    nothing = _report("", "", {"w": _record([1.0])}, {})
    assert not nothing.agree and nothing.port_missing == ["w"]
    assert "not in the port" in format_report(nothing)
    printed = _report(
        "", "", {}, {}, "loss tensor(0.5000, grad_fn=<MulBackward0>)\nextra\n", "loss 0.5\n"
    )
    assert printed.agree
    assert [row.status for row in printed.transcript] == ["close", "torch only"]


def test_port_records_and_unwrapped_printing():
    import numpy as np

    names = port_tensors(
        {
            "w": np.float32([1, 2]),
            "model_grad": {"fc": {"weight": np.ones((1, 2))}},
            "labels": np.arange(3),
            "fdiff_record": {"odd name": np.zeros(1)},
        }
    )
    assert sorted(names) == ["model.fc.weight.grad", "odd name", "w"]
    assert names["w"] == {"shape": [2], "dtype": "float32", "values": [1.0, 2.0]}
    assert (
        unwrapped("tensor([[1., 2.],\n        [3., 4.]], dtype=torch.float64)")
        == "[[1.  2.]\n        [3.  4.]]"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["compare", "s.py", "--against", "jax"], "use it with --example ID"),
        (["compare", "--example", "999.9", "--against", "jax"], "unknown example id"),
    ],
)
def test_against_usage_errors_exit_2(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_a_missing_port_is_bad_input(tmp_path, capsys):
    script = tmp_path / "s.py"
    script.write_text("import torch\n")
    assert main(["compare", str(script), "--against", str(tmp_path / "missing.py")]) == 2
    assert "missing.py` does not exist" in capsys.readouterr().err


# --- runs --------------------------------------------------------------------------------------

NAIVE_PORTS = {  # the rules each naive port must get, and the tensors that differ
    "seed004_stats": (
        ["max-min-ties", "var-unbiased", "kink-subgradient", "x64"],
        {"a.grad", "v.grad", "spread", "c.grad", "d", "d.grad"},
    ),
    "seed002_mse": (["loss-reduction"], {"error", "y.grad", "pred.grad"}),
    "seed003_logistic": (["rng-streams"], {"w", "b", "loss", "w.grad", "b.grad"}),
    "seed000_conv": (["nchw-nhwc"], {"conv.weight", "conv.weight.grad", "result"}),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NAIVE_PORTS))
def test_naive_ports_differ_with_their_explanations_through_the_command(name, real_torch, capsys):
    script, port = PORTS / f"{name}.py", PORTS / f"{name}_naive.py"
    status = main(["compare", str(script), "--against", str(port), "--json", "--timeout", "120"])
    report = json.loads(capsys.readouterr().out)
    assert status == report["exit_code"] == 1
    rules, failed = NAIVE_PORTS[name]
    assert [e["rule"] for e in report["explanations"]] == rules
    assert {t["name"] for t in report["tensors"] if not t["ok"]} == failed
    assert report["port"] == str(port) and set(report["engines"]) == {"torch", "jax"}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NAIVE_PORTS))
def test_correct_ports_agree(name, real_torch):
    report = compare_port(PORTS / f"{name}.py", PORTS / f"{name}_port.py", timeout=120)
    assert report.exit_code == 0, format_report(report)
    assert report.tensors and all(t.ok for t in report.tensors)
    assert report.explanations == []


@pytest.mark.slow
@pytest.mark.parametrize("document", sorted({e.document for e in CATALOG.values()}))
def test_the_catalogs_jax_rewrites_agree_with_its_torch_programs(document, real_torch):
    report = compare_example(document, timeout=120, against="jax")
    assert report.exit_code == 0, format_report(report)
    assert any(row.status in ("same", "close") for row in report.transcript)
