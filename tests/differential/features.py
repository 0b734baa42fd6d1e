"""Deterministic programs: every feature of the differential suite and every op, at least once.

Each is torch source over named inputs (``x*`` require grad, ``c*`` are float constants, ``i*``
integer or boolean): a top-level line is one step, indented lines belong to the step above.
Values are small integers, halves and zeros, so ties and kinks are hit on purpose.

>>> FEATURES["second backward without retain_graph"].steps[-1]
'v1.backward()'
"""

from __future__ import annotations

import numpy as np

from differential.program import Program

A = np.array([[1.0, -2.0, 0.0], [0.5, 2.0, -0.5]], np.float32)  # (2, 3): a zero, no ties
T = np.array([[1.0, 1.0, -1.0], [0.0, 2.0, 2.0]], np.float32)  # (2, 3): ties in every row
B = np.array([0.5, -1.0, 2.0], np.float32)  # (3,)


def feature(source: str, accumulation: int = 1, replayed: tuple[str, ...] = (), **inputs):
    """A program from source text; ``x0=array`` inputs in the order given."""
    program = Program(accumulation=accumulation, replayed=set(replayed))
    for name, array in inputs.items():
        requires_grad = name.startswith("x")
        program.inputs[name] = (np.asarray(array), requires_grad)
        program.x64 |= np.asarray(array).dtype == np.float64
    for line in source.strip().splitlines():
        if line.startswith(" "):
            program.steps[-1] += "\n" + line
        else:
            program.steps.append(line)
    return program


_ELEMENTWISE = """
v0 = x0.exp()
v1 = torch.log(x0.abs() + 1)
v2 = (x0.abs() + 1).sqrt()
v3 = x0.sin() + torch.cos(x0)
v4 = torch.tanh(x0) * x0.sigmoid()
v5 = torch.relu(x0) - x0.square()
v6 = (x0.abs() + 1).rsqrt() + torch.log1p(x0.abs()) + x0.expm1()
v7 = x0.sign() + x0.floor() + torch.ceil(x0) + x0.round()
v8 = F.softplus(x0) + F.leaky_relu(x0, 0.1) - (-x0) + abs(x0)
weigh(v0, v1, v2, v3, v4, v5, v6, v7, v8).backward()
"""

_ARITHMETIC = """
v0 = x0 + x1 - 2
v1 = 2 - x0 * x1
v2 = x0 / (x1.abs() + 1) + 1 / (x0.abs() + 1)
v3 = x0 ** 2 + x0 ** 0 + (x0.abs() + 1) ** x1 + 2 ** x0
v4 = torch.maximum(x0, x1) + torch.minimum(x0, x1)
v5 = torch.where(x0 > x1, x0, x1) + x0.clamp(-1, 1) + torch.clamp(x0, min=0)
v6 = torch.add(x0, x1, alpha=2) + torch.sub(x0, x1, alpha=0.5)
v7 = (x0 == x1, x0 != x1, x0 < x1, x0 <= x1, x0 >= x1)
weigh(v0, v1, v2, v3, v4, v5, v6).backward()
"""

_REDUCTIONS = """
v0 = x0.sum() + x0.mean() + x0.prod() + x0.var() + x0.std() + x0.norm()
v1 = x0.sum(dim=1) + x0.mean(dim=-1) + torch.logsumexp(x0, dim=1) + x0.norm(dim=1)
v2 = x0.max() + torch.min(x0) + x0.amax(dim=0).sum()
v3 = x0.max(dim=1).values + torch.min(x0, 1)[0]
v4 = (x0.argmax(), torch.argmin(x0, dim=0), x0.max(dim=1).indices)
v5 = torch.softmax(x0, dim=1) + x0.log_softmax(dim=0)
weigh(v0, v1, v2, v3, v5).backward()
"""

