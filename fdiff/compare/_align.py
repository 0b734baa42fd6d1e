"""Lining up two sequences in near-linear time: patience diff, then Myers within a step budget.

:func:`align` returns the pairs ``(i, j)`` with ``a[i] == b[j]`` that it matched, increasing in
both ``i`` and ``j``. It works on gaps, starting with the whole of both sequences:

1. the gap's common prefix and suffix are matched (linear);
2. *patience*: the lines that occur exactly once in the gap on both sides are matched along
   their longest increasing run (``O(k log k)``), and each gap between two such anchors is
   aligned the same way;
3. a gap with no such line is aligned by Myers' ``O((N + M) D)`` shortest edit script on the
   lines the other side has too (the others can only be edits), as long as the
   :class:`StepBudget` lasts; a gap left when it runs out stays unmatched (the caller
   pairs its lines by position).

Every comparison, count and Myers step is charged to the budget (ten steps per line, and at
most a million of them in Myers' search by default), so the work is bounded by
``StepBudget.limit`` plus a linear pass, whatever the input; within the budget the result is
an optimal alignment wherever Myers ran and patience's (usually what a reader expects) where
unique lines anchor it.

>>> align("abcxdz", "abcydz")
[(0, 0), (1, 1), (2, 2), (4, 4), (5, 5)]
>>> align(["x", "y"] * 3, ["y", "x"] * 3)
[(1, 0), (2, 1), (3, 2), (4, 3), (5, 4)]
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
from collections import Counter
from collections.abc import Hashable, Sequence

__all__ = ["StepBudget", "align"]

Pair = tuple[int, int]


@dataclasses.dataclass
class StepBudget:
    """How many elementary steps an alignment may take, ``limit``, of which at most
    ``search_limit`` in Myers' search; ``spent`` and ``searched`` count them.

    >>> StepBudget.for_sizes(10, 20)
    StepBudget(limit=1000300, search_limit=1000000, spent=0, searched=0)
    """

    limit: int
    search_limit: int = 1_000_000
    spent: int = 0
    searched: int = 0

    @classmethod
    def for_sizes(cls, n: int, m: int, search_limit: int = 1_000_000) -> StepBudget:
        """The default: ten steps per line, plus ``search_limit`` steps of search (a million
        take a second or two)."""
        return cls(search_limit + 10 * (n + m), search_limit)

    def spend(self, steps: int) -> bool:
        """Charge ``steps``; ``True`` while the budget is not exhausted."""
        self.spent += steps
        return self.spent <= self.limit

    def search(self, steps: int) -> bool:
        """Charge ``steps`` of Myers' search; ``True`` while neither limit is reached."""
        self.searched += steps
        return self.spend(steps) and self.searched <= self.search_limit


def _longest_increasing(pairs: list[Pair]) -> list[Pair]:
    """The longest run of ``pairs`` (sorted by ``i``) increasing in ``j`` (patience sorting)."""
    tops: list[int] = []  # tops[k]: the smallest j ending a run of length k + 1
    ends: list[int] = []  # the index into pairs of that run's last pair
    back = [-1] * len(pairs)
    for index, (_, j) in enumerate(pairs):
        k = bisect.bisect_left(tops, j)
        if k == len(tops):
            tops.append(j)
            ends.append(index)
        else:
            tops[k], ends[k] = j, index
        back[index] = ends[k - 1] if k else -1
    run, index = [], ends[-1] if ends else -1
    while index >= 0:
        run.append(pairs[index])
        index = back[index]
    return run[::-1]


def _anchors(
    a: Sequence[Hashable], b: Sequence[Hashable], gap: tuple[int, int, int, int]
) -> tuple[list[Pair], set[Hashable]]:
    """The gap's patience anchors, and the items its two sides share at all."""
    a0, a1, b0, b1 = gap
    count_a, count_b = Counter(a[a0:a1]), Counter(b[b0:b1])
    where_b = {b[j]: j for j in range(b0, b1) if count_b[b[j]] == 1}
    pairs = [
        (i, where_b[a[i]])
        for i in range(a0, a1)
        if count_a[a[i]] == 1 and a[i] in where_b  # unique on both sides
    ]
    return _longest_increasing(pairs), count_a.keys() & count_b.keys()


