"""``nn.Module`` and the layers and losses the seeds use: Linear, Conv2d, activations, losses.

Initialisation follows torch (Kaiming-uniform weights, uniform biases, drawn from the torch-exact
generator), so ``manual_seed(s); nn.Linear(3, 2)`` holds torch's numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import jax.numpy as jnp

from fdiff.torch import _random
from fdiff.torch._errors import missing_attribute
from fdiff.torch._tensor import Tensor
from fdiff.torch._tensor_base import new_tensor
from fdiff.torch.nn import _module_hooks
from fdiff.torch.nn import functional as F
from fdiff.torch.nn.parameter import Parameter


class Module:
    """Base class: attributes that are Parameters or Modules are registered automatically.

    >>> import fdiff.torch as torch
    >>> layer = Linear(2, 1)
    >>> [name for name, _ in layer.named_parameters()]
    ['weight', 'bias']
    """

    training = True

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign `{name}` before Module.__init__() call; call "
                "super().__init__() first in your module's __init__"
            )
        if isinstance(value, Parameter) or (value is None and name in self._parameters):
            self.register_parameter(name, value)
            return
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        """Only called when ``name`` is not found: torch's public names are unsupported."""
        raise missing_attribute("torch.nn.Module", name, self)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` under ``name``; ``None`` marks an absent one (e.g. no bias)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(torch.nn.Parameter or None required)"
            )
        self._modules.pop(name, None)
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _module_hooks.call(self, args, kwargs)

    register_forward_pre_hook = _module_hooks.register_forward_pre_hook
    register_forward_hook = _module_hooks.register_forward_hook
    register_full_backward_pre_hook = _module_hooks.register_full_backward_pre_hook
    register_full_backward_hook = _module_hooks.register_full_backward_hook

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` for every parameter, each listed once."""
        seen: set[int] = set()
        for name, param in self._named_parameters_all(prefix):
            if id(param) not in seen:
                seen.add(id(param))
                yield name, param

    def _named_parameters_all(self, prefix: str) -> Iterator[tuple[str, Parameter]]:
        for name, param in self._parameters.items():
            if param is not None:
                yield prefix + name, param
        for name, module in self._modules.items():
            yield from module._named_parameters_all(f"{prefix}{name}.")

    def parameters(self) -> Iterator[Parameter]:
        return (p for _, p in self.named_parameters())

    def children(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad`` (to ``None`` by default, as torch 2.x does)."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    def train(self, mode: bool = True) -> Module:
        object.__setattr__(self, "training", mode)
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [
            f"  ({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()
        ]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"


def _uniform_parameter(shape: tuple[int, ...], bound: float) -> Parameter:
    """torch's ``empty(shape).uniform_(-bound, bound)``, from the torch-exact generator."""
    values = _random.default_generator.uniform(shape, -bound, bound, dtype="float32")
    return Parameter(new_tensor(jnp.asarray(values)))


class Linear(Module):
    """``y = x @ weight.T + bias`` with torch's initialisation."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features) if in_features else 0.0
        self.weight = _uniform_parameter((out_features, in_features), bound)
        self.register_parameter(
            "bias", _uniform_parameter((out_features,), bound) if bias else None
        )

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Conv2d(Module):
    """2-D convolution (NCHW) with torch's initialisation; seed 000.4 replaces its weights."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: Any = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        kernel = F._pair(kernel_size, "kernel_size")
        if in_channels % groups or out_channels % groups:
            raise ValueError("in_channels and out_channels must be divisible by groups")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        fan_in = in_channels // groups * kernel[0] * kernel[1]
        bound = 1 / math.sqrt(fan_in) if fan_in else 0.0
        self.weight = _uniform_parameter((out_channels, in_channels // groups, *kernel), bound)
        self.register_parameter(
            "bias", _uniform_parameter((out_channels,), bound) if bias else None
        )

    def forward(self, input: Tensor) -> Tensor:
        return F.conv2d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={F._pair(self.stride, 'stride')}"
        )


class Sequential(Module):
    """Modules applied in order."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, module in enumerate(modules):
            setattr(self, str(i), module)

    def forward(self, input: Any) -> Any:
        for module in self.children():
            input = module(input)
        return input


class _Elementwise(Module):
    function: staticmethod  # set by each subclass

    def forward(self, input: Tensor) -> Tensor:
        return self.function(input)


class ReLU(_Elementwise):
    function = staticmethod(F.relu)


class Sigmoid(_Elementwise):
    function = staticmethod(F.sigmoid)


class Tanh(_Elementwise):
    function = staticmethod(F.tanh)


class _Loss(Module):
    function: staticmethod  # set by each subclass

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return self.function(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    function = staticmethod(F.mse_loss)


class CrossEntropyLoss(_Loss):
    function = staticmethod(F.cross_entropy)


class BCEWithLogitsLoss(_Loss):
    function = staticmethod(F.binary_cross_entropy_with_logits)
