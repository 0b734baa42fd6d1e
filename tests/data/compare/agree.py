"""Agrees: a seeded random leaf, printing, a kink at 0 (torch's abs'(0) = 0), a Linear layer."""

import torch
import torch.nn as nn

torch.manual_seed(0)
x = torch.randn(4, requires_grad=True)
w = torch.tensor([0.0, 1.0, -2.0], requires_grad=True)
model = nn.Linear(4, 2)
print(f"x: {x}")
loss = model(x).pow(2).sum() + w.abs().sum() + w.relu().sum()
loss.backward()
print("loss:", loss)
print(f"w.grad: {w.grad}")
print(object())
