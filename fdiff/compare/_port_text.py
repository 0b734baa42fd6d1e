"""What a torch script and its JAX port print, made comparable: the wrappers taken off.

torch prints ``tensor([1.0000, 2.0000], grad_fn=<MulBackward0>)`` where JAX prints
``[1. 2.]`` (``str``) or ``Array([1., 2.], dtype=float32)`` (``repr``). Before the two
transcripts of ``fdiff compare --against`` are aligned, :func:`unwrapped` keeps only the data
of each ``tensor(...)`` and ``Array(...)``, with commas between numbers as spaces (NumPy's
style), and drops ``torch.`` before dtype names; the numbers are then compared as usual
(:mod:`fdiff.compare._transcript`).

>>> unwrapped("loss: tensor([4.0000, 1.5000], grad_fn=<PowBackward0>)")
'loss: [4.0000  1.5000]'
>>> unwrapped("Array(2.5, dtype=float32) torch.int64")
'2.5 int64'
"""

from __future__ import annotations

import re

__all__ = ["unwrapped"]

_WRAPPER = re.compile(r"\b(?:tensor|Array)\(")
_LINE_END_SPACE = re.compile(r" +\n")
_TORCH_DTYPE = re.compile(r"\btorch\.(?=(?:float|int|uint|bool|complex|bfloat)\w*\b)")


def _closing(text: str, start: int) -> tuple[int, int]:
    """The index of the ``)`` closing the call opened before ``start``, and of the first
    top-level comma inside it (the end of the data); ``(-1, -1)`` if it never closes."""
    depth, comma = 0, -1
    for index in range(start, len(text)):
        char = text[index]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                return index, comma if comma >= 0 else index
            depth -= 1
        elif char == "," and depth == 0 and comma < 0:
            comma = index
    return -1, -1


def unwrapped(text: str) -> str:
    """``text`` with every ``tensor(...)``/``Array(...)`` replaced by its data, commas as
    spaces, and ``torch.`` dropped before dtype names."""
    pieces = []
    position = 0
    for match in _WRAPPER.finditer(text):
        if match.start() < position:
            continue  # inside a wrapper already replaced
        end, data_end = _closing(text, match.end())
        if end < 0:
            break
        data = text[match.end() : data_end].replace(",", " ")
        pieces += [text[position : match.start()], _LINE_END_SPACE.sub("\n", data)]
        position = end + 1
    pieces.append(text[position:])
    return _TORCH_DTYPE.sub("", "".join(pieces))
