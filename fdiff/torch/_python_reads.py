"""Values of a recording read into Python, and the :class:`~fdiff.errors.TraceWarning` they cause.

``functionalize(out)`` turns the recorded program into a pure function of its leaves; like
``torch.jit.trace``, the function replays the ops that ran, so Python control flow that
depended on a recorded value (``if h.sum() > 0:``) is frozen in the branch taken when it was
recorded. Every read of a recorded value into Python (``bool()``, ``if``, ``.item()``,
``float()``, ``int()``, an index, ``.tolist()``) is noted here, with the user's line and the
leaf values it was computed from; :func:`warn_frozen_reads` warns once per such read that
happened before ``out`` was computed and depends on the leaves (at the versions) ``out`` used.
Reads of other recordings (an earlier step of a training loop, whose weights were updated
since) and reads after ``out`` existed (``print(loss.item())``) do not warn.

The log keeps the last :data:`READS_KEPT` reads, weakly: a read holds no tensor or array alive.
"""

from __future__ import annotations

import collections
import linecache
import sys
import types
import warnings
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from fdiff.errors import TraceWarning
from fdiff.torch import _graph
from fdiff.torch._capture import leaf_key

__all__ = ["READS_KEPT", "note_derived", "note_read", "warn_frozen_reads"]

READS_KEPT = 1024
"""How many reads of recorded values the log keeps (the oldest are dropped)."""

_PACKAGE = str(Path(__file__).resolve().parents[1])
_HOW = types.MappingProxyType(
    {
        "__bool__": "bool() (an `if`, `while`, `and`/`or` or comparison chain)",
        "__float__": "float()",
        "__int__": "int()",
        "__index__": "an index",
        "item": ".item()",
        "tolist": ".tolist()",
    }
)


class Read(NamedTuple):
    """One recorded value read into Python: when, how, at which line of which file, and which
    leaf values it used."""

    time: int
    how: str
    filename: str | None
    line: int
    leaf_values: tuple[weakref.ref, ...]

    @property
    def where(self) -> str:
        """``"file:line (`source`)"`` (the source looked up only when a warning needs it)."""
        if self.filename is None:
            return "an unknown line"
        source = linecache.getline(self.filename, self.line).strip()
        return f"{self.filename}:{self.line}" + (f" (`{source}`)" if source else "")


_reads: collections.deque[Read] = collections.deque(maxlen=READS_KEPT)
_derived: dict[int, tuple[weakref.ref, tuple[Any, ...]]] = {}
"""By ``id``: tensors a non-differentiable op (a comparison, ``argmax``) computed from recorded
values, and the edges (nodes, leaf edges) they came from; an entry ends with its tensor."""


def _edge(tensor: Any) -> Any:
    if tensor._node is not None:
        return tensor._node
    if tensor._requires_grad:
        return _graph.AccumulateGrad(tensor, tensor._value)
    return _derived.get(id(tensor), (None, ()))[1]


def note_derived(result: Any, args: tuple[Any, ...]) -> None:
    """Note that ``result``, which has no recorded program (a comparison, ``argmax``), was
    computed from ``args``, some of them recorded: a read of ``result`` reads them too."""
    edges = tuple(_edge(a) for a in args if hasattr(a, "_node"))
    key = id(result)
    _derived[key] = (weakref.ref(result, lambda _: _derived.pop(key, None)), edges)


_leaves_below: weakref.WeakKeyDictionary[_graph.Node, tuple[weakref.ref, ...]] = (
    weakref.WeakKeyDictionary()
)
"""The leaf values found below a node already read: a second read walks no further."""


def _leaf_values(root: Any) -> tuple[weakref.ref, ...]:
    """Weak references to the leaf arrays (the values as recorded) below ``root``.

    A node pending in a capture trace finds them by input slot: the trie position the trace has
    reached fixes the graph below each of its nodes, so a repeated step walks no graph."""
    trace = getattr(root, "trace", None)
    if trace is None or root.__class__ is not _graph.Node:
        return _walk_leaf_values(root)
    below = trace.cursor.leaf_slots
    slots = below.get(root.index, False)
    if slots is False:
        slots = below[root.index] = _leaf_slots(trace, root)
    if slots is None:
        return _walk_leaf_values(root)
    return tuple(weakref.ref(trace.leaves[slot].value) for slot in slots)


