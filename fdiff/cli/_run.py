"""``fdiff run ID [--engine jax|fdiff.torch|torch]``: an example's transcript under one engine.

``jax`` (the default) prints what the pure JAX rewrite computes in torch's print style;
``fdiff.torch`` and ``torch`` print the seed program's own output under that engine.

>>> parser = argparse.ArgumentParser(prog="fdiff run")
>>> add_arguments(parser)
>>> run(parser.parse_args(["000.1"]))
# 000.1 loss of a linear model: (x*p0 + p1 - y)**2 (pure JAX rewrite)
loss: tensor([4.], grad_fn=<PowBackward0>)
params.grad: tensor([8., 4.])
0
"""

from __future__ import annotations

import argparse
import sys

from fdiff.cli._usage import UsageError, example
from fdiff.crosscheck import EXAMPLE_ENGINES, jax_transcript, run_engine

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``run``'s arguments on ``parser``."""
    parser.add_argument("id")
    parser.add_argument("--engine", choices=EXAMPLE_ENGINES, default="jax")


def run(args: argparse.Namespace) -> int:
    """Print the transcript; 1 when the program fails under the engine, else 0."""
    chosen = example(args.id)
    if args.engine == "jax":
        print(jax_transcript(chosen), end="")
        return 0
    result = run_engine(chosen, args.engine)
    if result.status == "not installed":
        raise UsageError("real PyTorch is not installed: pip install 'fdiff[torch]'")
    if result.status == "error":
        print(f"{chosen.id} failed under {args.engine}: {result.failures[0]}", file=sys.stderr)
        return 1
    print(result.stdout, end="")
    return 0
