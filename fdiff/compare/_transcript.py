"""Lining up what the two engines printed, block by block, numbers compared within tolerance.

A transcript is cut into *blocks*: one printed line, or a bracketed value printed over several
lines (a tensor or an array: a line that leaves a bracket open continues on the following
lines that start with a space or are empty). Two blocks are compared after normalising what
torch's and NumPy's printing adds around numbers: object addresses (``0x7f3a...``), runs of
white space, and white space next to a bracket or a comma (``tensor([ 1.0000, -0.5000])``
pads for the sign). So a tensor whose numbers print at another width, or wrap at another
element, is still one block with the same text around its numbers. Each printed number is
taken as the interval its printed digits round (``0.1235`` is ``0.1235 ± 0.00005``; an
integer, or NumPy's ``1.``, as exact), and two numbers are close when those intervals come
within ``atol + rtol * |torch's|`` of each other.

Alignment (:mod:`fdiff.compare._align`) first matches blocks by their normalised text, then
aligns the gaps between those matches by the text around the numbers, so a block whose
numbers differ still lines up with its counterpart; what neither matches is paired by
position. Each pass has its own :class:`~fdiff.compare._align.StepBudget`.

>>> [row.status for row in align_transcripts("loss 0.30000001\\n", "loss 0.3\\nextra\\n")]
['close', 'fdiff only']
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterator

from fdiff.compare._align import StepBudget, align
from fdiff.compare._report import TranscriptRow
from fdiff.compare._tensors import DEFAULT_ATOL, DEFAULT_RTOL

__all__ = ["align_transcripts", "line_status", "printed_number_pairs", "transcript_blocks"]

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?\b(?:nan|inf)\b")
_PADDED = re.compile(r"\s+(?=[\[\](){},])|(?<=[\[\](){},])\s+")


def _depth_change(line: str) -> int:
    opened = line.count("(") + line.count("[") + line.count("{")
    return opened - line.count(")") - line.count("]") - line.count("}")


def transcript_blocks(text: str) -> list[str]:
    """``text``'s lines, a bracketed value printed over several lines joined into one block.

    >>> transcript_blocks("a\\ntensor([[1., 2.],\\n        [3., 4.]])\\nb\\n")
    ['a', 'tensor([[1., 2.],\\n        [3., 4.]])', 'b']
    """
    blocks: list[str] = []
    depth = 0
    for line in text.splitlines():
        if depth > 0 and (not line or line[0].isspace()):
            blocks[-1] += "\n" + line
            depth = max(0, depth + _depth_change(line))
        else:
            blocks.append(line)
            depth = max(0, _depth_change(line))
    return blocks


def _normalised(block: str) -> str:
    """The block's text with addresses and the padding around numbers normalised."""
    text = _ADDRESS.sub("0x…", block) if "0x" in block else block
    return " ".join(_PADDED.sub("", text).split())


def _rounding(number: str) -> float:
    """Half a unit of the last printed digit: ``"0.1235"`` -> ``5e-05``; ``0`` for an integer
    or NumPy's ``"1."``, printed exactly."""
    mantissa, _, exponent = number.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    if not decimals or mantissa.lstrip("+-") in ("nan", "inf"):
        return 0.0
    return 0.5 * 10.0 ** min(int(exponent or 0) - decimals, 300)  # no OverflowError


def _number_close(torch_number: str, fdiff_number: str, rtol: float, atol: float) -> bool:
    want, got = float(torch_number), float(fdiff_number)
    if want == got or (math.isnan(want) and math.isnan(got)):
        return True
    slack = _rounding(torch_number) + _rounding(fdiff_number)
    return abs(got - want) <= atol + rtol * abs(want) + slack  # False for a nan or an inf


def printed_number_pairs(torch_line: str, fdiff_line: str) -> list[tuple[str, str]] | None:
    """The numbers of two lines, pair by pair, when the text around them is the same (padding
    normalised); ``None`` when it is not.

    >>> printed_number_pairs("tensor([10000000000])", "tensor([1410065408])")
    [('10000000000', '1410065408')]
    """
    torch_text, fdiff_text = _normalised(torch_line), _normalised(fdiff_line)
    if _NUMBER.sub("#", torch_text) != _NUMBER.sub("#", fdiff_text):
        return None
    return list(zip(_NUMBER.findall(torch_text), _NUMBER.findall(fdiff_text), strict=True))


