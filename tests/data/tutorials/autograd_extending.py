"""Autograd as the PyTorch docs teach it: the autograd tutorial's external gradient, "Autograd
mechanics"' saved tensor hooks, "Extending PyTorch"'s LinearFunction and MulConstant trained
with SGD, torch.autograd.functional with create_graph and strict, a leaf hook under
create_graph, and a custom Function that turns off materialized gradients."""

import torch

torch.manual_seed(0)

# The autograd tutorial: Q = 3a^3 - b^2, backward with an external gradient.
a = torch.tensor([2.0, 3.0], requires_grad=True)
b = torch.tensor([6.0, 4.0], requires_grad=True)
Q = 3 * a**3 - b**2
Q.backward(gradient=torch.tensor([1.0, 1.0]))
print("dQ/da", a.grad, "dQ/db", b.grad)


# Autograd mechanics: hooks for saved tensors.
def pack_hook(x):
    print("Packing", x)
    return x


def unpack_hook(x):
    print("Unpacking", x)
    return x


ones = torch.ones(5, requires_grad=True)
twos = torch.ones(5, requires_grad=True) * 2
with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
    y = ones * twos
y.sum().backward()
print("ones.grad", ones.grad)


class LinearFunction(torch.autograd.Function):
    """Extending PyTorch: the LinearFunction example."""

    @staticmethod
    def forward(input, weight, bias):
        output = input.mm(weight.t())
        if bias is not None:
            output += bias.unsqueeze(0).expand(output.shape)  # the docs: expand_as(output)
        return output

    @staticmethod
    def setup_context(ctx, inputs, output):
        input, weight, bias = inputs
        ctx.save_for_backward(input, weight, bias)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.t().mm(input)
        if bias is not None and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


class MulConstant(torch.autograd.Function):
    """Extending PyTorch: a Function with a non-tensor argument."""

    @staticmethod
    def forward(tensor, constant):
        return tensor * constant

    @staticmethod
    def setup_context(ctx, inputs, output):
        _, constant = inputs
        ctx.constant = constant

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.constant, None


weight = torch.randn(2, 3, requires_grad=True)
bias = torch.zeros(2, requires_grad=True)
inputs, targets = torch.randn(8, 3), torch.randn(8, 2)
optimizer = torch.optim.SGD([weight, bias], lr=0.1)
for step in range(5):
    optimizer.zero_grad()
    prediction = MulConstant.apply(LinearFunction.apply(inputs, weight, bias), 0.5)
    loss = ((prediction - targets) ** 2).mean()
    loss.backward()
    optimizer.step()
    print(f"step {step} loss {loss.item():.4f}")
print("weight.grad", weight.grad, "bias.grad", bias.grad)

# torch.autograd.functional's docs examples, with create_graph and strict.
F = torch.autograd.functional


def exp_reducer(x):
    return x.exp().sum(dim=1)


points = torch.rand(2, 2)
jacobian = F.jacobian(exp_reducer, points, create_graph=True)
print("jacobian", jacobian.shape, jacobian.requires_grad)


def pow_reducer(x):
    return x.pow(3).sum()


output, hvp = F.hvp(pow_reducer, points, torch.ones(2, 2), create_graph=True)
print("hvp", hvp.detach(), hvp.requires_grad)
try:
    F.jacobian(lambda x: x * 2, points, strict=True, create_graph=True)
except RuntimeError as error:
    print("strict:", error)

# A leaf hook that scales the gradient, under create_graph.
x = torch.tensor([1.0, 2.0], requires_grad=True)
x.register_hook(lambda grad: grad * 2)
(dx,) = torch.autograd.grad((x**3).sum(), x, create_graph=True)
(ddx,) = torch.autograd.grad(dx.sum(), x)
print("dx", dx.detach(), dx.requires_grad, "ddx", ddx)


class TwoOutputs(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, grad_double, grad_triple):
        unused = 100.0 if grad_double is None else grad_double * 2  # None: not materialized
        return grad_triple * 3 + unused


double, triple = TwoOutputs.apply(x)
x.grad = None
triple.sum().backward()
print("x.grad", x.grad)
