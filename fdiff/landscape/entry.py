"""A landscape problem loaded from a Python entry point or a torch-style training script.

Two forms, as ``fdiff landscape ENTRY`` takes them:

- ``module:function`` or ``path/to/file.py:function``: ``function()`` returns a mapping with
  ``loss`` (``loss(params)``, or ``loss(params, data)`` with ``data``) and ``params`` (any
  pytree), and optionally ``data``, ``trajectories`` (``{name: [params, ...]}``, recorded
  oldest first) and ``end`` (a second checkpoint); or a ``(loss, params)`` pair, or a
  :class:`~fdiff.landscape.module.ModuleLoss`.
- ``path/to/script.py``: a torch-style script, run with ``import torch`` meaning
  ``fdiff.torch``, that defines ``model`` (an ``nn.Module``), ``loss_fn`` (``loss_fn(output,
  target)``), ``inputs`` and ``targets``, and optionally ``trajectories`` (``{name: [state_dict,
  ...]}``: copies of ``model.state_dict()`` taken while training).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from fdiff.crosscheck import torch_modules
from fdiff.errors import InputError
from fdiff.landscape.module import ModuleLoss, module_loss
from fdiff.torch._traced import to_arrays

__all__ = ["Problem", "load_problem"]

SCRIPT_NAMES = ("model", "loss_fn", "inputs", "targets")
"""What a torch-style script must define."""


class Problem(NamedTuple):
    """What a landscape needs: the loss, the point, and optional data, runs and end point."""

    loss: Callable[..., Any]
    params: Any
    data: Any = None
    trajectories: Mapping[str, list[Any]] = {}
    end: Any = None


def load_problem(entry: str) -> Problem:
    """The :class:`Problem` that ``entry`` names (see the module docstring for the forms).

    Raises:
        InputError: an entry that cannot be found or imported, or that returns or defines the
            wrong things; the message says what was expected.
    """
    path, _, function = entry.rpartition(":") if ":" in entry else (entry, "", "")
    if not function:
        if not entry.endswith(".py"):
            raise InputError(
                f"{entry!r} is neither `module:function` nor a script `file.py`; "
                "e.g. `mypackage.experiments:landscape` or `train.py`"
            )
        return _from_script(Path(entry))
    module = _import(path)
    target = getattr(module, function, None)
    if not callable(target):
        raise InputError(f"{path!r} has no function {function!r}")
    return _as_problem(target(), entry)


def _import(path: str) -> Any:
    if path.endswith(".py"):
        file = Path(path)
        if not file.is_file():
            raise InputError(f"no such file: {path!r}")
        spec = importlib.util.spec_from_file_location(file.stem, file)
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(file.resolve().parent))
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path.pop(0)
        return module
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError as missing:
        raise InputError(f"cannot import {path!r}: {missing}") from missing


def _as_problem(result: Any, entry: str) -> Problem:
    if isinstance(result, ModuleLoss):
        return Problem(result.loss, result.params, result.data)
    if isinstance(result, Mapping):
        unknown = sorted(set(result) - set(Problem._fields))
        if unknown or not {"loss", "params"} <= set(result):
            raise InputError(
                f"{entry} returned a mapping with keys {sorted(result)}; it needs `loss` and "
                f"`params`, and may have {', '.join(Problem._fields[2:])}"
            )
        problem = Problem(**result)
    elif isinstance(result, tuple) and len(result) == 2:
        problem = Problem(*result)
    else:
        raise InputError(
            f"{entry} returned {type(result).__name__}; return a mapping with `loss` and "
            "`params` (and optionally `data`, `trajectories`, `end`), or a `(loss, params)` pair"
        )
    if not callable(problem.loss):
        raise InputError(f"{entry}: `loss` must be callable, got {type(problem.loss).__name__}")
    return problem


def _from_script(script: Path) -> Problem:
    if not script.is_file():
        raise InputError(f"no such file: {str(script)!r}")
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": str(script.resolve())}
    sys.path.insert(0, str(script.resolve().parent))
    try:
        with torch_modules(importlib.import_module("fdiff.torch")):
            exec(compile(script.read_bytes(), str(script), "exec"), namespace)
    finally:
        sys.path.pop(0)
    missing = [name for name in SCRIPT_NAMES if name not in namespace]
    if missing:
        raise InputError(
            f"{script} does not define {', '.join(missing)}: a torch-style script must define "
            f"{', '.join(SCRIPT_NAMES)} (and may define `trajectories`)"
        )
    model = namespace["model"]
    model.eval()
    problem = module_loss(model, namespace["loss_fn"], namespace["inputs"], namespace["targets"])
    names = set(problem.params)
    trajectories = {
        name: [to_arrays({k: v for k, v in state.items() if k in names}) for state in states]
        for name, states in dict(namespace.get("trajectories", {})).items()
    }
    return Problem(problem.loss, problem.params, problem.data, trajectories)
