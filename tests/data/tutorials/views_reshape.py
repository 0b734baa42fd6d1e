"""Tutorial-style: views of a transposed tensor: strides, contiguous(), reshape copying where
view cannot, view's error on the result of an elementwise op."""

import torch

torch.manual_seed(0)
x = torch.randn(3, 4, requires_grad=True)
y = x.t()
print(y.is_contiguous(), y.stride())
z = (y * 2).contiguous().view(-1)
print(z.shape, z.stride())
w = (y * 2).reshape(2, 6)
print(w, w.grad_fn)
try:
    (y * 2).view(-1)
except RuntimeError as e:
    print("view failed:", e)
loss = (w**2).sum() + z.sum()
loss.backward()
print(x.grad)
