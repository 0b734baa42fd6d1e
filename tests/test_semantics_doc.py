"""Every ```python snippet of docs/semantics.md runs, and its own asserts pass."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).parent.parent / "docs" / "semantics.md"
_FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def snippets() -> list[tuple[str, str]]:
    """``(heading, code)`` for every python block, named by the heading above it."""
    text = DOC.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        headings = re.findall(r"^#+ (.+)$", text[: match.start()], re.MULTILINE)
        found.append((headings[-1] if headings else "top", match.group(1)))
    return found


def test_every_mapping_row_and_difference_has_a_snippet():
    names = [name for name, _ in snippets()]
    assert len(names) >= 12
    for topic in (
        "dtype",
        "In-place",
        "Integer",
        "non-differentiable",
        "NaN trap",
        "NCHW",
        "Random",
        "Reduction",
        "accumulation",
    ):
        assert any(topic in name for name in names), topic
    for name, code in snippets():
        assert "assert" in code, f"the snippet under `{name}` checks nothing"


SLOW_HEADINGS = (
    "Port rule",
    "Torch-style recordings",
    "`torch.func` and `torch.autograd.functional`",
)
"""Snippets that compile a dozen small JAX programs each: run in the slow profile, to keep the
default run within its budget."""


@pytest.mark.parametrize(
    ("heading", "code"),
    [
        pytest.param(n, c, id=n, marks=[pytest.mark.slow] if n.startswith(SLOW_HEADINGS) else [])
        for n, c in snippets()
    ],
)
def test_snippet_runs(heading, code):
    exec(compile(code, f"{DOC.name}: {heading}", "exec"), {"__name__": "__semantics__"})
