"""``fdiff list``: every example id, title and seed document, one per line.

>>> import argparse
>>> run(argparse.Namespace())  # doctest: +ELLIPSIS
000.1   loss of a linear model: (x*p0 + p1 - y)**2  [000_...]
...
0
"""

from __future__ import annotations

import argparse

from fdiff.examples import CATALOG

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``list`` takes no arguments."""


def run(args: argparse.Namespace) -> int:
    """Print the catalog; 0."""
    for example in CATALOG.values():
        print(f"{example.id:7s} {example.title}  [{example.document}]")
    return 0
