"""``nn.Flatten``: merge dims ``start_dim..end_dim`` (by default all but the batch dim).

>>> import fdiff.torch as torch
>>> Flatten()(torch.zeros(2, 3, 4)).shape
torch.Size([2, 12])
"""

from __future__ import annotations

from fdiff.torch._tensor import Tensor
from fdiff.torch.nn.modules import Module


class Flatten(Module):
    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
