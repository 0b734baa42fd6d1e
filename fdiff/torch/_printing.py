"""PyTorch's tensor ``repr`` (== ``str``) reproduced with NumPy, byte for byte.

The rules below are those of PyTorch 2.x with its default print options (precision 4,
threshold 1000, edgeitems 3, linewidth 80, automatic scientific mode); ``set_printoptions``
changes them as torch's does (the numbers below are then the options' values):

* **Summarization.** A tensor with more than 1000 elements shows only the first and last 3
  entries of every axis longer than 6, with ``...`` in between. Only the shown entries take
  part in choosing the number format below.
* **Integer and bool tensors** print ``str(value)`` (``5``, ``-3``, ``True``).
* **Float tensors** choose one format from their nonzero finite entries ``v`` (if there are
  none, the integral format below is used):

  - scientific ``{:.4e}`` when ``max|v| / min|v| > 1000``, ``max|v| > 1e8`` or
    ``min|v| < 1e-4``;
  - otherwise, when every ``v`` is integral, ``{:.0f}`` followed by ``.`` (nan/inf get no dot);
  - otherwise fixed point ``{:.4f}``.

* **Alignment.** Every entry is right-aligned to the widest formatted entry (for floats only
  nonzero finite entries count, so ``nan``, ``inf`` and ``0.`` may stick out).
* **Layout.** ``indent`` is 7 (``len("tensor(")``) plus the nesting depth. A 1-d row puts
  ``max(1, (80 - indent) // (width + 2))`` entries on a line (the ``...`` marker counts as
  one) and continues at column ``indent + 1``. The sub-tensors of a k-d tensor are joined by
  ``,``, k-1 newlines and ``indent + 1`` spaces.
* **Suffixes**, in order: ``size=(...)`` for an empty tensor that is not 1-d; ``dtype=torch.X``
  unless the dtype is the default float dtype, ``int64`` or ``bool`` (for an empty tensor:
  unless it is the default float dtype); then ``grad_fn=<Name>``, or else
  ``requires_grad=True``. Each follows ``", "``, or ``",\\n"`` plus 7 spaces when the last line
  would pass 80 columns (torch counts the contents' last line as 2 characters longer).
* A 0-d tensor prints its single entry with the same formatter: ``tensor(5.3695)``.
"""

from __future__ import annotations

import dataclasses
import math
import types

import numpy as np

__all__ = ["format_item", "format_tensor", "set_printoptions"]

_PREFIX = "tensor("


@dataclasses.dataclass
class PrintOptions:
    """torch's ``PRINT_OPTS``: digits after the point, the element count past which a print is
    summarized, the entries kept at each edge then, the line width, and scientific notation
    forced on or off (``None``: chosen per tensor)."""

    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


OPTIONS = PrintOptions()
_PROFILES = types.MappingProxyType(
    {
        "default": PrintOptions(),
        "short": PrintOptions(precision=2, edgeitems=2),
        "full": PrintOptions(threshold=math.inf),
    }
)


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """torch's ``set_printoptions``: a ``profile`` (``"default"``, ``"short"``, ``"full"``)
    first, then each option given; ``sci_mode`` is always set (``None``: automatic again).

    >>> set_printoptions(precision=2)
    >>> print(format_tensor(np.array([1 / 3]), dtype="float32"))
    tensor([0.33])
    >>> set_printoptions(profile="default")
    """
    if profile in _PROFILES:
        fields = dataclasses.asdict(_PROFILES[profile])
        for name in ("precision", "threshold", "edgeitems", "linewidth"):
            setattr(OPTIONS, name, fields[name])
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):  # fmt: skip
        if value is not None:
            setattr(OPTIONS, name, value)
    OPTIONS.sci_mode = sci_mode


_NUMPY_DTYPES: dict[str, type[np.generic]] = {
    "float32": np.float32,
    "float64": np.float64,
    "int64": np.int64,
    "int32": np.int32,
    "bool": np.bool_,
}


