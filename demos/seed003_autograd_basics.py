"""Seed 003 (003_ae0069ff949062a6.txt):
autograd basics (BCE with logits, detach, accumulating Jacobian products).

Prints what the seed printed, computed the functional way: each example's pure JAX rewrite
(``fdiff show ID`` shows its source next to the torch original), formatted as torch prints.
Run: ``python demos/seed003_autograd_basics.py``.
"""

from fdiff.crosscheck import jax_transcript
from fdiff.examples import CATALOG

for example in CATALOG.values():
    if example.document == "003_ae0069ff949062a6.txt":
        print(jax_transcript(example))
