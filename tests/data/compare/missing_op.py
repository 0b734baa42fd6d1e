"""Fails under fdiff.torch only: Tensor.cumsum is not supported there."""

import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
print("before")
y = x.cumsum(0).sum()
y.backward()
print(f"x.grad: {x.grad}")