class _Formatter:
    """One number format for all entries of a tensor, chosen from the entries shown."""

    def __init__(self, shown: np.ndarray) -> None:
        self.floating = shown.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        if not self.floating:
            self.width = max(len(str(v)) for v in shown.ravel().tolist())
            return
        finite = shown[np.isfinite(shown) & (shown != 0)]
        if finite.size == 0:
            return
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        lo, hi = float(np.abs(finite).min()), float(np.abs(finite).max())  # exact in float64
        automatic = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        self.sci_mode = automatic if OPTIONS.sci_mode is None else OPTIONS.sci_mode
        self.width = max(len(self.plain(v)) for v in finite.tolist())

    def plain(self, value: float | int | bool) -> str:
        """The entry without alignment padding."""
        if not self.floating:
            return str(value)
        if self.sci_mode:
            return f"{value:.{OPTIONS.precision}e}"
        if self.int_mode:
            return f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        return f"{value:.{OPTIONS.precision}f}"

    def __call__(self, value: float | int | bool) -> str:
        return self.plain(value).rjust(self.width)


def _shown_entries(a: np.ndarray) -> np.ndarray:
    """The entries a summarized print shows: the edge items of every axis longer than 6."""
    edge = OPTIONS.edgeitems
    for axis, n in enumerate(a.shape):
        if n > 2 * edge:
            keep = np.r_[0:edge, n - edge : n]
            a = np.take(a, keep, axis=axis)
    return a


def _body(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    """The bracketed contents of ``a`` whose opening bracket sits at column ``indent``."""
    if a.ndim == 0:
        return fmt(a.item())
    edge = OPTIONS.edgeitems
    cut = summarize and a.shape[0] > 2 * edge
    if a.ndim == 1:
        if cut:
            head, tail = a[:edge].tolist(), a[-edge:].tolist()
            items = [fmt(v) for v in head] + [" ..."] + [fmt(v) for v in tail]
        else:
            items = [fmt(v) for v in a.tolist()]
        per_line = max(1, (OPTIONS.linewidth - indent) // (fmt.width + 2))
        lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = [*a[:edge], None, *a[-edge:]] if cut else list(a)
    parts = ["..." if r is None else _body(r, indent + 1, summarize, fmt) for r in rows]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Append ``, suffix`` items, wrapping before one that would pass the line width."""
    last_line = len(text) - text.rfind("\n") + 1  # torch's count: two more than the line
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > OPTIONS.linewidth:
            text += ",\n" + " " * indent + suffix
            last_line = indent + len(suffix)
        else:
            text += ", " + suffix
            last_line += len(suffix) + 2
    return text + ")"


def format_tensor(
    values: np.ndarray,
    *,
    dtype: str,
    requires_grad: bool = False,
    grad_fn: str | None = None,
    default_dtype: str = "float32",
) -> str:
    """Return what torch's ``repr(t)`` (== ``str(t)``) prints for a tensor with these values.

    ``values`` is cast to ``dtype`` (one of ``float32``, ``float64``, ``int64``, ``int32``,
    ``bool``); ``default_dtype`` is ``torch.get_default_dtype()``'s name.

    >>> print(format_tensor(np.ones((2, 2)), dtype="float32", requires_grad=True))
    tensor([[1., 1.],
            [1., 1.]], requires_grad=True)
    >>> format_tensor(np.array([788.99, -150.23564, -1115.5402]), dtype="float32",
    ...               grad_fn="MulBackward0")
    'tensor([  788.9900,  -150.2356, -1115.5402], grad_fn=<MulBackward0>)'
    >>> format_tensor(np.zeros((0, 3)), dtype="int32")
    'tensor([], size=(0, 3), dtype=torch.int32)'
    """
    with np.errstate(over="ignore"):  # like torch.tensor(1e300, dtype=torch.float32): inf
        a = np.asarray(values, dtype=_NUMPY_DTYPES[dtype])
    indent = len(_PREFIX)
    suffixes: list[str] = []
    if a.size == 0:
        body = "[]"
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if dtype != default_dtype:
            suffixes.append(f"dtype=torch.{dtype}")
    else:
        summarize = a.size > OPTIONS.threshold
        fmt = _Formatter(_shown_entries(a) if summarize else a)
        body = _body(a, indent, summarize, fmt)
        if dtype not in (default_dtype, "int64", "bool"):
            suffixes.append(f"dtype=torch.{dtype}")
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(_PREFIX + body, suffixes, indent)


def format_item(value: float | int | bool, *, dtype: str) -> str:
    """What ``print(t.item())`` shows for a one-element tensor ``t`` of ``dtype``.

    >>> format_item(0.3439, dtype="float32")
    '0.34389999508857727'
    >>> format_item(3.0, dtype="int64"), format_item(1, dtype="bool")
    ('3', 'True')
    """
    return str(np.asarray(value, dtype=_NUMPY_DTYPES[dtype]).item())