def _leaf_slots(trace: Any, root: _graph.Node) -> tuple[int, ...] | None:
    """The trace's input slots of the leaves below ``root``, or ``None`` when its graph leaves
    the trace."""
    slots: set[int] = set()
    seen: set[int] = set()
    stack: list[Any] = [root]
    while stack:
        edge = stack.pop()
        if isinstance(edge, _graph.AccumulateGrad):
            slot = trace.input_slots.get(leaf_key(edge))
            if slot is None:
                return None
            slots.add(slot)
        elif isinstance(edge, _graph.Node) and id(edge) not in seen:
            if edge.trace is not trace:
                return None
            seen.add(id(edge))
            stack.extend(edge.inputs)
        elif isinstance(edge, _graph.Rebased | tuple):
            return None
    return tuple(sorted(slots))


def _walk_leaf_values(root: Any) -> tuple[weakref.ref, ...]:
    seen: set[int] = set()
    found: dict[int, weakref.ref] = {}
    stack: list[Any] = [root]
    while stack:
        edge = stack.pop()
        if isinstance(edge, _graph.Rebased):
            edge = edge.node
        if isinstance(edge, _graph.AccumulateGrad):
            found.setdefault(id(edge.value), weakref.ref(edge.value))
        elif isinstance(edge, _graph.Node) and id(edge) not in seen:
            seen.add(id(edge))
            known = _leaves_below.get(edge)
            if known is None:
                stack.extend(edge.inputs)
            else:
                for ref in known:
                    value = ref()
                    if value is not None:
                        found.setdefault(id(value), ref)
        elif isinstance(edge, tuple):  # the edges a derived tensor came from
            stack.extend(edge)
    leaves = tuple(found.values())
    if isinstance(root, _graph.Node):
        _leaves_below[root] = leaves
    return leaves


def _user_frame() -> tuple[str, str | None, int]:
    """``(how, filename, line)``: the read's kind and the first frame outside fdiff."""
    frame = sys._getframe(2)
    how = "a Python read"
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        how = _HOW.get(frame.f_code.co_name, how)
        frame = frame.f_back
    if frame is None:
        return how, None, 0
    return how, frame.f_code.co_filename, frame.f_lineno


def note_read(tensor: Any) -> None:
    """Note that ``tensor``'s value is being read into Python (a no-op for a tensor with no
    recorded program: a leaf, or a value computed without grad)."""
    edge = tensor._node if tensor._node is not None else _derived.get(id(tensor), (None, None))[1]
    if edge is None:
        return
    _reads.append(Read(next(_graph._SEQUENCE), *_user_frame(), _leaf_values(edge)))


def frozen_reads(output_node: _graph.Node, leaves: Iterable[_graph.AccumulateGrad]) -> list[Read]:
    """The noted reads that came before ``output_node`` and used any of ``leaves``' values."""
    values = {id(leaf.value) for leaf in leaves}  # alive: ``leaves`` hold them
    return [
        read
        for read in _reads
        if read.time < output_node.sequence
        and any(
            id(value) in values
            for value in (ref() for ref in read.leaf_values)
            if value is not None
        )
    ]


def warn_frozen_reads(
    output_node: _graph.Node, leaves: Iterable[_graph.AccumulateGrad], stacklevel: int
) -> None:
    """Warn (:class:`~fdiff.errors.TraceWarning`) once per read :func:`frozen_reads` finds."""
    for read in frozen_reads(output_node, leaves):
        warnings.warn(
            f"functionalize: the recorded program read a value computed from its arguments "
            f"into Python through {read.how} at {read.where}. The function replays the ops "
            "that ran when it was recorded, so Python control flow that depended on that "
            "value is frozen: other arguments may take another branch in eager torch, never "
            "in this function (as with torch.jit.trace). Write the choice with `torch.where`, "
            "or run the torch-style code itself under the JAX transform.",
            TraceWarning,
            stacklevel=stacklevel + 1,
        )
