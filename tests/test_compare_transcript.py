"""Transcript alignment: near-linear whatever the input, and numbers within tolerance never
make a line differ, however torch or NumPy pad and wrap them.

The issue measured difflib (autojunk off): 8,000 identical lines took 78 s, 2,000 alternating
lines over 350 s, 100k lines never finished. Here the work is counted (a :class:`StepBudget`)
instead of timed, and the printed forms come from real torch and NumPy.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fdiff.compare import align_transcripts, format_report
from fdiff.compare._align import StepBudget, _myers, align
from fdiff.compare._report import Report
from fdiff.compare._runner import SCRIPT_ENGINES
from fdiff.compare._transcript import line_status, transcript_blocks

RTOL, ATOL = 1e-5, 1e-6


def lcs_length(a, b) -> int:
    """The longest common subsequence's length, by the textbook quadratic table."""
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def assert_valid(pairs, a, b) -> None:
    assert all(a[i] == b[j] for i, j in pairs)
    assert all(p[0] < q[0] and p[1] < q[1] for p, q in itertools.pairwise(pairs))


small_lists = st.lists(st.sampled_from("abc"), max_size=14)


@given(small_lists, small_lists)
def test_myers_finds_a_longest_common_subsequence(a, b):
    pairs = _myers(a, b, StepBudget(10**9))
    assert_valid(pairs, a, b)
    assert len(pairs) == lcs_length(a, b)


@given(st.lists(st.sampled_from("abcdefgh"), max_size=40), st.lists(st.sampled_from("abcdefgh")))
def test_align_matches_equal_items_in_order_and_no_more_than_a_longest_subsequence(a, b):
    pairs = align(a, b)
    assert_valid(pairs, a, b)
    assert len(pairs) <= lcs_length(a, b)


printed_lines = st.lists(
    st.sampled_from(["loss 0.5", "loss 0.50000001", "loss 0.7", "a", "b", "tensor([1.,", " 2.])"]),
    max_size=30,
)


@given(printed_lines, printed_lines)
def test_every_printed_block_is_shown_once_in_its_order(torch_lines, fdiff_lines):
    torch_out, fdiff_out = "\n".join(torch_lines), "\n".join(fdiff_lines)
    rows = align_transcripts(torch_out, fdiff_out, RTOL, ATOL)
    assert [r.torch for r in rows if r.torch is not None] == transcript_blocks(torch_out)
    assert [r.fdiff for r in rows if r.fdiff is not None] == transcript_blocks(fdiff_out)
    for row in rows:
        both = row.torch is not None and row.fdiff is not None
        assert (row.status in ("same", "close", "differ")) == both
        if both:
            assert row.status == line_status(row.torch, row.fdiff, RTOL, ATOL)


def test_an_exhausted_budget_leaves_the_gap_unmatched_and_stops_working():
    # no unique line, and an edit distance of 600: Myers takes about 2 * 10^5 steps
    a, b = ["x"] * 300 + ["y"] * 300, ["y"] * 300 + ["x"] * 300
    budget = StepBudget(5_000)
    assert align(a, b, budget) == []
    assert budget.spent <= budget.limit + 2_100  # one Myers round past the limit, at most
    search = StepBudget(10**9, search_limit=5_000)  # the search has a limit of its own
    assert align(a, b, search) == []
    assert search.searched <= search.search_limit + 2_100
    assert search.spent == search.searched + 1_201  # and a linear pass: 1 + 1,200 lines
    assert len(align(a, b, StepBudget(10**9, search_limit=10**9))) == 300  # with enough


def test_lines_the_other_side_lacks_are_left_out_of_the_search():
    # 1,000 lines only torch printed, then the same 2 lines: no unique line, but the search
    # sees only the lines both printed, so it costs a few steps, not 10^6
    a, b = ["only torch"] * 1000 + ["x", "y"], ["y", "x"] * 3
    budget = StepBudget.for_sizes(len(a), len(b))
    assert align(a, b, budget) == [(1000, 1), (1001, 2)]  # x and y, in order: the longest
    assert budget.searched < 100


