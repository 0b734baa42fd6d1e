"""Every name fdiff.torch lacks, listed in one run; a typo is the script's own error.

The static scan (:mod:`fdiff.compare._scan`) is checked on source text, its look-ups against
real torch and fdiff.torch in this process, and the report's verdict on hand-made records of
the two runs (the end-to-end runs are in tests/test_compare.py, in its shared fixture).
"""

from __future__ import annotations

import re

import pytest

import fdiff.torch
from fdiff.compare import Report, format_report, report_json
from fdiff.compare._rules import explain
from fdiff.compare._runner import SCRIPT_ENGINES, missing_name
from fdiff.compare._scan import resolve, scan_source
from fdiff.compare._transcript import align_transcripts

SCRIPT = """\
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.special import zeta
from torch import optim as O

x = torch.ones(3, requires_grad=True)
y = x.logcumsumexp(0).sum() + F.relu(x).sum() + zeta(x, 2.0).sum()
net = nn.Linear(3, 1)
z = torch.fft.rfft2(x.view(1, 3)) if x.not_a_tensor_method else np.cumsum(x)
w = torch.not_a_torch_function


class Mine:
    def shout(self):
        self.volume = 3
        return self.volume


def helper(a):
    return a.stft
"""


def test_the_scan_finds_torch_names_and_the_attributes_read_on_other_objects():
    names = scan_source(SCRIPT)
    assert names.dotted == {
        "torch": 2,
        "torch.nn": 3,
        "torch.nn.functional": 4,
        "torch.special.zeta": 5,
        "torch.optim": 6,
        "torch.ones": 8,
        "torch.nn.functional.relu": 9,
        "torch.nn.Linear": 10,
        "torch.fft.rfft2": 11,
        "torch.not_a_torch_function": 12,
    }
    # np.cumsum belongs to NumPy; `shout` and `volume` are the script's own
    assert names.attributes == {
        "logcumsumexp": 9,
        "sum": 9,
        "view": 11,
        "not_a_tensor_method": 11,
        "stft": 22,
    }
    assert names.candidates()["Tensor.stft"] == names.candidates()["torch.nn.Module.stft"] == 22


def unsupported_names(torch_module) -> list[str]:
    """The scanned names torch has and fdiff.torch lacks, as the report computes them."""
    names = scan_source(SCRIPT)
    in_torch, in_fdiff = resolve(names, torch_module), resolve(names, fdiff.torch)
    assert set(in_torch) == set(in_fdiff) == set(names.candidates())
    return sorted(name for name in in_torch if in_torch[name] and not in_fdiff[name])


def test_lookups_list_what_torch_has_and_fdiff_torch_lacks_but_never_a_typo(real_torch):
    assert unsupported_names(real_torch) == [
        "Tensor.logcumsumexp",
        "Tensor.stft",
        "torch.fft.rfft2",
        "torch.special.zeta",
    ]
    in_torch = resolve(scan_source(SCRIPT), real_torch)
    typos = ["torch.not_a_torch_function", "Tensor.not_a_tensor_method"]
    assert [in_torch[name] for name in typos] == [False, False]
    assert in_torch["torch.nn.Linear"] and in_torch["Tensor.view"]


def test_a_submodule_torch_imports_only_on_request_is_found(real_torch):
    # torch.utils.benchmark is not imported by `import torch`: the look-up imports it, as the
    # script's own `import torch.utils.benchmark` would
    names = scan_source("import torch.utils.benchmark\ntorch.utils.benchmark.Timer\n")
    assert resolve(names, real_torch) == {
        "torch.utils.benchmark": True,
        "torch.utils.benchmark.Timer": True,
    }


@pytest.mark.parametrize(
    ("use", "missing", "torch_error"),
    [
        (lambda m: m[0], "__getitem__", "'Linear' object is not subscriptable"),
        (lambda m: len(m), "__len__", "object of type 'Linear' has no len()"),
        (lambda m: list(m), "__iter__", "'Linear' object is not iterable"),
    ],
)
def test_an_object_without_a_protocol_method_is_named(real_torch, use, missing, torch_error):
    # Linear has none of them in torch either: the name is reported, and the report's verdict
    # (below) is what tells whether torch failed alike
    with pytest.raises(TypeError) as caught:
        use(fdiff.torch.nn.Linear(2, 2))
    assert missing_name(caught.value, caught.tb) == f"torch.nn.Linear.{missing}"
    with pytest.raises(TypeError, match=re.escape(torch_error)):
        use(real_torch.nn.Linear(2, 2))
    with pytest.raises(TypeError) as other:
        use(3)
    assert missing_name(other.value, other.tb) is None  # not an fdiff.torch object


