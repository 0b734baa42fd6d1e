"""fdiff.torch's shape: op-table references resolve, no string lookups, no import cycles."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from fdiff.torch import _layer_ops, _nn_ops, _ops, _shape_ops
from fdiff.torch._opspec import OPS, OpSpec

PACKAGE = Path(_ops.__file__).parent
SOURCES = sorted(PACKAGE.rglob("*.py"))
IMPORTS = ast.Import | ast.ImportFrom
TABLES = {"ops": _ops, "shape_ops": _shape_ops, "nn_ops": _nn_ops, "layer_ops": _layer_ops}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent.parent).with_suffix("").parts
    return ".".join(parts).removesuffix(".__init__")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_every_op_reference_names_a_registered_op(path):
    """``ops.name`` inside a function runs only when called: check every one resolves now."""
    for alias, name in re.findall(r"\b(ops|shape_ops|nn_ops|layer_ops)\.(\w+)", path.read_text()):
        spec = getattr(TABLES[alias], name, None)
        assert isinstance(spec, OpSpec), f"{path.name}: {alias}.{name} is not an op"
        assert OPS[spec.name] is spec


def test_no_op_is_looked_up_by_string():
    for path in SOURCES:
        assert 'OPS["' not in path.read_text() and "OPS[f" not in path.read_text(), path


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The fdiff.torch modules ``path`` imports, by their most specific importable name."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("fdiff.torch"):
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("fdiff.torch"))
    return found & set(modules)


def test_the_import_graph_has_no_cycle_and_no_import_inside_a_function():
    modules = {_module_name(p): p for p in SOURCES}
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    for name, path in modules.items():
        for function in ast.walk(ast.parse(path.read_text())):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = [n for n in ast.walk(function) if isinstance(n, IMPORTS)]
                assert not inner, f"{name}.{function.name} imports inside a function"
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            raise AssertionError("import cycle: " + " -> ".join((*path, name)))
        if name in done:
            return
        for dependency in graph[name]:
            if dependency != "fdiff.torch":  # the package itself: its __init__ imports last
                visit(dependency, (*path, name))
        done.add(name)

    for name in graph:
        visit(name, ())
