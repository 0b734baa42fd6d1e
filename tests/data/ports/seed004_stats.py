# Seed 004.2's pattern (leaves, ops, .sum().backward()) on the ops whose torch and JAX
# semantics differ: max over a dim with ties, var, clamp at its bounds, float64.
import torch

a = torch.tensor([[1.0, 1.0], [2.0, 0.0]], requires_grad=True)
top = a.max(dim=1).values.sum()
top.backward()

v = torch.tensor([0.0, 3.0, 3.0], requires_grad=True)
spread = v.var()
spread.backward()

c = torch.tensor([0.0, 1.0, 2.0], requires_grad=True)
c.clamp(0.0, 1.0).sum().backward()

d = torch.tensor([0.1, 0.2], dtype=torch.float64, requires_grad=True)
(d * 3).sum().backward()
print(f"top {top.item():.4f} spread {spread.item():.4f}")
