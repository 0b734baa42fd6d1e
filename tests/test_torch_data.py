"""``fdiff.torch.utils.data`` against real PyTorch: batches, shuffles and splits drawn from
torch's generator (same order, and the generator left where torch leaves it)."""

from __future__ import annotations

import numpy as np
import pytest
from support import assert_same, assert_same_error, run_both


def _dataset(torch, n=10):
    features = torch.tensor(np.arange(n * 2, dtype=np.float32).reshape(n, 2))
    return torch.utils.data.TensorDataset(features, torch.arange(n))


@pytest.mark.parametrize(
    "options",
    [
        {"batch_size": 4},
        {"batch_size": 4, "shuffle": True},
        {"batch_size": 3, "shuffle": True, "drop_last": True},
        {"batch_size": 16, "shuffle": True},
    ],
    ids=["in order", "shuffled", "drop_last", "one batch"],
)
def test_loader_batches_and_the_generator_after_them(real_torch, options):
    def program(torch):
        torch.manual_seed(0)
        loader = torch.utils.data.DataLoader(_dataset(torch), **options)
        epochs = [[(x, y) for x, y in loader] for _ in range(3)]
        return epochs, len(loader), torch.rand(3)

    assert_same(*run_both(real_torch, program))


def test_loader_with_its_own_generator(real_torch):
    def program(torch):
        torch.manual_seed(5)
        generator = torch.Generator().manual_seed(42)
        loader = torch.utils.data.DataLoader(
            _dataset(torch, 7), batch_size=2, shuffle=True, generator=generator
        )
        return [[y for _, y in loader] for _ in range(2)], torch.rand(2)

    assert_same(*run_both(real_torch, program))


def test_collate_of_a_custom_dataset(real_torch):
    def program(torch):
        class Squares(torch.utils.data.Dataset):
            def __len__(self):
                return 5

            def __getitem__(self, i):
                return {"x": torch.tensor([float(i)]), "y": i * i, "name": f"s{i}"}

        loader = torch.utils.data.DataLoader(Squares(), batch_size=2)
        return list(loader)

    assert_same(*run_both(real_torch, program))


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.5, 0.25, 0.25]])
def test_random_split(real_torch, lengths):
    def program(torch):
        torch.manual_seed(3)
        parts = torch.utils.data.random_split(_dataset(torch, 11), lengths)
        return [list(part.indices) for part in parts], parts[0][0], torch.rand(2)

    if lengths == [3, 7]:  # 10 samples of 11 do not add up
        assert_same_error(real_torch, program)
    else:
        assert_same(*run_both(real_torch, program))


def test_subset_and_tensor_dataset(real_torch):
    def program(torch):
        data = _dataset(torch, 6)
        subset = torch.utils.data.Subset(data, [4, 0, 2])
        return len(subset), subset[1], data[2], len(data)

    assert_same(*run_both(real_torch, program))


def test_tensor_dataset_size_mismatch(real_torch):
    assert_same_error(
        real_torch,
        lambda torch: torch.utils.data.TensorDataset(torch.ones(3), torch.ones(4)),
    )
