"""float64: agrees with JAX's x64 mode (compare's default); without it fdiff.torch refuses."""

import torch

x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
(x * x).sum().backward()
print(f"x.grad: {x.grad}")
