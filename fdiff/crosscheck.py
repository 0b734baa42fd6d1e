"""Run a catalog example under three engines and compare each with the seed's documented numbers.

Engines: ``jax`` (the pure functional rewrite), ``fdiff.torch`` (the torch-style source executed
with ``fdiff.torch`` imported as ``torch``) and ``torch`` (the same source under real PyTorch,
"not installed" without it). A documented key is a Python expression over the torch-style
program's variables (``"params.grad"``); the JAX rewrite returns a dict with the same keys and
may leave out what it cannot express (e.g. an error torch raises), which is reported, not failed.

>>> from fdiff.examples import get
>>> result = check_example(get("004.1"), engines=("jax", "fdiff.torch"))
>>> result.passed, result.engines["jax"].max_error
(True, 0.0)
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import io
import sys
import warnings
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from fdiff.errors import InputError
from fdiff.examples import Example, Printed
from fdiff.torch._printing import format_tensor

EXAMPLE_ENGINES = ("jax", "fdiff.torch", "torch")
"""What a catalog example runs under: its pure JAX rewrite, and its torch-style source on
``fdiff.torch`` and on real PyTorch."""
_TORCH_SUBMODULES = ("", ".nn", ".nn.functional", ".nn.parameter", ".autograd", ".optim")


@dataclasses.dataclass
class EngineResult:
    """One engine's run of one example.

    ``status`` is ``"pass"``, ``"fail"`` (a documented key mismatched), ``"error"`` (the program
    raised) or ``"not installed"`` (real torch missing).
    """

    engine: str
    status: str
    max_error: float = 0.0
    failures: list[str] = dataclasses.field(default_factory=list)
    values: dict[str, Any] = dataclasses.field(default_factory=dict)
    skipped: list[str] = dataclasses.field(default_factory=list)
    stdout: str = ""


@dataclasses.dataclass
class ExampleCheck:
    """All engines' results for one example."""

    example: Example
    engines: dict[str, EngineResult]

    @property
    def passed(self) -> bool:
        return all(r.status in ("pass", "not installed") for r in self.engines.values())


@contextlib.contextmanager
def torch_modules(module: ModuleType) -> Iterator[None]:
    """Make ``import torch`` (and ``torch.nn`` ...) resolve to ``module`` inside the block."""
    names = [f"torch{suffix}" for suffix in _TORCH_SUBMODULES]
    absent = object()
    saved = {name: sys.modules.get(name, absent) for name in names}
    try:
        for suffix in _TORCH_SUBMODULES:
            sys.modules[f"torch{suffix}"] = importlib.import_module(module.__name__ + suffix)
        yield
    finally:
        for name, previous in saved.items():
            if previous is absent:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous


def run_torch_source(source: str, module: ModuleType) -> tuple[dict[str, Any], str]:
    """Execute a torch-style program with ``module`` as ``torch``; return its variables, stdout.

    Warnings the program triggers (torch warns when a non-leaf's ``.grad`` is read) are
    recorded, not raised, as they would be in a script.
    """
    namespace: dict[str, Any] = {"__name__": "__fdiff_example__"}
    stdout = io.StringIO()
    with torch_modules(module), contextlib.redirect_stdout(stdout), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(source, "<example>", "exec"), namespace)  # the catalog's own programs
    return namespace, stdout.getvalue()


