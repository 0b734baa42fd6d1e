"""Benchmark: the per-step cost of a custom ``torch.autograd.Function`` in a training loop.

One loop, ``Linear(10, 32) -> custom SiLU Function -> Linear(32, 1)``, MSE, SGD, run under
fdiff.torch with the custom Function, fdiff.torch with the built-in ops instead (the same
math), and real PyTorch with the custom Function. The SiLU backward is either traced by JAX
(``jax.custom_vjp``, inside the compiled backward) or, for a backward that reads a value in
Python (``float(x.max())``), run on the host by ``jax.pure_callback``. Prints the median
seconds per step of each and the ratios; the first ``--warmup`` steps (compilation) are left
out. Each step ends with ``loss.item()`` so asynchronous dispatch hides nothing.

Run: ``python benchmarks/custom_function.py [--steps 200]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np


def silu_functions(torch: Any) -> tuple[type, type]:
    """A traced custom SiLU, and one whose backward reads a Python float (host callback)."""

    class SiLU(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * torch.sigmoid(x)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            s = torch.sigmoid(x)
            return grad * (s + x * s * (1 - s))

    class HostSiLU(SiLU):
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            scale = 1.0 if float(x.max()) < 1e30 else 0.0  # a Python read of a value
            s = torch.sigmoid(x)
            return scale * grad * (s + x * s * (1 - s))

    return SiLU, HostSiLU


def loop(torch: Any, activation: Any, steps: int) -> tuple[list[float], float]:
    """Per-step seconds and the final loss."""
    data = np.random.default_rng(0)
    x = torch.tensor(data.normal(size=(256, 10)).astype(np.float32))
    y = torch.tensor(data.normal(size=(256, 1)).astype(np.float32))
    torch.manual_seed(0)
    first, second = torch.nn.Linear(10, 32), torch.nn.Linear(32, 1)
    params = [*first.parameters(), *second.parameters()]
    opt = torch.optim.SGD(params, lr=0.05)
    times = []
    loss_value = float("nan")
    for _ in range(steps):
        start = time.perf_counter()
        opt.zero_grad()
        loss = ((second(activation(first(x))) - y) ** 2).mean()
        loss.backward()
        opt.step()
        loss_value = loss.item()
        times.append(time.perf_counter() - start)
    return times, loss_value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()

    import torch

    import fdiff.torch

    fdiff_silu, fdiff_host = silu_functions(fdiff.torch)
    torch_silu, _ = silu_functions(torch)
    builtin = lambda x: x * fdiff.torch.sigmoid(x)  # noqa: E731
    runs = {
        "fdiff.torch, custom Function (traced)": (fdiff.torch, fdiff_silu.apply),
        "fdiff.torch, custom Function (host callback)": (fdiff.torch, fdiff_host.apply),
        "fdiff.torch, built-in ops": (fdiff.torch, builtin),
        "torch, custom Function": (torch, torch_silu.apply),
    }
    medians = {}
    for name, (module, activation) in runs.items():
        times, final = loop(module, activation, args.steps)
        medians[name] = statistics.median(times[args.warmup :])
        warmup = sum(times[: args.warmup])
        print(
            f"{name:46s} {medians[name] * 1e3:8.3f} ms/step  warmup {warmup:6.2f} s  "
            f"final loss {final:.6f}"
        )
    base = medians["fdiff.torch, built-in ops"]
    for name, median in medians.items():
        print(f"{name:46s} {median / base:6.2f}x fdiff built-in")


if __name__ == "__main__":
    main()
