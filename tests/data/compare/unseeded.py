"""Differs on purpose: random draws without torch.manual_seed give each process other numbers."""

import torch

x = torch.randn(3, requires_grad=True)
y = (x**2).sum()
y.backward()
print(f"x.grad: {x.grad}")
