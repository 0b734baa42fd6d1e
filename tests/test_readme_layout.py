"""README's Layout section names exactly what is in fdiff/ (examples/ as a folder)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS_LISTED_WHOLE = ("fdiff/examples",)


def _listed() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Layout\n", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.DOTALL)[1]
    return [line.split()[0] for line in block.splitlines() if line.strip()]


def _in_tree() -> set[str]:
    found = set()
    for path in (ROOT / "fdiff").rglob("*"):
        name = path.relative_to(ROOT).as_posix()
        if "__pycache__" in name or name.startswith(tuple(f"{f}/" for f in FOLDERS_LISTED_WHOLE)):
            continue
        is_package = path.is_dir() and (path / "__init__.py").exists()
        if is_package:
            found.add(f"{name}/")
        elif path.suffix == ".py" and not (
            path.name == "__init__.py" and name != "fdiff/__init__.py"
        ):
            found.add(name)
    return found


def test_layout_lists_every_module_and_package_and_nothing_else():
    listed = _listed()
    assert len(listed) == len(set(listed)), "listed twice"
    assert {p for p in listed if p.startswith("fdiff/")} == _in_tree()
    for path in listed:
        assert (ROOT / path).exists(), path
