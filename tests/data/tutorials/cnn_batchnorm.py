"""Tutorial-style: a small CNN with BatchNorm, MaxPool and Dropout, NLLLoss on log-softmax,
SGD with momentum and a StepLR schedule; running statistics and an eval pass."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 8, 3)
        self.pool = nn.MaxPool2d(2)
        self.dropout = nn.Dropout(0.25)
        self.fc = nn.Linear(8 * 2 * 2, 4)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = F.avg_pool2d(F.relu(self.conv2(x)), 1)
        x = self.dropout(torch.flatten(x, 1))
        return F.log_softmax(self.fc(x), dim=1)


torch.manual_seed(1)
images = torch.randn(24, 1, 8, 8)
targets = torch.randint(0, 4, (24,))
model = Net()
print(model)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)

for epoch in range(4):
    model.train()
    for start in range(0, 24, 8):
        optimizer.zero_grad()
        output = model(images[start : start + 8])
        loss = F.nll_loss(output, targets[start : start + 8])
        loss.backward()
        optimizer.step()
    scheduler.step()
    print(f"epoch {epoch}: loss {loss.item():.5f}, lr {scheduler.get_last_lr()[0]}")

print("running mean:", model.bn1.running_mean)
print("running var:", model.bn1.running_var)
print("batches tracked:", model.bn1.num_batches_tracked)
model.eval()
with torch.no_grad():
    scores = model(images[:4])
print("eval scores:", scores)
print("conv1 weight grad:", model.conv1.weight.grad)
