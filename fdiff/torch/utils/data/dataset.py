"""Datasets: the ``Dataset`` protocol, ``TensorDataset``, ``Subset`` and ``random_split``.

>>> import fdiff.torch as torch
>>> data = TensorDataset(torch.arange(4), torch.arange(4) * 10)
>>> len(data), data[1]
(4, (tensor(1), tensor(10)))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from fdiff.torch import _random
from fdiff.torch._tensor import Tensor


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__`` (and usually ``__len__``)."""

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")


class TensorDataset(Dataset):
    """Samples are the tensors' rows: ``dataset[i] == tuple(t[i] for t in tensors)``."""

    def __init__(self, *tensors: Tensor) -> None:
        if any(tensors[0].shape[0] != t.shape[0] for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def _lengths(total: int, lengths: Sequence[float]) -> list[int]:
    """torch's fractions to lengths: floors, then the remainder one each, round robin."""
    if not (math.isclose(sum(lengths), 1) and sum(lengths) <= 1):
        return [int(n) for n in lengths]
    for i, fraction in enumerate(lengths):
        if not 0 <= fraction <= 1:
            raise ValueError(f"Fraction at index {i} is not between 0 and 1")
    counts = [math.floor(total * fraction) for fraction in lengths]
    for i in range(total - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def random_split(
    dataset: Any, lengths: Sequence[float], generator: _random.Generator | None = None
) -> list[Subset]:
    """Split into non-overlapping subsets of the given lengths (or fractions of the whole),
    by ``randperm`` on ``generator`` (the default one unless given), as torch splits.

    >>> import fdiff.torch as torch
    >>> _ = torch.manual_seed(0)
    >>> [list(s.indices) for s in random_split(range(10), [0.3, 0.7])]
    [[4, 1, 7], [5, 3, 9, 0, 8, 6, 2]]
    """
    counts = _lengths(len(dataset), lengths)
    if sum(counts) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    source = generator or _random.default_generator
    indices = source.randperm(sum(counts)).tolist()
    subsets, offset = [], 0
    for count in counts:
        subsets.append(Subset(dataset, indices[offset : offset + count]))
        offset += count
    return subsets
