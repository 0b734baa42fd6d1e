"""Benchmark: a tiny-step fdiff.torch loop under JAX's sync and async CPU dispatch, same run.

``import fdiff.torch`` turns JAX's asynchronous CPU dispatch off (``FDIFF_ASYNC_DISPATCH=1``
keeps it on; see ``fdiff/torch/_xla_setup.py``). The setting is per process, made before JAX
starts its CPU backend, so each mode runs in a child process of its own, alternating, on the
same loop: the seeds' linear regression (100x1 inputs, ``w`` and ``b`` requiring grad, a manual
update under ``no_grad``, ``grad.zero_()``, ``loss.item()`` every step).

Each child prints its median step time and its process CPU time (all threads) per step; the
parent prints both modes and the async/sync ratios. ``--load N`` runs N busy
processes alongside (what a shared CI machine looks like), stopped at the end.

Run: ``python benchmarks/dispatch.py [--steps 2000] [--repeats 3] [--load 2]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np


def tiny_loop(steps: int) -> dict[str, float]:
    """The loop, in this process: median step seconds, process CPU seconds per step."""
    import fdiff.torch as torch

    data = np.random.default_rng(0)
    x_np = data.uniform(-1, 1, (100, 1)).astype(np.float32)
    x, y = torch.tensor(x_np), torch.tensor(3 * x_np + 2)
    w = torch.tensor([0.5], requires_grad=True)
    b = torch.tensor([0.0], requires_grad=True)
    times, warmup = [], steps // 10  # the first steps compile: left out of both numbers
    for step in range(steps):
        if step == warmup:
            cpu = time.process_time()
        start = time.perf_counter()
        loss = ((x * w + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
            b -= 0.1 * b.grad
        w.grad.zero_()
        b.grad.zero_()
        loss.item()
        times.append(time.perf_counter() - start)
    cpu = (time.process_time() - cpu) / (steps - warmup)
    return {"step": statistics.median(times[warmup:]), "cpu": cpu}


def _child(mode: str, steps: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "FDIFF_ASYNC_DISPATCH"}
    if mode == "async":
        env["FDIFF_ASYNC_DISPATCH"] = "1"
    command = [sys.executable, __file__, "--child", str(steps)]
    return json.loads(subprocess.run(command, env=env, check=True, capture_output=True).stdout)


def _busy() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3, help="children per mode, alternating")
    parser.add_argument("--load", type=int, default=0, help="busy processes alongside")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(tiny_loop(args.child)))
        return
    busy = [_busy() for _ in range(args.load)]
    try:
        runs: dict[str, list[dict[str, float]]] = {"sync": [], "async": []}
        for _ in range(args.repeats):
            for mode in runs:
                runs[mode].append(_child(mode, args.steps))
    finally:
        for process in busy:
            process.kill()
            process.wait()
    print(f"{args.steps} steps x {args.repeats} runs per mode, {args.load} busy processes, "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    print(f"{'dispatch':9} {'us/step (best median)':>22} {'CPU us/step (median)':>21}")
    best = {}
    for mode, results in runs.items():
        step = min(r["step"] for r in results)
        cpu = statistics.median(r["cpu"] for r in results)
        best[mode] = (step, cpu)
        print(f"{mode:9} {step * 1e6:22.0f} {cpu * 1e6:21.0f}")
    (sync_step, sync_cpu), (async_step, async_cpu) = best["sync"], best["async"]
    print(f"async / sync: step time {async_step / sync_step:.2f}x, "
          f"CPU time per step {async_cpu / sync_cpu:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
