"""The subprocess side of ``fdiff compare``: run one script under one engine, record the result.

``python -m fdiff.compare._runner --engine torch|fdiff.torch --out RECORD.json SCRIPT.py``
executes ``SCRIPT.py`` as ``__main__`` (with ``fdiff.torch`` installed as ``torch`` for the
``fdiff.torch`` engine) and writes one JSON record to ``RECORD.json``:

- ``engine``: the engine's name;
- ``stdout``: what the script printed (also when it raised);
- ``tensors``: ``{name: {"shape": [int], "dtype": str, "values": [float]}}`` for every global
  tensor that requires grad, every parameter of a global ``nn.Module`` (``model.weight``) and the
  ``.grad`` of each (``x.grad``), values flattened in C order; a tensor whose values cannot be
  read is recorded as ``{"shape", "dtype", "values": null, "unreadable": "Type: message"}``
  (shape and dtype ``null`` where they cannot be read either), never left out;
- ``error``: ``null`` or ``{"type", "message", "line", "source", "missing"}``, where ``line`` is
  the script's line number (``null`` when the failure is outside the script), ``source`` that
  line's text and ``missing`` torch's name of what ``fdiff.torch`` lacks (``"Tensor.cumsum"``,
  ``"torch.fft"``) when that is why the script failed, else ``null`` (see :func:`missing_name`).

The record is the only output: the runner exits 0 whenever it could write it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import math
import re
import sys
import traceback
import warnings
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

SCRIPT_ENGINES = ("torch", "fdiff.torch")
"""What a script can run under: real PyTorch, and ``fdiff.torch`` installed as ``torch``."""
_FDIFF_TORCH_DIR = Path(__file__).resolve().parents[1] / "torch"


def _as_floats(value: Any) -> list[float]:
    """A tensor's values, flattened in C order, as Python floats."""
    data = value.detach().tolist()
    flat: list[float] = []
    stack = [data]
    while stack:  # flatten nested lists without recursion, preserving order
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            flat.append(float(item))
    return flat


def _is_tensor(value: Any) -> bool:
    return all(hasattr(value, a) for a in ("requires_grad", "detach", "shape", "tolist"))


def _tensor_record(value: Any) -> dict[str, Any]:
    """``{"shape", "dtype", "values"}``; for a tensor that cannot be read, why, in ``unreadable``.

    >>> class Broken:
    ...     shape, dtype = (2,), "float32"
    ...     def detach(self):
    ...         raise RuntimeError("storage freed")
    >>> _tensor_record(Broken())
    {'shape': [2], 'dtype': 'float32', 'values': None, 'unreadable': 'RuntimeError: storage freed'}
    """
    try:
        return {"shape": list(value.shape), "dtype": str(value.dtype), "values": _as_floats(value)}
    except Exception as error:  # the script's own object may fail in any way: record why
        return _unreadable_record(value, error)


def _unreadable_record(value: Any, error: Exception) -> dict[str, Any]:
    record: dict[str, Any] = {"shape": None, "dtype": None, "values": None}
    with contextlib.suppress(Exception):
        record["shape"] = list(value.shape)
    with contextlib.suppress(Exception):
        record["dtype"] = str(value.dtype)
    record["unreadable"] = f"{type(error).__name__}: {error}".splitlines()[0]
    return record


