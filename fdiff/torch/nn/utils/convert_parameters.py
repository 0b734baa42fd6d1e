"""``torch.nn.utils.parameters_to_vector`` and ``vector_to_parameters``.

>>> import fdiff.torch as torch
>>> a, b = torch.zeros(2), torch.zeros(1)
>>> vector_to_parameters(torch.tensor([1.0, 2.0, 3.0]), [a, b])
>>> parameters_to_vector([a, b])
tensor([1., 2., 3.])
"""

from __future__ import annotations

from collections.abc import Iterable

from fdiff.torch._shape import cat
from fdiff.torch._tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and concatenated (``cat`` of ``view(-1)``s, recorded as
    torch records it)."""
    return cat([p.view(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Set each parameter's ``.data`` to the next ``numel()`` elements of ``vec``."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {_typename(vec)}")
    pointer = 0
    for param in parameters:
        count = param.numel()
        param.data = vec[pointer : pointer + count].view(param.shape).data
        pointer += count


def _typename(value: object) -> str:
    """``torch.typename`` of a non-tensor: its qualified class name."""
    kind = type(value)
    name = kind.__qualname__
    return name if kind.__module__ == "builtins" else f"{kind.__module__}.{name}"
