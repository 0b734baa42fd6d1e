"""fdiff.landscape: directions, PCA planes, projections, grids against NumPy float64 references.

Expected numbers come from NumPy (float64 loops over filters, ``np.linalg.svd``, the loss and
its plane gradient written out by hand), never from fdiff's own output.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from support import RTOL, assert_close, summation_bound

from fdiff.errors import InputError
from fdiff.fields import GradientField
from fdiff.landscape import (
    Plane,
    filter_normalize,
    interpolation_plane,
    landscape_slice,
    layer_normalize,
    loss_landscape,
    pca_directions,
    plane_values,
    project_points,
    project_trajectory,
    random_direction,
    random_plane,
)
from fdiff.landscape._budget import plan_chunk
from fdiff.landscape._evaluate import _chunk, _cost, _PlaneLoss

RNG = np.random.default_rng(7)
SAMPLES, FEATURES = 12, 3
INPUTS = RNG.standard_normal((SAMPLES, FEATURES)).astype(np.float32)
TARGETS = RNG.standard_normal(SAMPLES).astype(np.float32)
PARAMS = {
    "w": RNG.standard_normal(FEATURES).astype(np.float32),
    "b": np.float32(0.5),
}
U = {"w": RNG.standard_normal(FEATURES).astype(np.float32), "b": np.float32(-0.25)}
V = {"w": RNG.standard_normal(FEATURES).astype(np.float32), "b": np.float32(1.5)}
PLANE = Plane(PARAMS, U, V)


def linear_loss(params, data):
    """Sum of squared residuals of a linear model (one loss object: one compile per shape)."""
    x, y = data
    return jnp.sum((x @ params["w"] + params["b"] - y) ** 2)


DATA = (jnp.asarray(INPUTS), jnp.asarray(TARGETS))


def reference(a: float, b: float) -> tuple[float, float, float, float, float]:
    """Loss, dL/da, dL/db in float64 by hand, and their magnitudes (the abs-value sums)."""
    w = np.float64(PARAMS["w"]) + a * np.float64(U["w"]) + b * np.float64(V["w"])
    bias = float(PARAMS["b"]) + a * float(U["b"]) + b * float(V["b"])
    x, y = INPUTS.astype(np.float64), TARGETS.astype(np.float64)
    residual = x @ w + bias - y
    size = np.abs(x) @ np.abs(w) + abs(bias) + np.abs(y)  # each residual's magnitude
    grad_w, grad_b = 2 * x.T @ residual, 2 * residual.sum()
    magnitude_w, magnitude_b = 2 * np.abs(x).T @ size, 2 * size.sum()
    da = grad_w @ U["w"] + grad_b * U["b"]
    db = grad_w @ V["w"] + grad_b * V["b"]
    size_a = magnitude_w @ np.abs(U["w"]) + magnitude_b * abs(U["b"])
    size_b = magnitude_w @ np.abs(V["w"]) + magnitude_b * abs(V["b"])
    return float(residual @ residual), da, db, float(size @ size), max(size_a, size_b)


# roundings on the way: the point's parameters (2 products, 2 sums), a residual (FEATURES + 1
# sums), its square, the sum over SAMPLES; the gradient adds the backward sums
VALUE_TERMS = 4 + FEATURES + 2 + SAMPLES
GRAD_TERMS = VALUE_TERMS + SAMPLES + FEATURES + 2


def _assert_matches_references(points, values, gradients) -> None:
    for (a, b), value, (da, db) in zip(points.astype(np.float64), values, gradients, strict=True):
        expected, expected_da, expected_db, size, grad_size = reference(a, b)
        assert_close(value, expected, bound=summation_bound(size, VALUE_TERMS, 1))
        bound = summation_bound(grad_size, GRAD_TERMS, 1)
        assert_close(da, expected_da, bound=bound)
        assert_close(db, expected_db, bound=bound)


def _budget(points_per_chunk: int) -> int:
    """A budget for chunks of this many points (every test here uses chunks of 8: one compile)."""
    cost = _cost(*_cost_key())
    return cost.base + points_per_chunk * cost.per_point


def test_grid_in_chunks_matches_float64_references_point_by_point():
    field = loss_landscape(
        linear_loss, PLANE, (-1.0, 2.0), (-0.5, 0.5), n=4, data=DATA, memory_budget=_budget(8)
    )  # 16 points: two chunks of 8
    assert isinstance(field, GradientField)
    a, b = np.meshgrid(field.x, field.y)  # [j, i] is the point (x[i], y[j])
    points = np.stack([a.ravel(), b.ravel()], axis=1)
    gradients = np.stack([field.grad_x.ravel(), field.grad_y.ravel()], axis=1)
    _assert_matches_references(points, field.values.ravel(), gradients)


def test_points_in_padded_chunks_match_float64_references():
    points = RNG.uniform(-1, 1, (37, 2)).astype(np.float32)  # 5 chunks of 8, the last padded
    result = plane_values(linear_loss, PLANE, points, data=DATA, memory_budget=_budget(8))
    _assert_matches_references(points, result.values, result.gradients)


@pytest.mark.slow
def test_values_without_the_gradient():
    points = RNG.uniform(-1, 1, (5, 2)).astype(np.float32)
    result = plane_values(linear_loss, PLANE, points, data=DATA, gradient=False)
    assert result.gradients is None
    for (a, b), value in zip(points.astype(np.float64), result.values, strict=True):
        expected, _, _, size, _ = reference(a, b)
        assert_close(value, expected, bound=summation_bound(size, VALUE_TERMS, 1))


def _cost_key():
    arguments = jax.tree.map(np.asarray, (*PLANE, DATA))
    leaves, structure = jax.tree.flatten(arguments)
    shapes = tuple(jax.ShapeDtypeStruct(np.shape(x), x.dtype) for x in leaves)
    return _PlaneLoss(linear_loss, True, True), structure, shapes


def test_chunk_size_follows_the_budget_in_bytes():
    # base 1000 bytes per device, 100 per point, 2 devices, 1000 points (500 per device)
    assert plan_chunk(1000, 1000, 100, 2 * (1000 + 500 * 100), 2) == 1000  # all in one chunk
    assert plan_chunk(1000, 1000, 100, 2 * (1000 + 250 * 100), 2) == 500  # two chunks
    assert plan_chunk(1000, 1000, 100, 2 * (1000 + 249 * 100), 2) == 334  # three, balanced
    assert plan_chunk(1000, 1000, 100, 2 * (1000 + 1 * 100), 2) == 2  # one point per device
    with pytest.raises(InputError, match="too small: one point on each of 2 device"):
        plan_chunk(1000, 1000, 100, 2 * (1000 + 99), 2)
    assert plan_chunk(1000, 1000, 100, 10**9, 2, prefer=2_000) == 40  # 20 points per device
    assert plan_chunk(1000, 1000, 100, 10**9, 2, prefer=50) == 2  # at least one point each
    for budget in (3_000, 10_000, 40_000, 200_000):
        size = plan_chunk(1000, 1000, 100, budget, 2)
        assert size % 2 == 0 and (size // 2) * 100 + 1000 <= budget // 2


def test_planned_chunk_fits_the_budget_by_xlas_own_account():
    plane_loss, structure, shapes = _cost_key()
    cost = _cost(plane_loss, structure, shapes)
    assert cost.per_point > 0
    budget = cost.base + 8 * cost.per_point
    size = plan_chunk(1000, cost.base, cost.per_point, budget, 1)
    assert size == 8
    arguments = jax.tree.unflatten(structure, shapes)
    compiled = _chunk.lower(
        plane_loss, *arguments, jax.ShapeDtypeStruct((size, 2), jnp.float32)
    ).compile()
    analysis = compiled.memory_analysis()
    used = (
        analysis.argument_size_in_bytes
        + analysis.output_size_in_bytes
        + analysis.temp_size_in_bytes
        - analysis.alias_size_in_bytes
    )
    assert used <= budget


def test_host_memory_holds_the_outputs_not_every_chunk():
    points = np.zeros((800, 2), np.float32)
    budget = _budget(8)
    plane_values(linear_loss, PLANE, points[:8], data=DATA, memory_budget=budget)  # compile
    tracemalloc.start()
    try:
        plane_values(linear_loss, PLANE, points, data=DATA, memory_budget=budget)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    outputs = 800 * 3 * 4  # values and two gradient components, float32
    padded_points = 800 * 2 * 4
    assert peak < outputs + padded_points + 64 * 1024


def test_a_budget_below_one_point_is_refused_with_the_needed_bytes():
    with pytest.raises(InputError, match=r"too small: one point .* needs \d+ bytes"):
        plane_values(linear_loss, PLANE, [(0.0, 0.0)], data=DATA, memory_budget=16)
    with pytest.raises(InputError, match="number of bytes"):
        plane_values(linear_loss, PLANE, [(0.0, 0.0)], data=DATA, memory_budget=1e9)
    with pytest.raises(InputError, match=r"shape \(k, 2\)"):
        plane_values(linear_loss, PLANE, [(0.0, 0.0, 1.0)], data=DATA)


def test_a_loss_that_is_not_scalar_is_refused():
    with pytest.raises(InputError, match=r"scalar, got shape \(3,\)"):
        plane_values(lambda p: p["w"] * 2, PLANE, [(0.0, 0.0)])


def test_slice_is_the_plane_along_its_first_direction():
    line = landscape_slice(linear_loss, PARAMS, U, (-1.0, 1.0), n=8, data=DATA)
    points = np.stack([line.t, np.zeros_like(line.t)], axis=1)
    for (t, _), value, slope in zip(
        points.astype(np.float64), line.values, line.slopes, strict=True
    ):
        expected, expected_slope, _, size, grad_size = reference(t, 0.0)
        assert_close(value, expected, bound=summation_bound(size, VALUE_TERMS, 1))
        assert_close(slope, expected_slope, bound=summation_bound(grad_size, GRAD_TERMS, 1))


def _numpy_filter_normalized(d: np.ndarray, p: np.ndarray, axis: int) -> np.ndarray:
    d, p = np.moveaxis(d.astype(np.float64), axis, 0), np.moveaxis(p.astype(np.float64), axis, 0)
    out = np.empty_like(d)
    for f in range(d.shape[0]):  # one filter at a time
        out[f] = d[f] / (np.linalg.norm(d[f]) + 1e-10) * np.linalg.norm(p[f])
    return np.moveaxis(out, 0, axis)


def test_filter_normalization_per_filter_against_numpy():
    params = {
        "conv": RNG.standard_normal((4, 3, 2, 2)).astype(np.float32),
        "linear": RNG.standard_normal((5, 4)).astype(np.float32),
        "bias": RNG.standard_normal(5).astype(np.float32),
    }
    direction = random_direction(3, params)
    normalized = filter_normalize(direction, params)
    for name in ("conv", "linear"):
        expected = _numpy_filter_normalized(np.asarray(direction[name]), params[name], 0)
        assert_close(normalized[name], expected, rtol=RTOL)
    np.testing.assert_array_equal(normalized["bias"], np.zeros(5))
    copied = filter_normalize(direction, params, one_dimensional="copy")
    np.testing.assert_array_equal(copied["bias"], params["bias"])
    last = filter_normalize(direction, params, filter_axis=-1)  # a flax kernel (in, out)
    expected = _numpy_filter_normalized(np.asarray(direction["linear"]), params["linear"], 1)
    assert_close(last["linear"], expected, rtol=RTOL)
    with pytest.raises(InputError, match="'zero' or 'copy'"):
        filter_normalize(direction, params, one_dimensional="ignore")


def test_layer_normalization_and_mismatched_trees():
    params = {"a": RNG.standard_normal((3, 2)).astype(np.float32), "b": np.ones(4, np.float32)}
    direction = random_direction(np.random.default_rng(1), params)
    normalized = layer_normalize(direction, params)
    for name, p in params.items():
        d = np.asarray(direction[name], np.float64)
        assert_close(normalized[name], d / np.linalg.norm(d) * np.linalg.norm(p), rtol=RTOL)
    with pytest.raises(InputError, match="differ in structure"):
        layer_normalize({"a": params["a"]}, params)
    with pytest.raises(InputError, match=r"shape \(2,\) is matched with one of shape \(4,\)"):
        layer_normalize({"a": params["a"], "b": np.ones(2)}, params)


def test_random_plane_directions_are_independent_and_normalized():
    params = {"w": np.ones((3, 4), np.float32), "b": np.ones(3, np.float32)}
    plane = random_plane(0, params)
    assert not np.allclose(plane.x["w"], plane.y["w"])
    assert_close(np.linalg.norm(plane.x["w"], axis=1), np.full(3, 2.0), rtol=RTOL)
    layer = random_plane(0, params, normalization="layer")
    assert_close(np.linalg.norm(layer.y["b"]), np.sqrt(3.0), rtol=RTOL)
    with pytest.raises(ValueError, match="'filter', 'layer' or 'none'"):
        random_plane(0, params, normalization="model")


def _trajectory(steps: int = 6) -> list[dict]:
    return [
        {"w": RNG.standard_normal((2, 3)).astype(np.float32), "b": RNG.standard_normal(2)}
        for _ in range(steps)
    ]


@pytest.mark.parametrize("center", [False, True])
def test_pca_directions_against_numpys_svd(center):
    run = [{k: np.asarray(v, np.float32) for k, v in point.items()} for point in _trajectory()]
    rows = np.stack([np.concatenate([p["b"], p["w"].ravel()]) for p in run]).astype(np.float64)
    deviations = rows[:-1] - rows[-1]  # ravel_pytree orders leaves by key: "b", then "w"
    if center:
        deviations -= deviations.mean(axis=0)
    _, singular, vt = np.linalg.svd(deviations, full_matrices=False)
    pca = pca_directions(run, center=center)
    for got, want in zip((pca.plane.x, pca.plane.y), vt[:2], strict=True):
        flat = np.concatenate([got["b"], np.asarray(got["w"]).ravel()])
        want = want * np.sign(want[np.argmax(np.abs(want))])  # the documented sign
        assert_close(flat, want, rtol=1e-5, atol=1e-6)
    assert_close(pca.explained, singular[:2] ** 2 / np.sum(singular**2), rtol=1e-6)
    np.testing.assert_array_equal(pca.plane.origin["w"], run[-1]["w"])


def test_pca_needs_a_trajectory_that_spans_a_plane():
    point = {"w": np.ones(3, np.float32)}
    with pytest.raises(InputError, match="at least 3"):
        pca_directions([point, point])
    line = [{"w": np.float32(t) * np.ones(3, np.float32)} for t in range(4)]
    with pytest.raises(InputError, match="straight line"):
        pca_directions(line)


def test_projection_recovers_coordinates_on_a_skewed_plane():
    origin = {"w": RNG.standard_normal(5).astype(np.float32)}
    x = {"w": RNG.standard_normal(5).astype(np.float32)}
    y = {"w": x["w"] + RNG.standard_normal(5).astype(np.float32)}  # not orthogonal to x
    plane = Plane(origin, x, y)
    wanted = np.array([[0.0, 0.0], [1.0, -2.0], [0.25, 0.5]])
    points = [{"w": origin["w"] + a * x["w"] + b * y["w"]} for a, b in wanted]
    assert_close(project_points(plane, points), wanted, rtol=1e-5, atol=1e-5)
    off = [{"w": p["w"] + 0.0} for p in points]
    normal = np.linalg.svd(np.stack([x["w"], y["w"]]))[2][-1]  # orthogonal to the plane
    off[1]["w"] = off[1]["w"] + 3.0 * normal.astype(np.float32)
    path = project_trajectory(plane, off, lambda p: jnp.sum(p["w"] ** 2), name="adam")
    assert_close(path.points, wanted, rtol=1e-5, atol=1e-5)
    expected_values = [np.sum(np.asarray(p["w"], np.float64) ** 2) for p in off]
    assert_close(path.values, expected_values, rtol=1e-5)
    moved = np.linalg.norm([np.asarray(p["w"], np.float64) - origin["w"] for p in off])
    assert f"{100 * 3.0 / moved:.1f}% of its movement lies off the plane" in path.message
    assert path.message.startswith("adam: 2 steps") and not path.diverged
    with pytest.raises(InputError, match="parallel"):
        project_points(Plane(origin, x, {"w": 2 * x["w"]}), points)


def test_interpolation_plane_puts_checkpoints_at_unit_coordinates():
    start, end, other = ({"w": np.float32(v) * np.ones(2, np.float32)} for v in (1, 3, -2))
    plane = interpolation_plane(start, end, other)
    np.testing.assert_array_equal(plane.point(1.0, 0.0)["w"], end["w"])
    np.testing.assert_array_equal(plane.point(0.0, 1.0)["w"], other["w"])
    np.testing.assert_array_equal(interpolation_plane(start, end).y["w"], np.zeros(2))


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_only(monkeypatch):
    points, budget = np.zeros((40, 2), np.float32), _budget(8)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    plane_values(linear_loss, PLANE, points, data=DATA, memory_budget=budget, progress=True)
    assert "landscape:" in terminal.getvalue() and "/40 " in terminal.getvalue()
    quiet = _Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    plane_values(linear_loss, PLANE, points, data=DATA, memory_budget=budget, progress=False)
    assert quiet.getvalue() == ""
    log = io.StringIO()  # not a terminal: silent even when asked
    monkeypatch.setattr(sys, "stderr", log)
    plane_values(linear_loss, PLANE, points, data=DATA, memory_budget=budget, progress=True)
    assert log.getvalue() == ""


def test_progress_true_without_tqdm_names_the_extra(monkeypatch):
    monkeypatch.setattr(sys, "stderr", _Terminal())
    monkeypatch.setitem(sys.modules, "tqdm", None)  # `import tqdm` raises ImportError
    points, budget = np.zeros((40, 2), np.float32), _budget(8)
    with pytest.raises(ImportError, match=r"pip install 'fdiff\[progress\]'"):
        plane_values(linear_loss, PLANE, points, data=DATA, memory_budget=budget, progress=True)
    plane_values(linear_loss, PLANE, points, data=DATA, memory_budget=budget)  # auto: no bar


_SHARDED = """
import json, jax, numpy as np
import test_landscape as t
from fdiff.landscape import plane_values
points = np.random.default_rng(0).uniform(-1, 1, (37, 2)).astype(np.float32)
result = plane_values(t.linear_loss, t.PLANE, points, data=t.DATA)
print(json.dumps({"devices": jax.device_count(), "points": points.tolist(),
                  "values": result.values.tolist(), "gradients": result.gradients.tolist()}))
