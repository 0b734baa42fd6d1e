"""What ``import fdiff.torch`` sets in JAX before its CPU backend starts: synchronous dispatch.

torch runs each op inline; JAX's CPU client by default hands every call to a worker thread
and returns at once, which for the tiny steps of a training loop costs more CPU time than the
step itself (benchmarks/dispatch.py measures it). fdiff.torch therefore turns JAX's
``jax_cpu_enable_async_dispatch`` off at import, unless

- ``FDIFF_ASYNC_DISPATCH=1`` is set in the environment (the opt-out), or
- ``JAX_CPU_ENABLE_ASYNC_DISPATCH`` is set (JAX's own setting wins).

``FDIFF_NO_FMA=1`` (opt-in) also caps XLA's instruction set at AVX (``--xla_cpu_max_isa=AVX``),
which has no fused multiply-add, so a compiled ``x * w + b`` rounds twice, as torch's separate
ops do; torch's own fused multiply-adds (``add(y, alpha=a)``, ``optim.SGD``'s step) then round
twice too, unlike torch's (docs/semantics.md, "torch's bits", has the measured rates).

JAX reads both when it makes its CPU backend, on the first computation in the process: set
after that, neither changes the running backend. Import fdiff.torch before any JAX work (or
set ``jax.config.update("jax_cpu_enable_async_dispatch", False)`` yourself first).

>>> import os
>>> import jax
>>> jax.config.read("jax_cpu_enable_async_dispatch") == (os.environ.get(ASYNC_OPT_OUT) == "1")
True
"""

from __future__ import annotations

import os

import jax

ASYNC_OPT_OUT = "FDIFF_ASYNC_DISPATCH"
NO_FMA_OPT_IN = "FDIFF_NO_FMA"
_NO_FMA_FLAG = "--xla_cpu_max_isa=AVX"


def configure() -> None:
    """Apply the settings above (done once, when this module is imported)."""
    if os.environ.get(ASYNC_OPT_OUT) != "1" and "JAX_CPU_ENABLE_ASYNC_DISPATCH" not in os.environ:
        jax.config.update("jax_cpu_enable_async_dispatch", False)
    if os.environ.get(NO_FMA_OPT_IN) == "1":
        flags = os.environ.get("XLA_FLAGS", "")
        if "--xla_cpu_max_isa" not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} {_NO_FMA_FLAG}".strip()


configure()
