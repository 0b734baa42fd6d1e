"""Benchmark: torch-style training loops on fdiff.torch against real PyTorch eager, same run.

Two loops, each written once against a ``torch`` module argument and run under both:

* ``linreg``: the seeds' style of linear regression, ``w`` and ``b`` requiring grad, a
  mean squared error, ``backward()``, a manual update under ``no_grad`` and ``grad.zero_()``;
* ``mlp``: ``Linear(10, 32) -> ReLU -> Linear(32, 1)`` on 256x10 inputs, ``MSELoss``,
  ``optim.SGD`` with momentum, ``zero_grad`` / ``backward`` / ``step``, 200 steps.

Each step ends with ``loss.item()`` (the value a loop would log), so asynchronous dispatch
cannot hide work. The first ``--warmup`` steps (fdiff compiles there, once per graph
structure) are left out of the median and reported separately. Both engines start from the
same weights and data, and the final losses are checked to agree.

``--sync-dispatch`` runs JAX's CPU computations inline instead of on its async dispatch
thread (``jax_cpu_enable_async_dispatch=False``, a process-wide JAX setting that must be made
before JAX starts its CPU client); for loops of tiny ops that is what eager PyTorch does.

Run: ``python benchmarks/adapter_loop.py [--steps 200] [--repeats 3] [--sync-dispatch]``
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import jax
import numpy as np


def linreg_loop(torch: Any, steps: int) -> tuple[list[float], float]:
    """Fit ``y = 3x + 2`` by hand-written gradient descent; per-step seconds and final loss."""
    data = np.random.default_rng(0)
    x_np = data.uniform(-1, 1, (100, 1)).astype(np.float32)
    x = torch.tensor(x_np)
    y = torch.tensor(3 * x_np + 2)
    w = torch.tensor([0.5], requires_grad=True)
    b = torch.tensor([0.0], requires_grad=True)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        loss = ((x * w + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
            b -= 0.1 * b.grad
        w.grad.zero_()
        b.grad.zero_()
        value = loss.item()
        times.append(time.perf_counter() - start)
    return times, value


def mlp_loop(torch: Any, steps: int) -> tuple[list[float], float]:
    """A 2-layer MLP regression with ``optim.SGD``; per-step seconds and final loss."""
    data = np.random.default_rng(1)
    x = torch.tensor(data.normal(size=(256, 10)).astype(np.float32))
    y = torch.tensor(data.normal(size=(256, 1)).astype(np.float32))
    model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    with torch.no_grad():  # identical initial weights in both engines
        for p in model.parameters():
            p.copy_(torch.tensor(data.uniform(-0.3, 0.3, tuple(p.shape)).astype(np.float32)))
    loss_fn = torch.nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        value = loss.item()
        times.append(time.perf_counter() - start)
    return times, value


LOOPS: dict[str, Callable[[Any, int], tuple[list[float], float]]] = {
    "linreg": linreg_loop,
    "mlp": mlp_loop,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3, help="runs per engine, alternating")
    parser.add_argument("--warmup", type=int, default=5, help="steps left out of the median")
    parser.add_argument("--sync-dispatch", action="store_true", help="see the module docstring")
    args = parser.parse_args()
    if args.sync_dispatch:
        jax.config.update("jax_cpu_enable_async_dispatch", False)

    import torch

    import fdiff.torch as fdiff_torch

    torch.set_num_threads(1)  # the loops are tiny; threads only add noise on a small machine
    engines = {"fdiff": fdiff_torch, "torch": torch}
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}")
    dispatch = "sync" if args.sync_dispatch else "async (default)"
    print(f"{args.steps} steps, median of steps {args.warmup}.., best of {args.repeats} runs, "
          f"JAX CPU dispatch {dispatch}\n")  # fmt: skip
    print(f"{'loop':8} {'fdiff us/step':>14} {'torch us/step':>14} {'ratio':>7} "
          f"{'fdiff 1st step ms':>18}")  # fmt: skip
    for name, loop in LOOPS.items():
        medians: dict[str, list[float]] = {e: [] for e in engines}
        first_steps, losses = [], {}
        for _ in range(args.repeats):
            for engine, module in engines.items():
                times, losses[engine] = loop(module, args.steps)
                medians[engine].append(statistics.median(times[args.warmup :]))
                if engine == "fdiff":
                    first_steps.append(times[0])
        np.testing.assert_allclose(losses["fdiff"], losses["torch"], rtol=1e-4, atol=1e-6)
        fdiff_s, torch_s = min(medians["fdiff"]), min(medians["torch"])
        print(
            f"{name:8} {fdiff_s * 1e6:14.0f} {torch_s * 1e6:14.0f} {fdiff_s / torch_s:7.2f} "
            f"{max(first_steps) * 1e3:18.1f}"
        )


if __name__ == "__main__":
    main()
