"""The arguments of ``torch.compile`` and ``Module.compile``, checked as torch checks them.

fdiff.torch runs the eager code under either (see :mod:`fdiff.torch._compile`), so an option
that would change what runs is refused by name rather than ignored.

>>> check_options("inductor", "max-autotune", None)
>>> check_options("inductor", "fast", None)
Traceback (most recent call last):
...
RuntimeError: Unrecognized mode=fast, should be one of: default, lite, reduce-overhead, \
max-autotune-no-cudagraphs, max-autotune
"""

from __future__ import annotations

from typing import Any

from fdiff.torch._errors import UnsupportedError

__all__ = ["InvalidBackend", "check_arguments", "check_options"]

MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
"""torch's ``mode`` values (they choose how Inductor compiles, never what it computes)."""

SUPPORTED_BACKENDS = frozenset({"inductor", "eager", "aot_eager"})
"""Backends whose compiled code computes the eager values: what fdiff.torch runs."""

TORCH_BACKENDS = frozenset(
    {
        "aot_eager_decomp_partition", "aot_eager_decomp_partition_crossref",
        "aot_eager_decomp_partition_with_mode", "aot_eager_default_partitioner", "aot_ts",
        "cudagraphs", "dynamo_accuracy_minifier_backend", "dynamo_minifier_backend",
        "eager_debug", "eager_noexcept", "invoke_subgraph", "non_leaf_compile_error_TESTING_ONLY",
        "openxla", "openxla_eval", "pre_dispatch_eager", "relu_accuracy_error_TESTING_ONLY",
        "relu_compile_error_TESTING_ONLY", "relu_runtime_error_TESTING_ONLY", "ts", "tvm",
    }
)  # fmt: skip
"""torch 2.13's other registered backends (``torch._dynamo.list_backends(exclude_tags=())``):
refused as unsupported; any other name is torch's ``InvalidBackend``."""


class InvalidBackend(RuntimeError):
    """torch's ``torch._dynamo.exc.InvalidBackend``: a backend name torch does not know."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"Invalid backend: {name!r}, see `torch._dynamo.list_backends()` for available "
            "backends."
        )


def check_options(backend: Any, mode: str | None, options: dict[str, Any] | None) -> None:
    """torch's errors for ``mode`` and ``options``; fdiff's for backends it cannot honour."""
    if mode is not None and options is not None:
        raise RuntimeError(
            "Either mode or options can be specified, but both can't be specified at the same time."
        )
    if mode is not None and mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(MODES)}")
    if options is not None:
        raise UnsupportedError("torch.compile(options=...)")
    if callable(backend):
        raise UnsupportedError("torch.compile(backend=<a callable>)")
    if backend in TORCH_BACKENDS:
        raise UnsupportedError(f"torch.compile(backend={backend!r})")
    if backend not in SUPPORTED_BACKENDS:
        raise InvalidBackend(backend)


def check_arguments(
    *,
    fullgraph: bool = False,
    dynamic: bool | None = None,
    backend: Any = "inductor",
    mode: str | None = None,
    options: dict[str, Any] | None = None,
    disable: bool = False,
) -> None:
    """``torch.compile``'s keyword arguments, checked (``Module.compile`` takes them all)."""
    check_options(backend, mode, options)