"""


@pytest.mark.slow
def test_sharded_over_four_forced_host_devices_matches_references():
    env = os.environ | {
        "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path]),
    }
    done = subprocess.run(
        [sys.executable, "-c", _SHARDED], env=env, capture_output=True, text=True, check=True
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["devices"] == 4
    points = np.asarray(report["points"], np.float32)
    _assert_matches_references(
        points, np.asarray(report["values"]), np.asarray(report["gradients"])
    )


@pytest.mark.slow
def test_module_landscape_against_real_torch_at_the_same_points(real_torch):
    import fdiff.torch as ftorch
    from fdiff.landscape import module_loss

    ftorch.manual_seed(0)
    model = ftorch.nn.Sequential(ftorch.nn.Linear(3, 5), ftorch.nn.Tanh(), ftorch.nn.Linear(5, 1))
    inputs, target = ftorch.randn(16, 3), ftorch.randn(16, 1)
    problem = module_loss(model, ftorch.nn.functional.mse_loss, inputs, target)
    plane = random_plane(1, problem.params)
    points = np.array([[0.0, 0.0], [0.5, -0.25], [-1.0, 1.0]], np.float32)
    ours = plane_values(problem.loss, plane, points, data=problem.data)
    reference_model = real_torch.nn.Sequential(
        real_torch.nn.Linear(3, 5), real_torch.nn.Tanh(), real_torch.nn.Linear(5, 1)
    )
    x, y = (real_torch.from_numpy(np.array(t.detach().numpy())) for t in (inputs, target))
    for (a, b), value, gradient in zip(points, ours.values, ours.gradients, strict=True):
        state = {
            name: real_torch.from_numpy(
                np.asarray(plane.origin[name]) + a * np.asarray(plane.x[name])
                + b * np.asarray(plane.y[name])
            )
            for name in problem.params
        }  # fmt: skip
        reference_model.load_state_dict(state)
        reference_model.zero_grad(set_to_none=True)
        loss = real_torch.nn.functional.mse_loss(reference_model(x), y)
        loss.backward()
        grads = dict(reference_model.named_parameters())
        da = sum(float((grads[n].grad * real_torch.from_numpy(np.array(plane.x[n]))).sum())
                 for n in problem.params)  # fmt: skip
        db = sum(float((grads[n].grad * real_torch.from_numpy(np.array(plane.y[n]))).sum())
                 for n in problem.params)  # fmt: skip
        assert_close(value, loss.item(), rtol=1e-5, atol=1e-6)
        assert_close(gradient, [da, db], rtol=1e-4, atol=1e-5)  # sums over every parameter
