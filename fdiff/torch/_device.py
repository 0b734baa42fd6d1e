"""``torch.device`` and the default device: fdiff.torch runs on the CPU (JAX places arrays).

Any device torch knows can be named (``torch.device("cuda")``), as in torch; putting something
on one other than the CPU (``.to(device)``, ``set_default_device``) raises
:class:`~fdiff.torch.UnsupportedError` (``torch.cuda`` for CUDA), never ignored.

>>> device("cpu"), device("cpu", 0)
(device(type='cpu'), device(type='cpu', index=0))
"""

from __future__ import annotations

import re
from typing import Any

from fdiff.torch._args import check_device

_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
    "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)  # fmt: skip
"""The device types torch knows (its message lists them); all but ``cpu`` are unsupported."""


class device:
    """torch's device object; only the CPU is available (``device("cuda")`` raises).

    >>> device(type="cpu").type, str(device("cpu:0"))
    ('cpu', 'cpu:0')
    """

    __slots__ = ("index", "type")

    def __init__(self, type: Any, index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index
        name = str(type)
        match = re.fullmatch(r"([a-z_]+)(?::(\d+))?", name)
        if match is None or match.group(1) not in _TYPES:
            raise RuntimeError(
                f"Expected one of {', '.join(_TYPES)} device type at start of device string: {name}"
            )
        if match.group(2) is not None:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was "
                                   f"passed explicitly: {name}")  # fmt: skip
            index = int(match.group(2))
        self.type = match.group(1)
        self.index = index

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")
"""What ``tensor.device`` is."""


def set_default_device(device: Any) -> None:
    """Accept the CPU (or ``None``) as the default device; any other device is unsupported.

    >>> set_default_device("cpu")
    """
    check_device(device, "torch.set_default_device")


def get_default_device() -> device:
    """``device(type='cpu')``."""
    return CPU


__all__ = ["device", "get_default_device", "set_default_device"]
