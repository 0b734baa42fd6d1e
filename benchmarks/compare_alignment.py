"""Benchmark: ``fdiff compare``'s transcript alignment against difflib, same run.

Before ``fdiff.compare._align``, compare lined transcripts up with ``difflib.SequenceMatcher``
(autojunk off, so that frequent lines still match), which is quadratic: the issue measured
8,000 identical lines at 78 s and 2,000 alternating lines at over 350 s. Each case here is
aligned by :func:`fdiff.compare.align_transcripts` and, up to ``--peer-lines`` lines, by that
difflib call (the peer), and the ratio is printed; larger cases print fdiff's time alone.

Cases: identical lines; alternating lines against the same shifted by one; a training log
whose numbers differ in the last digit, with one extra line; and lines with nothing in common
(Myers' search runs out of budget, so the gaps are paired by position).

Run: ``python benchmarks/compare_alignment.py [--peer-lines 2000] [--lines 100000]``
"""

from __future__ import annotations

import argparse
import difflib
import time
from collections.abc import Callable

from fdiff.compare import align_transcripts

Case = Callable[[int], tuple[str, str]]


def _identical(n: int) -> tuple[str, str]:
    return "loss 1\n" * n, "loss 1\n" * n


def _alternating(n: int) -> tuple[str, str]:
    return "a\nb\n" * (n // 2), "b\na\n" * (n // 2)


def _training_log(n: int) -> tuple[str, str]:
    torch_lines = [f"step {i} loss {1 / (i + 1):.6f}" for i in range(n)]
    fdiff_lines = [f"step {i} loss {1 / (i + 1) * (1 + 3e-7):.6f}" for i in range(n)]
    fdiff_lines.insert(n // 2, "a warning")
    return "\n".join(torch_lines), "\n".join(fdiff_lines)


def _disjoint(n: int) -> tuple[str, str]:
    return "".join(f"t{i}\n" for i in range(n)), "".join(f"f{i}x\n" for i in range(n))


CASES: dict[str, Case] = {
    "identical": _identical,
    "alternating, shifted": _alternating,
    "training log": _training_log,
    "nothing in common": _disjoint,
}


def _seconds(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _difflib(torch_out: str, fdiff_out: str) -> None:
    matcher = difflib.SequenceMatcher(
        None, torch_out.splitlines(), fdiff_out.splitlines(), autojunk=False
    )
    matcher.get_opcodes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-lines", type=int, default=2000, help="lines difflib aligns")
    parser.add_argument("--lines", type=int, default=100_000, help="lines fdiff aligns alone")
    args = parser.parse_args()
    print(f"{'case':22s} {'lines':>7s} {'fdiff s':>8s} {'difflib s':>10s} {'ratio':>7s}")
    for name, case in CASES.items():
        for lines in (args.peer_lines, args.lines):
            torch_out, fdiff_out = case(lines)
            ours = _seconds(lambda: align_transcripts(torch_out, fdiff_out))  # noqa: B023
            if lines > args.peer_lines:
                print(f"{name:22s} {lines:7d} {ours:8.2f} {'-':>10s} {'-':>7s}")
                continue
            peer = _seconds(lambda: _difflib(torch_out, fdiff_out))  # noqa: B023
            print(f"{name:22s} {lines:7d} {ours:8.2f} {peer:10.2f} {peer / ours:6.1f}x")


if __name__ == "__main__":
    main()
