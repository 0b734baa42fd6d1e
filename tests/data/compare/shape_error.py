"""Fails under both engines alike: a matrix product of mismatched shapes."""

import torch

a = torch.ones(2, 3, requires_grad=True)
print("multiplying")
b = a @ torch.ones(2, 3)
