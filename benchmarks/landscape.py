"""Benchmark: a 51x51 loss landscape of one MLP, fdiff against the ``loss-landscapes`` package.

The MLP (10 -> 32 -> 32 -> 1, tanh, MSE on 256 samples) and two filter-normalized random
directions are made once; ``loss-landscapes``' ``planar_interpolation`` (PyTorch, one grid
point at a time, parameters moved in place) and fdiff's :func:`~fdiff.landscape.plane_values`
(one jitted ``vmap`` over the points) evaluate the same plane in one run. Every point's loss is
compared (within 1e-5 relative): ``planar_interpolation`` walks its grid in a snake, so its
row ``i`` holds columns ``j + 1`` for even ``i`` and ``j`` for odd ``i``, and fdiff evaluates
exactly those coordinates. fdiff is timed cold (first call: compiling and the memory probe
included) and warm (median of later calls), values only (what ``loss-landscapes`` computes) and
with the projected gradient (``loss_landscape``). Then fdiff alone on 201x201: time and the
growth of the process's peak RSS, with 1, 2 and 4 forced host devices (each in a fresh process,
since ``XLA_FLAGS`` must be set before JAX starts).

Run: ``python benchmarks/landscape.py [--steps 51] [--large 201] [--repeats 5]``
(needs ``pip install 'fdiff[bench,torch]'``)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from _memory import peak_rss_bytes, rss_bytes

from fdiff.landscape import Plane, loss_landscape, plane_values, random_plane

SAMPLES, FEATURES, HIDDEN = 256, 10, 32


def problem(seed: int = 0) -> tuple[dict, tuple[np.ndarray, np.ndarray]]:
    """The MLP's parameters (torch's ``Linear`` layout) and its data, as NumPy float32."""
    rng = np.random.default_rng(seed)
    sizes = [(HIDDEN, FEATURES), (HIDDEN, HIDDEN), (1, HIDDEN)]
    params = {}
    for index, (out, inp) in enumerate(sizes):
        bound = 1 / np.sqrt(inp)
        params[f"{2 * index}.weight"] = rng.uniform(-bound, bound, (out, inp)).astype(np.float32)
        params[f"{2 * index}.bias"] = rng.uniform(-bound, bound, out).astype(np.float32)
    inputs = rng.standard_normal((SAMPLES, FEATURES)).astype(np.float32)
    target = np.sin(inputs[:, :1]) + 0.1 * rng.standard_normal((SAMPLES, 1)).astype(np.float32)
    return params, (inputs, target)


def mlp_loss(params: dict, data: tuple) -> jax.Array:
    """The MLP's MSE in JAX (torch's ``Linear``: ``x @ W.T + b``)."""
    x, y = data
    for index in (0, 2):
        x = jnp.tanh(x @ params[f"{index}.weight"].T + params[f"{index}.bias"])
    return jnp.mean((x @ params["4.weight"].T + params["4.bias"] - y) ** 2)


def corner_plane(params: dict) -> tuple[Plane, dict, dict, dict]:
    """Filter-normalized directions ``x``, ``y``; the three corners ``planar_interpolation``
    takes for the square ``[-1, 1]^2`` of that plane (start ``-x - y``, ends ``+2x``, ``+2y``)."""
    plane = random_plane(0, {k: jnp.asarray(v) for k, v in params.items()})
    x = {k: np.asarray(v) for k, v in plane.x.items()}
    y = {k: np.asarray(v) for k, v in plane.y.items()}
    start = {k: params[k] - x[k] - y[k] for k in params}
    return (
        plane,
        start,
        {k: start[k] + 2 * x[k] for k in params},
        {k: start[k] + 2 * y[k] for k in params},
    )


def snake_coordinates(steps: int) -> np.ndarray:
    """The plane coordinates ``planar_interpolation`` visits, shape ``(steps, steps, 2)``."""
    i, j = np.meshgrid(np.arange(steps), np.arange(steps), indexing="ij")
    j = j + (i % 2 == 0)
    return np.stack([-1 + 2 * i / steps, -1 + 2 * j / steps], axis=-1).astype(np.float32)


def loss_landscapes_grid(corners: tuple[dict, ...], data: tuple, steps: int) -> np.ndarray:
    """``loss_landscapes.planar_interpolation`` on the torch MLP, shape ``(steps, steps)``."""
    import loss_landscapes
    import loss_landscapes.metrics
    import torch

    def model(state: dict) -> torch.nn.Module:
        net = torch.nn.Sequential(
            torch.nn.Linear(FEATURES, HIDDEN),
            torch.nn.Tanh(),
            torch.nn.Linear(HIDDEN, HIDDEN),
            torch.nn.Tanh(),
            torch.nn.Linear(HIDDEN, 1),
        )
        net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
        return net

    metric = loss_landscapes.metrics.Loss(
        torch.nn.functional.mse_loss, *(torch.from_numpy(a) for a in data)
    )
    start, one, two = (model(c) for c in corners)
    return loss_landscapes.planar_interpolation(start, one, two, metric, steps=steps)


def timed(call, repeats: int) -> tuple[float, float]:
    """``(first call, median of the next repeats)`` in seconds."""
    start = time.perf_counter()
    call()
    first = time.perf_counter() - start
    later = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        later.append(time.perf_counter() - start)
    return first, statistics.median(later)


def compare(steps: int, repeats: int) -> None:
    """The side-by-side table: loss-landscapes and fdiff on the same plane and points."""
    import torch

    params, data = problem()
    plane, *corners = corner_plane(params)
    coordinates = snake_coordinates(steps).reshape(-1, 2)
    jdata = tuple(jnp.asarray(a) for a in data)
    grid = np.stack(np.meshgrid(*(np.linspace(-1, 1, steps, dtype=np.float32),) * 2), -1)
    points = grid.reshape(-1, 2)

    def values_only():
        plane_values(mlp_loss, plane, points, data=jdata, gradient=False, progress=False)

    def with_gradient():
        loss_landscape(mlp_loss, plane, n=steps, data=jdata, progress=False)

    cold_values, warm_values = timed(values_only, repeats)  # the first call compiles
    cold_field, warm_field = timed(with_gradient, repeats)
    start = time.perf_counter()
    theirs = loss_landscapes_grid(tuple(corners), data, steps)
    their_time = time.perf_counter() - start
    ours = plane_values(mlp_loss, plane, coordinates, data=jdata, gradient=False, progress=False)
    relative = np.abs(ours.values - theirs.ravel()) / np.abs(theirs.ravel())
    worst = float(relative.max())
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f}; jax {jax.__version__}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads)\n"
    )
    print(f"{steps}x{steps} grid, MLP {FEATURES}-{HIDDEN}-{HIDDEN}-1 on {SAMPLES} samples")
    print(f"largest relative difference of the {steps * steps} losses: {worst:.2e}", end=" ")
    print("(ok)" if worst <= 1e-5 else "(ABOVE 1e-5)")
    print("\n| engine | time | loss-landscapes / engine |")
    print("|---|---|---|")
    print(f"| loss-landscapes planar_interpolation | {their_time * 1e3:.0f} ms | 1.0x |")
    rows = [
        ("fdiff plane_values, warm", warm_values),
        ("fdiff plane_values, first call (compiles)", cold_values),
        ("fdiff loss_landscape (+ gradient), warm", warm_field),
        ("fdiff loss_landscape (+ gradient), first call", cold_field),
    ]
    for name, seconds in rows:
        print(f"| {name} | {seconds * 1e3:.1f} ms | {their_time / seconds:.1f}x |")


def large_worker(n: int, repeats: int) -> None:
    """In a fresh process: fdiff's n x n landscape time and peak RSS growth, as JSON."""
    params, data = problem()
    plane = random_plane(0, {k: jnp.asarray(v) for k, v in params.items()})
    jdata = tuple(jnp.asarray(a) for a in data)
    before = rss_bytes()

    def call():
        loss_landscape(mlp_loss, plane, n=n, data=jdata, progress=False)

    cold, warm = timed(call, repeats)
    peak = peak_rss_bytes() - before
    print(json.dumps({"devices": jax.device_count(), "cold": cold, "warm": warm, "peak": peak}))


def large(n: int, repeats: int, counts: tuple[int, ...] = (1, 2, 4)) -> None:
    print(f"\n{n}x{n} landscape (loss and gradient), fdiff, each in a fresh process:")
    print("\n| forced host devices | first call | warm | peak RSS growth | speed-up vs 1 |")
    print("|---|---|---|---|---|")
    one = None
    for count in counts:
        env = os.environ | {"XLA_FLAGS": f"--xla_force_host_platform_device_count={count}"}
        command = [sys.executable, __file__, "--large-worker", str(n), "--repeats", str(repeats)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        report = json.loads(done.stdout.strip().splitlines()[-1])
        assert report["devices"] == count, report
        one = one or report["warm"]
        print(
            f"| {count} | {report['cold'] * 1e3:.0f} ms | {report['warm'] * 1e3:.0f} ms | "
            f"{report['peak'] / 2**20:.0f} MiB | {one / report['warm']:.2f}x |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=51)
    parser.add_argument("--large", type=int, default=201)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--large-worker", type=int, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.large_worker:
        large_worker(args.large_worker, args.repeats)
        return
    compare(args.steps, args.repeats)
    large(args.large, args.repeats)


if __name__ == "__main__":
    main()
