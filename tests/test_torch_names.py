"""Names torch lacks raise torch's ``AttributeError``; names torch has and fdiff.torch lacks
raise ``UnsupportedError``. The generated list of torch's names is checked against torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import assert_same_error

import fdiff.torch as fdiff_torch
from fdiff.torch._torch_names import TORCH_NAMES, TORCH_VERSION

GENERATOR = Path(__file__).resolve().parent.parent / "tools" / "generate_torch_names.py"


@pytest.mark.slow  # a fresh process imports torch and all its listed modules (~10 s)
def test_names_are_the_installed_torchs(real_torch):
    """Regenerate with tools/generate_torch_names.py when this fails after a torch upgrade
    (run in a fresh process: a module's names grow with what else the process imported)."""
    assert real_torch.__version__.split("+")[0] == TORCH_VERSION
    listed = subprocess.run(
        [sys.executable, str(GENERATOR), "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    generated = json.loads(listed.stdout)
    assert generated.keys() == TORCH_NAMES.keys()
    for owner, names in generated.items():
        assert set(names) == TORCH_NAMES[owner], owner


TYPOS = {
    "tensor_method": lambda torch: torch.ones(2).sizee(),
    "tensor_attribute": lambda torch: torch.ones(2).shap,
    "torch_function": lambda torch: torch.zeroes(2),
    "functional": lambda torch: torch.nn.functional.rellu,
    "nn_class": lambda torch: torch.nn.Linearr,
    "missing_module": lambda torch: torch.special.zetaa,
}


@pytest.mark.parametrize("program", TYPOS.values(), ids=TYPOS.keys())
def test_typo_raises_torchs_attribute_error(real_torch, program):
    assert_same_error(real_torch, program)


UNSUPPORTED = {
    "Tensor.logcumsumexp": lambda: fdiff_torch.ones(2).logcumsumexp,
    "torch.logcumsumexp": lambda: fdiff_torch.logcumsumexp,
    "torch.special.zeta": lambda: fdiff_torch.special.zeta,
}


@pytest.mark.parametrize("name", UNSUPPORTED)
def test_name_torch_has_is_unsupported(name):
    with pytest.raises(fdiff_torch.UnsupportedError) as info:
        UNSUPPORTED[name]()
    assert info.value.op == name
    assert isinstance(info.value, AttributeError)  # hasattr() answers False
