"""Where a script draws random numbers before seeding its generator, read from its syntax tree.

``fdiff compare`` explains a difference by unseeded randomness only when the script calls a
drawing function (``torch.rand``, ``x.normal_``, ``nn.Linear``, ``np.random.normal``,
``random.random``) before any call that seeds that generator (``torch.manual_seed``,
``np.random.seed``, ``random.seed``, ``default_rng(seed)``). Names in comments and strings,
JAX's keyed ``jax.random`` and a seed call written as ``torch.random.manual_seed`` do not count.

>>> first_unseeded_draw("import torch\\ntorch.manual_seed(0)\\nx = torch.rand(2)\\n")
>>> first_unseeded_draw("import torch as t\\nx = t.randn(2)\\nt.manual_seed(0)\\n")
('torch', 'torch.randn')
"""

from __future__ import annotations

import ast
import re

__all__ = ["first_unseeded_draw"]

_TORCH_DRAW = re.compile(
    r"torch\.(?:rand|randn|randint|rand_like|randn_like|randperm|normal|bernoulli|multinomial)"
    r"|torch\.nn\.(?:Linear|Conv[123]d|Bilinear)"
)
_TORCH_DRAW_METHODS = frozenset({"uniform_", "normal_", "random_", "bernoulli_", "exponential_"})
_TORCH_SEED = re.compile(r"torch\.(?:random\.)?manual_seed")
_OTHER_DRAW = re.compile(r"numpy\.random\.\w+|random\.\w+")
_OTHER_SEED = re.compile(r"numpy\.random\.(?:seed|default_rng|RandomState)|random\.seed")
_NOT_DRAWS = re.compile(
    r"numpy\.random\.(?:default_rng|RandomState|Generator|get_state)|random\.(?:Random|getstate)"
)


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local names of imported modules and names: ``{"np": "numpy", "nn": "torch.nn"}``."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.partition(".")[0]] = (
                    alias.name if alias.asname else alias.name.partition(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a chain of attribute reads on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _kind(call: ast.Call, aliases: dict[str, str]) -> tuple[str, str, bool] | None:
    """``(generator, name, seeds)`` for a call that draws from or seeds a generator."""
    dotted = _dotted(call.func)
    if dotted is None:
        return None
    head, _, rest = dotted.partition(".")
    full = aliases.get(head, head) + (f".{rest}" if rest else "")
    if _TORCH_SEED.fullmatch(full):
        return "torch", full, True
    if _TORCH_DRAW.fullmatch(full):
        return "torch", full, False
    if isinstance(call.func, ast.Attribute) and call.func.attr in _TORCH_DRAW_METHODS:
        return "torch", f".{call.func.attr}", False
    if not full.startswith(("numpy.random.", "random.")):
        return None
    if _OTHER_SEED.fullmatch(full):
        seeded = not full.endswith(("default_rng", "RandomState")) or bool(call.args)
        return ("other", full, True) if seeded else None
    if _OTHER_DRAW.fullmatch(full) and not _NOT_DRAWS.fullmatch(full):
        return "other", full, False
    return None


def first_unseeded_draw(source: str) -> tuple[str, str] | None:
    """``(generator, call)`` of the first call that draws from a generator (``"torch"`` or
    ``"other"``: NumPy's or Python's) not seeded before it, in source order; None when every
    draw comes after a seed, or the source does not parse."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    aliases = _aliases(tree)
    calls = sorted(
        (node for node in ast.walk(tree) if isinstance(node, ast.Call)),
        key=lambda node: (node.lineno, node.col_offset),
    )
    seeded: set[str] = set()
    for call in calls:
        kind = _kind(call, aliases)
        if kind is None:
            continue
        generator, name, seeds = kind
        if seeds:
            seeded.add(generator)
        elif generator not in seeded:
            return generator, name
    return None
