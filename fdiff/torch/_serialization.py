"""``torch.save`` and ``torch.load``: tensors and the containers around them, in fdiff's format.

What a training script saves (a ``state_dict``, an optimizer's, a checkpoint dict of both with
an epoch and a loss) round-trips as in torch: each tensor keeps its values, dtype and
``requires_grad`` and comes back as a leaf without ``.grad``; a ``Parameter`` stays one.
``torch.load`` reads ``weights_only`` by default, as torch 2.6+ does: only tensors, dtypes,
sizes and plain containers are rebuilt, and anything else is torch's ``UnpicklingError``
unless ``weights_only=False``.

The file :func:`save` writes is fdiff's own (a header line, then a pickle), not PyTorch's zip
archive; :func:`load` reads both (PyTorch's through :mod:`fdiff.torch._torch_archive`), so
weights trained in PyTorch load into fdiff.torch. Refused by name: tensors that share a storage
(views: torch keeps the sharing, these readers do not), ``mmap``, and a ``map_location`` other
than the CPU.

>>> import io
>>> import fdiff.torch as torch
>>> buffer = io.BytesIO()
>>> torch.save({"w": torch.ones(2, requires_grad=True), "epoch": 3}, buffer)
>>> _ = buffer.seek(0)
>>> torch.load(buffer)
{'w': tensor([1., 1.], requires_grad=True), 'epoch': 3}
"""

from __future__ import annotations

import io
import os
import pickle
from typing import IO, Any

import numpy as np

from fdiff.torch import _dtypes
from fdiff.torch._args import check_device
from fdiff.torch._creation import tensor as _tensor
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._interop import concrete
from fdiff.torch._tensor import Size, Tensor
from fdiff.torch._tensor_base import TensorBase
from fdiff.torch._torch_archive import ZIP_MAGIC, read_torch_archive
from fdiff.torch.nn.parameter import Parameter

__all__ = ["load", "save"]

HEADER = b"fdiff.torch.save 1\n"
"""The first line of every file :func:`save` writes."""


def save(obj: Any, f: str | os.PathLike | IO[bytes], pickle_module: Any = None,
         pickle_protocol: int = 2) -> None:  # fmt: skip
    """Write ``obj`` (tensors, modules' and optimizers' state dicts, plain Python containers
    and values) to the path or binary file ``f`` (pickled with protocol 4 or the higher one
    asked for)."""
    if pickle_module is not None:
        raise UnsupportedError("torch.save(pickle_module=...)")
    buffer = io.BytesIO()
    buffer.write(HEADER)
    _Pickler(buffer, protocol=max(pickle_protocol, 4)).dump(obj)  # 2 and 3 encode bytes oddly
    if isinstance(f, str | os.PathLike):
        with open(f, "wb") as file:
            file.write(buffer.getvalue())
    else:
        f.write(buffer.getvalue())


def load(
    f: str | os.PathLike | IO[bytes],
    map_location: Any = None,
    pickle_module: Any = None,
    *,
    weights_only: bool | None = None,
    mmap: bool | None = None,
) -> Any:
    """Read what :func:`save` wrote; ``weights_only`` (the default) rebuilds only tensors,
    dtypes, sizes and plain containers."""
    if pickle_module is not None:
        raise UnsupportedError("torch.load(pickle_module=...)")
    if mmap:
        raise UnsupportedError("torch.load(mmap=True)")
    if isinstance(map_location, dict) or callable(map_location):
        raise UnsupportedError("torch.load(map_location=<a dict or function>)")
    check_device(map_location, "torch.load")
    if isinstance(f, str | os.PathLike):
        with open(f, "rb") as file:
            data = file.read()
    else:
        data = f.read()
    if data.startswith(ZIP_MAGIC):
        return read_torch_archive(data, weights_only is not False)
    if not data.startswith(HEADER):
        raise pickle.UnpicklingError("not a file torch.save wrote: its header is missing")
    stream = io.BytesIO(data[len(HEADER) :])
    unpickler = pickle.Unpickler(stream) if weights_only is False else _WeightsOnly(stream)
    return unpickler.load()


def _rebuild_tensor(
    data: bytes, storage: str, shape: tuple[int, ...], dtype: str, requires_grad: bool
) -> Tensor:
    array = np.frombuffer(data, dtype=storage).reshape(shape)
    return _tensor(array, dtype=getattr(_dtypes, dtype), requires_grad=requires_grad)


def _rebuild_parameter(
    data: bytes, storage: str, shape: tuple[int, ...], dtype: str, requires_grad: bool
) -> Parameter:
    return Parameter(_rebuild_tensor(data, storage, shape, dtype, False), requires_grad)


def _rebuild_dtype(name: str) -> _dtypes.dtype:
    return getattr(_dtypes, name)


class _Pickler(pickle.Pickler):
    """Pickles tensors as their values (each storage once: a second tensor on it is refused)."""

    def __init__(self, file: IO[bytes], protocol: int) -> None:
        super().__init__(file, protocol=protocol)
        self._storages: set[int] = set()

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, TensorBase):
            return self._tensor(obj)
        if isinstance(obj, _dtypes.dtype):
            return _rebuild_dtype, (obj.name,)
        if isinstance(obj, Size):
            return Size, (tuple(obj),)
        return NotImplemented

    def _tensor(self, tensor: Any) -> tuple:
        if tensor._view is not None or id(tensor._storage) in self._storages:
            raise UnsupportedError("torch.save of tensors that share a storage (views)")
        self._storages.add(id(tensor._storage))
        array = np.asarray(concrete(tensor, "torch.save"))  # tobytes() writes C order
        rebuild = _rebuild_parameter if isinstance(tensor, Parameter) else _rebuild_tensor
        fields = (array.tobytes(), array.dtype.str, array.shape)
        return rebuild, (*fields, tensor.dtype.name, tensor.requires_grad)


_ALLOWED = frozenset(
    {
        ("collections", "OrderedDict"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "complex"),
        (__name__, "_rebuild_tensor"),
        (__name__, "_rebuild_parameter"),
        (__name__, "_rebuild_dtype"),
        ("fdiff.torch._tensor", "Size"),
    }
)
"""The globals a ``weights_only`` load may rebuild: what :func:`save` writes for tensors."""


class _WeightsOnly(pickle.Unpickler):
    """An unpickler that rebuilds only what :func:`save` writes for tensors and containers."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(
                f"Weights only load failed: {module}.{name} is not allowed. fdiff.torch rebuilds "
                "only tensors, dtypes, sizes and plain containers unless weights_only=False "
                "(do that only for a file you trust: unpickling can run any code)."
            )
        return super().find_class(module, name)
