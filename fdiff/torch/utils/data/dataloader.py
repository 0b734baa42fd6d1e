"""``DataLoader``: batches of a map-style dataset, in order or shuffled on torch's generator.

Each pass draws, as torch's does, a base seed from the loader's generator (the default one
unless given); a shuffled pass then draws a seed for a fresh generator (unless one is given)
and visits ``randperm(len(dataset))`` of it, then draws one more, empty, permutation, as
torch's ``RandomSampler`` does when exhausted. So seeded shuffles, and everything drawn
after them, match torch bit for bit.

>>> import fdiff.torch as torch
>>> from fdiff.torch.utils.data import TensorDataset
>>> _ = torch.manual_seed(0)
>>> loader = DataLoader(TensorDataset(torch.arange(10)), batch_size=4, shuffle=True)
>>> [batch.tolist() for (batch,) in loader]
[[6, 7, 1, 4], [2, 0, 9, 8], [3, 5]]
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from fdiff.torch import _dtypes, _random
from fdiff.torch._creation import tensor
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._shape import stack
from fdiff.torch._tensor import Tensor
from fdiff.torch.utils.data.dataset import TensorDataset


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch: tensors stacked, numbers into a tensor, tuples
    into a list of batches per position, dicts per key (torch's ``default_collate``).

    >>> import fdiff.torch as torch
    >>> default_collate([(torch.tensor([1.0]), 0), (torch.tensor([2.0]), 1)])
    [tensor([[1.],
            [2.]]), tensor([0, 1])]
    """
    first = batch[0]
    if isinstance(first, Tensor):
        return stack(list(batch))
    if isinstance(first, np.ndarray):
        return stack([tensor(sample) for sample in batch])
    if isinstance(first, float):
        return tensor(list(batch), dtype=_dtypes.float64)  # torch: Python floats as double
    if isinstance(first, bool | numbers.Number):
        return tensor(list(batch))
    if isinstance(first, Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in first}
    if isinstance(first, Sequence) and not isinstance(first, str):
        if any(len(sample) != len(first) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(samples)) for samples in zip(*batch, strict=True)]
    if isinstance(first, str):
        return list(batch)
    raise TypeError(
        "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        f"found {type(first)}"
    )


class DataLoader:
    """Batches of ``batch_size`` samples, shuffled each pass when ``shuffle``; the last,
    short batch dropped when ``drop_last``."""

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool | None = None,
        sampler: Iterable[int] | None = None,
        batch_sampler: Any = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Any = None,
        multiprocessing_context: Any = None,
        generator: _random.Generator | None = None,
    ) -> None:
        for name, value in (
            ("batch_sampler", batch_sampler),
            ("worker_init_fn", worker_init_fn),
            ("multiprocessing_context", multiprocessing_context),
        ):
            if value is not None:
                raise UnsupportedError(f"torch.utils.data.DataLoader({name}=...)")
        if num_workers:
            raise UnsupportedError("torch.utils.data.DataLoader(num_workers=...)")
        if batch_size is None:
            raise UnsupportedError("torch.utils.data.DataLoader(batch_size=None)")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.shuffle, self.generator = sampler, bool(shuffle), generator
        self.collate_fn = collate_fn or default_collate
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout

    def _indices(self, source: _random.Generator) -> Iterator[int]:
        if self.sampler is not None:
            yield from self.sampler
        elif self.shuffle:
            if self.generator is None:
                source = _random.Generator(source.random_int64())
            yield from source.randperm(len(self.dataset)).tolist()
            source.randperm(len(self.dataset))  # torch's sampler draws its (empty) remainder
        else:
            yield from range(len(self.dataset))

    def __iter__(self) -> Iterator[Any]:
        source = self.generator or _random.default_generator
        source.random_int64()  # torch's base seed of this pass (used by worker processes)
        batch: list[int] = []
        for index in self._indices(source):
            batch.append(index)
            if len(batch) == self.batch_size:
                yield self._fetch(batch)
                batch = []
        if batch and not self.drop_last:
            yield self._fetch(batch)

    def _fetch(self, indices: list[int]) -> Any:
        if self.collate_fn is default_collate and _plain_tensor_dataset(self.dataset):
            rows = tensor(indices)  # one gather per tensor instead of a stack of rows
            return [t[rows] for t in self.dataset.tensors]
        return self.collate_fn([self.dataset[i] for i in indices])

    def __len__(self) -> int:
        count = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.drop_last:
            return count // self.batch_size
        return -(-count // self.batch_size)


def _plain_tensor_dataset(dataset: Any) -> bool:
    """A TensorDataset of tensors outside any graph, whose batches ``t[rows]`` are exactly
    the stacked rows."""
    return type(dataset) is TensorDataset and not any(t.requires_grad for t in dataset.tensors)
