"""Run a program in one engine and record everything a torch user can observe.

For every tensor the program names (and every parameter of a module it names) the runner
records its value, shape, dtype, ``requires_grad``, ``is_leaf``, ``grad_fn.name()`` and, for
leaves and tensors that called ``retain_grad()``, its ``.grad``. Steps run one at a time; the
first exception ends the run and is recorded as ``(step index, builtin exception type)``.
Gradients are snapshotted before each step that runs backward, so a backward that fails
midway (torch may accumulate into some leaves before it meets a freed node) is compared as
the state before it.

>>> import numpy as np, fdiff.torch
>>> from differential.program import Program
>>> p = Program()
>>> x = p.input(np.array([1.0, -2.0], np.float32))
>>> _ = p.emit(f"{x.name}.abs()", x.shape)
>>> p.step("weigh(v0).backward()")
>>> run = execute(p, fdiff.torch)
>>> run.observed["x0"].grad, run.observed["v0"].grad_fn, run.error
(array([-2.,  1.]), 'AbsBackward0', None)
"""

from __future__ import annotations

import builtins
import dataclasses
import math
from typing import Any

import numpy as np

from differential.program import Program

WEIGHTS = (-2.0, -1.0, 0.5, 1.0, 2.0)  # the loss's weights: powers of two, so exact
BACKWARD_STEPS = ("backward(", "autograd.grad(")


@dataclasses.dataclass
class Observed:
    """What one tensor looked like at the end of a run (values as float64 or exact ints)."""

    value: np.ndarray
    dtype: str
    requires_grad: bool
    is_leaf: bool
    grad_fn: str | None
    grad: np.ndarray | None = None
    grad_dtype: str | None = None


@dataclasses.dataclass
class Run:
    observed: dict[str, Observed]
    early: dict[str, np.ndarray]  # values read right after their step (``observe_early``)
    error: tuple[int, str] | None
    tensors: list[Any]  # the engine's tensors, for the op-coverage walk
    message: str | None = None  # an aliasing error's message (see ``EXACT_MESSAGES``)


# Errors whose whole message fdiff.torch words as torch does: the version-counter and view
# rules of in-place ops (compared between engines of one precision: it names the dtype).
EXACT_MESSAGES = (
    "modified by an inplace operation",
    "is being used in an in-place operation",
    "is a view and",
    "created in no_grad mode",
    "more than one element of the written-to tensor",
)


def weights(shape: tuple[int, ...]) -> np.ndarray:
    """The fixed weights of the loss term of a value of this shape."""
    count = math.prod(shape)
    return np.resize(np.asarray(WEIGHTS, np.float64), count).reshape(shape)


def _weigh(torch):
    def weigh(*tensors):
        """A scalar loss reaching every float tensor given: a fixed weighted sum of each."""
        total = None
        for t in tensors:
            if t.requires_grad:
                term = (t * torch.tensor(weights(tuple(t.shape)), dtype=t.dtype)).sum()
                total = term if total is None else total + term
        return torch.zeros(()) if total is None else total  # backward() then raises

    return weigh


def _builtin_type(error: BaseException) -> str:
    """The first builtin class in the error's MRO: torch and fdiff.torch subclass differently."""
    return next(c.__name__ for c in type(error).__mro__ if c.__name__ in vars(builtins))


def _is_tensor(obj: Any) -> bool:
    return hasattr(obj, "grad_fn") and hasattr(obj, "detach")


