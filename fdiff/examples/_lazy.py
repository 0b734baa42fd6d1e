"""Stand-ins for the modules and functions the examples' JAX code uses, imported on first use.

The catalog is data that ``fdiff list`` and ``fdiff show`` only read; an example's JAX code runs
when the example is computed. The seed modules name JAX, ``fdiff.functional`` and the torch
generator through these stand-ins, so registering the catalog imports none of them.

>>> sqrt = lazy("math", "sqrt")
>>> sqrt(9.0)
3.0
>>> lazy("math").pi
3.141592653589793
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["lazy"]


class _Lazy:
    """Module ``module`` (or its attribute ``attribute``), imported when first used."""

    __slots__ = ("_attribute", "_module", "_target")

    def __init__(self, module: str, attribute: str | None) -> None:
        self._module, self._attribute, self._target = module, attribute, None

    def _resolve(self) -> Any:
        if self._target is None:
            module = importlib.import_module(self._module)
            self._target = module if self._attribute is None else getattr(module, self._attribute)
        return self._target

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy, pickle and friends probing: not the target's
            raise AttributeError(name)
        return getattr(self._resolve(), name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._resolve()(*args, **kwargs)

    def __repr__(self) -> str:
        name = self._module if self._attribute is None else f"{self._module}.{self._attribute}"
        return f"<lazy {name}>"


def lazy(module: str, attribute: str | None = None) -> Any:
    """A stand-in for ``module`` (or ``module.attribute``) that imports it on first use.

    Args:
        module: the module's full name, e.g. ``"jax.numpy"``.
        attribute: a name defined in it (a function, a class), or None for the module itself.
    """
    return _Lazy(module, attribute)
