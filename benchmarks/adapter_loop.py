"""Benchmark: torch-style training loops on fdiff.torch against real PyTorch eager, same run.

Three loops, each written once against a ``torch`` module argument and run under both:

* ``linreg``: the seeds' style of linear regression, ``w`` and ``b`` requiring grad, a
  mean squared error, ``backward()``, a manual update under ``no_grad`` and ``grad.zero_()``;
* ``mlp-manual``: the MLP loop tutorials teach, ``Linear(10, 32) -> ReLU -> Linear(32, 1)`` on
  256x10 inputs, MSE, ``with no_grad(): for p in params: p -= lr * p.grad; p.grad.zero_()``;
* ``mlp``: the same MLP with ``MSELoss`` and ``optim.SGD`` with momentum, ``zero_grad`` /
  ``backward`` / ``step``, 200 steps.

fdiff runs twice: with step capture (``fdiff.torch._capture``, the default) and without it
(``eager`` column: every op outside the graph dispatched on its own), so the table shows what
capture gives in the same run. ``--sweep`` runs both MLP loops for hidden sizes 32, 128, 512,
2048 at batch sizes 256 and 4096.

Each step ends with ``loss.item()`` (the value a loop would log), so asynchronous dispatch
cannot hide work. The first ``--warmup`` steps (fdiff compiles there, once per graph
structure) are left out of the median and reported separately. Both engines start from the
same weights and data, and the final losses are checked to agree.

``import fdiff.torch`` (at the top of this script, before JAX starts its CPU client) turns
JAX's async CPU dispatch off, as eager PyTorch runs ops inline; ``FDIFF_ASYNC_DISPATCH=1`` keeps
it on, to measure it, and ``--sync-dispatch`` then turns it off again
(``jax_cpu_enable_async_dispatch=False``). The table's header says which mode was in force.

Two shape-changing loops, each engine in its own process (so that its peak RSS is its own),
the same MLP and ``optim.SGD`` on fresh ``randn`` data every step (the torch-exact generator
gives both engines the same numbers):

* ``random-batch``: a batch size drawn in 1..256 every step;
* ``unique-shape``: a new batch size every step (1, 2, 3, ...): memory must stay flat.

They print total seconds, the ratio, each engine's peak RSS, fdiff's number of XLA compiles
and the compiled shapes its caches hold at the end (bounded: see ``fdiff.torch._caches``);
the per-step losses of the first ``--compare-steps`` steps must agree within float32 rounding
(later steps drift apart by accumulated rounding, as any two float32 implementations do).
``--creation`` measures the peak RSS of ``zeros(500_000_000)`` in both.

Run: ``python benchmarks/adapter_loop.py [--steps 200] [--repeats 3] [--sync-dispatch]
[--shape-steps 300] [--creation]``
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from _memory import peak_rss_bytes

import fdiff.torch  # noqa: F401  (its import sets JAX's CPU dispatch mode, before JAX starts)


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


def _mlp(torch: Any, hidden: int, batch: int) -> tuple[Any, Any, Any]:
    """``Linear(10, hidden) -> ReLU -> Linear(hidden, 1)`` with the same weights in both
    engines, and ``batch`` rows of inputs and targets."""
    data = np.random.default_rng(1)
    x = torch.tensor(data.normal(size=(batch, 10)).astype(np.float32))
    y = torch.tensor(data.normal(size=(batch, 1)).astype(np.float32))
    model = torch.nn.Sequential(
        torch.nn.Linear(10, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
    )
    with torch.no_grad():  # identical initial weights in both engines
        for p in model.parameters():
            p.copy_(torch.tensor(data.uniform(-0.3, 0.3, tuple(p.shape)).astype(np.float32)))
    return model, x, y


def mlp_manual_loop(
    torch: Any, steps: int, hidden: int = 32, batch: int = 256
) -> tuple[list[float], float]:
    """The MLP with a hand-written update under ``no_grad``; per-step seconds and final loss."""
    model, x, y = _mlp(torch, hidden, batch)
    params = list(model.parameters())
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.05 * p.grad
                p.grad.zero_()
        value = loss.item()
        times.append(time.perf_counter() - start)
    return times, value


def mlp_loop(
    torch: Any, steps: int, hidden: int = 32, batch: int = 256
) -> tuple[list[float], float]:
    """A 2-layer MLP regression with ``optim.SGD``; per-step seconds and final loss."""
    model, x, y = _mlp(torch, hidden, batch)
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


LOOPS: dict[str, Callable[..., tuple[list[float], float]]] = {
    "linreg": linreg_loop,
    "mlp-manual": mlp_manual_loop,
    "mlp": mlp_loop,
}
SWEEP_LOOPS = ("mlp-manual", "mlp")
SWEEP = tuple((hidden, batch) for batch in (256, 4096) for hidden in (32, 128, 512, 2048))


def _shape_loop(torch: Any, sizes: list[int]) -> list[float]:
    """The MLP of ``mlp_loop`` trained on a fresh ``randn`` batch of ``sizes[i]`` rows at step i;
    the per-step losses."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    loss_fn = torch.nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for n in sizes:
        x, y = torch.randn(n, 10), torch.randn(n, 1)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


