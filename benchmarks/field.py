"""Benchmark: a gradient field on 500^2 to 2000^2 grids, fdiff against PyTorch and NumPy.

The function is a polynomial plus a transcendental term,
``f(a, b) = a^3 - 3ab^2 + (a^2 + b^2)^2 / 2 + sin(2a + b)``, on ``[-2, 2]^2``. Every engine
computes the value and both derivatives at every grid point, except the ``grad``-only ones
(fdiff's ``gradient_field(..., values=False)``, ``jax.jit(jax.vmap(jax.grad(f)))`` and
``torch.func.vmap(torch.func.grad(f))``), which skip the value. Each engine runs in blocks of
consecutive calls, the blocks in a shuffled order, and the median of each engine is reported,
with fdiff's like-for-like ratios against bare JAX. Then fdiff alone is timed on the largest
grid with 1, 2 and 4 forced host devices (each in a fresh process, since ``XLA_FLAGS`` must be
set before jax starts).

Run: ``python benchmarks/field.py [--sizes 500 1000 2000] [--passes 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from fdiff.fields import GradientField, gradient_field

LIMITS = (-2.0, 2.0)


def f(a, b, sin=jnp.sin):
    """The benchmark function; ``sin`` picks the library (jnp, torch or np)."""
    return a**3 - 3 * a * b**2 + 0.5 * (a**2 + b**2) ** 2 + sin(2 * a + b)


def analytic(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
    """Value and gradient of :func:`f`, derived by hand (the NumPy engine)."""
    r2 = a * a + b * b
    c = np.cos(2 * a + b)
    value = a * a * a - 3 * a * b * b + 0.5 * r2 * r2 + np.sin(2 * a + b)
    return value, 3 * a * a - 3 * b * b + 2 * a * r2 + 2 * c, -6 * a * b + 2 * b * r2 + c


def engines(n: int) -> dict[str, Callable[[], object]]:
    """Each engine as a no-argument call that computes the field on an n x n grid."""
    import torch

    axis = np.linspace(*LIMITS, n, dtype=np.float32)
    a, b = (g.ravel() for g in np.meshgrid(axis, axis))
    ja, jb = jnp.asarray(a), jnp.asarray(b)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)  # share memory with a and b
    jax_grad = jax.jit(jax.vmap(jax.grad(f, argnums=(0, 1))))
    jax_value_and_grad = jax.jit(jax.vmap(jax.value_and_grad(f, argnums=(0, 1))))
    func_grad = torch.func.vmap(torch.func.grad(lambda x, y: f(x, y, torch.sin), argnums=(0, 1)))

    def torch_autograd():
        x, y = torch.from_numpy(a).requires_grad_(), torch.from_numpy(b).requires_grad_()
        value = f(x, y, torch.sin)
        value.sum().backward()
        return value.detach(), x.grad, y.grad

    return {
        "fdiff gradient_field": lambda: gradient_field(f, LIMITS, LIMITS, n),
        "fdiff, chunk_size=2**20": lambda: gradient_field(f, LIMITS, LIMITS, n, chunk_size=1 << 20),
        "fdiff, values=False": lambda: gradient_field(f, LIMITS, LIMITS, n, values=False),
        "jit(vmap(grad)) direct": lambda: jax.block_until_ready(jax_grad(ja, jb)),
        "jit(vmap(value_and_grad)) direct": lambda: jax.block_until_ready(
            jax_value_and_grad(ja, jb)
        ),
        "torch autograd (.backward)": torch_autograd,
        "torch.func vmap(grad)": lambda: func_grad(ta, tb),
        "NumPy, analytic gradient": lambda: analytic(a, b),
    }


def check_agreement(n: int = 101) -> None:
    """Every engine's gradient equals the hand-derived one (float32 tolerance)."""
    axis = np.linspace(*LIMITS, n, dtype=np.float32)
    expected = [g.ravel() for g in analytic(*(g.ravel() for g in np.meshgrid(axis, axis)))][1:]
    for name, run in engines(n).items():
        result = run()
        if isinstance(result, GradientField):
            result = (result.grad_x, result.grad_y)
        grads = [np.asarray(g).ravel() for g in jax.tree.leaves(result)[-2:]]
        for got, want in zip(grads, expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=name)