def evaluate(key: str, namespace: dict[str, Any]) -> Any:
    """The value of a documented key (an expression over the program's variables)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return eval(key, namespace)  # keys are the catalog's own expressions, not user input


def _as_number_array(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach()
    return np.asarray(value, dtype=np.float64)


def compare(expected: Any, actual: Any) -> tuple[float, str | None]:
    """``(abs error, failure message or None)`` for one documented value."""
    if isinstance(expected, Printed):
        if actual is None or isinstance(actual, str | bool):
            return 0.0, f"expected a number, got {actual!r}"
        want, got = np.asarray(expected.value, dtype=np.float64), _as_number_array(actual)
        if want.shape != got.shape:
            return 0.0, f"shape {got.shape} != documented {want.shape}"
        error = np.abs(got - want)
        worst = float(error.max(initial=0.0))
        if np.any(~(error <= expected.tolerance())):
            return worst, f"{got.tolist()} != documented {want.tolist()}"
        return worst, None
    if hasattr(actual, "name") and callable(actual.name):  # a torch grad_fn object
        actual = actual.name()
    if expected is None or isinstance(expected, bool):
        return 0.0, None if actual is expected else f"{actual!r} != documented {expected!r}"
    return 0.0, None if actual == expected else f"{actual!r} != documented {expected!r}"


def _score(result: EngineResult, documented: dict[str, Any], optional: bool) -> EngineResult:
    for key, expected in documented.items():
        if key not in result.values:
            if not optional:
                result.failures.append(f"{key}: not computed")
            result.skipped.append(key)
            continue
        error, failure = compare(expected, result.values[key])
        result.max_error = max(result.max_error, error)
        if failure:
            result.failures.append(f"{key}: {failure}")
    result.status = "fail" if result.failures else "pass"
    return result


def _torch_engine(example: Example, module_name: str) -> EngineResult:
    engine = "torch" if module_name == "torch" else "fdiff.torch"
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return EngineResult(engine, "not installed")
    try:
        namespace, stdout = run_torch_source(example.torch_source, module)
        values = {}
        for key in example.documented:
            values[key] = evaluate(key, namespace)
    except Exception as error:  # report the program's failure, whatever it is
        return EngineResult(engine, "error", failures=[f"{type(error).__name__}: {error}"])
    return _score(EngineResult(engine, "pass", values=values, stdout=stdout), example.documented,
                  optional=False)  # fmt: skip


def run_engine(example: Example, engine: str) -> EngineResult:
    """Run one engine on one example and score it against the documented numbers.

    Raises:
        InputError: for an engine not in :data:`EXAMPLE_ENGINES`.
    """
    if engine == "jax":
        try:
            values = example.jax()
        except Exception as error:  # report the rewrite's failure, whatever it is
            return EngineResult(engine, "error", failures=[f"{type(error).__name__}: {error}"])
        return _score(EngineResult(engine, "pass", values=values), example.documented, True)
    if engine == "fdiff.torch":
        return _torch_engine(example, "fdiff.torch")
    if engine == "torch":
        return _torch_engine(example, "torch")
    raise InputError(f"unknown engine `{engine}`; choose from {', '.join(EXAMPLE_ENGINES)}")


def check_example(example: Example, engines: Sequence[str] = EXAMPLE_ENGINES) -> ExampleCheck:
    """Run ``example`` under each engine and compare with its documented numbers."""
    return ExampleCheck(example, {engine: run_engine(example, engine) for engine in engines})


def _format_value(value: Any, grad_fn: Any) -> str:
    if value is None or isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return repr(value)
    array = np.asarray(value)
    return format_tensor(array, dtype=str(array.dtype), grad_fn=grad_fn)


def jax_transcript(example: Example) -> str:
    """What the pure JAX rewrite computes, printed in the seed's (torch's) style.

    A key's ``grad_fn`` (derived from the jaxpr) is printed next to its value, as torch does.

    >>> from fdiff.examples import get
    >>> print(jax_transcript(get("000.1")), end="")
    # 000.1 loss of a linear model: (x*p0 + p1 - y)**2 (pure JAX rewrite)
    loss: tensor([4.], grad_fn=<PowBackward0>)
    params.grad: tensor([8., 4.])
    """
    values = example.jax()
    lines = [f"# {example.id} {example.title} (pure JAX rewrite)"]
    for key, value in values.items():
        owner = key.removesuffix(".grad_fn")
        if owner != key and owner in values:
            continue  # printed next to its value
        lines.append(f"{key}: {_format_value(value, values.get(key + '.grad_fn'))}")
    return "\n".join(lines) + "\n"