@pytest.mark.parametrize(
    ("name", "a", "b", "matched"),
    [
        ("8,000 identical lines", ["loss 1"] * 8000, ["loss 1"] * 8000, 8000),
        ("2,000 alternating lines, shifted", ["a", "b"] * 1000, ["b", "a"] * 1000, 1999),
        ("100k lines, one in 1,000 left out", *(lambda: (
            [f"step {i}" for i in range(100_000)],
            [f"step {i}" for i in range(100_000) if i % 1000],
        ))(), 99_900),
        ("100k lines, an extra one in the middle",
         ["same"] * 100_000, ["same"] * 50_000 + ["extra"] + ["same"] * 50_000, 100_000),
    ],
)  # fmt: skip
def test_large_and_repetitive_inputs_align_in_a_linear_number_of_steps(name, a, b, matched):
    budget = StepBudget.for_sizes(len(a), len(b))
    pairs = align(a, b, budget)
    assert_valid(pairs, a, b)
    assert len(pairs) == matched, name
    assert budget.spent <= 4 * (len(a) + len(b)) + 10, (name, budget.spent)


def test_100k_printed_lines_compare_block_by_block(capsys):
    torch_out = "".join(f"epoch {i} loss {1 / (i + 1):.6f}\n" for i in range(100_000))
    fdiff_lines = [f"epoch {i} loss {1 / (i + 1) * (1 + 2e-7):.6f}" for i in range(100_000)]
    fdiff_lines[40_000] = "epoch 40000 loss 7.000000"  # one real difference
    fdiff_lines.insert(70_000, "a warning only fdiff printed")
    start = time.perf_counter()
    rows = align_transcripts(torch_out, "\n".join(fdiff_lines) + "\n", RTOL, ATOL)
    seconds = time.perf_counter() - start
    with capsys.disabled():
        print(f"\n100k-line transcripts aligned in {seconds:.2f} s")  # measured, not asserted
    assert len(rows) == 100_001
    statuses = [row.status for row in rows]
    assert statuses[40_000] == "differ" and rows[40_000].fdiff == "epoch 40000 loss 7.000000"
    assert statuses[70_000] == "fdiff only"
    assert set(statuses[:40_000] + statuses[40_001:70_000] + statuses[70_001:]) <= {"same", "close"}


def test_numbers_printed_at_other_widths_are_the_same_numbers():
    # the issue's own pairs: a trailing pad, and the column a sign takes
    assert line_status("2.135398 ", "2.1353981", RTOL, ATOL) == "close"
    assert line_status("[-3.5763e-07]", "[ 5.9605e-08]", RTOL, ATOL) == "close"
    assert line_status("[-3.5763e-07]", "[ 5.9605e-06]", RTOL, ATOL) == "differ"
    assert line_status("a b", "ab", RTOL, ATOL) == "differ"  # words stay apart
    assert line_status("[1 2]", "[12]", RTOL, ATOL) == "differ"  # and so do numbers


def test_printed_values_are_compared_with_the_rounding_of_their_digits():
    # 0.12345 and 0.1234499 are within rtol, but torch prints them 0.1235 and 0.1234
    assert line_status("tensor([0.1235])", "tensor([0.1234])", RTOL, ATOL) == "close"
    assert line_status("tensor([0.1236])", "tensor([0.1234])", RTOL, ATOL) == "differ"
    assert line_status("tensor([1.2346e+05])", "tensor([1.2345e+05])", RTOL, ATOL) == "close"
    assert line_status("step 3", "step 4", RTOL, ATOL) == "differ"  # an integer is exact
    assert line_status("[1. 2.]", "[2. 2.]", RTOL, ATOL) == "differ"  # and so is NumPy's `1.`
    assert line_status("tensor(nan)", "tensor(nan)", RTOL, ATOL) == "same"
    assert line_status("loss nan", "loss 0.5", RTOL, ATOL) == "differ"


