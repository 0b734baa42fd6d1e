"""The explanations of ``fdiff compare``: known semantic differences between torch and fdiff.

Each :class:`Rule` looks at a finished :class:`~fdiff.compare.Report` and returns one line when
its condition holds; a rule claims a difference only after checking it (the error raised, the
dtypes recorded, the points where gradients differ), never from the source text alone.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import numpy as np

from fdiff.compare._random_use import first_unseeded_draw
from fdiff.compare._report import Report
from fdiff.compare._tensors import tensor_values
from fdiff.compare._transcript import printed_number_pairs

__all__ = ["RULES", "Rule", "explain"]


@dataclasses.dataclass(frozen=True)
class Rule:
    """A known semantic difference: ``check(report)`` returns one line when it applies."""

    name: str
    summary: str
    check: Callable[[Report], str | None]


def _fdiff_error_mentions(report: Report, kind: str, text: str) -> bool:
    error = report.error("fdiff.torch")
    return error is not None and error["type"] == kind and text in error["message"]


def _float64_without_x64(report: Report) -> str | None:
    dtypes = [
        (t.name, report.records["torch"]["tensors"][t.name]["dtype"])
        for t in report.tensors
        if t.shape_torch is not None and t.shape_fdiff is not None and t.note.startswith("dtype")
    ]
    if _fdiff_error_mentions(report, "TypeError", "jax_enable_x64"):
        line = report.error("fdiff.torch")["line"]
        where = f" (line {line})" if line else ""
        return (
            f"the script asks for float64{where}, which needs JAX's 64-bit mode: fdiff.torch "
            "refuses rather than downcast; compare without --no-x64 to run in float64"
        )
    if any(dtype == "torch.float64" for _, dtype in dtypes):
        names = ", ".join(f"`{n}`" for n, dtype in dtypes if dtype == "torch.float64")
        return f"{names} is float64 under torch but not under fdiff.torch (JAX x64 mode is off)"
    return None


def _mismatch(report: Report) -> bool:
    transcript = any(row.status not in ("same", "close") for row in report.transcript)
    return transcript or any(not t.ok for t in report.tensors)


def _unseeded_randomness(report: Report) -> str | None:
    if not (_mismatch(report) and report.errors_agree):
        return None
    draw = first_unseeded_draw(report.source)
    if draw is None:
        return None
    generator, name = draw
    if generator == "torch":
        return (
            f"the script draws random numbers (`{name}`) without "
            "`torch.manual_seed`: torch seeds its generator afresh in every process, so the "
            "runs see different numbers; call torch.manual_seed(0) first (fdiff.torch then "
            "reproduces torch's CPU generator bit for bit)"
        )
    return (
        f"the script draws random numbers (`{name}`) without a "
        "seed, so every run, of either engine, sees different numbers; seed it"
    )


def _no_cuda(report: Report) -> str | None:
    error = report.error("fdiff.torch")
    missing = (error or {}).get("missing") or ""
    if missing.startswith(("torch.cuda", "Tensor.cuda")):
        return (
            f"fdiff.torch has no `{missing}`: JAX places arrays on its default device "
            "itself; drop the CUDA calls (the CPU generator is the one fdiff reproduces)"
        )
    return None


_INT32_RANGE = 2**31
_INTEGER = re.compile(r"[-+]?\d+")


def _wrapped_to_int32(value: int) -> int:
    """``value`` as 32-bit two's complement arithmetic leaves it: ``2**31`` -> ``-2**31``."""
    return (value + _INT32_RANGE) % (2 * _INT32_RANGE) - _INT32_RANGE


