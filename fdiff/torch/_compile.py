"""``torch.compile`` and ``Module.compile``: accepted, with torch's checks; values unchanged.

torch.compile's contract is that a compiled module or function computes what the eager one
does, faster. fdiff.torch already runs each training step as one compiled XLA program (step
capture, docs/design.md), so here ``compile`` adds no tracing of its own: it checks its
arguments as torch does and returns torch's wrapper (an ``OptimizedModule`` holding the module
as ``_orig_mod``, whose ``state_dict`` keys carry that prefix as torch's do, or a function
wrapping ``model``), which runs the eager code. A script written for PyTorch 2.x therefore
runs, prints and cross-checks the same. Options that would change what runs are refused by
name: a backend given as a callable (it receives a torch FX graph, which fdiff.torch has none
of), a backend other than torch's own eager and Inductor ones, and Inductor ``options``.

>>> import fdiff.torch as torch
>>> model = torch.compile(torch.nn.Linear(2, 1))
>>> type(model).__name__, [name for name, _ in model.named_parameters()]
('OptimizedModule', ['_orig_mod.weight', '_orig_mod.bias'])
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from fdiff.torch._compile_options import check_options
from fdiff.torch.nn.modules import Module

__all__ = ["OptimizedModule", "compile"]


class OptimizedModule(Module):
    """What ``torch.compile(module)`` returns: ``module`` as ``_orig_mod``, called through it.

    Attributes it lacks are looked up on ``_orig_mod`` (``compiled.weight``), and its
    ``training`` flag is ``_orig_mod``'s, as torch's are.
    """

    @property
    def training(self) -> bool:  # type: ignore[override]
        return self._orig_mod.training

    @training.setter
    def training(self, mode: bool) -> None:
        object.__setattr__(self._orig_mod, "training", mode)

    def __init__(self, module: Module) -> None:
        super().__init__()
        self._orig_mod = module

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._orig_mod(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name == "_orig_mod":  # not registered yet (during ``__init__``)
            return super().__getattr__(name)
        return getattr(self._orig_mod, name)


def compile(
    model: Callable[..., Any] | None = None,
    *,
    fullgraph: bool = False,
    dynamic: bool | None = None,
    backend: str | Callable[..., Any] = "inductor",
    mode: str | None = None,
    options: dict[str, Any] | None = None,
    disable: bool = False,
) -> Any:
    """torch's ``torch.compile``: ``model`` (a module or a function) to run as torch's compiled
    version would, which computes the eager values (see the module docstring); without
    ``model``, a decorator. ``fullgraph`` and ``dynamic`` are accepted (they decide where
    torch's tracing may break or specialise, not the values).

    >>> import fdiff.torch as torch
    >>> @torch.compile(fullgraph=True)
    ... def double(x):
    ...     return 2 * x
    >>> double(torch.ones(2))
    tensor([2., 2.])
    """
    check_options(backend, mode, options)
    if model is None:
        return functools.partial(
            compile,
            fullgraph=fullgraph,
            dynamic=dynamic,
            backend=backend,
            mode=mode,
            options=options,
            disable=disable,
        )
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    if disable or isinstance(model, type):  # torch returns both (a class compiled in place)
        return model
    if isinstance(model, Module):
        return OptimizedModule(model)

    @functools.wraps(model)
    def compiled(*args: Any, **kwargs: Any) -> Any:
        return model(*args, **kwargs)

    return compiled