LIKE_FOR_LIKE = {
    "fdiff gradient_field": "jit(vmap(value_and_grad)) direct",
    "fdiff, values=False": "jit(vmap(grad)) direct",
}
"""fdiff's two modes and the bare JAX program that computes the same arrays."""


class Timing(NamedTuple):
    """Seconds per call: the median, and the best (least disturbed by other load)."""

    median: float
    best: float

    def __str__(self) -> str:
        return f"{self.median * 1e3:.1f} ({self.best * 1e3:.1f}) ms"


def time_engines(
    calls: dict[str, Callable[[], object]], passes: int = 3, block: int = 5
) -> dict[str, Timing]:
    """Seconds per call, median and best.

    Each engine runs in blocks of ``block`` calls after one untimed call, so thread pools still
    spinning from another library (XLA's, torch's OpenMP) do not share the cores with the
    engine being timed; the blocks repeat in ``passes`` shuffled orders so that load drifts
    hit every engine alike.
    """
    samples: dict[str, list[float]] = {name: [] for name in calls}
    order, shuffle = list(calls), random.Random(0).shuffle
    for _ in range(passes):
        shuffle(order)
        for name in order:
            calls[name]()  # warm-up (and compile, on the first pass)
            for _ in range(block):
                start = time.perf_counter()
                calls[name]()
                samples[name].append(time.perf_counter() - start)
    return {name: Timing(statistics.median(t), min(t)) for name, t in samples.items()}


def devices_worker(n: int, passes: int) -> None:
    """In a process started with forced host devices: time fdiff on all of them, as JSON."""
    calls = {"fdiff": lambda: gradient_field(f, LIMITS, LIMITS, n)}
    timing = time_engines(calls, passes)["fdiff"]
    print(json.dumps({"devices": jax.device_count(), "timing": timing}))


def time_devices(n: int, passes: int, counts: tuple[int, ...] = (1, 2, 4)) -> dict[int, Timing]:
    """fdiff on n x n with 1, 2, 4 forced host devices, each count in a fresh process."""
    results = {}
    for count in counts:
        env = os.environ | {"XLA_FLAGS": f"--xla_force_host_platform_device_count={count}"}
        command = [sys.executable, __file__, "--devices-worker", str(n), "--passes", str(passes)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        report = json.loads(done.stdout.strip().splitlines()[-1])
        assert report["devices"] == count, report
        results[count] = Timing(*report["timing"])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000])
    parser.add_argument("--passes", type=int, default=3, help="blocks of 5 timed calls")
    parser.add_argument("--devices-worker", type=int, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.devices_worker:
        devices_worker(args.devices_worker, args.passes)
        return
    import torch

    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"jax {jax.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"numpy {np.__version__}; median (best) of {5 * args.passes} calls\n"
    )
    check_agreement()
    timings = {n: time_engines(engines(n), args.passes) for n in args.sizes}
    largest = timings[args.sizes[-1]]
    ours = largest["fdiff gradient_field"]
    sizes = " | ".join(f"{n}^2" for n in args.sizes)
    print(f"| engine | {sizes} | fdiff / engine at {args.sizes[-1]}^2: median (best) |")
    print("|---" * (len(args.sizes) + 2) + "|")
    for name, theirs in largest.items():
        cells = " | ".join(str(timings[n][name]) for n in args.sizes)
        ratio = f"{ours.median / theirs.median:.2f}x ({ours.best / theirs.best:.2f}x)"
        print(f"| {name} | {cells} | {ratio} |")
    print(f"\n| fdiff / bare JAX, same arrays: median (best) | {sizes} |")
    print("|---" * (len(args.sizes) + 1) + "|")
    for ours_name, theirs_name in LIKE_FOR_LIKE.items():
        cells = " | ".join(
            f"{timings[n][ours_name].median / timings[n][theirs_name].median:.2f}x "
            f"({timings[n][ours_name].best / timings[n][theirs_name].best:.2f}x)"
            for n in args.sizes
        )
        print(f"| {ours_name} / {theirs_name} | {cells} |")
    n = args.sizes[-1]
    devices = time_devices(n, args.passes)
    print(f"\n| forced host devices | fdiff at {n}^2 | speed-up vs 1 device: median (best) |")
    print("|---|---|---|")
    for count, timing in devices.items():
        one = devices[1]
        speedup = f"{one.median / timing.median:.2f}x ({one.best / timing.best:.2f}x)"
        print(f"| {count} | {timing} | {speedup} |")


if __name__ == "__main__":
    main()
