"""Comparing the tensors both engines recorded, by name, within ``rtol``/``atol``.

A record is what the runner wrote for one tensor (see :mod:`fdiff.compare._runner`):
``{"shape", "dtype", "values"}``, or, for a tensor the runner could not read,
``{"shape", "dtype", "values": None, "unreadable": "why"}``.

>>> [row] = compare_tensors(
...     {"w": {"shape": [1], "dtype": "torch.float32", "values": [1.0]}},
...     {"w": {"shape": [1], "dtype": "torch.float32", "values": None, "unreadable": "no data"}},
... )
>>> row.ok, row.note
(False, 'could not read under fdiff.torch: no data')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fdiff.compare._report import TensorComparison

__all__ = ["DEFAULT_ATOL", "DEFAULT_RTOL", "compare_tensors", "tensor_values"]

DEFAULT_RTOL = 1e-5
"""Relative tolerance: float32's (an ulp is 1.2e-7; a few dozen rounded operations). It covers
what fdiff.torch cannot make bit-equal (docs/semantics.md, "torch's bits"): one-ulp differences
from a fused multiply-add inside a compiled program (23 % of a recorded ``x * w + b``, 9 % of a
fused ``p - 0.1 * g``), torch's Sleef ``pow`` and MKL ``sqrt``, and summation order."""
DEFAULT_ATOL = 1e-6
"""Absolute tolerance, for values near zero."""


def tensor_values(record: dict[str, Any]) -> np.ndarray:
    """A recorded tensor's values as a float64 array (``"nan"``/``"inf"`` strings included)."""
    return np.asarray([float(v) for v in record["values"]], dtype=np.float64)


def _shape(record: dict[str, Any] | None) -> tuple[int, ...] | None:
    return None if record is None or record["shape"] is None else tuple(record["shape"])


def _difference(
    name: str, want: dict[str, Any], got: dict[str, Any], rtol: float, atol: float
) -> TensorComparison:
    shape_t, shape_f = _shape(want), _shape(got)
    unreadable = [
        f"could not read under {engine}: {record['unreadable']}"
        for engine, record in (("torch", want), ("fdiff.torch", got))
        if record.get("unreadable")
    ]
    if unreadable:
        return TensorComparison(name, shape_t, shape_f, None, None, False, "; ".join(unreadable))
    if shape_t != shape_f:
        return TensorComparison(name, shape_t, shape_f, None, None, False, "shapes differ")
    t, f = tensor_values(want), tensor_values(got)
    both_nan = np.isnan(t) & np.isnan(f)
    with np.errstate(invalid="ignore"):
        error = np.where(both_nan | (t == f), 0.0, np.abs(f - t))
        relative = np.divide(error, np.abs(t), out=np.zeros_like(error), where=t != 0)
    max_abs = float(np.max(error, initial=0.0))
    max_rel = float(np.max(relative, initial=0.0))
    ok = bool(np.allclose(f, t, rtol=rtol, atol=atol, equal_nan=True))
    note = "" if ok else "values differ"
    if want["dtype"] != got["dtype"]:
        ok, note = False, f"dtype {want['dtype']} vs {got['dtype']}"
    return TensorComparison(name, shape_t, shape_f, max_abs, max_rel, ok, note)


def compare_tensors(
    torch_tensors: dict[str, Any],
    fdiff_tensors: dict[str, Any],
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
) -> list[TensorComparison]:
    """Compare the runner's tensor records by name (torch's order, then fdiff-only names).

    A tensor one engine lacks, or could not read, fails with a note saying so.

    >>> compared = compare_tensors(
    ...     {"x": {"shape": [2], "dtype": "torch.float32", "values": [1.0, 2.0]}},
    ...     {"x": {"shape": [2], "dtype": "torch.float32", "values": [1.0, 2.5]}},
    ... )
    >>> compared[0].name, compared[0].max_abs_err, compared[0].ok
    ('x', 0.5, False)
    """
    rows = []
    for name in [*torch_tensors, *(n for n in fdiff_tensors if n not in torch_tensors)]:
        want, got = torch_tensors.get(name), fdiff_tensors.get(name)
        if want is None or got is None:
            missing = "fdiff.torch" if got is None else "torch"
            note = f"missing under {missing}"
            rows.append(TensorComparison(name, _shape(want), _shape(got), None, None, False, note))
        else:
            rows.append(_difference(name, want, got, rtol, atol))
    return rows
