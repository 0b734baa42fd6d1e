"""Argument handling shared by ``nn.functional``'s functions and the layers.

>>> module_tuple(3, 2), module_tuple([1], 2), module_tuple(3, 1)
((3, 3), (1,), (3,))
"""

from __future__ import annotations

from typing import Any

from fdiff.torch._errors import F, refusing_unknown_keywords

REDUCTIONS = ("mean", "sum", "none")


def functional(function: F) -> F:
    """``function`` as ``torch.nn.functional.<name>``: an unknown keyword is unsupported."""
    return refusing_unknown_keywords(function, f"torch.nn.functional.{function.__name__}")


def module_tuple(value: Any, dims: int) -> tuple[Any, ...]:
    """torch's ``_single``/``_pair`` in the layers' constructors: an int ``dims`` times, a
    sequence as a tuple (``Conv2d(padding=[1])`` keeps ``(1,)``: ``conv2d`` reads one value as
    both)."""
    return (value,) * dims if isinstance(value, int) else tuple(value)


def int_list(value: Any, name: str, function: str, position: int) -> tuple[int, ...]:
    """``value`` as torch's argument parser reads an ``int[2]``: an int (twice) or a sequence
    of ints; anything else (a float, a bool) is torch's ``TypeError``."""
    where = f"{function}(): argument '{name}' (position {position}) must be tuple of ints"
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    if not isinstance(value, list | tuple):
        raise TypeError(f"{where}, not {type(value).__name__}")
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int):
            raise TypeError(f"{where}, but found element of type {type(item).__name__} at pos {i}")
    return tuple(value)


def conv_param(
    value: Any, name: str, dims: int, position: int, function: str = "conv2d"
) -> tuple[int, ...]:
    """A convolution's ``stride``/``padding``/``dilation`` for a kernel of ``dims`` dims, as
    ``function`` (``conv1d``, ``conv2d``) reads it: an int is one value per the function's dims,
    one value serves every dim; another count is torch's error.

    >>> conv_param([2], "stride", 2, 4), conv_param(3, "padding", 1, 5, "conv1d")
    ((2, 2), (3,))
    """
    values = int_list(value, name, function, position)
    if isinstance(value, int):
        values = values[:1] * int(function[4])  # conv1d's int[1], conv2d's int[2]
    if len(values) == 1:
        return values * dims
    if len(values) != dims:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {dims} values to match "
            f"the convolution dimensions, but got {name}={list(values)}"
        )
    return values


def pool_param(value: Any, name: str, function: str, position: int) -> tuple[int, int]:
    """A pooling's ``kernel_size``/``stride``/``padding``/``dilation``: an int or one or two
    ints, as torch's ``max_pool2d``/``avg_pool2d`` take them.

    >>> pool_param([2], "stride", "avg_pool2d", 3)
    (2, 2)
    """
    values = int_list(value, name, function, position)
    if len(values) == 1:
        return values * 2  # type: ignore[return-value]
    if len(values) != 2:
        omitted = "omitted, " if name == "stride" else ""
        raise RuntimeError(
            f"{function}: {name} must either be {omitted}a single int, or a tuple of two ints"
        )
    return values  # type: ignore[return-value]


def check_reduction(reduction: str) -> str:
    """``reduction`` if torch knows it, else torch's ValueError."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction
