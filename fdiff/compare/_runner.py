"""The subprocess side of ``fdiff compare``: run one script under one engine, record the result.

``main(["--engine", "torch" or "fdiff.torch" or "jax", "--out", RECORD.json, "--status-fd", FD,
"--timeout", SECONDS, SCRIPT.py])``, in a ``python -u`` child (:mod:`fdiff.compare._engines`),
imports the engine (real ``torch``, ``fdiff.torch`` installed as ``torch``, or for a pure JAX
port plain ``jax``), writes which torch names of the script exist in it
(:func:`fdiff.compare._scan.write_names`; not for a JAX port), writes
``started`` to file descriptor ``FD`` (from then on the script's timeout runs), executes
``SCRIPT.py`` as ``__main__``, waits for its non-daemon threads, writes one JSON record to
``RECORD.json``, then ``finished`` to ``FD`` (the interpreter's exit, seconds for torch on a
loaded machine, is not the script's time):

- ``engine``: the engine's name;
- ``tensors``: ``{name: {"shape": [int], "dtype": str, "values": [float]}}`` for every global
  tensor that requires grad, every parameter of a global ``nn.Module`` (``model.weight``) and the
  ``.grad`` of each (``x.grad``), values flattened in C order; a tensor whose values cannot be
  read is recorded as ``{"shape", "dtype", "values": null, "unreadable": "Type: message"}``
  (shape and dtype ``null`` where they cannot be read either), never left out; for a JAX port,
  its floating-point global arrays instead (:mod:`fdiff.compare._port_record`);
- ``error``: ``null`` or ``{"type", "message", "line", "source", "missing"}``, where ``line`` is
  the script's line number (``null`` when the failure is outside the script), ``source`` that
  line's text and ``missing`` torch's name of what ``fdiff.torch`` lacks (``"Tensor.logcumsumexp"``,
  ``"torch.fft"``) when that is why the script failed, else ``null`` (see :func:`missing_name`).

What the script prints goes to the runner's own stdout and stderr, unredirected and (with
``-u``) unbuffered, so ``sys.stdout.buffer`` and output from native code work and every line
printed before a crash or a kill reaches the parent (:mod:`fdiff.compare._engines`), which
captures both streams. ``faulthandler`` writes the Python stack to stderr on a fatal signal and
when the timeout passes, so the parent can name the script's line. The record is written once
the script's code and threads have finished; the runner exits 0 whenever it could write it.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import importlib
import io
import json
import math
import os
import re
import sys
import threading
import traceback
import warnings
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

from fdiff.compare._port_record import port_tensors
from fdiff.compare._scan import write_names

SCRIPT_ENGINES = ("torch", "fdiff.torch")
"""What a script can run under: real PyTorch, and ``fdiff.torch`` installed as ``torch``."""
PORT_ENGINES = ("torch", "jax")
"""``fdiff compare --against``: the torch script under real PyTorch, its port under plain JAX."""
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


def _fdiff_class(cls: type) -> str | None:
    """torch's name of the first fdiff.torch class ``cls`` is or derives from (a user's
    ``nn.Module`` subclass: ``"torch.nn.Module"``), ``"Tensor"`` for the tensor class."""
    for base in cls.__mro__:
        if base.__module__.startswith("fdiff.torch"):
            name = base.__name__
            if name == "Tensor":
                return name
            exported = [  # where torch's users find it: torch.nn.Linear, not torch.nn.modules
                public
                for public in ("torch.nn", "torch")
                if getattr(sys.modules.get(f"fdiff.{public}"), name, None) is base
            ]
            return f"{exported[0] if exported else _public_name(base.__module__)}.{name}"
    return None


_PROTOCOLS = (
    (re.compile(r"'(\w+)' object is not subscriptable"), "__getitem__"),
    (re.compile(r"'(\w+)' object does not support item assignment"), "__setitem__"),
    (re.compile(r"object of type '(\w+)' has no len\(\)"), "__len__"),
    (re.compile(r"'(\w+)' object is not iterable"), "__iter__"),
    (re.compile(r"'(\w+)' object is not callable"), "__call__"),
)
"""Python's ``TypeError`` for an object without a protocol method, and that method."""


def _missing_protocol(error: TypeError, tb: TracebackType | None) -> str | None:
    """``"torch.nn.Sequential.__getitem__"`` for ``seq[0]`` on an fdiff.torch object that
    cannot be indexed (its class found by name where the error was raised, or in
    ``fdiff.torch.nn``); ``None`` for other ``TypeError`` s."""
    matches = [(p.fullmatch(str(error)), method) for p, method in _PROTOCOLS]
    found, method = next(((m, method) for m, method in matches if m), (None, ""))
    if found is None:
        return None
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    frame = {} if tb is None else {**tb.tb_frame.f_globals, **tb.tb_frame.f_locals}
    nn = vars(sys.modules["fdiff.torch.nn"]) if "fdiff.torch.nn" in sys.modules else {}
    classes = [type(v) for v in frame.values()] + [c for c in nn.values() if isinstance(c, type)]
    for cls in classes:
        owner = _fdiff_class(cls) if cls.__name__ == found[1] else None
        if owner and not hasattr(cls, method):
            return f"{owner}.{method}"
    return None


