"""``fdiff show ID [--stacked]``: an example's torch-style source next to its pure JAX rewrite.

>>> parser = argparse.ArgumentParser(prog="fdiff show")
>>> add_arguments(parser)
>>> run(parser.parse_args(["004.1", "--stacked"]))  # doctest: +ELLIPSIS
004.1 ...
# torch-style source (seed's spelling)
...
0
"""

from __future__ import annotations

import argparse
import itertools

from fdiff.cli._usage import example

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``show``'s arguments on ``parser``."""
    parser.add_argument("id")
    parser.add_argument("--stacked", action="store_true", help="one above the other")


def run(args: argparse.Namespace) -> int:
    """Print both sources (side by side, or stacked) and the example's note; 0."""
    chosen = example(args.id)
    left = ["# torch-style source (seed's spelling)", *chosen.torch_source.splitlines()]
    right = ["# pure JAX rewrite", *chosen.jax_source.splitlines()]
    print(f"{chosen.id}  {chosen.title}  [{chosen.document}]\n")
    if args.stacked:
        print("\n".join([*left, "", *right]))
    else:
        width = max(len(line) for line in left) + 2
        for a, b in itertools.zip_longest(left, right, fillvalue=""):
            print(f"{a:{width}s}| {b}".rstrip())
    if chosen.notes:
        print(f"\nnote: {chosen.notes}")
    return 0
