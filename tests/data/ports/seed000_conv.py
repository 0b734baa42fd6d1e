# Seed 000.4 (the catalog's torch program): a 3x3 convolution and its gradients.
import torch
import torch.nn as nn

image = torch.tensor(
    [[[[2.0, 2.0, 1.0, 3.0], [4.0, 3.0, 1.0, 2.0], [1.0, 2.0, 2.0, 2.0], [1.0, 1.0, 2.0, 4.0]]]]
)
c_weight = torch.tensor([[[[3, 4, 5], [1, 2, 5], [1, 4, 5]]]], dtype=torch.float32)
c_weight = nn.parameter.Parameter(c_weight)
c_bias = torch.tensor([0], dtype=torch.float32)
c_bias = nn.parameter.Parameter(c_bias)
conv = nn.Conv2d(1, 1, 3)
conv.weight = c_weight
conv.bias = c_bias
result = conv(image)
print(result)
loss = torch.sum(result)
print(loss)
loss.backward()
print(conv.weight.grad)
print(conv.bias.grad)
