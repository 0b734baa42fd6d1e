"""Where backward hooks are kept, and the handle that removes one (see ``_hooks``).

The tables are weak: a hook lives as long as the tensor or node it is registered on.

>>> table = HookTable()
>>> class Owner: ...
>>> owner = Owner()
>>> handle = register(table, owner, print)
>>> list(table.get(owner).values()), handle.remove(), table.get(owner)
([<built-in function print>], None, {})
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from typing import Any


class HookTable:
    """Hooks by owner (a tensor or node), compared by identity (a tensor's ``==`` is
    elementwise), each owner's a dict ``id -> hook`` in registration order, dropped with it."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref, dict]] = {}

    def get(self, owner: Any) -> dict:
        entry = self._entries.get(id(owner))
        return entry[1] if entry is not None and entry[0]() is owner else {}

    def hooks_of(self, owner: Any) -> dict:
        """The owner's hook dict, created on first use."""
        entry = self._entries.get(id(owner))
        if entry is None or entry[0]() is not owner:
            key = id(owner)
            ref = weakref.ref(owner, lambda _: self._entries.pop(key, None))
            entry = self._entries[key] = (ref, {})
        return entry[1]


# a leaf tensor's hooks, a non-leaf tensor's (on its node, as torch keeps them on grad_fn), a
# node's pre-hooks, a leaf's post-accumulate hooks
leaf_hooks = HookTable()
node_hooks = HookTable()
pre_hooks = HookTable()
post_hooks = HookTable()  # a node's hooks (grad_fn.register_hook)
post_accumulate_hooks = HookTable()
_ids = itertools.count()


class RemovableHandle:
    """What ``register_*hook`` returns: ``remove()`` unregisters the hook."""

    def __init__(self, hooks: dict) -> None:
        self.id = next(_ids)
        self._hooks = hooks

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def register(table: HookTable, owner: Any, hook: Callable) -> RemovableHandle:
    """Add ``hook`` to ``owner``'s hooks in ``table``."""
    hooks = table.hooks_of(owner)
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle
