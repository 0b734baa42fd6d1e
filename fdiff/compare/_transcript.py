"""Lining up what the two engines printed, line by line, numbers compared within tolerance.

>>> [row.status for row in align_transcripts("loss 0.30000001\\n", "loss 0.3\\nextra\\n")]
['close', 'fdiff only']
"""

from __future__ import annotations

import difflib
import itertools
import re

import numpy as np

from fdiff.compare._report import TranscriptRow
from fdiff.compare._tensors import DEFAULT_ATOL, DEFAULT_RTOL

__all__ = ["align_transcripts", "line_status"]

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?\b(?:nan|inf)\b")


def _numbers(line: str) -> tuple[str, list[float]]:
    return _NUMBER.sub("#", line), [float(n) for n in _NUMBER.findall(line)]


def line_status(torch_line: str, fdiff_line: str, rtol: float, atol: float) -> str:
    """``"same"``, ``"close"`` (same text but numbers within tolerance) or ``"differ"``.

    >>> line_status("tensor([1.0000])", "tensor([1.0000])", 1e-5, 1e-6)
    'same'
    >>> line_status("loss 0.30000001", "loss 0.3", 1e-5, 1e-6)
    'close'
    >>> line_status("loss 0.3", "loss 0.4", 1e-5, 1e-6)
    'differ'
    """
    if torch_line == fdiff_line:
        return "same"
    (torch_text, torch_numbers), (fdiff_text, fdiff_numbers) = (
        _numbers(torch_line),
        _numbers(fdiff_line),
    )
    if torch_text != fdiff_text or len(torch_numbers) != len(fdiff_numbers):
        return "differ"
    close = np.allclose(fdiff_numbers, torch_numbers, rtol=rtol, atol=atol, equal_nan=True)
    return "close" if close else "differ"


def align_transcripts(
    torch_out: str, fdiff_out: str, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL
) -> list[TranscriptRow]:
    """Line up two transcripts (object addresses normalised) into :class:`TranscriptRow` s.

    >>> [row.status for row in align_transcripts("a\\nb at 0x7f01\\nc\\n", "a\\nb at 0x55aa\\n")]
    ['same', 'same', 'torch only']
    """
    left = [_ADDRESS.sub("0x…", line) for line in torch_out.splitlines()]
    right = [_ADDRESS.sub("0x…", line) for line in fdiff_out.splitlines()]
    rows: list[TranscriptRow] = []
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    for _, i1, i2, j1, j2 in matcher.get_opcodes():
        for a, b in itertools.zip_longest(left[i1:i2], right[j1:j2]):
            if a is None:
                rows.append(TranscriptRow("fdiff only", None, b))
            elif b is None:
                rows.append(TranscriptRow("torch only", a, None))
            else:
                rows.append(TranscriptRow(line_status(a, b, rtol, atol), a, b))
    return rows
