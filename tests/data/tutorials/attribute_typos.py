"""Tutorial-style: typos raise torch's AttributeError (hasattr and getattr defaults work)."""

import torch

x = torch.ones(2, 3, requires_grad=True)
try:
    x.sizee()
except AttributeError as e:
    print("AttributeError:", e)
try:
    torch.zeroes(3)
except AttributeError as e:
    print("AttributeError:", e)
print(hasattr(x, "shap"), hasattr(x, "shape"))
print(getattr(torch.nn.functional, "rellu", None))
(x * x).sum().backward()
print(x.grad)
