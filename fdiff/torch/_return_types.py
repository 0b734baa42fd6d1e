"""torch's named result tuples, ``torch.return_types.max(values=..., indices=...)``.

``torch.max(x, 0)``, ``torch.sort(x)``, ``torch.topk(x, k)``... return a tuple subclass named
after the function, with ``values`` and ``indices`` fields, printed as torch prints it.

>>> import fdiff.torch as torch
>>> torch.max(torch.tensor([[1.0, 5.0], [3.0, 2.0]]), 1)
torch.return_types.max(
values=tensor([5., 3.]),
indices=tensor([1, 0]))
"""

from __future__ import annotations

from typing import Any


class _ValuesIndices(tuple):
    """A ``(values, indices)`` pair named as torch names its ``return_types`` class."""

    n_fields = n_sequence_fields = 2
    n_unnamed_fields = 0

    def __new__(cls, values: Any, indices: Any) -> _ValuesIndices:
        return super().__new__(cls, (values, indices))

    @property
    def values(self) -> Any:
        return self[0]

    @property
    def indices(self) -> Any:
        return self[1]

    def __repr__(self) -> str:
        name = f"torch.return_types.{type(self).__name__}"
        return f"{name}(\nvalues={self[0]!r},\nindices={self[1]!r})"


def _values_indices(name: str) -> type[_ValuesIndices]:
    return type(name, (_ValuesIndices,), {"__module__": __name__, "__qualname__": name})


max = _values_indices("max")
min = _values_indices("min")
sort = _values_indices("sort")
topk = _values_indices("topk")
median = _values_indices("median")


class aminmax(tuple):
    """``torch.return_types.aminmax``: the pair ``(min, max)``.

    >>> aminmax(1, 2).max
    2
    """

    n_fields = n_sequence_fields = 2
    n_unnamed_fields = 0

    def __new__(cls, min: Any, max: Any) -> aminmax:
        return super().__new__(cls, (min, max))

    @property
    def min(self) -> Any:
        return self[0]

    @property
    def max(self) -> Any:
        return self[1]

    def __repr__(self) -> str:
        return f"torch.return_types.aminmax(\nmin={self[0]!r},\nmax={self[1]!r})"
