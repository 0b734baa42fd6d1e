"""Seed 002 (002_62843be4c03a9e74.txt): partial derivatives of 3a^3 + 2b^4, no_grad, and an MSE.

Prints what the seed printed, computed the functional way: each example's pure JAX rewrite
(``fdiff show ID`` shows its source next to the torch original), formatted as torch prints.
Run: ``python demos/seed002_partial_derivatives.py``.
"""

from fdiff.crosscheck import jax_transcript
from fdiff.examples import CATALOG

for example in CATALOG.values():
    if example.document == "002_62843be4c03a9e74.txt":
        print(jax_transcript(example))
