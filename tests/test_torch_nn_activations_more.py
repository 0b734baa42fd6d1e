"""ELU, SELU, ReLU6, Hardtanh, Hardswish, Hardsigmoid, Mish, LogSigmoid, Softmin, GLU, PReLU,
BCELoss, KLDivLoss, normalize and cosine_similarity against real torch, kinks included."""

from __future__ import annotations

import pytest
from support import assert_same, assert_same_error, run_both

# kinks of every activation: relu6 at 0 and 6, hardtanh at its bounds, hardswish and
# hardsigmoid at -3 and 3, elu at 0
KINKS = [-4.0, -3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 7.0]

MODULES = {
    "ELU": lambda nn: nn.ELU(),
    "ELU alpha": lambda nn: nn.ELU(alpha=0.5),
    "SELU": lambda nn: nn.SELU(),
    "ReLU6": lambda nn: nn.ReLU6(),
    "Hardtanh": lambda nn: nn.Hardtanh(),
    "Hardtanh bounds": lambda nn: nn.Hardtanh(-2.0, 3.0),
    "Hardswish": lambda nn: nn.Hardswish(),
    "Hardsigmoid": lambda nn: nn.Hardsigmoid(),
    "Mish": lambda nn: nn.Mish(),
    "LogSigmoid": lambda nn: nn.LogSigmoid(),
    "Softmin": lambda nn: nn.Softmin(dim=0),
    "GLU": lambda nn: nn.GLU(dim=0),
    "PReLU": lambda nn: nn.PReLU(),
}


@pytest.mark.parametrize("make", MODULES.values(), ids=MODULES.keys())
def test_activation_values_gradients_and_reprs_at_kinks(real_torch, make):
    def program(torch):
        layer = make(torch.nn)
        x = torch.tensor([*KINKS, -7.0], requires_grad=True)
        y = layer(x)
        weights = torch.linspace(-1.0, 2.0, y.numel())
        (y * weights).sum().backward()
        grads = [x.grad] + [p.grad for p in layer.parameters()]
        return y, grads, y.grad_fn.name(), repr(layer), str(layer)

    assert_same(*run_both(real_torch, program))


def test_functional_forms_and_options(real_torch):
    def program(torch):
        F = torch.nn.functional
        x = torch.tensor([[-3.0, 0.0, 3.0], [-1.0, 1.0, 6.0]], requires_grad=True)
        w = torch.tensor([0.1, 0.2, 0.3], requires_grad=True)
        outs = [F.elu(x, 2.0), F.selu(x), F.relu6(x), F.hardtanh(x, 0.0, 1.0), F.prelu(x, w),
                F.hardswish(x), F.hardsigmoid(x), F.mish(x), F.logsigmoid(x),
                F.softmin(x, 1), F.glu(torch.cat([x, x], 1), 1)]  # fmt: skip
        sum(o.sum() * (i + 1) for i, o in enumerate(outs)).backward()
        return outs, x.grad, w.grad, [o.grad_fn.name() for o in outs]

    assert_same(*run_both(real_torch, program))


def test_prelu_module_parameters(real_torch):
    def program(torch):
        layer = torch.nn.PReLU(3, init=0.1)
        y = layer(torch.tensor([[-1.0, 0.0, 2.0], [-2.0, -3.0, 1.0]]))
        y.sum().backward()
        return y, layer.weight, layer.weight.grad, list(layer.state_dict()), repr(layer)

    assert_same(*run_both(real_torch, program))


@pytest.mark.parametrize(
    "program",
    [
        lambda torch: torch.nn.functional.prelu(torch.ones(2, 3), torch.ones(2)),
        lambda torch: torch.nn.functional.glu(torch.ones(2, 3)),
        lambda torch: torch.nn.functional.glu(torch.ones(2, 4), 2),
        lambda torch: torch.nn.functional.binary_cross_entropy(torch.tensor([1.5]), torch.ones(1)),
        lambda torch: torch.nn.functional.binary_cross_entropy(torch.ones(2), torch.ones(1)),
        lambda torch: torch.nn.functional.binary_cross_entropy(
            torch.ones(2), torch.ones(2), torch.ones(2, requires_grad=True)
        ),
    ],
    ids=["prelu channels", "glu odd", "glu dim", "bce range", "bce shape", "bce weight grad"],
)
def test_errors(real_torch, program):
    assert_same_error(real_torch, program)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_loss_with_clamped_logs_and_target_gradient(real_torch, reduction):
    def program(torch):
        x = torch.tensor([[0.0, 0.25, 0.5], [0.75, 1.0, 0.1]], requires_grad=True)
        t = torch.tensor([[0.0, 1.0, 0.5], [0.0, 1.0, 0.3]], requires_grad=True)
        plain = torch.nn.BCELoss(reduction=reduction)(x, t)
        weighted = torch.nn.BCELoss(torch.tensor([1.0, 2.0, 0.5]), reduction=reduction)(x, t)
        (plain.sum() + weighted.sum()).backward()
        return plain, weighted, x.grad, plain.grad_fn.name(), repr(torch.nn.BCELoss())

    actual, expected = run_both(real_torch, program)
    assert_same(actual, expected)


@pytest.mark.parametrize("reduction", ["sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(real_torch, reduction, log_target):
    def program(torch):
        x = torch.tensor([[-1.0, -2.0, -0.5], [-0.1, -3.0, -1.5]], requires_grad=True)
        t = torch.tensor([[0.2, 0.0, 0.8], [0.5, 0.25, 0.25]])
        t = t.log() if log_target else t
        loss = torch.nn.KLDivLoss(reduction=reduction, log_target=log_target)(x, t)
        loss.sum().backward()
        return loss, x.grad, loss.grad_fn.name(), repr(torch.nn.KLDivLoss())

    assert_same(*run_both(real_torch, program))


def test_kl_div_mean_warns_as_torch(real_torch):
    def program(torch):
        with pytest.warns(UserWarning) as record:
            loss = torch.nn.functional.kl_div(torch.zeros(2, 2), torch.ones(2, 2))
        return loss, str(record[0].message)

    assert_same(*run_both(real_torch, program))


def test_normalize_and_cosine_similarity_with_zero_vectors(real_torch):
    def program(torch):
        F = torch.nn.functional
        x = torch.tensor([[3.0, 4.0, 0.0], [0.0, 0.0, 0.0]], requires_grad=True)
        y = torch.tensor([[1.0, -1.0, 2.0], [0.0, 0.0, 0.0]], requires_grad=True)
        outs = [F.normalize(x), F.normalize(x, p=1.0, dim=0), F.cosine_similarity(x, y),
                F.cosine_similarity(x, y, dim=0)]  # fmt: skip
        sum((o * (i + 1)).sum() for i, o in enumerate(outs)).backward()
        return outs, x.grad, y.grad, [o.grad_fn.name() for o in outs]

    assert_same(*run_both(real_torch, program))


def test_in_place_is_refused():
    import fdiff.torch as torch
    from fdiff.torch._errors import UnsupportedError

    with pytest.raises(UnsupportedError, match=r"elu\(inplace=True\)"):
        torch.nn.ELU(inplace=True)(torch.ones(2))