_SHAPES = """
v0 = x0.view(3, 2).t() + x0.reshape(-1).view(2, 3) + x0.flatten().view(2, 3)
v1 = x0.transpose(0, 1).permute(1, 0) + x0.T.T
v2 = x0.unsqueeze(0).squeeze() + x0[None].squeeze(0) + x0.expand(2, 2, 3)
v3 = torch.cat([x0, x0 * 2], dim=0) + torch.stack([x0, x0], 0).view(4, 3)
v4 = x0[1] + x0[0:1].squeeze(0) + x0[..., 0].sum() + x0[:, ::2].sum()
v5 = x0[torch.tensor([0, 0, 1])]
v6 = x0[x0 > 0]
v7 = x0.clone() + x0[None, :, None].squeeze((0, 2))
v8 = x0[...] + x0[:, 0:] + x0[1, 0:].sum() + x0[None][0] + x0[0:1, None].sum() + x0.flatten(1)
weigh(v0, v1, v2, v3, v4, v5, v6, v7, v8).backward()
"""

_MORE_SHAPES = """
v0 = x0.flip(0) + torch.roll(x0, 1, 1) + x0.rot90(2) + x0.t().rot90()
v1 = x0.tile(2).sum(1) + x0.repeat_interleave(2, dim=1).sum(1) + torch.diag(x0).sum()
v2 = torch.diag(x0[0]) + torch.block_diag(x0[:, :1], x0[1, 1:]).t()[:3].t()
v3 = x0.trace() + x0.take(torch.tensor([5, 0, 0]))
v5 = torch.take_along_dim(x0, torch.tensor([[2, 0, 0], [1, 1, 2]]), 1) + x0.swapaxes(0, 1).t()
v4 = torch.vstack([x0[0], x0[1]]) + torch.meshgrid(x0[0], x0[1, :2], indexing="xy")[1]
weigh(v0, v1, v2, v3, v4, v5).backward()
"""

_MATMUL = """
v0 = x1 @ x1
v1 = x0 @ x1
v2 = x1 @ x0.t()
v3 = x0 @ x0.t()
v4 = x0.expand(2, 2, 3) @ x1
v5 = torch.bmm(x0.expand(2, 2, 3), x0.t().expand(2, 3, 2))
v6 = torch.mm(x0, x0.t()) + torch.dot(x1, x1)
weigh(v0, v1, v2, v3, v4, v5, v6).backward()
"""

_NN = """
torch.manual_seed(0)
m0 = torch.nn.Linear(3, 2)
m1 = torch.nn.Conv2d(2, 3, 2)
v0 = m0(x0)
v1 = m0(torch.stack([x0, x0 * 2]))
v2 = F.linear(x0, m0.weight)
v3 = m1(x0.view(1, 2, 3, 1).expand(1, 2, 3, 3))
v4 = F.mse_loss(v0, c1) + F.mse_loss(v0, c1, reduction="sum")
v5 = F.cross_entropy(v0, torch.tensor([1, 0])) + F.nll_loss(v0.log_softmax(dim=1), i2)
v6 = F.binary_cross_entropy_with_logits(v0, c1.abs() / 2, reduction="none")
weigh(v0, v1, v2, v3, v4, v5, v6).backward()
"""