def _search(
    a: Sequence[Hashable],
    b: Sequence[Hashable],
    gap: tuple[int, int, int, int],
    shared: set[Hashable],
    budget: StepBudget,
) -> list[Pair]:
    """Myers on the gap's items that the other side has too (an item it lacks can only be
    an edit: leaving it out shrinks both the input and the edit distance), mapped back."""
    a0, a1, b0, b1 = gap
    left = [i for i in range(a0, a1) if a[i] in shared]
    right = [j for j in range(b0, b1) if b[j] in shared]
    found = _myers([a[i] for i in left], [b[j] for j in right], budget)
    return [(left[i], right[j]) for i, j in found or ()]


def _myers(a: Sequence[Hashable], b: Sequence[Hashable], budget: StepBudget) -> list[Pair] | None:
    """A shortest edit script's matched pairs, or ``None`` when the budget runs out first."""
    n, m = len(a), len(b)
    previous: dict[int, int] = {1: 0}
    trace: list[dict[int, int]] = []
    for d in range(n + m + 1):
        furthest: dict[int, int] = {}
        steps = 0
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and previous[k - 1] < previous[k + 1]):
                x = previous[k + 1]  # a step down: b[y] inserted
            else:
                x = previous[k - 1] + 1  # a step right: a[x] deleted
            y = x - k
            start = x
            while x < n and y < m and a[x] == b[y]:
                x, y = x + 1, y + 1
            steps += 1 + x - start
            furthest[k] = x
            if x >= n and y >= m:
                trace.append(furthest)
                budget.search(steps)
                return _myers_pairs(trace, n, m)
        trace.append(furthest)
        previous = furthest
        if not budget.search(steps):
            return None
    raise AssertionError("unreachable: d = n + m always reaches the end")


def _myers_pairs(trace: list[dict[int, int]], n: int, m: int) -> list[Pair]:
    """Walk Myers' trace back from ``(n, m)``, collecting the diagonal (matched) steps."""
    pairs: list[Pair] = []
    x, y = n, m
    for d in range(len(trace) - 1, 0, -1):
        previous, k = trace[d - 1], x - y
        down = k == -d or (k != d and previous[k - 1] < previous[k + 1])
        prev_k = k + 1 if down else k - 1
        prev_x = previous[prev_k]
        prev_y = prev_x - prev_k
        snake_x = prev_x if down else prev_x + 1
        while x > snake_x:
            x, y = x - 1, y - 1
            pairs.append((x, y))
        x, y = prev_x, prev_y
    while x > 0 and y > 0:
        x, y = x - 1, y - 1
        pairs.append((x, y))
    return pairs[::-1]


def align(
    a: Sequence[Hashable],
    b: Sequence[Hashable],
    budget: StepBudget | None = None,
    *,
    search: bool = True,
) -> list[Pair]:
    """Matched pairs ``(i, j)`` (``a[i] == b[j]``, increasing in both) lining ``a`` up with ``b``.

    Args:
        a, b: the sequences (of hashable items, such as lines).
        budget: the :class:`StepBudget` to charge, shared by calls that should share one;
            :meth:`StepBudget.for_sizes` by default.
        search: run Myers on gaps that patience leaves; ``False`` matches only common ends and
            unique lines.

    >>> align(["a", "b", "c"], ["a", "c"])
    [(0, 0), (2, 1)]
    """
    budget = budget or StepBudget.for_sizes(len(a), len(b))
    pairs: list[Pair] = []
    gaps = [(0, len(a), 0, len(b))]
    while gaps:
        a0, a1, b0, b1 = gaps.pop()
        start = a0
        while a0 < a1 and b0 < b1 and a[a0] == b[b0]:
            pairs.append((a0, b0))
            a0, b0 = a0 + 1, b0 + 1
        end = a1
        while a0 < a1 and b0 < b1 and a[a1 - 1] == b[b1 - 1]:
            a1, b1 = a1 - 1, b1 - 1
            pairs.append((a1, b1))
        if not budget.spend(1 + (a0 - start) + (end - a1) + (a1 - a0) + (b1 - b0)):
            continue  # the counting below is what was charged; out of budget, leave the gap
        if a0 == a1 or b0 == b1:
            continue
        anchors, shared = _anchors(a, b, (a0, a1, b0, b1))
        if anchors:
            pairs += anchors
            corners = [(a0 - 1, b0 - 1), *anchors, (a1, b1)]
            gaps += [(i + 1, k, j + 1, ll) for (i, j), (k, ll) in itertools.pairwise(corners)]
        elif search and shared:
            pairs += _search(a, b, (a0, a1, b0, b1), shared, budget)
    pairs.sort()
    return pairs
