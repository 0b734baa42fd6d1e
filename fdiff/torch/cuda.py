"""``torch.cuda`` as fdiff.torch has it: no GPU (``is_available()`` is False).

Scripts that pick a device with ``"cuda" if torch.cuda.is_available() else "cpu"`` run on the
CPU; any other ``torch.cuda`` name raises :class:`~fdiff.torch.UnsupportedError`.

>>> is_available(), device_count()
(False, 0)
"""

from fdiff.torch._missing import missing_names


def is_available() -> bool:
    """False: fdiff.torch has no CUDA device."""
    return False


def device_count() -> int:
    """0: fdiff.torch has no CUDA device."""
    return 0


__getattr__ = missing_names(__name__, "torch.cuda")

__all__ = ["device_count", "is_available"]
