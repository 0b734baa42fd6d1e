"""What torch has and fdiff.torch lacks, as attribute lookups that raise ``UnsupportedError``.

A public module of fdiff.torch sets ``__getattr__ = missing_names(__name__, "torch.x", ...)``:
a name it does not define then raises :class:`~fdiff.torch.UnsupportedError` with torch's name
(``torch.logcumsumexp``), and a torch submodule it lacks (``torch.special``) is a
:class:`MissingModule` whose attributes raise the same way (``torch.special.zeta``).

>>> import fdiff.torch as torch
>>> try:
...     torch.special.zeta
... except torch.UnsupportedError as error:
...     error.op
'torch.special.zeta'
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

from fdiff.torch._errors import missing_attribute


class MissingModule(types.ModuleType):
    """A torch submodule fdiff.torch does not have: every public attribute is unsupported."""

    def __init__(self, torch_name: str) -> None:
        super().__init__(f"fdiff.{torch_name}")
        self.torch_name = torch_name

    def __getattr__(self, name: str) -> Any:
        raise missing_attribute(self.torch_name, name, self)

    def __repr__(self) -> str:
        return f"<fdiff.torch lacks module '{self.torch_name}'>"


def missing_names(
    module_name: str, torch_name: str, submodules: tuple[str, ...] = ()
) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` for module ``module_name`` (torch's ``torch_name``): a
    name in ``submodules`` gives a :class:`MissingModule`, any other name raises."""
    missing = {name: MissingModule(f"{torch_name}.{name}") for name in submodules}

    def __getattr__(name: str) -> Any:
        if name in missing:
            return missing[name]
        raise missing_attribute(torch_name, name, sys.modules[module_name])

    return __getattr__
