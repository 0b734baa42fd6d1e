"""The argument forms torch's convolution and pooling take (an int, one int for both dims,
two ints) and the ones it refuses, with its errors: fdiff.torch against real torch."""

from __future__ import annotations

import pytest
from support import assert_same, assert_same_error, run_both

DEFAULT_RUN = frozenset({"Conv2d_padding_one_tuple", "conv2d_three_paddings", "F_softmax_axis",
                         "max_pool2d_negative_kernel", "method_axis"})  # fmt: skip
"""The cases of the default run; the others run in the slow profile."""


def _cases(programs: dict) -> list:
    return [
        pytest.param(program, id=name, marks=() if name in DEFAULT_RUN else pytest.mark.slow)
        for name, program in programs.items()
    ]


def _input(torch):
    return torch.arange(36.0).reshape(1, 1, 6, 6) / 10


ACCEPTED = {
    "Conv2d_padding_one_tuple": lambda nn: nn.Conv2d(1, 2, 3, padding=(1,)),
    "Conv2d_stride_one_list": lambda nn: nn.Conv2d(1, 2, 3, stride=[2]),
    "Conv2d_dilation_one_tuple": lambda nn: nn.Conv2d(1, 2, 3, dilation=(1,)),
    "Conv2d_bool_kernel": lambda nn: nn.Conv2d(1, 2, (True, 3)),
    "MaxPool2d_kernel_one_tuple": lambda nn: nn.MaxPool2d((2,)),
    "MaxPool2d_stride_one_list": lambda nn: nn.MaxPool2d(3, stride=[1], padding=(1,)),
    "AvgPool2d_padding_one_tuple": lambda nn: nn.AvgPool2d(3, stride=(2,), padding=(1,)),
}


@pytest.mark.parametrize("make", _cases(ACCEPTED))
def test_accepted_forms_match_torch(real_torch, make):
    def program(torch):
        torch.manual_seed(0)
        layer = make(torch.nn)
        return repr(layer), layer(_input(torch))

    actual, expected = run_both(real_torch, program)
    assert_same(actual, expected)


REFUSED = {
    "Conv2d_one_dim_kernel": lambda t: t.nn.Conv2d(1, 2, (3,))(_input(t)),
    "Conv2d_negative_kernel": lambda t: t.nn.Conv2d(1, 2, -1),
    "Conv2d_float_kernel": lambda t: t.nn.Conv2d(1, 2, (3.0, 3)),
    "conv2d_three_strides": lambda t: t.nn.functional.conv2d(
        _input(t), t.ones(2, 1, 3, 3), stride=(1, 1, 1)
    ),
    "conv2d_three_paddings": lambda t: t.nn.Conv2d(1, 2, 3, padding=(1, 1, 1))(_input(t)),
    "conv2d_zero_stride": lambda t: t.nn.functional.conv2d(_input(t), t.ones(2, 1, 3, 3), None, 0),
    "conv2d_negative_padding": lambda t: t.nn.Conv2d(1, 2, 3, padding=(0, -1))(_input(t)),
    "conv2d_zero_dilation": lambda t: t.nn.Conv2d(1, 2, 3, dilation=(1, 0))(_input(t)),
    "max_pool2d_three_kernels": lambda t: t.nn.functional.max_pool2d(_input(t), (2, 2, 2)),
    "max_pool2d_three_strides": lambda t: t.nn.MaxPool2d(2, (1, 1, 1))(_input(t)),
    "avg_pool2d_three_paddings": lambda t: t.nn.AvgPool2d(3, 1, (1, 1, 1))(_input(t)),
    "max_pool2d_bool_stride": lambda t: t.nn.MaxPool2d(2, (True, 1))(_input(t)),
    "avg_pool2d_float_padding": lambda t: t.nn.AvgPool2d(3, 1, 1.0)(_input(t)),
    "max_pool2d_zero_stride": lambda t: t.nn.MaxPool2d(2, (0, 1))(_input(t)),
    "max_pool2d_negative_stride": lambda t: t.nn.MaxPool2d(2, (2, -1))(_input(t)),
    "avg_pool2d_negative_padding": lambda t: t.nn.AvgPool2d(3, 1, (0, -1))(_input(t)),
    "max_pool2d_negative_kernel": lambda t: t.nn.MaxPool2d((2, -1))(_input(t)),
}


@pytest.mark.parametrize("program", _cases(REFUSED))
def test_refused_forms_raise_torchs_error(real_torch, program):
    assert_same_error(real_torch, program)


@pytest.mark.slow
def test_conv_type_errors_are_type_errors(real_torch):
    """torch's message lists every conv2d overload; fdiff's names the argument."""
    assert_same_error(
        real_torch,
        lambda t: t.nn.Conv2d(1, 2, 3, stride=(1.0, 1))(_input(t)),
        fragment="conv2d()",
    )


def _logits(torch):
    return torch.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])


SOFTMAX_CALLS = {
    "F_softmax_axis": lambda t: t.nn.functional.softmax(_logits(t), axis=1),
    "F_log_softmax_axis": lambda t: t.nn.functional.log_softmax(_logits(t), axis=0),
    "torch_softmax_dim_and_axis": lambda t: t.softmax(_logits(t), dim=1, axis=0),
    "sum_dim_and_axis": lambda t: _logits(t).sum(0, axis=0),
    "mean_keepdim_and_keepdims": lambda t: _logits(t).mean(0, keepdim=True, keepdims=True),
}


@pytest.mark.parametrize("program", _cases(SOFTMAX_CALLS))
def test_numpy_spellings_refused_where_torch_refuses(real_torch, program):
    assert_same_error(real_torch, program)


SOFTMAX_ACCEPTED = {
    "method_axis": lambda t: _logits(t).softmax(axis=1),
    "torch_axis": lambda t: t.log_softmax(_logits(t), axis=0),
    "F_positional": lambda t: t.nn.functional.softmax(_logits(t), 1),
    "F_dtype": lambda t: t.nn.functional.log_softmax(_logits(t), 0, dtype=t.float32),
}


@pytest.mark.parametrize("program", _cases(SOFTMAX_ACCEPTED))
def test_softmax_spellings_torch_accepts(real_torch, program):
    actual, expected = run_both(real_torch, program)
    assert_same(actual, expected)


@pytest.mark.slow
def test_softmax_without_dim_warns_and_picks_torchs_dim(real_torch):
    def program(torch):
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
            return torch.nn.functional.softmax(_logits(torch))

    actual, expected = run_both(real_torch, program)
    assert_same(actual, expected)
