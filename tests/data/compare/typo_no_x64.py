"""Compared without x64: an int64 product past int32's range wraps under fdiff.torch, then a
typo (a name torch lacks too) raises the same AttributeError at the same line under both."""

import torch

torch.manual_seed(0)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(2, 2)


print(torch.tensor([100000]) * torch.tensor([100000]))
net = Net()
print(net.fc2)
