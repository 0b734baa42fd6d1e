"""Every torch name a script uses, found without running it, so ``fdiff compare`` can list all
that ``fdiff.torch`` lacks in one run, not one per run.

:func:`scan_source` reads the script's syntax tree: the dotted names under an alias of torch
or of one of its modules (``torch.fft.fft``, ``nn.Linear``, ``F.relu``, a ``from torch.nn
import Linear``), and every other attribute the script reads (``.logcumsumexp``, ``.half``):
the candidate ``Tensor`` and ``nn.Module`` methods. A method is matched by name, since the
receiver's type is not known before the run: ``a.half()`` on a NumPy array counts as
``Tensor.half``; attributes the script defines itself (``def half``, ``self.half = ...``) and
those of other imported modules (``np.half``) are left out.

:func:`resolve` runs in each engine's runner, before the script: it looks every scanned name up
in the engine (``Tensor.x`` and ``torch.nn.Module.x`` for each attribute ``x``) and says which
exist. A name torch has and ``fdiff.torch`` lacks is unsupported; a name neither has is the
script's own mistake, which both engines then raise alike (:attr:`Report.unsupported
<fdiff.compare.Report.unsupported>`).

>>> names = scan_source("import torch\\nimport numpy as np\\nx = torch.ones(2)\\ny = x.cumsum(0)\\n"
...                     "np.cumsum(1)\\n")
>>> names.dotted, names.attributes
({'torch': 1, 'torch.ones': 3}, {'cumsum': 4})
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import json
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = [
    "ScriptNames",
    "names_path",
    "read_names",
    "resolve",
    "scan_source",
    "write_names",
]

METHOD_OWNERS = ("Tensor", "torch.nn.Module")
"""Where an attribute the script reads on an object of unknown type may come from."""


@dataclasses.dataclass(frozen=True)
class ScriptNames:
    """The torch names a script uses, each with the first line that uses it."""

    dotted: dict[str, int]
    """Full torch names, ``{"torch.nn.functional.relu": 7}``."""
    attributes: dict[str, int]
    """Attributes read on other objects, ``{"cumsum": 9}``."""

    def candidates(self) -> dict[str, int]:
        """Every name to look up: the dotted names, and ``OWNER.attr`` for each attribute."""
        methods = {
            f"{owner}.{name}": line
            for name, line in self.attributes.items()
            for owner in METHOD_OWNERS
        }
        return {**self.dotted, **methods}


class _Scanner(ast.NodeVisitor):
    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}  # a local name -> the torch name it stands for
        self.others: set[str] = set()  # local names of other imported modules
        self.defined: set[str] = set()  # attribute and function names the script defines
        self.dotted: dict[str, int] = {}
        self.attributes: dict[str, int] = {}

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == "torch" or alias.name.startswith("torch."):
                local = alias.asname or "torch"
                self.aliases[local] = alias.name if alias.asname else "torch"
                self.dotted.setdefault(alias.name, node.lineno)
            else:
                self.others.add(alias.asname or alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for alias in node.names:
            local = alias.asname or alias.name
            if node.level == 0 and (module == "torch" or module.startswith("torch.")):
                if alias.name != "*":
                    self.aliases[local] = f"{module}.{alias.name}"
                    self.dotted.setdefault(f"{module}.{alias.name}", node.lineno)
            else:
                self.others.add(local)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.defined.add(node.name)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain, root = [node.attr], node.value
        while isinstance(root, ast.Attribute):
            chain.append(root.attr)
            root = root.value
        if isinstance(root, ast.Name) and root.id in self.aliases:
            name = ".".join([self.aliases[root.id], *reversed(chain)])
            self.dotted.setdefault(name, node.lineno)
        elif isinstance(root, ast.Name) and root.id in self.others:
            pass  # np.random.rand: another library's names
        elif isinstance(node.ctx, ast.Load):
            self.attributes.setdefault(node.attr, node.lineno)
            self.visit(node.value)
        else:
            self.defined.add(node.attr)  # self.cumsum = ...: the script's own
            self.visit(node.value)


def scan_source(source: str) -> ScriptNames:
    """The torch names ``source`` uses (see the module docstring); it must compile.

    >>> scan_source("from torch import nn\\nimport torch.nn.functional as F\\n"
    ...             "F.relu(nn.Linear(2, 2).half())\\n").dotted
    {'torch.nn': 1, 'torch.nn.functional': 2, 'torch.nn.functional.relu': 3, 'torch.nn.Linear': 3}
    """
    scanner = _Scanner()
    scanner.visit(ast.parse(source))
    attributes = {n: line for n, line in scanner.attributes.items() if n not in scanner.defined}
    return ScriptNames(scanner.dotted, attributes)


def _lookup(root: ModuleType, name: str, absent: tuple[type, ...]) -> bool:
    """Whether ``name`` (``torch.a.b``, ``Tensor.x``) exists in the engine ``root`` is."""
    first, *parts = name.split(".")
    found: Any = root.Tensor if first == "Tensor" else root
    for index, part in enumerate(parts):
        try:
            found = getattr(found, part)
        except AttributeError:
            if not isinstance(found, ModuleType) or root.__name__ != "torch":
                return False
            try:  # a submodule real torch does not import by itself (torch.utils.data)
                found = importlib.import_module(".".join(["torch", *parts[: index + 1]]))
            except ImportError:
                return False
        if isinstance(found, absent):
            return False
    return True


def resolve(names: ScriptNames, root: ModuleType) -> dict[str, bool]:
    """Which of the scanned names exist in the engine whose top module is ``root`` (real
    ``torch``, or ``fdiff.torch``, whose stand-ins for modules it lacks count as absent).

    >>> import fdiff.torch
    >>> resolve(scan_source("import torch\\ntorch.ones(1)\\ntorch.special.zeta\\n"), fdiff.torch)
    {'torch': True, 'torch.ones': True, 'torch.special.zeta': False}
    """
    missing_module = getattr(sys.modules.get("fdiff.torch._missing"), "MissingModule", None)
    absent = (missing_module,) if isinstance(missing_module, type) else ()
    found = {}
    for name in names.candidates():
        try:
            found[name] = _lookup(root, name, absent)
        except Exception:  # a lookup the engine fails in its own way: not usable either
            found[name] = False
    return found


def names_path(record: Path) -> Path:
    """Where the runner writing ``record`` writes the names it resolved (before the script)."""
    return record.with_name(f"{record.stem}.names.json")


def read_names(record: Path) -> dict[str, Any]:
    """``{"lines": {name: line}, "found": {name: bool}}`` written next to ``record``, or
    empty ones when the runner wrote none (it did not start, or the scan failed)."""
    try:
        return json.loads(names_path(record).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"lines": {}, "found": {}}


def write_names(record: Path, script: Path, root: ModuleType) -> None:
    """Scan ``script`` (decoded as Python does) and write its names, and which exist in the
    engine ``root``, to :func:`names_path` of ``record``; nothing for a script that does not
    compile (its run reports that)."""
    try:
        names = scan_source(importlib.util.decode_source(script.read_bytes()))
    except (OSError, SyntaxError, ValueError):
        return
    with warnings.catch_warnings():  # a deprecated name warns on look-up: not the script's
        warnings.simplefilter("ignore")
        found = {"lines": names.candidates(), "found": resolve(names, root)}
    names_path(record).write_text(json.dumps(found), encoding="utf-8")