_SELECTION = """
v0 = x0.cumsum(1) + torch.cumprod(x0, dim=0) + (x0.abs() + 1).log10() + torch.log2(x0.abs() + 1)
v1 = x0.prod(1) + torch.outer(x1, x1).sum(0)[:2]
v2 = x0.tril() + torch.triu(x0, 1)
v3 = torch.einsum("ij,j->i", x0, x1) + torch.einsum("ij->i", x0) + torch.einsum("ij->ji", x0).sum(0)
v4 = torch.einsum("ij,ij->ij", x0, x0)
v5 = x0.gather(1, torch.tensor([[2, 0], [1, 1]])) + x0.index_select(1, torch.tensor([2, 0]))
v6 = x0.scatter(1, torch.tensor([[2], [0]]), x0[:, :1] * 2)
v7 = x0.scatter_add(1, torch.tensor([[0, 0], [2, 2]]), x0[:, 1:] * 3)
v12 = x0.scatter(0, torch.tensor([[1, 0, 1]]), 5.0)
v8 = x0.masked_fill(x0 > 0, 0.5) + torch.masked_fill(x0, x0 < 0, x1[0])
v9 = x0.sort(dim=1, descending=True).values + x0.topk(2, dim=1).values.sum(1, keepdim=True)
v10 = (x0.sort(1).indices, x0.topk(1).indices, torch.isclose(x0, x1), (x0 > 0).all())
v11 = torch.any(x0 > 1, dim=1)
v16 = torch.masked_select(x0, x0 > 0).sum() + x0.amin(1) + torch.aminmax(x0, dim=0)[1].sum()
v17 = torch.aminmax(x0).min + torch.amin(x0)
v18 = torch.median(x0) + x0.median(1).values.sum() + sum(torch.var_mean(x0, 1)).sum()
v19 = sum(torch.std_mean(x0)) + torch.dist(x0, x1) + torch.cdist(x0, x0 * 2).sum()
v20 = (x0.median(1).indices, torch.searchsorted(x1.sort().values, x0))
rows = torch.tensor([1, 0])
pairs = torch.tensor([[0, 0], [2, 0]])
v23 = sum(x0.scatter_reduce(1, pairs, x0[:, :2] * 2, r) for r in ("sum", "mean", "amax", "amin"))
v25 = x0.detach().scatter_reduce(1, pairs, x0.detach(), "prod", include_self=False)
v21 = x0.index_add(1, torch.tensor([2, 0]), x0[:, :2] * 3) + x0.index_copy(0, rows, x0 * 2)
v22 = x0.index_fill(1, torch.tensor([1]), 0.5) + x0.index_fill(0, torch.tensor([0]), x1[1])
v14 = (~(x0 > 0), (x0 > 0) & (x0 < 1), (x0 > 0) | (x0 < -1), (x0 > 0) ^ (x0 < 1))
v15 = (torch.logical_not(x0), torch.logical_and(x0, x1), torch.logical_or(x0, x1))
torch.manual_seed(0)
v13 = (x0 * 1).exponential_() * x0 + (x0 * 1).bernoulli_(0.5) * x0
weigh(
    v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v12, v13, v16, v17, v18, v19, v21, v22, v23
).backward()
"""

_POINTWISE = """
v0 = x0.tan() + torch.erf(x0) + (x0.abs() + 1).reciprocal() + x0.deg2rad() + torch.trunc(x0)
v1 = x0.frac() + torch.logit(x0.sigmoid()) + x0.logit(0.2) + torch.nan_to_num(x0 / x1)
v2 = torch.remainder(x0, x1) + x0.remainder(1.5) + torch.fmod(x0, x1) + x0.fmod(-1.5)
v3 = torch.atan2(x0, x1) + torch.hypot(x0, x1) + x0.clamp_min(0.5) + torch.clamp_max(x0, 0)
v4 = torch.clamp_min(x0, x1) + x0.clamp_max(x1) + torch.lerp(x0, x1, 0.75) + x0.lerp(x1, x1)
v5 = torch.addcmul(x0, x1, x0, value=2) + x0.addcdiv(x0, x1.abs() + 1, value=-0.5)
v8 = torch.xlogy(x0, x1.abs()) + torch.xlogy(2, x1.abs() + 1) + x0.xlogy(0.5)
v6 = (torch.isnan(x0 / x1), x0.isinf(), torch.isfinite(x0 / x1), torch.eq(x0, x1))
v7 = torch.heaviside(x0, x1)
weigh(v0, v1, v2, v3, v4, v5, v8).backward()
"""

