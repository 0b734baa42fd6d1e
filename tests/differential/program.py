"""A torch program as data: input arrays plus source steps, run the same way in every engine.

>>> import numpy as np
>>> p = Program()
>>> x = p.input(np.ones(2, np.float32))
>>> v = p.emit(f"{x.name} * 2", x.shape)
>>> p.step(f"weigh({v.name}).backward()")
>>> print(p.source)
v0 = x0 * 2
weigh(v0).backward()
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Var:
    """A named value of the program, with the shape and dtype the generator expects."""

    name: str
    shape: tuple[int, ...] | None
    dtype: str = "float32"


@dataclasses.dataclass
class Program:
    """Input arrays and source steps; every ``emit`` binds a new name, never rebinds one.

    ``steps`` are torch source, one statement (or one ``with`` block) each: the runner
    executes them one by one so an exception is pinned to its step. ``replayed`` names the
    gradients (or tuples of them) made with ``create_graph=True``, whose grad_fn
    fdiff.torch names ``ReplayedGradBackward`` (one node replaying the whole backward)
    where torch names the last backward formula's node. ``observe_early`` reads every value
    right after its step, which makes fdiff.torch compute deferred results eagerly;
    otherwise values are read at the end, after backward, as most scripts do.
    """

    steps: list[str] = dataclasses.field(default_factory=list)
    inputs: dict[str, tuple[np.ndarray, bool]] = dataclasses.field(default_factory=dict)
    values: list[Var] = dataclasses.field(default_factory=list)
    names: list[str] = dataclasses.field(default_factory=list)  # every emitted name
    modules: list[str] = dataclasses.field(default_factory=list)  # nn layers' names
    replayed: set[str] = dataclasses.field(default_factory=set)
    observe_early: bool = False
    # The longest accumulation (terms of one sum, matmul or convolution output): it scales
    # the float32 error bound (see ``differential.tolerance``).
    accumulation: int = 1
    # "float64" when every float the program makes is float64 (run with JAX's x64 mode on).
    precision: str = "float32"
    # Whether fdiff.torch needs JAX's x64 mode (a float64 tensor anywhere): such programs run
    # in a subprocess (``differential.x64_worker``), never toggling x64 in the test process.
    x64: bool = False
    # torch's view() refuses some non-contiguous tensors, and elementwise ops keep their
    # inputs' strides: after the first op that moves dims, only reshape() is used.
    contiguous: bool = True

    def input(self, array: np.ndarray, requires_grad: bool = True) -> Var:
        """A new input tensor; float inputs requiring grad join ``values``."""
        prefix = "x" if requires_grad else ("i" if array.dtype.kind in "iub" else "c")
        name = f"{prefix}{len(self.inputs)}"
        if array.dtype == np.float64:
            self.x64 = True
        self.inputs[name] = (array, requires_grad)
        var = Var(name, tuple(array.shape), str(array.dtype))
        if requires_grad or array.dtype.kind == "f":
            self.values.append(var)
        return var

    def emit(
        self, expression: str, shape: tuple[int, ...] | None, dtype: str = "float32", block=""
    ) -> Var:
        """Bind ``expression`` to a new name, as its own step (inside ``block`` if given).

        A value of data-dependent shape (``x[x > 0]``, ``shape=None``) is named, observed and
        weighed, but later ops do not take it as input.
        """
        if self.precision == "float64" and dtype == "float32":
            dtype = "float64"
        var = Var(f"v{len(self.steps)}", shape, dtype)
        line = f"{var.name} = {expression}"
        self.steps.append(f"{block}\n    {line}" if block else line)
        self.names.append(var.name)
        if shape is not None:
            self.values.append(var)
        return var

    def accumulates(self, terms: int) -> None:
        """Note a sum of ``terms`` terms (for the error bound)."""
        self.accumulation = max(self.accumulation, terms)

    def step(self, source: str) -> None:
        """A statement that binds nothing new: an in-place op, ``backward()``, a block."""
        self.steps.append(source)

    @property
    def source(self) -> str:
        return "\n".join(self.steps)

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        inputs = {name: (a.tolist(), a.dtype.name, rg) for name, (a, rg) in self.inputs.items()}
        return f"Program(inputs={inputs}, observe_early={self.observe_early})\n{self.source}"
