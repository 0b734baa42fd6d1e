"""A catalog example's documented quantities, printed alike by its torch program and its port.

``fdiff compare --example ID --against jax`` appends one call to each side: the torch program
evaluates every documented key (a Python expression over its variables: ``"params.grad"``,
``"loss.grad_fn"``, ``"2 * x.data.norm()"``) in its namespace; the catalog's JAX rewrite
returns a dict with those keys. Each side prints ``key = value`` in the catalog's order, a
value as plain text (numbers as a float list, a ``grad_fn`` as its class name), so the two
transcripts line up key by key and their numbers are compared within tolerance. A key one
side cannot give is not printed.

>>> show_documented(["loss", "loss.grad_fn", "ok"], {"loss": [4.0], "loss.grad_fn": "PowBackward0"})
loss = [4.0]
loss.grad_fn = PowBackward0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["show_documented", "shown"]


def shown(value: Any) -> str:
    """``value`` as plain text: None, bools and strings as they are, arrays and tensors as a
    float list, anything else (a ``grad_fn``) by its class name.

    >>> shown(np.float32(0.5)), shown(True), shown(np.arange(2))
    ('0.5', 'True', '[0.0, 1.0]')
    """
    if value is None or isinstance(value, bool | str):
        return str(value)
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        return str(np.asarray(value, dtype=np.float64).tolist())
    except (TypeError, ValueError):
        return type(value).__name__  # torch's grad_fn: its class name, PowBackward0


def show_documented(
    keys: Sequence[str], values: Mapping[str, Any] | None = None, namespace: Any = None
) -> None:
    """Print ``key = value`` per key: from ``values`` (the JAX rewrite's dict), or evaluated
    in ``namespace`` (the torch program's globals); a key that fails or is absent is skipped."""
    for key in keys:
        if namespace is not None:
            try:
                value = eval(key, namespace)  # the catalog's own expression over the program
            except Exception:  # a quantity this program does not have
                continue
        elif values is not None and key in values:
            value = values[key]
        else:
            continue
        print(f"{key} = {shown(value)}")
