"""``torch.utils``: ``data`` (datasets and the DataLoader)."""

from fdiff.torch._missing import missing_names
from fdiff.torch.utils import data as data

__all__ = ["data"]
__getattr__ = missing_names(
    __name__, "torch.utils", ("benchmark", "checkpoint", "cpp_extension", "hooks", "tensorboard")
)
