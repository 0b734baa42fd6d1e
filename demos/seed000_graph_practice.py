"""Seed 000 (000_d3cb4809fd174ff9.txt):
computation-graph practice (losses of shape (1,), detach, a shared node, a convolution).

Prints what the seed printed, computed the functional way: each example's pure JAX rewrite
(``fdiff show ID`` shows its source next to the torch original), formatted as torch prints.
Run: ``python demos/seed000_graph_practice.py``.
"""

from fdiff.crosscheck import jax_transcript
from fdiff.examples import CATALOG

for example in CATALOG.values():
    if example.document == "000_d3cb4809fd174ff9.txt":
        print(jax_transcript(example))
