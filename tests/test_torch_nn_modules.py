"""``nn.Module``'s methods and the containers against real PyTorch: traversal, state dicts,
train/eval, ``to``, ``zero_grad``, ``requires_grad_``, indexing, and ``print(model)``."""

from __future__ import annotations

import collections

import pytest
from support import assert_same, assert_same_error, run_both

import fdiff.torch


def _net(torch):
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = torch.nn.Sequential(
                torch.nn.Conv2d(1, 4, 3, padding=1),
                torch.nn.BatchNorm2d(4),
                torch.nn.ReLU(),
                torch.nn.MaxPool2d(2),
                torch.nn.Dropout(0.25),
            )
            self.blocks = torch.nn.ModuleList(
                [torch.nn.Linear(64, 16), torch.nn.Linear(16, 16), torch.nn.GELU()]
            )
            self.heads = torch.nn.ModuleDict(
                {"a": torch.nn.Linear(16, 3), "b": torch.nn.Identity()}
            )
            self.norm = torch.nn.LayerNorm(16)
            self.register_buffer("scale", torch.ones(1))
            self.register_buffer("scratch", torch.zeros(2), persistent=False)

        def forward(self, x):
            x = self.features(x).flatten(1)
            for block in self.blocks:
                x = block(x)
            return self.heads["a"](self.norm(x)) * self.scale

    torch.manual_seed(0)
    return Net()


def test_print_model_as_torch_prints_it(real_torch):
    assert_same(*run_both(real_torch, lambda torch: repr(_net(torch))))


def test_traversal(real_torch):
    def program(torch):
        net = _net(torch)
        visited = []
        net.apply(lambda m: visited.append(type(m).__name__))
        return (
            [(name, type(m).__name__) for name, m in net.named_modules()],
            [type(m).__name__ for m in net.children()],
            [name for name, _ in net.named_children()],
            [(name, tuple(p.shape)) for name, p in net.named_parameters()],
            [(name, tuple(b.shape)) for name, b in net.named_buffers()],
            len(list(net.buffers())),
            len(list(net.modules())),
            visited,
        )

    assert_same(*run_both(real_torch, program))


def test_state_dict_round_trip_and_initial_values(real_torch):
    def program(torch):
        net = _net(torch)
        state = net.state_dict()
        other = _net(torch)
        with torch.no_grad():
            for p in other.parameters():
                p.add_(1.0)
        result = other.load_state_dict(state)
        same = [
            (a - b).abs().sum().item() == 0
            for a, b in zip(state.values(), other.state_dict().values(), strict=True)
        ]
        return list(state), state, repr(result), same, type(state).__name__

    assert_same(*run_both(real_torch, program))


@pytest.mark.parametrize(
    "change",
    [
        lambda state: state.pop("norm.weight"),
        lambda state: state.__setitem__("extra", state["scale"]),
        lambda state: state.__setitem__("scale", state["norm.bias"]),
    ],
    ids=["missing", "unexpected", "size mismatch"],
)
def test_load_state_dict_errors(real_torch, change):
    def program(torch):
        net = _net(torch)
        state = net.state_dict()
        change(state)
        net.load_state_dict(state)

    assert_same_error(real_torch, program)


def test_load_state_dict_not_strict(real_torch):
    def program(torch):
        net = _net(torch)
        state = collections.OrderedDict(net.state_dict())
        state.pop("scale")
        state["unknown"] = torch.ones(1)
        return repr(net.load_state_dict(state, strict=False))

    assert_same(*run_both(real_torch, program))


@pytest.mark.slow
def test_train_eval_zero_grad_and_requires_grad(real_torch):
    def program(torch):
        net = _net(torch)
        x = torch.ones(2, 1, 8, 8)
        torch.manual_seed(1)
        net(x).sum().backward()
        modes = [m.training for m in net.modules()]
        net.eval()
        eval_modes = [m.training for m in net.modules()]
        y = net(x)
        net.zero_grad(set_to_none=False)
        zeroed = [p.grad for p in net.parameters()]
        net.zero_grad()
        cleared = [p.grad is None for p in net.parameters()]
        net.requires_grad_(False)
        frozen = [p.requires_grad for p in net.parameters()]
        return modes, eval_modes, y, zeroed, cleared, frozen, net.train().training

    assert_same(*run_both(real_torch, program))


def test_to_dtype_keeps_the_parameters(real_torch):
    def program(torch):
        layer = torch.nn.Linear(2, 2)
        weight = layer.weight
        same = layer.to("cpu").to(torch.float32) is layer and layer.weight is weight
        return same, str(layer.weight.dtype), layer.float() is layer

    assert_same(*run_both(real_torch, program))


def test_sequential_indexing_slicing_and_editing(real_torch):
    def program(torch):
        model = torch.nn.Sequential(
            torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1), torch.nn.Sigmoid()
        )
        head = model[1:]
        last = model[-1]
        model.append(torch.nn.Tanh())
        del model[1]
        named = torch.nn.Sequential(collections.OrderedDict(fc=torch.nn.Linear(2, 2)))
        return repr(head), repr(last), repr(model), len(model), repr(named), repr(named.fc)

    assert_same(*run_both(real_torch, program))


def test_module_list_and_dict_operations(real_torch):
    def program(torch):
        layers = torch.nn.ModuleList([torch.nn.ReLU() for _ in range(3)])
        layers.append(torch.nn.Linear(1, 1))
        layers.insert(0, torch.nn.Tanh())
        layers += [torch.nn.ReLU()]
        heads = torch.nn.ModuleDict({"x": torch.nn.ReLU()})
        heads["y"] = torch.nn.Tanh()
        popped = heads.pop("x")
        return (
            repr(layers),
            repr(layers[1:3]),
            len(layers),
            repr(heads),
            list(heads.keys()),
            "y" in heads,
            repr(popped),
        )

    assert_same(*run_both(real_torch, program))


def test_index_errors(real_torch):
    assert_same_error(real_torch, lambda torch: torch.nn.Sequential(torch.nn.ReLU())[3])
    assert_same_error(real_torch, lambda torch: torch.nn.ModuleList([torch.nn.ReLU()])[-2])


def test_a_typo_raises_torchs_plain_attribute_error(real_torch):
    assert_same_error(real_torch, lambda torch: torch.nn.Linear(2, 2).wieght)
    with pytest.raises(AttributeError) as info:
        _ = fdiff.torch.nn.Linear(2, 2).wieght
    assert not isinstance(info.value, fdiff.torch.UnsupportedError)


def test_a_torch_module_name_fdiff_lacks_is_unsupported():
    with pytest.raises(fdiff.torch.UnsupportedError) as info:
        fdiff.torch.nn.Linear(2, 2).half()
    assert info.value.op == "torch.nn.Module.half"
