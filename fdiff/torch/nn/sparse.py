"""``nn.Embedding``: a lookup table of ``num_embeddings`` rows, initialised ``N(0, 1)`` from
torch's generator (the ``padding_idx`` row zero).

>>> Embedding(10, 3, padding_idx=0)
Embedding(10, 3, padding_idx=0)
"""

from __future__ import annotations

from fdiff.torch._creation import zeros
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._inplace import overwrite
from fdiff.torch._tensor import Tensor
from fdiff.torch.nn import functional as F
from fdiff.torch.nn import init
from fdiff.torch.nn.modules import Module
from fdiff.torch.nn.parameter import Parameter


class Embedding(Module):
    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
    ) -> None:
        super().__init__()
        if max_norm is not None or scale_grad_by_freq or sparse:
            raise UnsupportedError("torch.nn.Embedding(max_norm/scale_grad_by_freq/sparse=...)")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(zeros(num_embeddings, embedding_dim), not _freeze)
            init.normal_(self.weight)
            if padding_idx is not None:
                overwrite(self.weight, self.weight._value.at[padding_idx].set(0))
        else:
            self.weight = Parameter(_weight, not _freeze)

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text
