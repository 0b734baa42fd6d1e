"""``functionalize`` warns (``TraceWarning``) when the recorded program's control flow is frozen.

A value computed from the leaves and read into Python before the output existed (``if``,
``.item()``, ``float()``) means the pure function replays one branch; the expected eager values
below are worked out by hand.
"""

from __future__ import annotations

import warnings

import jax.numpy as jnp
import pytest
from support import assert_close

import fdiff.torch as torch
from fdiff.errors import TraceWarning

X = [[1.0, 2.0], [3.0, -1.0]]
W = [[0.5, -0.2], [0.3, 0.8]]


def frozen_branch(w):
    h = torch.tensor(X) @ w
    if h.sum() > 0:  # the line the warning names
        return (h**2).sum()
    return -h.sum()


def test_frozen_branch_warns_naming_the_line_and_replays_the_recorded_branch():
    w = torch.tensor(W, requires_grad=True)
    out = frozen_branch(w)
    # h = X @ W = [[1.1, 1.4], [1.2, -1.4]]: sum 2.3 > 0, so out = 1.21 + 1.96 + 1.44 + 1.96
    assert_close(out.item(), 6.57)
    where = r"bool\(\).*test_functionalize_reads\.py:\d+ \(`if h\.sum\(\) > 0:"
    with pytest.warns(TraceWarning, match=where):
        program = torch.functionalize(out)
    # Eager torch with -W takes the other branch (sum -2.3 <= 0: out = 2.3); the function
    # replays the squares: the frozen branch the warning is about.
    assert_close(frozen_branch(torch.tensor(W) * -1).item(), 2.3)
    assert_close(program.fn(-jnp.asarray(W)), 6.57)


@pytest.mark.parametrize(
    "read",
    [lambda t: t.item(), lambda t: float(t), lambda t: t.tolist(), lambda t: int(t > 0)],
    ids=["item", "float", "tolist", "int of a comparison"],
)
def test_each_kind_of_read_before_the_output_warns(read):
    w = torch.tensor([2.0], requires_grad=True)
    read((w * 3).sum())
    with pytest.warns(TraceWarning, match="functionalize: the recorded program read"):
        torch.functionalize((w**2).sum())


def test_reads_that_cannot_have_steered_the_output_do_not_warn():
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    other = torch.tensor([5.0], requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=0.1)
    for _ in range(2):  # a training loop that prints its loss: earlier weights, not these
        optimizer.zero_grad()
        loss = (w**2).sum()
        print(loss.item())
        loss.backward()
        optimizer.step()
    float((other * 2).sum())  # a read of an unrelated leaf
    if torch.tensor([1.0]).sum() > 0:  # a read of a constant
        out = (w**3).sum()
    print(out.item(), float(out > 0))  # reads of the output, after it was computed
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        program = torch.functionalize(out)
    # w after two SGD steps of lr 0.1 on sum(w**2): w * 0.8**2 = [0.64, -1.28]
    assert_close(program.args[0], [0.64, -1.28])


def test_a_repeated_step_names_the_leaves_of_each_read():
    """Each read shares its capture trace with ops on the other leaf; the second pass reaches
    the same trie position and finds each read's leaves by input slot (no graph walk). A read
    of ``u`` alone must not warn about an output of ``v``; a read of ``v`` must."""

    def step(u, v):
        by_u, by_v = (u * 2).sum(), (v * 3).sum()
        by_u.item()  # depends on u only
        by_v, by_u = (v * 4).sum(), (u * 5).sum()
        by_v.item()  # depends on v only
        return (v**2).sum()

    for _ in range(2):
        u = torch.tensor([1.0, 2.0], requires_grad=True)
        v = torch.tensor([3.0], requires_grad=True)
        out = step(u, v)
        with pytest.warns(TraceWarning) as caught:
            torch.functionalize(out)
        lines = [str(w.message) for w in caught if issubclass(w.category, TraceWarning)]
        assert len(lines) == 1 and "by_v.item()  # depends on v only" in lines[0]