def test_a_missing_attribute_of_a_users_module_subclass_is_named_by_its_torch_class():
    class Net(fdiff.torch.nn.Module):
        pass

    error = AttributeError("'Net' object has no attribute 'half'", name="half", obj=Net())
    assert missing_name(error, None) == "torch.nn.Module.half"


def _error(kind: str, message: str, line: int | None, missing: str | None = None) -> dict:
    return {"type": kind, "message": message, "line": line, "source": "", "missing": missing}


def _report(torch_error, fdiff_error, torch_found=None, fdiff_found=None, lines=None) -> Report:
    records = {}
    for engine, error, found in (
        ("torch", torch_error, torch_found),
        ("fdiff.torch", fdiff_error, fdiff_found),
    ):
        names = {"lines": lines or {}, "found": found or {}}
        records[engine] = {"stdout": "", "tensors": {}, "error": error, "names": names}
    source = "import torch\nnet = Net()\nnet.fc2\nx.cumsum(0)\n"
    return Report("s.py", source, records, [], [], 1e-5, 1e-6)


def test_a_typo_raises_the_same_attribute_error_under_both_and_is_not_unsupported():
    torch_error = _error("AttributeError", "'Net' object has no attribute 'fc2'", 3)
    fdiff_error = _error(
        "UnsupportedAttributeError", "fdiff.torch does not support", 3, "torch.nn.Module.fc2"
    )
    report = _report(torch_error, fdiff_error)
    assert report.errors_agree and report.unsupported == []
    assert "unsupported by" not in format_report(report)
    # a different attribute on the same line is a real difference
    other = _error("AttributeError", "'Net' object has no attribute 'fc3'", 3)
    assert not _report(other, fdiff_error).errors_agree
    # as is the same attribute at another line
    assert not _report(_error("AttributeError", torch_error["message"], 4), fdiff_error).agree


def test_unsupported_lists_the_scan_and_the_run_once_each_in_line_order():
    fdiff_error = _error("UnsupportedError", "...", 2, "torch.sum(keepdims=...)")
    lines = {"Tensor.cumsum": 4, "torch.nn.Module.cumsum": 4, "torch.special.zeta": 3}
    report = _report(
        None,
        fdiff_error,
        torch_found={"Tensor.cumsum": True, "torch.nn.Module.cumsum": False},
        fdiff_found={"Tensor.cumsum": False, "torch.nn.Module.cumsum": False},
        lines=lines,
    )
    assert report.unsupported == [("torch.sum(keepdims=...)", 2), ("Tensor.cumsum", 4)]
    assert report_json(report)["unsupported"][1] == {"name": "Tensor.cumsum", "line": 4}
    text = format_report(report)
    assert "  unsupported by fdiff.torch: torch.sum(keepdims=...) (line 2: net = Net())\n" in text
    # a name the scan found absent from torch is the script's mistake, even where the run
    # stopped on it
    missing = _error("UnsupportedAttributeError", "...", 4, "Tensor.cumsum")
    assert _report(None, missing, torch_found={"Tensor.cumsum": False}).unsupported == []


def test_int32_wraparound_is_claimed_only_for_a_wrapped_value_without_x64():
    def rules(torch_out: str, fdiff_out: str, x64: bool) -> list[str]:
        records = {e: {"stdout": "", "tensors": {}, "error": None} for e in SCRIPT_ENGINES}
        rows = align_transcripts(torch_out, fdiff_out)
        report = Report("s.py", "", records, rows, [], 1e-5, 1e-6, x64=x64)
        return [name for name, _ in explain(report)]

    wrapped = ("tensor([10000000000])\n", "tensor([1410065408])\n")  # 10**10 - 2 * 2**32
    assert rules(*wrapped, x64=False) == ["int32-wraparound"]
    assert rules(*wrapped, x64=True) == []
    assert rules("tensor([10000000000])\n", "tensor([1410065409])\n", x64=False) == []
    assert rules("tensor([-2147483649])\n", "tensor([2147483647])\n", x64=False) == [
        "int32-wraparound"
    ]