def missing_name(error: BaseException, tb: TracebackType | None) -> str | None:
    """torch's name of what ``fdiff.torch`` lacks, if that is why the script failed.

    ``fdiff.torch`` raises ``UnsupportedError`` for whatever it lacks, with torch's name of it in
    ``op``: that is read directly. The other cases are failures that are not that error: an
    ``import torch.x`` of a submodule fdiff.torch does not have (``ModuleNotFoundError``), an
    attribute missing from an fdiff.torch module or object, or an object of a class derived from
    one (``AttributeError``: ``error.obj`` and ``error.name``), an fdiff.torch object that
    cannot be indexed, measured, iterated or called (``TypeError``: ``seq[0]`` gives
    ``"torch.nn.Sequential.__getitem__"``), a ``from torch import x`` that fails
    (``ImportError``: its message, the only place the two names are) and a
    ``NotImplementedError`` raised inside fdiff.torch (the innermost fdiff.torch frame names
    the function).

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
        owner_class = None if owner is None else _fdiff_class(type(owner))
        return f"{owner_class}.{error.name}" if owner_class else None
    if isinstance(error, TypeError):
        return _missing_protocol(error, tb)
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


def _engine_context(engine: str) -> contextlib.AbstractContextManager[Any]:
    """Import the engine (so its import time is not the script's) and install it as ``torch``."""
    if engine == "fdiff.torch":
        from fdiff.crosscheck import torch_modules

        return torch_modules(importlib.import_module("fdiff.torch"))
    importlib.import_module("jax.numpy" if engine == "jax" else "torch")
    return contextlib.nullcontext()


def run_script(script: Path, engine: str) -> dict[str, Any]:
    """Execute ``script`` under ``engine`` and return its record (see the module docstring).

    The engine must be installed already (:func:`_engine_context`); the script prints to the
    process's own stdout.
    """
    script = script.resolve()
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": str(script)}
    error = None
    sys.argv = [str(script)]
    sys.path.insert(0, str(script.parent))
    try:  # compiled from bytes, so a coding cookie (`# -*- coding: latin-1 -*-`) is honoured
        code = compile(script.read_bytes(), str(script), "exec", dont_inherit=True)
        exec(code, namespace)  # the user's own script, run as `python SCRIPT` would
    except BaseException as caught:  # every failure is reported, not raised
        if not (isinstance(caught, SystemExit) and caught.code in (0, None)):
            error = error_record(caught, script, engine)
    finally:
        with contextlib.suppress(Exception):  # a closed or replaced stream is the script's
            sys.stdout.flush()
    _wait_for_threads()
    collect = port_tensors if engine == "jax" else collect_tensors
    return {"engine": engine, "tensors": collect(namespace), "error": error}


def _wait_for_threads() -> None:
    """Let the script's non-daemon threads end, as the interpreter does before it exits.

    ``threading._shutdown`` is that step of the interpreter's exit (it stops idle executors,
    then joins every non-daemon thread); run here, a thread that never ends is still within
    the script's timeout, and the tensors are read once the threads are done.
    """
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:  # else the interpreter's own exit waits for them
        shutdown()


def _finite_or_text(record: dict[str, Any]) -> dict[str, Any]:
    """JSON allows no NaN/inf: write them as the strings "nan", "inf", "-inf"."""
    for tensor in record["tensors"].values():
        if tensor["values"] is not None:
            tensor["values"] = [v if math.isfinite(v) else str(v) for v in tensor["values"]]
    return record


def main(argv: list[str] | None = None) -> int:
    """The child's entry point; by hand, ``python -m fdiff.compare._runner --engine torch
    --out record.json script.py`` runs one engine with the script printing to the terminal
    (``--status-fd`` and ``--timeout`` are what :mod:`fdiff.compare._engines` adds)."""
    parser = argparse.ArgumentParser(prog="fdiff.compare._runner")
    parser.add_argument("--engine", choices=(*SCRIPT_ENGINES, "jax"), required=True)
    parser.add_argument("--out", required=True, help="where to write the JSON record")
    parser.add_argument("--status-fd", type=int, help="`started`, then `finished`, written here")
    parser.add_argument("--timeout", type=float, help="dump the stack after this many seconds")
    parser.add_argument("script")
    args = parser.parse_args(argv)
    faulthandler.enable(all_threads=True)
    status: contextlib.AbstractContextManager[Any] = contextlib.nullcontext(io.StringIO())
    if args.status_fd is not None:
        os.set_inheritable(args.status_fd, False)  # processes the script starts do not hold it
        status = os.fdopen(args.status_fd, "w")
    with _engine_context(args.engine), status as report:
        if args.engine != "jax":
            write_names(Path(args.out), Path(args.script), sys.modules["torch"])  # not timed
        if args.timeout is not None:
            with contextlib.suppress(OverflowError):  # a timeout past faulthandler's range
                faulthandler.dump_traceback_later(args.timeout)  # before the parent's clock
        report.write("started\n")
        report.flush()
        record = run_script(Path(args.script), args.engine)
        faulthandler.cancel_dump_traceback_later()
        Path(args.out).write_text(json.dumps(_finite_or_text(record)), encoding="utf-8")
        report.write("finished\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