_NN_LAYERS = """
v0 = F.max_pool2d(x0.view(1, 1, 2, 3), (2, 2), stride=1)
v1 = F.avg_pool2d(x0.view(1, 2, 3), (1, 2), stride=1, padding=(0, 1))
v2 = F.layer_norm(x0, (3,)) + F.batch_norm(x0, None, None, training=True)
v3 = F.embedding(i1, x0)
v4 = F.gelu(x0) + F.gelu(x0, approximate="tanh") + F.silu(x0)
v5 = F.smooth_l1_loss(x0, c1) + F.huber_loss(x0, c1, delta=0.5)
v6 = F.leaky_relu(x0 * 1, 0.2, inplace=True)
v7 = F.elu(x0) + F.relu6(x0) + F.hardtanh(x0, -0.5, 1.0) + F.hardswish(x0) + F.mish(x0)
v8 = F.hardsigmoid(x0) + F.logsigmoid(x0) + F.glu(x0.view(3, 2), 1).sum() + F.prelu(x0, c1[0])
v9 = F.binary_cross_entropy(x0.sigmoid(), c1.abs() / 2)
v10 = F.adaptive_avg_pool2d(x0.view(1, 2, 3), (2, 2)) + F.adaptive_avg_pool1d(x0, 2).sum()
v11 = F.conv1d(x0.view(1, 2, 3), x0.view(1, 2, 3)[..., :2], padding=1)
v12 = F.pad(x0, (1, -1, 0, 1), value=0.5)[1:] + F.pad(x0, (1, 1), "reflect")[:, :3]
v13 = F.pad(x0.view(1, 2, 3), (1, 0, 1, 1), "reflect")[0, 1:3, 1:]
v13 = v13 + F.pad(x0, (0, 1), "replicate")[:, 1:]
v14 = F.pad(x0.view(1, 2, 3), (1, 0, 0, 1), "replicate")
weigh(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14).backward()
"""

_IN_PLACE = """
v0 = x0.clone()
v0.mul_(2)
v0.add_(x1, alpha=2)
v0.sub_(0.5)
v0.div_(2)
v0.clamp_(-1, 1)
v0[0] = x1 * 3
v0[torch.tensor([1])] = x1
v1 = v0 * x0
v2 = torch.zeros_like(x0)
v2.copy_(x1)
v2 += x0
v3 = x0.clone()
v3.zero_()
v3 -= x1
v4 = x0.clone()
v4.fill_(2.0)
v4 *= x1
v5 = x0.clone()
v5[x0 > 0] = 0.0
v5 /= 2
weigh(v0, v1, v2, v3, v4, v5).backward()
"""

_DETACH_NO_GRAD = """
v0 = x0 * 2
v1 = v0.detach()
v2 = v1 * x0
with torch.no_grad():
    v3 = x0 * 3
    v4 = v3 + x0
    with torch.enable_grad():
        v5 = x0 * 4
v6 = v2 + v3 + v5
weigh(v0, v6).backward()
with torch.no_grad():
    x0 -= 0.5 * x0.grad
x0.grad.zero_()
v7 = (x0 * x0).sum()
v7.backward()
"""

_RETAIN = """
v0 = x0 * x1
v0.retain_grad()
v1 = v0.sin()
v1.retain_grad()
v2 = weigh(v1)
v2.backward(retain_graph=True)
v2.backward()
"""

_SEVERAL_BACKWARDS = """
v0 = weigh(x0 * x1)
v0.backward()
v1 = weigh(x0.tanh())
v1.backward()
v2 = weigh(x1 ** 2)
v2.backward()
"""

_FREED = """
v0 = x0.exp()
v1 = weigh(v0)
v1.backward()
v1.backward()
"""

_NOTHING_SAVED = """
v0 = (x0 + 1).floor() + x0.sum() - x0.sign()
v1 = v0.sum()
v1.backward()
v1.backward()
"""

_CREATE_GRAPH = """
v0 = weigh(x0 ** 3 * x1)
v1 = torch.autograd.grad(v0, x0, create_graph=True)[0]
v2 = weigh(v1 * x1)
v2.backward()
v3 = torch.autograd.grad(weigh(x0.sin()), [x0])[0]
"""

