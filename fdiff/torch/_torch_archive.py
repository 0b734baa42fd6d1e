"""Reading the zip archive PyTorch's ``torch.save`` writes, for ``fdiff.torch.load``.

The archive holds ``data.pkl`` (the saved object, whose tensors are calls of
``torch._utils._rebuild_tensor_v2`` on *persistent* storage ids) and one raw little-endian file
per storage under ``data/``. Tensors come back as fdiff.torch leaves with their values, dtype
and ``requires_grad``; ``Parameter``, dtypes, ``torch.Size`` and ``OrderedDict`` are rebuilt
too. What fdiff.torch cannot hold as torch does is refused by name: a storage of a dtype it
lacks (``HalfStorage``...), tensors sharing one storage (views: their aliasing would be lost),
a tensor with non-contiguous strides, a big-endian archive.
"""

from __future__ import annotations

import collections
import io
import math
import pickle
import types
import zipfile
from typing import Any, NamedTuple

import numpy as np

from fdiff.torch import _dtypes
from fdiff.torch._creation import tensor as _tensor
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._tensor import Size, Tensor
from fdiff.torch.nn.parameter import Parameter

__all__ = ["ZIP_MAGIC", "read_torch_archive"]

ZIP_MAGIC = b"PK\x03\x04"
"""How PyTorch's archives (zip files) begin."""

STORAGE_DTYPES = types.MappingProxyType(
    {
        "FloatStorage": np.float32,
        "DoubleStorage": np.float64,
        "LongStorage": np.int64,
        "IntStorage": np.int32,
        "BoolStorage": np.bool_,
    }
)
"""torch's typed storages fdiff.torch has a dtype for, and their element types."""


class _Storage(NamedTuple):
    key: str
    values: np.ndarray


def read_torch_archive(data: bytes, weights_only: bool) -> Any:
    """The object a PyTorch ``torch.save`` archive holds (``weights_only``: rebuild only
    tensors, dtypes, sizes and plain containers, as torch's default load does)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    pickled = next(name for name in archive.namelist() if name.endswith("data.pkl"))
    prefix = pickled.removesuffix("data.pkl")
    if (
        prefix + "byteorder" in archive.namelist()
        and archive.read(prefix + "byteorder") != b"little"
    ):
        raise UnsupportedError("torch.load of a big-endian archive")
    unpickler = _ArchiveUnpickler(io.BytesIO(archive.read(pickled)), archive, prefix, weights_only)
    return unpickler.load()


def _rebuild_parameter(data: Tensor, requires_grad: bool, backward_hooks: Any) -> Parameter:
    return Parameter(data, requires_grad)


class _ArchiveUnpickler(pickle.Unpickler):
    """Maps torch's globals to fdiff.torch's and reads each storage from the archive."""

    def __init__(
        self, file: io.BytesIO, archive: zipfile.ZipFile, prefix: str, weights_only: bool
    ) -> None:
        super().__init__(file)
        self._archive = archive
        self._prefix = prefix
        self._weights_only = weights_only
        self._used: set[str] = set()

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return self._rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in STORAGE_DTYPES:
            return name
        if module == "torch" and name.endswith("Storage"):
            raise UnsupportedError(f"torch.load of a torch.{name} (no fdiff.torch dtype)")
        if module == "torch" and name == "Size":
            return Size
        if module == "torch" and isinstance(getattr(_dtypes, name, None), _dtypes.dtype):
            return getattr(_dtypes, name)
        if not self._weights_only and not module.startswith("torch"):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"Weights only load failed: {module}.{name} is not allowed (fdiff.torch rebuilds "
            "tensors, dtypes, sizes and plain containers; weights_only=False for other Python "
            "objects of a file you trust)"
        )

    def persistent_load(self, pid: Any) -> _Storage:
        kind, storage_type, key, _location, _numel = pid
        if kind != "storage" or storage_type not in STORAGE_DTYPES:
            raise pickle.UnpicklingError(f"unknown persistent id in a torch archive: {pid!r}")
        raw = self._archive.read(f"{self._prefix}data/{key}")
        dtype = np.dtype(STORAGE_DTYPES[storage_type]).newbyteorder("<")
        return _Storage(key, np.frombuffer(raw, dtype=dtype))

    def _rebuild_tensor(
        self, storage: _Storage, offset: int, size: tuple, stride: tuple, requires_grad: bool,
        backward_hooks: Any, *metadata: Any,
    ) -> Tensor:  # fmt: skip
        if storage.key in self._used:
            raise UnsupportedError("torch.load of tensors that share a storage (views)")
        self._used.add(storage.key)
        if tuple(stride) != _contiguous_strides(tuple(size)):
            raise UnsupportedError("torch.load of a tensor with non-contiguous strides")
        values = storage.values[offset : offset + math.prod(size)].reshape(size)
        return _tensor(values.astype(values.dtype.newbyteorder("=")), requires_grad=requires_grad)


def _contiguous_strides(size: tuple[int, ...]) -> tuple[int, ...]:
    strides, step = [], 1
    for extent in reversed(size):
        strides.append(step)
        step *= max(extent, 1)
    return tuple(reversed(strides))
