"""Seed 001 (001_54a47af7d47e6158.txt):
the autograd tutorial notebook (mean of squares, seeded randn, backward(v), no_grad, Variable).

Prints what the seed printed, computed the functional way: each example's pure JAX rewrite
(``fdiff show ID`` shows its source next to the torch original), formatted as torch prints.
Run: ``python demos/seed001_autograd_tutorial.py``.
"""

from fdiff.crosscheck import jax_transcript
from fdiff.examples import CATALOG

for example in CATALOG.values():
    if example.document == "001_54a47af7d47e6158.txt":
        print(jax_transcript(example))
