"""``nn.Module``: parameters, buffers and submodules registered by assignment; state dicts,
train/eval, ``to``, and ``print(model)`` as torch prints it.

The layers live in their own modules (:mod:`~fdiff.torch.nn.linear`, ``conv``, ``container``,
...); initialisation follows torch (drawn from the torch-exact generator), so
``manual_seed(s); nn.Linear(3, 2)`` holds torch's numbers.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import jax

from fdiff.torch import _dtypes
from fdiff.torch._args import check_device
from fdiff.torch._compile_options import check_arguments
from fdiff.torch._errors import UnsupportedAttributeError, UnsupportedError
from fdiff.torch._grad_mode import no_grad
from fdiff.torch._inplace import overwrite
from fdiff.torch._interop import from_jax
from fdiff.torch._tensor import Tensor
from fdiff.torch.nn import _module_hooks
from fdiff.torch.nn.parameter import Parameter

# torch.nn.Module's public names fdiff.torch lacks: looking one up is unsupported; any other
# missing name is the user's typo, torch's plain AttributeError.
_TORCH_MODULE_NAMES = frozenset(
    [
        "T_destination",
        "add_module",
        "bfloat16",
        "call_super_init",
        "cuda",
        "dump_patches",
        "get_buffer",
        "get_extra_state",
        "get_parameter",
        "get_submodule",
        "half",
        "ipu",
        "mtia",
        "register_backward_hook",
        "register_load_state_dict_post_hook",
        "register_load_state_dict_pre_hook",
        "register_module",
        "register_state_dict_post_hook",
        "register_state_dict_pre_hook",
        "set_extra_state",
        "set_submodule",
        "share_memory",
        "to_empty",
        "type",
        "xpu",
    ]
)


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` did not match."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (
            f"_IncompatibleKeys(missing_keys={self.missing_keys}, "
            f"unexpected_keys={self.unexpected_keys})"
        )


def _addindent(text: str, spaces: int) -> str:
    """Indent every line of ``text`` but the first (torch's ``_addindent``)."""
    first, *rest = text.split("\n")
    return "\n".join([first, *(" " * spaces + line for line in rest)])


class Module:
    """Base class: attributes that are Parameters or Modules are registered automatically.

    >>> import fdiff.torch as torch
    >>> layer = torch.nn.Linear(2, 1)
    >>> [name for name, _ in layer.named_parameters()]
    ['weight', 'bias']
    """

    training = True

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers_set", set())
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
        if name in self._buffers and (value is None or isinstance(value, Tensor)):
            self._buffers[name] = value
            object.__setattr__(self, name, value)
            return
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def __getattr__(self, name: str) -> Any:
        """Only called when ``name`` is not found: torch's Module names are unsupported,
        anything else raises torch's AttributeError."""
        if name in _TORCH_MODULE_NAMES:
            raise UnsupportedAttributeError(f"torch.nn.Module.{name}", name, self)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` under ``name``; ``None`` marks an absent one (e.g. no bias)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(torch.nn.Parameter or None required)"
            )
        self._modules.pop(name, None)
        self._buffers.pop(name, None)
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a tensor that is state but not a parameter (batch norm's running mean);
        ``persistent=False`` keeps it out of :meth:`state_dict`.

        >>> import fdiff.torch as torch
        >>> m = Module()
        >>> m.register_buffer("count", torch.zeros(1))
        >>> list(m.state_dict())
        ['count']
        """
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                "(torch Tensor or None required)"
            )
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)
        object.__setattr__(self, name, tensor)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _module_hooks.call(self, args, kwargs)

    register_forward_pre_hook = _module_hooks.register_forward_pre_hook
    register_forward_hook = _module_hooks.register_forward_hook
    register_full_backward_pre_hook = _module_hooks.register_full_backward_pre_hook
    register_full_backward_hook = _module_hooks.register_full_backward_hook

    # --- traversal ---------------------------------------------------------------------------

    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """``(dotted name, module)`` for this module and every submodule, depth first."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                sub = f"{prefix}.{name}" if prefix else name
                yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        return (m for _, m in self.named_modules())

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        return (m for _, m in self.named_children())

    def _named_members(
        self, members: Callable[[Module], Mapping[str, Any]], prefix: str, recurse: bool
    ) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in members(module).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` for every parameter, each listed once."""
        return self._named_members(lambda m: m._parameters, prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members(lambda m: m._buffers, prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        return (b for _, b in self.named_buffers(recurse=recurse))

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule (children first), then on this module."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # --- state -------------------------------------------------------------------------------

    def state_dict(
        self, destination: dict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> OrderedDict[str, Tensor]:
        """Parameters and persistent buffers by dotted name (detached unless ``keep_vars``)."""
        destination = OrderedDict() if destination is None else destination
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, f"{prefix}{name}.", keep_vars)
        return destination

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> Any:
        """Copy parameters and buffers from ``state_dict`` (either engine's tensors, or JAX
        arrays such as a pytree from :func:`fdiff.torch.func.params` trained in JAX)."""
        own = self.state_dict(keep_vars=True)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        errors = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            source = state_dict[key]
            if tuple(source.shape) != tuple(target.shape):
                errors.append(
                    f"size mismatch for {key}: copying a param with shape "
                    f"torch.Size({list(source.shape)}) from checkpoint, the shape in current "
                    f"model is torch.Size({list(target.shape)})."
                )
        if strict:
            if unexpected:
                keys = ", ".join(f'"{k}"' for k in unexpected)
                errors.insert(0, f"Unexpected key(s) in state_dict: {keys}. ")
            if missing:
                keys = ", ".join(f'"{k}"' for k in missing)
                errors.insert(0, f"Missing key(s) in state_dict: {keys}. ")
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        with no_grad():
            for key, target in own.items():
                if key in state_dict:
                    source = state_dict[key]
                    if isinstance(source, jax.Array):  # a pytree trained in JAX (func.params)
                        source = from_jax(source)
                    target.copy_(source if isinstance(source, Tensor) else Tensor(source.numpy()))
        return IncompatibleKeys(missing, unexpected)

    # --- modes and conversions ---------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        object.__setattr__(self, "training", mode)
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def compile(self, **arguments: Any) -> None:
        """torch's ``Module.compile(**arguments)``: compile this module's calls in place with
        ``torch.compile``'s arguments. Step capture already runs them compiled
        (``fdiff.torch._compile``), so this checks the arguments as ``torch.compile`` does and
        changes nothing."""
        check_arguments(**arguments)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad`` (to ``None`` by default, as torch 2.x does)."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.detach_().zero_()

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """``module.to(dtype)`` / ``to("cpu")``: floating parameters and buffers converted in
        place (the same Parameter objects); devices other than the CPU are unsupported."""
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        for keyword in kwargs:
            raise UnsupportedError(f"torch.nn.Module.to({keyword}=...)")
        for arg in (*args, device):
            if isinstance(arg, _dtypes.dtype):
                dtype = arg
            elif isinstance(arg, Tensor):
                dtype = arg.dtype
            else:
                check_device(arg, "torch.nn.Module.to")
        if dtype is not None:
            if not dtype.is_floating_point:
                raise TypeError(
                    "nn.Module.to only accepts floating point or complex dtypes, but got "
                    f"desired dtype={dtype}"
                )
            self._convert(dtype)
        return self

    def _convert(self, dtype: Any) -> None:
        storage = dtype.storage()
        for module in self.modules():
            for tensor in (*module._parameters.values(), *module._buffers.values()):
                if tensor is not None and tensor.is_floating_point():
                    overwrite(tensor, tensor._value.astype(storage))
                    if tensor.grad is not None:
                        overwrite(tensor.grad, tensor.grad._value.astype(storage))

    def float(self) -> Module:
        return self.to(_dtypes.float32)

    def double(self) -> Module:
        return self.to(_dtypes.float64)

    def cpu(self) -> Module:
        return self

    # --- printing ----------------------------------------------------------------------------

    def extra_repr(self) -> str:
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + _addindent(repr(module), 2) for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"

    def __dir__(self) -> list[str]:
        names = [*super().__dir__(), *self._parameters, *self._buffers, *self._modules]
        return sorted(set(names))