SHAPE_LOOPS: dict[str, Callable[[int], list[int]]] = {
    "random-batch": lambda steps: np.random.default_rng(2).integers(1, 257, steps).tolist(),
    "unique-shape": lambda steps: list(range(1, steps + 1)),
}


def _run_shape_loop(engine: str, loop: str, steps: int, limits: str | None) -> None:
    """Child process: one engine, one shape loop; prints a JSON line of what it measured."""
    compiles = [0]
    if engine == "torch":
        import torch as module

        module.set_num_threads(1)
    else:
        import fdiff.torch as module
        from fdiff.torch import _caches

        if limits:
            _caches.LIMITS.per_program, _caches.LIMITS.total = map(int, limits.split(","))

        def count(event: str, duration: float, **_: Any) -> None:
            compiles[0] += event == "/jax/core/compile/backend_compile_duration"

        jax.monitoring.register_event_duration_secs_listener(count)
    start, cpu = time.perf_counter(), time.process_time()
    losses = _shape_loop(module, SHAPE_LOOPS[loop](steps))
    result = {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "rss_mb": peak_rss_bytes() / 2**20,
        "losses": losses,
        "compiles": compiles[0],
        "held": _caches.compiled_total() if engine == "fdiff" else 0,
    }
    print(json.dumps(result))


def _child(*args: str) -> dict:
    command = [sys.executable, __file__, *args]
    return json.loads(subprocess.run(command, check=True, capture_output=True).stdout)


def shape_loops(steps: int, compare_steps: int, sync: bool, limits: str | None) -> None:
    """Run both shape loops under both engines, each in a child process; print the table."""
    flags = ["--sync-dispatch"] if sync else []
    flags += ["--cache-limits", limits] if limits else []
    print(f"\n{'shape loop':13} {'steps':>6} {'fdiff s':>8} {'torch s':>8} {'ratio':>7} "
          f"{'CPU ratio':>9} {'fdiff MB':>9} {'torch MB':>9} {'compiles':>9} "
          f"{'held':>5}")  # fmt: skip
    for loop in SHAPE_LOOPS:
        runs = {e: _child("--child", e, loop, str(steps), *flags) for e in ("fdiff", "torch")}
        fdiff, torch = runs["fdiff"], runs["torch"]
        # the first steps agree within float32 rounding: a loss is a mean of up to 256 squares
        # of sums of 33 products, a few ulps each, compounded over a few SGD steps
        np.testing.assert_allclose(
            fdiff["losses"][:compare_steps], torch["losses"][:compare_steps], rtol=1e-5
        )
        print(f"{loop:13} {steps:6} {fdiff['seconds']:8.1f} {torch['seconds']:8.1f} "
              f"{fdiff['seconds'] / torch['seconds']:7.1f} "
              f"{fdiff['cpu_seconds'] / torch['cpu_seconds']:9.1f} {fdiff['rss_mb']:9.0f} "
              f"{torch['rss_mb']:9.0f} {fdiff['compiles']:9} {fdiff['held']:5}")  # fmt: skip


def _run_creation(engine: str) -> None:
    """Child process: the peak RSS added by ``zeros(500_000_000)``, printed as JSON."""
    module: Any
    if engine == "torch":
        import torch as module
    else:
        import fdiff.torch as module
    module.zeros(1)
    before = peak_rss_bytes()
    module.zeros(500_000_000)
    print(json.dumps({"added_mb": (peak_rss_bytes() - before) / 2**20}))


