"""Fails under fdiff.torch only: Tensor.logcumsumexp is not supported there."""

import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
print("before")
y = x.logcumsumexp(0).sum()
y.backward()
print(f"x.grad: {x.grad}")