def _named_tensors(scope: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """The program's tensors by name: a tuple's as ``name[i]``, a module's as ``name.param``."""
    found = {}
    for name in names:
        obj = scope.get(name)
        if _is_tensor(obj):
            found[name] = obj
        elif isinstance(obj, tuple | list):  # autograd.grad's results, (values, indices)
            found.update({f"{name}[{i}]": t for i, t in enumerate(obj) if _is_tensor(t)})
        elif hasattr(obj, "named_parameters"):
            found.update({f"{name}.{p}": t for p, t in obj.named_parameters()})
    return found


def _value(t) -> np.ndarray:
    array = np.asarray(t.detach().numpy())
    return array.astype(np.float64) if array.dtype.kind == "f" else array


def _grad(t) -> tuple[np.ndarray | None, str | None]:
    if not (t.is_leaf or t.retains_grad) or t.grad is None:  # reading others warns
        return None, None
    return _value(t.grad), str(t.grad.dtype).removeprefix("torch.")


def _observe(t, grads: dict[str, tuple], name: str) -> Observed:
    grad, grad_dtype = grads[name] if name in grads else _grad(t)
    return Observed(
        value=_value(t),
        dtype=str(t.dtype).removeprefix("torch."),
        requires_grad=t.requires_grad,
        is_leaf=t.is_leaf,
        grad_fn=None if t.grad_fn is None else t.grad_fn.name(),
        grad=grad,
        grad_dtype=grad_dtype,
    )


def _input(torch, array: np.ndarray, requires_grad: bool, perturbation: Any):
    if perturbation is not None and array.dtype.kind == "f":
        return torch.tensor(perturbation(array), requires_grad=requires_grad)
    return torch.tensor(array, requires_grad=requires_grad)


def execute(program: Program, torch, perturbation: Any = None) -> Run:
    """Run ``program`` with ``torch`` bound to an engine module.

    ``perturbation`` (real torch only) maps each float input array to the reference run's
    array (float64, or the same dtype in mixed-precision programs) and turns modules to
    float64: the reference runs of :mod:`differential.tolerance`.
    """
    scope: dict[str, Any] = {"torch": torch, "F": torch.nn.functional, "weigh": _weigh(torch)}
    names = list(program.inputs)
    for name, (array, requires_grad) in program.inputs.items():
        scope[name] = _input(torch, array, requires_grad, perturbation)
    early: dict[str, np.ndarray] = {}
    error, message, grads = None, None, {}
    for index, step in enumerate(program.steps):
        if any(marker in step for marker in BACKWARD_STEPS):
            grads = {n: _grad(t) for n, t in _named_tensors(scope, names).items()}
        try:
            exec(step, scope)
        except Exception as exc:
            error = (index, _builtin_type(exc))
            if any(fragment in str(exc) for fragment in EXACT_MESSAGES):
                message = str(exc)
            break
        grads = {}
        new = [n for n in scope if n not in names and n not in ("torch", "F", "weigh")]
        new = [n for n in new if not n.startswith("__")]
        names.extend(new)
        for name in new:
            if perturbation is not None and hasattr(scope[name], "named_parameters"):
                scope[name].double()  # a reference run's layer: torch's float32 init, in float64
        if program.observe_early:
            early.update({n: _value(t) for n, t in _named_tensors(scope, new).items()})
    tensors = _named_tensors(scope, names)
    observed = {name: _observe(t, grads, name) for name, t in tensors.items()}
    return Run(observed, early, error, list(tensors.values()), message)


def recorded_ops(tensors: list[Any]) -> set[str]:
    """fdiff.torch op-table names of every node reachable from these tensors (and grads).

    Walks ``grad_fn.next_functions`` (torch's public graph API, which fdiff.torch mirrors)
    and reads each node's ``spec.name``: the op-table entry that recorded it (for the one
    grad_fn of ``unbind``/``split`` outputs, each output's node).
    """
    seen, names = set(), set()
    stack = [t.grad_fn for t in tensors if t.grad_fn is not None]
    stack += [t.grad.grad_fn for t in tensors if t.is_leaf and t.grad is not None]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        for part in getattr(node, "nodes", (node,)):  # the outputs of unbind/split: one each
            spec = getattr(part, "spec", None)
            if spec is not None:
                names.add(spec.name)
        stack.extend(next_node for next_node, _ in getattr(node, "next_functions", ()))
    return names