# `x0.long()`: an integer cast leaves the graph (a leaf without grad), as in torch.
_INTEGERS = """
v0 = x0 * i1 + i1
v1 = i1 * 2 + i1.sum()
v2 = x0[i2] + x0[:, i2].sum()
v3 = i1.float() * x0 + i1 / 2
v4 = x0.argmax(dim=1)
v5 = torch.where(i1 > 0, x0, i1 * 0.5)
v6 = (x0.long(), i1.max(), i1 == 0, x0.bool())
weigh(v0, v2, v3, v5).backward()
"""

_HOOKS = """
v0 = x0 * x1
v0.retain_grad()
h0 = v0.register_hook(lambda g: g * 2)
h1 = x0.register_hook(lambda g: g - 1)
h2 = v0.grad_fn.register_prehook(lambda grads: (grads[0] + 1,))
v1 = v0.exp()
h3 = v1.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0] * 3,))
torch.manual_seed(0)
m0 = torch.nn.Linear(3, 2)
h4 = m0.register_full_backward_hook(lambda m, grad_inputs, grad_outputs: (grad_inputs[0] / 2,))
h5 = m0.register_forward_hook(lambda m, args, output: output * 2)
v2 = m0(x0)
weigh(v1, v2).backward()
"""

_CUSTOM_FUNCTION = """
class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, k):
        ctx.save_for_backward(a)
        ctx.k = k
        return a**3 * k
    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return 3 * a**2 * grad * ctx.k, None
v0 = Cube.apply(x0, 2.0)
v1 = Cube.apply(x0 * x1, 0.5)
v2 = torch.autograd.grad(weigh(v0), x0, create_graph=True)[0]
weigh(v1, v2).backward()
"""
_VIEWS_IN_PLACE = """
torch.manual_seed(0)
v0 = x0.clone()
v0[:1] *= 10
v1 = v0.view(-1)
v1.add_(1)
v2 = v0.t()
v2[0].mul_(x1[0])
v3 = v0[1]
v0.mul_(2)
v4 = (v3, v3.grad_fn.name(), v0.grad_fn.name(), v0._version, v2.is_contiguous(), v2.stride())
v5 = x0.t().reshape(-1) + x0.t().contiguous().view(-1)
v6 = x0 * 1
v6.uniform_()
v7 = x0 * 1
v7.normal_()
v8 = v0.detach()
v8[0, 0] = 5.0
v9 = x0 * 1
v10 = v9.unbind(1)[2] + v9.split(1)[1].squeeze(0)[:2].sum() + v9.chunk(2, dim=1)[0].sum()
v11 = v9.split([1, 2], dim=1)[1] + v9.narrow(1, 1, 2) + torch.select(v9, 1, -1)[:, None]
v12 = v9.diagonal() + torch.diagonal(v9, 1)
with torch.no_grad():
    v9.unbind()[0].mul_(3)
weigh(v0, v1, v2, v3, v5, v6, v7, v9, v10, v11, v12).backward()
"""

_ERRORS = {
    "saved output changed in place": "v0 = x0.exp()\nv0.add_(1)\nv0.sum().backward()",
    "saved leaf changed under no_grad": (
        "v0 = (x0 * x0).sum()\nwith torch.no_grad():\n    x0.add_(1)\nv0.backward()"
    ),
    "in-place on a view of a leaf": "x0[0].add_(1)",
    "in-place on an expanded view": "v0 = x0 * 1\nv0.expand(2, 2, 3).add_(1)",
    "in-place on an output of unbind": "v0 = (x0 * 1).unbind()\nv0[1].mul_(2)",
    "view of an elementwise op's transposed result": "v0 = (x0.t() * 2).view(-1)",
    # in a function: the program keeps no such view, which torch refuses to even observe
    "an output of split whose base changed": (
        "def f0(v):\n    parts = v.split(1)\n    v.add_(1)\n    return parts[0] * 2\n"
        "v0 = f0(x0 * 1)"
    ),
    "in-place on a leaf that requires grad": "x0.add_(1)",
    "backward of a non-scalar": "v0 = x0 * 2\nv0.backward()",
    "index out of range": "v0 = x0[torch.tensor([5])]",
    "requires_grad on an integer tensor": "i1.requires_grad_()",
}

