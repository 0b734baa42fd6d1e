"""The catalog's data types: an :class:`Example` and the numbers its seed printed.

An example is data: its torch-style source (the seed's code, runnable under real torch and under
``fdiff.torch``), its pure JAX rewrite (a function returning the same quantities), and the
``documented`` quantities the seed printed. Keys of ``documented`` are Python expressions over the
torch-style program's variables (``"params.grad"``, ``"loss.grad_fn"``); the JAX rewrite returns a
dict with the same keys.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fdiff.examples._lazy import lazy

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy("numpy")  # `fdiff list` and `show` read the catalog without NumPy


@dataclasses.dataclass(frozen=True)
class Printed:
    """A number (or array) as a seed printed it, with ``decimals`` digits after the point.

    The tolerance is half a unit in the last printed digit (relative to the mantissa for
    ``scientific`` notation such as ``5.1200e+01``), plus ``slack`` where the example says why.
    """

    value: Any
    decimals: int = 4
    scientific: bool = False
    slack: float = 0.0

    def tolerance(self) -> np.ndarray:
        expected = np.asarray(self.value, dtype=np.float64)
        half_unit = 0.5 * 10.0 ** (-self.decimals)
        if self.scientific:
            scale = 10.0 ** np.floor(np.log10(np.where(expected == 0, 1, np.abs(expected))))
            return half_unit * scale + self.slack
        return np.full(expected.shape, half_unit + self.slack)


@dataclasses.dataclass(frozen=True)
class Example:
    """One seed example: torch-style source, pure JAX rewrite, documented numbers."""

    id: str
    title: str
    document: str
    torch_source: str
    jax: Callable[[], dict[str, Any]]
    documented: dict[str, Any]
    notes: str = ""

    @property
    def jax_source(self) -> str:
        """The JAX rewrite's source: its functions from the example's module, callees first."""
        functions = _module_functions(self.jax, set())
        return "\n\n".join(textwrap.dedent(inspect.getsource(f)).rstrip() for f in functions) + "\n"


def _module_functions(function: Callable, seen: set[str]) -> list[Callable]:
    """``function`` and the functions of its own module that it (or a nested def) calls."""
    module = sys.modules[function.__module__]
    code = function.__code__
    names = set(code.co_names).union(*(c.co_names for c in code.co_consts if inspect.iscode(c)))
    found: list[Callable] = []
    for name in sorted(names - seen):
        callee = getattr(module, name, None)
        if inspect.isfunction(callee) and callee.__module__ == module.__name__:
            seen.add(name)
            found += _module_functions(callee, seen)
    return [*found, function]


CATALOG: dict[str, Example] = {}


def register(example: Example) -> Example:
    """Add ``example`` to the catalog; an id may be registered once."""
    if example.id in CATALOG:
        raise ValueError(f"example id `{example.id}` is registered twice")
    CATALOG[example.id] = example
    return example


def get(example_id: str) -> Example:
    """The example with this id; raises ``KeyError`` naming the known ids otherwise."""
    try:
        return CATALOG[example_id]
    except KeyError:
        known = ", ".join(sorted(CATALOG))
        raise KeyError(f"unknown example id `{example_id}`; known ids: {known}") from None


def source(text: str) -> str:
    """Dedent a triple-quoted torch-style program."""
    return textwrap.dedent(text).strip() + "\n"
