"""``torch.autograd`` on JAX: ``grad``, ``backward``, ``Function``, ``functional``, ``graph``,
``gradcheck``/``gradgradcheck`` and the legacy ``Variable``.

>>> import fdiff.torch as torch
>>> from fdiff.torch.autograd import Variable
>>> a = Variable(torch.ones(2), requires_grad=True)
>>> torch.autograd.grad((a * 3).sum(), a)
(tensor([3., 3.]),)
"""

from __future__ import annotations

from fdiff.torch._autograd import backward, grad
from fdiff.torch._missing import missing_names
from fdiff.torch._tensor import Tensor
from fdiff.torch.autograd import function as function
from fdiff.torch.autograd import functional as functional
from fdiff.torch.autograd import graph as graph
from fdiff.torch.autograd.function import Function, FunctionCtx, once_differentiable
from fdiff.torch.autograd.gradcheck import gradcheck, gradgradcheck

__all__ = [
    "Function",
    "FunctionCtx",
    "Variable",
    "backward",
    "function",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "graph",
    "once_differentiable",
]
__getattr__ = missing_names(__name__, "torch.autograd", ("forward_ad", "profiler"))


def Variable(data: Tensor, requires_grad: bool = False) -> Tensor:
    """Legacy wrapper (seed 001.6): a leaf sharing ``data``'s storage, optionally requiring grad."""
    return data.detach().requires_grad_(requires_grad)
