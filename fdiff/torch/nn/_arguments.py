"""Argument handling shared by ``nn.functional``'s functions and the layers.

>>> pair(3, "kernel_size")
(3, 3)
"""

from __future__ import annotations

from typing import Any

from fdiff.torch._errors import F, refusing_unknown_keywords

REDUCTIONS = ("mean", "sum", "none")


def functional(function: F) -> F:
    """``function`` as ``torch.nn.functional.<name>``: an unknown keyword is unsupported."""
    return refusing_unknown_keywords(function, f"torch.nn.functional.{function.__name__}")


def pair(
    value: Any, name: str, function: str = "conv2d", expand_one: bool = False
) -> tuple[int, int]:
    """``value``, an int or a pair of ints >= 0, as a pair; with ``expand_one`` (torch's
    functions' ``int[2]`` arguments) a sequence of one int too.

    >>> pair([2], "stride", "avg_pool2d", expand_one=True)
    (2, 2)
    """
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if expand_one and len(pair) == 1:
        pair = pair * 2
    if len(pair) != 2 or not all(isinstance(v, int) and v >= 0 for v in pair):
        raise ValueError(
            f"{function}: `{name}` must be an int or a pair of ints >= 0, got {value!r}"
        )
    return pair  # type: ignore[return-value]


def check_reduction(reduction: str) -> str:
    """``reduction`` if torch knows it, else torch's ValueError."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction
