"""Tutorial-style: a small CNN with one-element tuple arguments (padding=(1,), stride=[1],
MaxPool2d((2,))) trained with SGD on a transposed input."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
net = nn.Sequential(
    nn.Conv2d(1, 4, 3, padding=(1,)),
    nn.ReLU(),
    nn.MaxPool2d((2,)),
    nn.Conv2d(4, 8, kernel_size=3, stride=[1], padding=1),
    nn.ReLU(),
    nn.AvgPool2d(2),
    nn.Flatten(),
    nn.Linear(8 * 2 * 2, 3),
)
print(net)
x = torch.randn(5, 1, 8, 8)
targets = torch.tensor([0, 2, 1, 1, 0])
opt = torch.optim.SGD(net.parameters(), lr=0.1)
for step in range(3):
    opt.zero_grad()
    logits = net(x.transpose(2, 3))
    loss = F.cross_entropy(logits, targets)
    loss.backward()
    opt.step()
    print(step, round(loss.item(), 5))
probs = F.softmax(logits, dim=1)
print(probs.argmax(dim=1))
