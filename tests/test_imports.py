"""The package's import structure: every module imports on its own, and no import cycle exists.

A cycle makes the import order matter (a module seen half-initialized) and hides which part
depends on which; the static check reads every ``import`` and ``from`` statement, those inside
functions and under ``if TYPE_CHECKING`` included, so a lazy import does not hide one.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import fdiff

PACKAGE = Path(fdiff.__file__).resolve().parent
ROOT = PACKAGE.parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
RUN_AS_SCRIPT = {"fdiff.__main__"}  # runs the CLI when imported: checked through `python -m`


def _imported(module: str, path: Path) -> set[str]:
    """The fdiff modules ``module`` imports, by any import statement anywhere in its source."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:  # `from package import submodule` imports the submodule
                submodule = f"{source}.{alias.name}"
                found.add(submodule if submodule in MODULES else source)
    return {name for name in found if name in MODULES and name != module}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as ``[a, b, ..., a]``, or None (iterative depth-first search)."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" after
    for root in sorted(graph):
        if root in state:
            continue
        path, stack = [root], [iter(sorted(graph[root]))]
        state[root] = "open"
        while stack:
            following = next(stack[-1], None)
            if following is None:
                state[path.pop()] = "done"
                stack.pop()
            elif state.get(following) == "open":
                return [*path[path.index(following) :], following]
            elif following not in state:
                state[following] = "open"
                path.append(following)
                stack.append(iter(sorted(graph[following])))
    return None


def test_cycle_finder_finds_a_cycle_and_accepts_a_tree():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_static_import_graph_has_no_cycle():
    graph = {module: _imported(module, path) for module, path in MODULES.items()}
    assert graph["fdiff.compare"] >= {"fdiff.compare._report", "fdiff.compare._rules"}
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


_IMPORT_EACH = """
import importlib, json, sys, traceback
failures = {}
for name in json.loads(sys.argv[1]):
    # forget every fdiff module first, so that `name` is imported as if on its own (JAX,
    # NumPy and matplotlib stay loaded: they are not fdiff's, and reloading them is slow)
    for loaded in [m for m in sys.modules if m == "fdiff" or m.startswith("fdiff.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception:
        failures[name] = traceback.format_exc().strip().splitlines()[-1]
print(json.dumps(failures))
"""


@pytest.mark.slow  # one import per module from a clean slate: ~25 s, in the slow profile
def test_every_module_imports_in_isolation():
    names = sorted(set(MODULES) - RUN_AS_SCRIPT)
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH, json.dumps(names)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert json.loads(done.stdout) == {}


def test_python_dash_m_fdiff_runs_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "fdiff", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0 and "compare" in done.stdout


def test_package_exports_resolve_and_match_all():
    exported = {name for names in fdiff._SOURCES.values() for name in names}
    assert exported == set(fdiff.__all__)
    for name in fdiff.__all__:
        assert getattr(fdiff, name).__name__ == name
