"""``nn.Parameter``: a leaf tensor that requires grad and registers itself on a Module."""

from __future__ import annotations

from fdiff.torch._interop import register_pytree
from fdiff.torch._tensor import Tensor


class Parameter(Tensor):
    """A tensor a :class:`~fdiff.torch.nn.Module` collects into ``parameters()``.

    >>> import fdiff.torch as torch
    >>> Parameter(torch.tensor([0.0]))
    Parameter containing:
    tensor([0.], requires_grad=True)
    """

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        source = data if data is not None else Tensor([])
        self._init(source._value, None, False)
        self._storage = source._storage
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


register_pytree(Parameter)
