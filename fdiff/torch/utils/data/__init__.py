"""``torch.utils.data``: Dataset, TensorDataset, Subset, random_split, DataLoader.

Shuffling and splitting draw from torch's generator as torch does, so a seeded run visits the
samples in torch's order and leaves the generator where torch leaves it.
"""

from fdiff.torch._missing import missing_names
from fdiff.torch.utils.data.dataloader import DataLoader as DataLoader
from fdiff.torch.utils.data.dataloader import default_collate as default_collate
from fdiff.torch.utils.data.dataset import Dataset as Dataset
from fdiff.torch.utils.data.dataset import Subset as Subset
from fdiff.torch.utils.data.dataset import TensorDataset as TensorDataset
from fdiff.torch.utils.data.dataset import random_split as random_split

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "default_collate", "random_split"]
__getattr__ = missing_names(__name__, "torch.utils.data")
