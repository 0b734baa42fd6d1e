"""``torch.save`` / ``torch.load``: what a checkpoint round-trips, checked against real torch.

Each program saves and loads within its own engine (the formats differ: torch's zip archive,
fdiff's header and pickle) and returns what came back; both engines must agree on it.
"""

from __future__ import annotations

import io
import pickle

import pytest
from support import assert_same, assert_same_error, run_both

import fdiff.torch


def _round_trip(t, obj, **load_options):
    buffer = io.BytesIO()
    t.save(obj, buffer)
    buffer.seek(0)
    return t.load(buffer, **load_options)


def test_a_training_checkpoint_round_trips_and_training_resumes(real_torch, tmp_path):
    def program(t):
        t.manual_seed(0)
        model = t.nn.Sequential(t.nn.Linear(3, 4), t.nn.Tanh(), t.nn.Linear(4, 1))
        optimizer = t.optim.Adam(model.parameters(), lr=0.01)
        x = t.linspace(-1, 1, 12).reshape(4, 3)

        def step(model, optimizer):
            optimizer.zero_grad()
            loss = ((model(x) - 1) ** 2).mean()
            loss.backward()
            optimizer.step()
            return loss.item()

        step(model, optimizer)
        path = tmp_path / f"checkpoint-{t.__name__}.pt"
        t.save({"epoch": 1, "model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
        checkpoint = t.load(path)
        resumed = t.nn.Sequential(t.nn.Linear(3, 4), t.nn.Tanh(), t.nn.Linear(4, 1))
        matched = resumed.load_state_dict(checkpoint["model"])
        resumed_optimizer = t.optim.Adam(resumed.parameters(), lr=0.01)
        resumed_optimizer.load_state_dict(checkpoint["optimizer"])
        return (
            checkpoint["epoch"],
            list(checkpoint["model"]),
            repr(matched),
            [step(model, optimizer), step(resumed, resumed_optimizer)],
            [p.detach() for p in resumed.parameters()],
        )

    actual, expected = run_both(real_torch, program)
    assert_same(actual, expected)
    losses = actual[3]
    assert losses[0] == losses[1]  # the resumed run takes the same step as the original


def test_what_each_tensor_keeps(real_torch):
    def program(t):
        w = t.tensor([1.5, -2.0], requires_grad=True)
        w.grad = t.ones(2)
        loaded = _round_trip(
            t,
            {
                "leaf": w,
                "again": w,
                "non-leaf": w * 2,
                "long": t.tensor([3, 4]),
                "0-d": t.tensor(2.5),
                "parameter": t.nn.Parameter(t.zeros(2, 1)),
                "dtype": t.float32,
                "size": t.ones(2, 3).shape,
            },
        )
        return (
            loaded["leaf"],
            loaded["leaf"].grad,
            loaded["again"] is loaded["leaf"],
            loaded["non-leaf"],
            loaded["non-leaf"].is_leaf,
            loaded["non-leaf"].grad_fn,
            loaded["long"],
            loaded["0-d"],
            type(loaded["parameter"]).__name__,
            loaded["parameter"],
            str(loaded["dtype"]),
            loaded["size"],
        )

    actual, expected = run_both(real_torch, program)
    assert_same(actual, expected)


class Unknown:
    """A class a weights-only load must not rebuild."""


def test_weights_only_refuses_other_objects_unless_told(real_torch):
    assert_same_error(
        real_torch, lambda t: _round_trip(t, {"x": Unknown()}), "Weights only load failed"
    )

    def trusted(t):
        return type(_round_trip(t, {"x": Unknown()}, weights_only=False)["x"]).__name__

    actual, expected = run_both(real_torch, trusted)
    assert actual == expected == "Unknown"


def _saved_by_torch(real_torch, obj) -> io.BytesIO:
    buffer = io.BytesIO()
    real_torch.save(obj, buffer)
    buffer.seek(0)
    return buffer


def test_weights_pytorch_saved_load_into_fdiff(real_torch):
    """A checkpoint written by real torch: fdiff.torch reads its archive, and the model it
    restores computes what torch's does."""
    torch, ours = real_torch, fdiff.torch
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    checkpoint = {
        "model": model.state_dict(),
        "step": torch.tensor(7),
        "mask": torch.tensor([True, False]),
        "scale": torch.nn.Parameter(torch.tensor([0.5, 2.0])),
        "size": torch.Size([2, 3]),
        "dtype": torch.float32,
        "epoch": 3,
    }
    loaded = ours.load(_saved_by_torch(torch, checkpoint))
    restored = ours.nn.Sequential(ours.nn.Linear(3, 4), ours.nn.ReLU(), ours.nn.Linear(4, 2))
    assert repr(restored.load_state_dict(loaded["model"])) == "<All keys matched successfully>"
    x = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]
    assert_same(restored(ours.tensor(x)).detach(), model(torch.tensor(x)).detach())
    assert_same(
        [loaded["step"], loaded["mask"], loaded["scale"], loaded["size"], loaded["epoch"]],
        [checkpoint["step"], checkpoint["mask"], checkpoint["scale"], checkpoint["size"], 3],
    )
    assert type(loaded["scale"]).__name__ == "Parameter" and loaded["dtype"] is ours.float32


@pytest.mark.parametrize(
    "make, op",
    [
        (
            lambda t: (lambda base: [base, base[0]])(t.ones(2, 3)),
            "torch.load of tensors that share",
        ),
        (lambda t: t.ones(2, 3).t(), "torch.load of a tensor with non-contiguous strides"),
        (lambda t: t.ones(2, dtype=t.float16), "torch.load of a torch.HalfStorage"),
    ],
    ids=["views", "a transposed tensor", "float16"],
)
def test_what_a_pytorch_archive_holds_that_fdiff_cannot_is_refused(real_torch, make, op):
    with pytest.raises(fdiff.torch.UnsupportedError) as info:
        fdiff.torch.load(_saved_by_torch(real_torch, make(real_torch)))
    assert info.value.op.startswith(op)


def test_a_pytorch_archive_refuses_other_objects_unless_told(real_torch):
    buffer = _saved_by_torch(real_torch, {"x": Unknown()})
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        fdiff.torch.load(buffer)
    buffer.seek(0)
    assert type(fdiff.torch.load(buffer, weights_only=False)["x"]) is Unknown


@pytest.mark.parametrize(
    "program, op",
    [
        (
            lambda t: t.save([t.ones(2, 3)[0], t.ones(1)], io.BytesIO()),
            "torch.save of tensors that share a storage (views)",
        ),
        (lambda t: t.load(io.BytesIO(b""), mmap=True), "torch.load(mmap=True)"),
        (
            lambda t: t.load(io.BytesIO(b""), map_location=lambda s, loc: s),
            "torch.load(map_location=<a dict or function>)",
        ),
    ],
    ids=["a view", "mmap", "a map_location function"],
)
def test_what_the_format_cannot_keep_is_refused_by_name(program, op):
    with pytest.raises(fdiff.torch.UnsupportedError) as info:
        program(fdiff.torch)
    assert info.value.op == op


def test_not_a_saved_file_is_an_unpickling_error():
    with pytest.raises(pickle.UnpicklingError, match=r"not a file torch\.save wrote"):
        fdiff.torch.load(io.BytesIO(b"plain text"))