def _int32_wraparound(report: Report) -> str | None:
    if report.x64:
        return None
    for row in report.transcript:
        if row.status != "differ" or row.torch is None or row.fdiff is None:
            continue
        for want, got in printed_number_pairs(row.torch, row.fdiff) or ():
            if not (_INTEGER.fullmatch(want) and _INTEGER.fullmatch(got)) or len(want) > 40:
                continue
            value = int(want)
            if not -_INT32_RANGE <= value < _INT32_RANGE and int(got) == _wrapped_to_int32(value):
                return (
                    f"torch prints {want} where fdiff.torch prints {got}, its value wrapped "
                    "around to 32 bits: without JAX's 64-bit mode (--no-x64) int64 tensors are "
                    "int32, and integer arithmetic past their range wraps silently; compare "
                    "without --no-x64"
                )
    return None


_KINK_OPS = re.compile(r"\b(abs|relu|sqrt|clamp|clip|norm|max|min|maximum|minimum)\b")


def _kink_gradient(report: Report) -> str | None:
    ops = sorted(set(_KINK_OPS.findall(report.source)))
    if not ops or not report.errors_agree:
        return None
    tensors = report.records["torch"]["tensors"]
    wrong = [t for t in report.tensors if not t.ok]
    if not wrong or not all(t.name.endswith(".grad") and t.note == "values differ" for t in wrong):
        return None
    for comparison in wrong:
        owner = tensors.get(comparison.name.removesuffix(".grad"))
        if owner is None:
            return None
        t = tensor_values(tensors[comparison.name])
        f = tensor_values(report.records["fdiff.torch"]["tensors"][comparison.name])
        differ = ~np.isclose(f, t, rtol=report.rtol, atol=report.atol, equal_nan=True)
        if np.any(tensor_values(owner)[differ] != 0):
            return None  # some difference lies away from the kink at 0
    names = ", ".join(f"`{t.name}`" for t in wrong)
    return (
        f"{names} differ only where the input is exactly 0, a non-differentiable point of "
        f"{', '.join(ops)}: torch and JAX choose different subgradients there; fdiff.torch "
        "is meant to give torch's, so please report this (see docs/semantics.md)"
    )


_SMALLEST_NORMAL = {"torch.float32": 2.0**-126, "torch.float64": 2.0**-1022}


def _subnormals_flushed(report: Report) -> str | None:
    if not _mismatch(report):
        return None
    fdiff_tensors = report.records["fdiff.torch"]["tensors"]
    for name, record in report.records["torch"]["tensors"].items():
        tiny = _SMALLEST_NORMAL.get(record.get("dtype"))
        other = fdiff_tensors.get(name)
        if tiny is None or other is None or record["shape"] != other["shape"]:
            continue
        t, f = tensor_values(record), tensor_values(other)
        flushed = (t != 0) & (np.abs(t) < tiny) & (f == 0)
        if flushed.any():
            return (
                f"`{name}` holds {int(flushed.sum())} subnormal number(s) under torch (nonzero, "
                f"below {tiny:.3g}) that are 0 under fdiff.torch: XLA:CPU flushes subnormals to "
                "zero (no setting turns that off), so arithmetic on them (log, division, "
                "scaling up) differs; see docs/semantics.md, torch's bits"
            )
    return None


RULES: tuple[Rule, ...] = (
    Rule("float64-without-x64", "float64 needs JAX's x64 mode", _float64_without_x64),
    Rule("unseeded-random", "random draws without a seed differ run to run", _unseeded_randomness),
    Rule("int32-wraparound", "int64 arithmetic wraps at 32 bits without x64", _int32_wraparound),
    Rule("no-cuda", "fdiff.torch has no torch.cuda", _no_cuda),
    Rule("kink-gradient", "gradients at non-differentiable points", _kink_gradient),
    Rule("subnormals-flushed", "XLA:CPU flushes subnormal numbers to zero", _subnormals_flushed),
)
"""The known semantic differences, checked in this order."""


def explain(report: Report) -> list[tuple[str, str]]:
    """``(rule name, message)`` for every rule of :data:`RULES` whose condition holds."""
    found = []
    for rule in RULES:
        message = rule.check(report)
        if message:
            found.append((rule.name, message))
    return found
