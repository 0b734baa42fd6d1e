"""Views, in-place writes through them, and version counters: fdiff.torch against real torch.

Every program runs under both engines in the same test (``run_both``/``assert_same_error``):
values, gradients, grad_fn names, versions, strides, or the error type and whole message.
The first programs are the silent differences of issue 10.
"""

from __future__ import annotations

import pytest
from support import assert_same, assert_same_error, run_both


def _names(*tensors):
    return [None if t.grad_fn is None else t.grad_fn.name() for t in tensors]


def clone_slice_times_ten(torch):
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x.clone()
    y[:2] *= 10
    (y * y).sum().backward()
    return y, x.grad, y._version, _names(y)


def view_add(torch):
    x = torch.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1
    v = y.view(-1)
    v.add_(1)
    (y * y).sum().backward()
    return y, v, x.grad, y._version, v._version, _names(y, v)


def no_grad_add_on_non_leaf(torch):
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x * 2
    with torch.no_grad():
        y.add_(1)
    (y * y).sum().backward()
    return x.grad  # torch: [12, -12, 28]


def data_mul_before_backward(torch):
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    w.data.mul_(10)
    y.backward()
    return y, w.grad, w._version  # torch: grad [20, 40], version 0 (.data has its own)


def data_assigned_before_backward(torch):
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    h = w * 3
    y = (h * h).sum()
    h.data = torch.tensor([5.0, 6.0])
    y.backward()
    return h, w.grad  # torch: [30, 36]


def uniform_on_non_leaf(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.uniform_()
    y.sum().backward()
    return x.grad, _names(y)  # torch: zeros, UniformBackward0


def view_of_view_and_transpose(torch):
    x = torch.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], requires_grad=True)
    y = x * 1
    v = y.t()
    v[1:].mul_(x[0, :2].reshape(2, 1))  # a view of a view: the root base is y
    w = y[0]
    y.mul_(2)  # w follows its base: regenerated as AsStridedBackward0
    d = y.detach()
    d[1, 1] = 7.0  # detach() shares the storage and the version counter
    (y.sin() + w.exp().sum()).sum().backward()
    return y, v, w, x.grad, _names(y, v, w), y._version, v._version, w._version, d._version


def split_chunk_unbind_narrow(torch):
    x = torch.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], requires_grad=True)
    y = x * 1
    parts = [*y.unbind(1), *y.split(1), *y.split([2, 1], dim=1), *y.chunk(2, dim=1)]
    parts += [y.narrow(1, 1, 2), torch.select(y, 0, -1), y.diagonal(), y.diagonal(-1)]
    sum(p.sum() for p in parts).backward()
    return x.grad, _names(*parts), [p._base is y for p in parts]


def strides_and_contiguity(torch):
    x = torch.zeros(2, 3, 4)
    views = [x, x.transpose(0, 2), x[:, 1], x[..., ::2], x.permute(2, 0, 1), x.expand(5, 2, 3, 4)]
    views += [x[:, :1], x.unsqueeze(1), x.t() if x.dim() == 2 else x.select(2, 1), x.diagonal()]
    return [(v.stride(), v.is_contiguous()) for v in views]


def reshape_of_a_transpose_copies(torch):
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1
    copied = y.t().reshape(-1)  # no view exists: a copy (UnsafeViewBackward0)
    viewed = y.reshape(4)
    contiguous = y.t().contiguous()
    y.add_(10)
    return copied, viewed, contiguous, _names(copied, viewed, contiguous), viewed._base is y


def detach_of_a_view_writes_into_the_base(torch):
    x = torch.zeros(2, 3)
    row = x[1]
    twin = row.detach()
    twin.fill_(4.0)
    x.t()[0].add_(1)
    return x, row, twin, twin._base is None, x._version


def no_grad_writes_through_split_outputs(torch):
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x * 1
    with torch.no_grad():
        a, _b = y.split(2)
        a.add_(1)
    (y * y).sum().backward()
    return y, x.grad, _names(y)


def sgd_between_backwards_without_saved_params(torch):
    w = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)
    y = (w + 1).sum()  # AddBackward0 saves nothing: torch's second backward runs
    y.backward(retain_graph=True)
    opt.step()
    y.backward()
    return w, w.grad, w._version


@pytest.mark.parametrize(
    "program",
    [
        clone_slice_times_ten,
        view_add,
        no_grad_add_on_non_leaf,
        data_mul_before_backward,
        data_assigned_before_backward,
        uniform_on_non_leaf,
        view_of_view_and_transpose,
        split_chunk_unbind_narrow,
        strides_and_contiguity,
        reshape_of_a_transpose_copies,
        detach_of_a_view_writes_into_the_base,
        no_grad_writes_through_split_outputs,
        sgd_between_backwards_without_saved_params,
    ],
)
def test_views_match_torch(real_torch, program):
    assert_same(*run_both(real_torch, program))


# --- errors: the same type and the whole message ----------------------------------------------


def saved_output_modified(torch):
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    y.sum().backward()


def saved_leaf_modified_under_no_grad(torch):
    w = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = (w * w).sum()
    with torch.no_grad():
        w.add_(1)
    y.backward()