def collect_tensors(namespace: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every tensor of ``namespace`` that requires grad (and module parameters), with grads.

    >>> import fdiff.torch as torch
    >>> w = torch.ones(2, requires_grad=True)
    >>> (w * 3).sum().backward()
    >>> collect_tensors({"w": w, "n": 1})["w.grad"]
    {'shape': [2], 'dtype': 'torch.float32', 'values': [3.0, 3.0]}
    """
    found: dict[str, Any] = {}
    for name, value in namespace.items():
        if name.startswith("__"):
            continue
        if _is_tensor(value) and value.requires_grad is True:
            found[name] = value
        elif not isinstance(value, type) and callable(getattr(value, "named_parameters", None)):
            with contextlib.suppress(Exception):  # a look-alike object, not a module
                for key, parameter in value.named_parameters():
                    if _is_tensor(parameter) and parameter.requires_grad is True:
                        found[f"{name}.{key}"] = parameter
    records: dict[str, dict[str, Any]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns when a non-leaf's .grad is read
        for name, tensor in found.items():
            records[name] = _tensor_record(tensor)
            try:
                grad = getattr(tensor, "grad", None)
            except Exception as error:  # reading .grad itself raised: record why
                records[f"{name}.grad"] = _unreadable_record(None, error)
                continue
            if grad is not None and _is_tensor(grad):
                records[f"{name}.grad"] = _tensor_record(grad)
    return records


def _public_name(module_name: str) -> str:
    """``fdiff.torch.nn._x`` -> ``torch.nn`` (private parts dropped)."""
    parts = ["torch", *module_name.split(".")[2:]]
    return ".".join(p for p in parts if not p.startswith("_"))


def _unsupported_op(error: BaseException) -> str | None:
    """``op`` of the ``fdiff.torch.UnsupportedError`` that is, or caused, ``error``."""
    unsupported = getattr(sys.modules.get("fdiff.torch"), "UnsupportedError", None)
    if not isinstance(unsupported, type):
        return None  # fdiff.torch not loaded, or without the typed error
    seen: BaseException | None = error
    while seen is not None:  # `from fdiff.torch import x` re-raises it as an ImportError
        if isinstance(seen, unsupported):
            return getattr(seen, "op", None)
        seen = seen.__cause__ or seen.__context__
    return None


def missing_name(error: BaseException, tb: TracebackType | None) -> str | None:
    """torch's name of what ``fdiff.torch`` lacks, if that is why the script failed.

    ``fdiff.torch`` raises ``UnsupportedError`` for whatever it lacks, with torch's name of it in
    ``op``: that is read directly. The other cases are failures that are not that error: an
    ``import torch.x`` of a submodule fdiff.torch does not have (``ModuleNotFoundError``), an
    attribute missing from an fdiff.torch module or object (``AttributeError``: ``error.obj``
    and ``error.name``), a ``from torch import x`` that fails (``ImportError``: its message,
    the only place the two names are) and a ``NotImplementedError`` raised inside fdiff.torch
    (the innermost fdiff.torch frame names the function).

    >>> import fdiff.torch
    >>> try:
    ...     fdiff.torch.fft.fft
    ... except AttributeError as error:
    ...     print(missing_name(error, None))
    torch.fft.fft
    """
    op = _unsupported_op(error)
    if op is not None:
        return op
    if isinstance(error, AttributeError):
        owner = getattr(error, "obj", None)
        if isinstance(owner, ModuleType) and owner.__name__.startswith("fdiff.torch"):
            return f"{_public_name(owner.__name__)}.{error.name}"
        if owner is not None and type(owner).__module__.startswith("fdiff.torch"):
            return f"{type(owner).__name__}.{error.name}"
        return None
    if isinstance(error, ModuleNotFoundError):
        name = error.name or ""
        return name if name == "torch" or name.startswith("torch.") else None
    if isinstance(error, ImportError):
        found = re.match(r"cannot import name '(\w+)' from '(fdiff\.torch[\w.]*)'", str(error))
        return f"{_public_name(found[2])}.{found[1]}" if found else None
    if isinstance(error, NotImplementedError):
        inside = [
            frame
            for frame in traceback.extract_tb(tb)
            if Path(frame.filename).resolve().is_relative_to(_FDIFF_TORCH_DIR)
        ]
        if not inside:
            return None
        path = Path(inside[-1].filename).resolve().relative_to(_FDIFF_TORCH_DIR.parent.parent)
        module = ".".join(path.with_suffix("").parts).removesuffix(".__init__")
        return f"{_public_name(module)}.{inside[-1].name}"
    return None


def error_record(error: BaseException, script: Path, engine: str) -> dict[str, Any]:
    """The ``error`` field: type, message, the script's line, and a missing function's name."""
    tb = error.__traceback__
    frames = [f for f in traceback.extract_tb(tb) if Path(f.filename).resolve() == script]
    if isinstance(error, SyntaxError) and error.filename and Path(error.filename) == script:
        line, source = error.lineno, (error.text or "").strip()
    elif frames:
        line, source = frames[-1].lineno, (frames[-1].line or "").strip()
    else:
        line, source = None, ""
    return {
        "type": type(error).__name__,
        "message": str(error),
        "line": line,
        "source": source,
        "missing": missing_name(error, tb) if engine == "fdiff.torch" else None,
    }


def run_script(script: Path, engine: str) -> dict[str, Any]:
    """Execute ``script`` under ``engine`` and return its record (see the module docstring)."""
    script = script.resolve()
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": str(script)}
    stdout = io.StringIO()
    error = None
    context: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    if engine == "fdiff.torch":
        from fdiff.crosscheck import torch_modules

        context = torch_modules(importlib.import_module("fdiff.torch"))
    sys.argv = [str(script)]
    sys.path.insert(0, str(script.parent))
    with context, contextlib.redirect_stdout(stdout):
        try:
            code = compile(script.read_text(encoding="utf-8"), str(script), "exec")
            exec(code, namespace)  # the user's own script, run as `python SCRIPT` would
        except BaseException as caught:  # every failure is reported, not raised
            if isinstance(caught, KeyboardInterrupt):
                raise
            if not (isinstance(caught, SystemExit) and caught.code in (0, None)):
                error = error_record(caught, script, engine)
    return {
        "engine": engine,
        "stdout": stdout.getvalue(),
        "tensors": collect_tensors(namespace),
        "error": error,
    }


def _finite_or_text(record: dict[str, Any]) -> dict[str, Any]:
    """JSON allows no NaN/inf: write them as the strings "nan", "inf", "-inf"."""
    for tensor in record["tensors"].values():
        if tensor["values"] is not None:
            tensor["values"] = [v if math.isfinite(v) else str(v) for v in tensor["values"]]
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fdiff.compare._runner")
    parser.add_argument("--engine", choices=SCRIPT_ENGINES, required=True)
    parser.add_argument("--out", required=True, help="where to write the JSON record")
    parser.add_argument("script")
    args = parser.parse_args(argv)
    record = _finite_or_text(run_script(Path(args.script), args.engine))
    Path(args.out).write_text(json.dumps(record), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