def creation() -> None:
    """``zeros(500_000_000)`` (2 GB of float32) in each engine: the peak RSS it adds."""
    added = {e: _child("--child-creation", e)["added_mb"] for e in ("fdiff", "torch")}
    print(f"\nzeros(500_000_000): fdiff adds {added['fdiff']:.0f} MB peak, torch "
          f"{added['torch']:.0f} MB, ratio {added['fdiff'] / added['torch']:.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3, help="runs per engine, alternating")
    parser.add_argument("--warmup", type=int, default=5, help="steps left out of the median")
    parser.add_argument("--sync-dispatch", action="store_true", help="see the module docstring")
    parser.add_argument("--shape-steps", type=int, default=300, help="steps of the shape loops")
    parser.add_argument("--compare-steps", type=int, default=20, help="losses compared per step")
    parser.add_argument("--only-shapes", action="store_true", help="only the shape loops")
    parser.add_argument("--creation", action="store_true", help="also zeros(500_000_000)")
    parser.add_argument("--cache-limits", help="PER_PROGRAM,TOTAL compiled shapes (fdiff)")
    parser.add_argument("--sweep", action="store_true", help="the MLP loops at 8 sizes")
    parser.add_argument("--sweep-steps", type=int, default=60, help="steps per sweep loop")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--child-creation", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sync_dispatch:
        jax.config.update("jax_cpu_enable_async_dispatch", False)
    if args.child:
        return _run_shape_loop(*args.child[:2], int(args.child[2]), args.cache_limits)
    if args.child_creation:
        return _run_creation(args.child_creation)
    if not args.only_shapes:
        fixed_loops(args)
    if args.sweep:
        sweep(args)
    shape_loops(args.shape_steps, args.compare_steps, args.sync_dispatch, args.cache_limits)
    if args.creation:
        creation()


def _engines() -> dict[str, tuple[Any, bool]]:
    """Each engine's module, and whether fdiff's step capture is on."""
    import torch

    import fdiff.torch as fdiff_torch

    torch.set_num_threads(1)  # the loops are tiny; threads only add noise on a small machine
    return {"fdiff": (fdiff_torch, True), "eager": (fdiff_torch, False), "torch": (torch, False)}


def _time_loop(loop: Callable, args: argparse.Namespace, steps: int, **sizes: int) -> dict:
    """Per engine: the best of ``args.repeats`` per-step medians, fdiff's slowest first step
    (its compile), the final loss; engines alternate so that load hits them alike."""
    from fdiff.torch import _capture

    medians: dict[str, list[float]] = {}
    first_steps, losses = [], {}
    for _ in range(args.repeats):
        for engine, (module, capture) in _engines().items():
            _capture.STATE.enabled = capture
            times, losses[engine] = loop(module, steps, **sizes)
            medians.setdefault(engine, []).append(statistics.median(times[args.warmup :]))
            if engine == "fdiff":
                first_steps.append(times[0])
    _capture.STATE.enabled = True
    for engine in ("fdiff", "eager"):
        np.testing.assert_allclose(losses[engine], losses["torch"], rtol=1e-4, atol=1e-6)
    best = {engine: min(times) for engine, times in medians.items()}
    return {**best, "first": max(first_steps)}


def _row(name: str, best: dict) -> str:
    return (
        f"{name:16} {best['fdiff'] * 1e6:10.0f} {best['eager'] * 1e6:10.0f} "
        f"{best['torch'] * 1e6:10.0f} {best['fdiff'] / best['torch']:7.2f} "
        f"{best['eager'] / best['torch']:7.2f} {best['first'] * 1e3:10.1f}"
    )


_HEADER = (
    f"{'loop':16} {'fdiff us':>10} {'eager us':>10} {'torch us':>10} {'ratio':>7} "
    f"{'eager':>7} {'1st ms':>10}"
)


def fixed_loops(args: argparse.Namespace) -> None:
    """The fixed-shape loops, all engines in this process, alternating."""
    import torch

    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}")
    dispatch = "async" if jax.config.read("jax_cpu_enable_async_dispatch") else "sync"
    print(f"{args.steps} steps, median of steps {args.warmup}.., best of {args.repeats} runs, "
          f"JAX CPU dispatch {dispatch}; ratio: fdiff / torch, eager: fdiff without capture / "
          f"torch\n")  # fmt: skip
    print(_HEADER)
    for name, loop in LOOPS.items():
        print(_row(name, _time_loop(loop, args, args.steps)))


def sweep(args: argparse.Namespace) -> None:
    """Both MLP loops at every (hidden, batch) of :data:`SWEEP`."""
    print(f"\nsweep: {args.sweep_steps} steps each\n{_HEADER}")
    for hidden, batch in SWEEP:
        for name in SWEEP_LOOPS:
            best = _time_loop(LOOPS[name], args, args.sweep_steps, hidden=hidden, batch=batch)
            print(_row(f"{name} {hidden}x{batch}", best))


if __name__ == "__main__":
    main()
