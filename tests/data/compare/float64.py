"""Fails under fdiff.torch only: float64 needs JAX's x64 mode, which is off."""

import torch

x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
(x * x).sum().backward()
print(f"x.grad: {x.grad}")