def test_a_tensor_wrapped_at_another_element_is_one_close_block(real_torch):
    # the same numbers within float32's rounding, but one of them negative: torch pads every
    # element for the sign, so fewer fit on a line and the tensor wraps differently
    values = np.linspace(0.5, 2.0, 24)
    one = real_torch.tensor(np.r_[values, -3.5763e-07], dtype=real_torch.float32)
    other = real_torch.tensor(np.r_[values * (1 + 1e-7), 5.9605e-08], dtype=real_torch.float32)
    torch_out, fdiff_out = f"before\n{one}\nafter\n", f"before\n{other}\nafter\n"
    per_line = [[line.count("e") for line in str(t).splitlines()] for t in (one, other)]
    assert per_line[0] != per_line[1]  # the wrapping really differs
    rows = align_transcripts(torch_out, fdiff_out, RTOL, ATOL)
    assert [row.status for row in rows] == ["same", "close", "same"]
    assert rows[1].torch == str(one) and rows[1].fdiff == str(other)


def test_numpy_arrays_printed_at_other_widths_compare_close():
    one = np.array([[2.135398, -1.0], [3.0, 4.5]], dtype=np.float32)
    other = np.array([[2.1353981, 1e-7], [3.0, 4.5]], dtype=np.float32)
    rows = align_transcripts(f"{one}\n", f"{other}\n", RTOL, ATOL)
    assert [row.status for row in rows] == ["differ"]  # -1 against 1e-7: a real difference
    other[0, 1] = -1.0000001
    rows = align_transcripts(f"{one}\n", f"{other}\n", RTOL, ATOL)
    assert [row.status for row in rows] == ["close"], (str(one), str(other))


def test_blocks_join_continuation_lines_only_inside_open_brackets():
    text = "smile :(\nnext\ntensor([[1., 2.],\n\n        [3., 4.]])\n  indented\n"
    assert transcript_blocks(text) == [
        "smile :(",  # an unclosed bracket followed by an unindented line stays alone
        "next",
        "tensor([[1., 2.],\n\n        [3., 4.]])",
        "  indented",
    ]
    # a continuation that only closes brackets ends the block
    assert transcript_blocks("tensor([1.,\n        2.])\n  indented\n") == [
        "tensor([1.,\n        2.])",
        "  indented",
    ]


def test_a_changed_line_in_a_repeating_transcript_does_not_shift_the_pairing():
    # no line is unique, and by the text around the numbers every `epoch #` line is equal to
    # every other: only the exact pass keeps each line with its counterpart
    torch_lines = [f"epoch {i % 7}" for i in range(7000)]
    fdiff_lines = ["diverged" if i % 1000 == 0 else line for i, line in enumerate(torch_lines)]
    rows = align_transcripts("\n".join(torch_lines), "\n".join(fdiff_lines), RTOL, ATOL)
    assert [(row.torch, row.fdiff) for row in rows] == list(
        zip(torch_lines, fdiff_lines, strict=True)
    )
    assert [row.status for row in rows].count("differ") == 7


def test_lines_that_differ_only_in_numbers_still_line_up():
    torch_out = "start\nstep 1 loss 0.5\nstep 2 loss 0.25\nend\n"
    fdiff_out = "start\nstep 1 loss 0.9\nstep 2 loss 0.25000001\nend\n"
    statuses = [row.status for row in align_transcripts(torch_out, fdiff_out, RTOL, ATOL)]
    assert statuses == ["same", "differ", "close", "same"]


def test_the_text_report_shows_a_multi_line_block_line_by_line():
    records = {e: {"stdout": "", "tensors": {}, "error": None} for e in SCRIPT_ENGINES}
    rows = align_transcripts("tensor([1.,\n        2.])\n", "tensor([1., 2.])\n", RTOL, ATOL)
    text = format_report(Report("s.py", "", records, rows, [], RTOL, ATOL))
    assert "  tensor([1.,  ~ tensor([1., 2.])\n          2.]) ~\n" in text
