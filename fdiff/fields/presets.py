"""The seed losses as gradient-field presets, each with its SGD path (``fdiff plot --example``)."""

from __future__ import annotations

from dataclasses import dataclass

from fdiff.errors import InputError
from fdiff.fields.expr import Expression, parse_expression

__all__ = ["PRESETS", "Preset", "preset"]


@dataclass(frozen=True)
class Preset:
    """A seed loss over two variables, the window to plot and the seed's SGD run.

    Attributes:
        id: the seed example's id (``"000.1"``).
        description: where it comes from, in one line.
        expression: the loss as an :class:`~fdiff.fields.expr.Expression`.
        xlim: plot window of the first variable.
        ylim: plot window of the second variable.
        starts: descent start points (the seed's values first).
        learning_rate: the seeds' ``learning_rate``.
        steps: SGD steps to draw.
    """

    id: str
    description: str
    expression: Expression
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    starts: tuple[tuple[float, float], ...]
    learning_rate: float = 0.1
    steps: int = 20


PRESETS: dict[str, Preset] = {
    p.id: p
    for p in (
        Preset(
            "000.1",
            "seed 000.1: loss = (x*params[0] + params[1] - y)**2 with x=2, y=3, "
            "params=[1, 3]; one SGD step at lr 0.1 lands in the valley",
            parse_expression("(2*p0 + p1 - 3)**2", ("p0", "p1")),
            (-1.0, 3.0),
            (-0.5, 4.5),
            ((1.0, 3.0), (-0.5, 0.5)),
        ),
        Preset(
            "002.1",
            "seed 002.1: y = 3a^3 + 2b^4 from a=3, b=2; SGD at lr 0.1 diverges "
            "(the cubic is unbounded below)",
            parse_expression("3*a**3 + 2*b**4"),
            (-6.0, 4.0),
            (-5.0, 3.0),
            ((3.0, 2.0), (1.5, 1.0)),
        ),
    )
}
"""The presets by seed id."""


def preset(example_id: str) -> Preset:
    """The preset of a seed example.

    Args:
        example_id: ``"000.1"`` or ``"002.1"``.

    Returns:
        The :class:`Preset`.

    Raises:
        InputError: for an id without a preset, listing those that have one.

    >>> preset("002.1").expression.text
    '3*a**3 + 2*b**4'
    """
    if example_id not in PRESETS:
        known = ", ".join(PRESETS)
        raise InputError(f"no gradient-field preset for example {example_id!r}; known: {known}")
    return PRESETS[example_id]
