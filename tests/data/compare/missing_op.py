"""Fails under fdiff.torch only: it uses two things fdiff.torch lacks, the second after the
first stops the run (Tensor.logcumsumexp, torch.special.zeta)."""

import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
print("before")
y = x.logcumsumexp(0).sum()
y.backward()
print(f"x.grad: {x.grad}")
print(torch.special.zeta(x.detach() + 1, 2.0))
