"""What a pure JAX port's run records: its global arrays, named as torch's tensors are.

``fdiff compare SCRIPT --against PORT`` matches the port's values to the torch script's
tensors by name. The runner records, from the port's globals after it ran:

- every floating-point array (``jax.Array`` or ``numpy.ndarray``, a Python float excluded)
  under its global name: ``w`` for torch's ``w``;
- a dict (or list, or tuple) of arrays flattened with dots: ``model = {"weight": ...}`` is
  ``model.weight``, as torch names ``model``'s parameter;
- a name ending in ``_grad`` as that tensor's gradient: ``w_grad`` is ``w.grad``,
  ``model_grad["weight"]`` is ``model.weight.grad``;
- the entries of a dict named ``fdiff_record`` under their exact keys
  (``fdiff_record = {"conv.weight.grad": g}``), for names no Python variable can have.

The record has the runner's format (``{"shape", "dtype", "values"}``, the dtype as JAX names it,
``"float32"``); only names the torch run recorded are compared.

>>> import numpy as np
>>> names = {"w": np.ones(2), "w_grad": np.zeros(2), "n": 3, "model": {"b": [np.ones(1)]}}
>>> sorted(port_tensors(names))
['model.b.0', 'w', 'w.grad']
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["RECORD_NAME", "port_tensors"]

RECORD_NAME = "fdiff_record"
"""A port's dict of values recorded under their exact keys."""


def _floating_array(value: Any) -> np.ndarray | None:
    """``value`` as a NumPy array when it is a floating-point array (JAX's or NumPy's)."""
    if not (hasattr(value, "shape") and hasattr(value, "dtype")) or isinstance(value, type):
        return None
    try:
        array = np.asarray(value)
    except Exception:  # a tracer, a deleted buffer, a look-alike: not a recorded value
        return None
    return array if np.issubdtype(array.dtype, np.floating) else None


def _flatten(name: str, value: Any, found: dict[str, np.ndarray], depth: int = 0) -> None:
    array = _floating_array(value)
    if array is not None:
        found[name] = array
    elif isinstance(value, dict) and depth < 8:
        for key, item in value.items():
            _flatten(f"{name}.{key}", item, found, depth + 1)
    elif isinstance(value, list | tuple) and depth < 8:
        for index, item in enumerate(value):
            _flatten(f"{name}.{index}", item, found, depth + 1)


def _torch_name(name: str) -> str:
    """``w_grad`` -> ``w.grad``; ``model_grad.weight`` -> ``model.weight.grad``."""
    head, dot, rest = name.partition(".")
    if head.endswith("_grad") and len(head) > len("_grad"):
        return f"{head.removesuffix('_grad')}{dot}{rest}.grad"
    return name


def _record(array: np.ndarray) -> dict[str, Any]:
    values = [float(v) for v in array.astype(np.float64).ravel()]
    return {"shape": list(array.shape), "dtype": str(array.dtype), "values": values}


def port_tensors(namespace: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The port's floating-point globals, named as torch's tensors (see the module docstring)."""
    found: dict[str, np.ndarray] = {}
    for name, value in namespace.items():
        if name.startswith("_") or name == RECORD_NAME:
            continue
        flat: dict[str, np.ndarray] = {}
        _flatten(name, value, flat)
        found.update({_torch_name(key): array for key, array in flat.items()})
    exact = namespace.get(RECORD_NAME)
    if isinstance(exact, dict):
        for key, value in exact.items():
            array = _floating_array(value)
            if array is not None:
                found[str(key)] = array
    return {name: _record(array) for name, array in found.items()}
