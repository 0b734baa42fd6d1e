"""Tutorial-style: in-place writes through a clone's column, a flatten that copies, unbind
and split outputs sharing one grad_fn."""

import torch

torch.manual_seed(0)
a = torch.randn(4, 3, requires_grad=True)
b = a.clone()
b[:, 1] *= 3
c = b.t().exp()
print(c.stride(), c.is_contiguous())
d = c.flatten()
print(d.grad_fn)
d.sum().backward()
print(a.grad)
rows = a.detach().unbind(0)
print(len(rows), rows[0])
parts = a.split(2)
print(parts[0].grad_fn.name(), parts[0].grad_fn is parts[1].grad_fn, parts[1].output_nr)