def line_status(torch_line: str, fdiff_line: str, rtol: float, atol: float) -> str:
    """``"same"``, ``"close"`` (the same text around numbers within tolerance) or ``"differ"``.

    Addresses and padding are normalised first, and a printed number stands for the interval
    its digits round (see the module docstring).

    >>> line_status("tensor([1.0000])", "tensor([1.0000])", 1e-5, 1e-6)
    'same'
    >>> line_status("loss 0.30000001", "loss 0.3", 1e-5, 1e-6)
    'close'
    >>> line_status("tensor([ 1.0000e+00, -3.5763e-07])", "tensor([1.0000e+00, 5.9605e-08])",
    ...             1e-5, 1e-6)
    'close'
    >>> line_status("tensor(0.3000)", "tensor(0.3002)", 1e-5, 1e-6)
    'differ'
    >>> line_status("loss 0.3", "loss 0.4", 1e-5, 1e-6)  # 0.34999 and 0.35001 print so
    'close'
    """
    if torch_line == fdiff_line or _ADDRESS.sub("0x…", torch_line) == _ADDRESS.sub(
        "0x…", fdiff_line
    ):
        return "same"
    pairs = printed_number_pairs(torch_line, fdiff_line)
    close = pairs is not None and all(_number_close(t, f, rtol, atol) for t, f in pairs)
    return "close" if close else "differ"


def _keys(texts: list[str], cache: dict[str, str], key: Callable[[str], str]) -> list[str]:
    """``key`` of each text, computed once per distinct text."""
    for text in texts:
        if text not in cache:
            cache[text] = key(text)
    return [cache[t] for t in texts]


def _shape(text: str) -> str:
    return _NUMBER.sub("#", text)


SEARCH_STEPS = 500_000
"""Myers' search steps for each of the two passes (about a second each)."""


def _matched_pairs(left: list[str], right: list[str]) -> Iterator[tuple[int, int]]:
    """Pairs of blocks to show side by side: by normalised text, then, in each gap, by the
    text around the numbers; a final ``(len, len)``."""
    texts: dict[str, str] = {}
    left_text, right_text = _keys(left, texts, _normalised), _keys(right, texts, _normalised)
    shapes: dict[str, str] = {}  # computed for the gaps only
    budget = StepBudget.for_sizes(len(left), len(right), SEARCH_STEPS)
    anchors = [*align(left_text, right_text, budget), (len(left), len(right))]
    budget = StepBudget.for_sizes(len(left), len(right), SEARCH_STEPS)
    i = j = 0
    for anchor_i, anchor_j in anchors:
        if i < anchor_i and j < anchor_j:  # a gap with blocks on both sides
            inner = align(
                _keys(left_text[i:anchor_i], shapes, _shape),
                _keys(right_text[j:anchor_j], shapes, _shape),
                budget,
            )
            yield from ((i + a, j + b) for a, b in inner)
        yield anchor_i, anchor_j
        i, j = anchor_i + 1, anchor_j + 1


def align_transcripts(
    torch_out: str, fdiff_out: str, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL
) -> list[TranscriptRow]:
    """Line up two transcripts into :class:`TranscriptRow` s, one per block (a block printed
    over several lines keeps its line breaks; object addresses shown as ``0x…``), in
    near-linear time.

    >>> [row.status for row in align_transcripts("a\\nb at 0x7f01\\nc\\n", "a\\nb at 0x55aa\\n")]
    ['same', 'same', 'torch only']
    """
    left, right = (transcript_blocks(_ADDRESS.sub("0x…", out)) for out in (torch_out, fdiff_out))
    rows: list[TranscriptRow] = []
    i = j = 0
    for next_i, next_j in _matched_pairs(left, right):
        unmatched = (left[i:next_i], right[j:next_j]) if next_i > i or next_j > j else ()
        for a, b in itertools.zip_longest(*unmatched):
            if a is None:
                rows.append(TranscriptRow("fdiff only", None, b))
            elif b is None:
                rows.append(TranscriptRow("torch only", a, None))
            else:
                rows.append(TranscriptRow(line_status(a, b, rtol, atol), a, b))
        if next_i < len(left):
            rows.append(
                TranscriptRow(
                    line_status(left[next_i], right[next_j], rtol, atol),
                    left[next_i],
                    right[next_j],
                )
            )
        i, j = next_i + 1, next_j + 1
    return rows