def sgd_step_between_backwards(torch):
    w = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)
    y = (w * w).sum()
    y.backward(retain_graph=True)
    opt.step()
    y.backward()


def saved_input_modified_names_its_grad_fn(torch):
    x = torch.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 2
    z = y.sin()
    y[0] = 1.0  # y's grad_fn is now CopySlices: torch names it
    z.sum().backward()


def saved_tensor_modified_through_a_view(torch):
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x.tanh()
    y[1:].mul_(2)
    y.sum().backward()


def in_place_op_on_a_tensor_it_saves(torch):
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x * 1
    y.mul_(y)  # mul_ saved y as its other operand, then changed it
    y.sum().backward()


def in_place_on_a_view_of_a_leaf(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    x[0].add_(1)


def in_place_on_a_detached_leaf_view(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x.detach().requires_grad_()
    y[:1].mul_(2)


def in_place_on_a_no_grad_view(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    with torch.no_grad():
        v = y[0]
    v.add_(1)


def in_place_on_an_unbind_output(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    _a, b = (x * 1).unbind()
    b.add_(1)


def in_place_on_a_chunk_output(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    a, _b = (x * 1).chunk(2)
    a.mul_(2)


def grad_fn_of_a_split_output_whose_base_changed(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    _a, b = y.split(1)
    y.add_(1)
    return b.grad_fn


def grad_fn_of_a_no_grad_view_whose_base_changed(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    with torch.no_grad():
        v = y[1:]
    y.add_(1)
    return v * 2


def in_place_on_an_expanded_view(torch):
    x = torch.tensor([1.0, 2.0])
    x.expand(3, 2).add_(1)


def view_of_a_transpose(torch):
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    x.t().view(-1)


@pytest.mark.parametrize(
    "program",
    [
        saved_output_modified,
        saved_leaf_modified_under_no_grad,
        sgd_step_between_backwards,
        saved_input_modified_names_its_grad_fn,
        saved_tensor_modified_through_a_view,
        in_place_op_on_a_tensor_it_saves,
        in_place_on_a_view_of_a_leaf,
        in_place_on_a_detached_leaf_view,
        in_place_on_a_no_grad_view,
        in_place_on_an_unbind_output,
        in_place_on_a_chunk_output,
        grad_fn_of_a_split_output_whose_base_changed,
        grad_fn_of_a_no_grad_view_whose_base_changed,
        in_place_on_an_expanded_view,
        view_of_a_transpose,
    ],
)
def test_errors_match_torch(real_torch, program):
    assert_same_error(real_torch, program)


def test_overwrite_bumps_the_version_and_updates_views():
    """``_inplace.overwrite`` (what optimizers call): views follow, saved values are checked."""
    import fdiff.torch as torch
    from fdiff.torch._inplace import overwrite

    w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    tail = w[1:]
    loss = (w * w).sum()
    overwrite(w, torch.tensor([4.0, 5.0, 6.0])._value)
    assert w._version == 1 and tail.tolist() == [5.0, 6.0]
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0 instead"):
        loss.backward()


def test_narrow_with_a_0d_integer_tensor_start(real_torch):
    """torch reads a tensor ``start`` as its integer (negative counts from the end); any other
    tensor is refused with torch's message."""

    def program(torch):
        x = torch.arange(6.0).reshape(2, 3).requires_grad_()
        outs = [torch.narrow(x, 1, torch.tensor(1), 2), x.narrow(-1, torch.tensor(-1), 1)]
        return outs, torch.autograd.grad(outs[0].sum() + 2 * outs[1].sum(), x)

    assert_same(*run_both(real_torch, program))
    for start in ([1], 1.0, True):
        assert_same_error(real_torch, lambda t, s=start: t.ones(2, 3).narrow(1, t.tensor(s), 1))


def _multi_output_graph(torch, split):
    x = torch.arange(12.0).reshape(3, 4).requires_grad_()
    outs = split(x * 1)
    a, b = outs[0], outs[-1]
    total = (a * b).sum()
    (mul_a, index_a), (mul_b, index_b) = total.grad_fn.next_functions[0][0].next_functions
    total.backward()
    return (
        a.grad_fn.name(),
        a.grad_fn is b.grad_fn,
        [out.output_nr for out in outs],
        mul_a is a.grad_fn and mul_b is a.grad_fn,
        (index_a, index_b),
        [(node.name(), index) for node, index in a.grad_fn.next_functions],
        isinstance(a.grad_fn, torch.autograd.graph.Node),
        x.grad,
    )


MULTI_OUTPUT_SPLITS = {
    "unbind": lambda x: x.unbind(1),
    "split": lambda x: x.split(1),
    "split_sizes": lambda x: x.split([1, 2]),
    "chunk": lambda x: x.chunk(2, 1),
}


@pytest.mark.parametrize(
    "split",
    [
        pytest.param(split, id=name, marks=() if name == "unbind" else pytest.mark.slow)
        for name, split in MULTI_OUTPUT_SPLITS.items()
    ],
)
def test_outputs_of_one_split_share_one_grad_fn(real_torch, split):
    actual, expected = run_both(real_torch, lambda torch: _multi_output_graph(torch, split))
    assert_same(actual, expected)