_FLOAT64 = """
v0 = x0 * c1
v1 = x2.double()
v2 = x0.float()
v3 = (v1 * x0).sum() + v2.sum().double()
v4 = torch.softmax(x0, dim=1) @ c1.t()
v5 = x0.sum() * x2 + torch.where(x2 > 0, x0[0, 0], x2) + torch.maximum(x0.amax(), x2)
v6 = F.binary_cross_entropy_with_logits(x0, x2.abs().expand(2, 3) / 2) + F.mse_loss(x0[0], x2)
weigh(v0, v1, v2, v3, v4, v5, v6).backward()
"""

_LAYOUTS = """
v0 = (x0.t() * 2).contiguous().view(-1)
v1 = (x0.t().exp() + 1).reshape(-1) + x0.t().clone().flatten()
v2 = torch.tensor([*(x0.t() * 2).stride(), *(x1 + x0.t()[:, :1]).stride()])
v3 = torch.tensor([(x0.t() > 0).is_contiguous(), (x0.t() @ x0).is_contiguous()])
weigh(v0, v1).backward()
"""

_I = np.array([[1, 0, -2], [3, 0, 1]], np.int64)
_LABELS = np.array([1, 0], np.int64)

FEATURES: dict[str, Program] = {
    "elementwise functions": feature(_ELEMENTWISE, x0=A),
    "arithmetic and comparisons": feature(_ARITHMETIC, x0=T, x1=B),
    "reductions": feature(_REDUCTIONS, accumulation=6, x0=T),
    "views and indexing": feature(_SHAPES, accumulation=2, x0=A),
    "flips, rolls, tiles, diagonals and stacks": feature(_MORE_SHAPES, accumulation=3, x0=A),
    "matrix products": feature(_MATMUL, accumulation=3, x0=A, x1=B),
    "nn layers and losses": feature(_NN, accumulation=8, x0=A, c1=T[:, :2], i2=_LABELS),
    "scans, einsum, selection and sorting": feature(_SELECTION, accumulation=3, x0=A, x1=B),
    "nn pooling, norms, embedding, activations": feature(
        _NN_LAYERS, accumulation=8, x0=A, c1=T, i1=np.array([[1, 0], [0, 1]], np.int64)
    ),
    "pointwise math": feature(_POINTWISE, x0=A, x1=T),
    "in-place ops on clones": feature(_IN_PLACE, x0=A, x1=B),
    "in-place ops through views": feature(_VIEWS_IN_PLACE, accumulation=4, x0=A, x1=B),
    "memory layouts through ops": feature(_LAYOUTS, x0=A, x1=B),
    "detach and no_grad": feature(_DETACH_NO_GRAD, accumulation=6, x0=T),
    "retain_grad and retain_graph": feature(_RETAIN, x0=A, x1=B),
    "several backwards accumulate": feature(_SEVERAL_BACKWARDS, x0=A, x1=B),
    "second backward without retain_graph": feature(_FREED, x0=A),
    "second backward through nodes that save nothing": feature(_NOTHING_SAVED, x0=A),
    "create_graph second derivative": feature(_CREATE_GRAPH, replayed=("v1",), x0=A, x1=B),
    "tensor, grad_fn and module hooks": feature(_HOOKS, accumulation=3, x0=A, x1=B),
    "custom autograd.Function": feature(_CUSTOM_FUNCTION, replayed=("v2",), x0=A, x1=B),
    "integer inputs": feature(_INTEGERS, x0=A, i1=_I, i2=np.array([1, 0, 1], np.int64)),
    **{name: feature(source, x0=A, i1=_I) for name, source in _ERRORS.items()},
}

X64_FEATURES: dict[str, Program] = {
    "float64 and mixed precision": feature(
        _FLOAT64, accumulation=3, x0=A.astype(np.float64), c1=T.astype(np.float64), x2=B
    ),
}
