"""Tutorial-style: multi-head attention reshapes (split, view, transpose, contiguous)."""

import torch
import torch.nn.functional as F

torch.manual_seed(0)
B, T, C, H = 2, 5, 8, 2
x = torch.randn(B, T, C)
qkv = torch.nn.Linear(C, 3 * C)
q, k, v = qkv(x).split(C, dim=2)
q = q.view(B, T, H, C // H).transpose(1, 2)
k = k.view(B, T, H, C // H).transpose(1, 2)
v = v.view(B, T, H, C // H).transpose(1, 2)
att = (q @ k.transpose(-2, -1)) * (1.0 / (C // H) ** 0.5)
att = F.softmax(att, dim=-1)
y = att @ v
print(y.is_contiguous(), y.stride())
y = y.transpose(1, 2).contiguous().view(B, T, C)
print(y.shape)
loss = y.pow(2).mean()
loss.backward()
print(f"{loss.item():.5f}")
print(qkv.weight.grad.abs().sum() > 0)
