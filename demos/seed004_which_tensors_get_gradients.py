"""Seed 004 (004_1b7b1a574d585d3e.txt): which tensors get gradients (leaves, retain_grad).

Prints what the seed printed, computed the functional way: each example's pure JAX rewrite
(``fdiff show ID`` shows its source next to the torch original), formatted as torch prints.
Run: ``python demos/seed004_which_tensors_get_gradients.py``.
"""

from fdiff.crosscheck import jax_transcript
from fdiff.examples import CATALOG

for example in CATALOG.values():
    if example.document == "004_1b7b1a574d585d3e.txt":
        print(jax_transcript(example))
