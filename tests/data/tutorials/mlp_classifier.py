"""Tutorial-style: an MLP classifier on synthetic clusters, Adam, CrossEntropyLoss, a shuffled
DataLoader, dropout in training and eval mode."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)
centers = torch.tensor([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.0]])
labels = torch.randint(0, 3, (96,))
features = centers[labels] + 0.8 * torch.randn(96, 2)
train_set, test_set = random_split(TensorDataset(features, labels), [0.75, 0.25])
train_loader = DataLoader(train_set, batch_size=16, shuffle=True)
test_loader = DataLoader(test_set, batch_size=32)

model = nn.Sequential(
    nn.Linear(2, 32),
    nn.ReLU(),
    nn.Dropout(0.2),
    nn.Linear(32, 32),
    nn.GELU(),
    nn.Linear(32, 3),
)
print(model)
loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)

for epoch in range(3):
    model.train()
    total = 0.0
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in test_loader:
            correct += (model(x).argmax(dim=1) == y).sum().item()
    print(f"epoch {epoch}: train loss {total / len(train_set):.5f}, correct {correct}")

print("first layer weight:", model[0].weight)
print("last bias grad:", model[-1].bias.grad)
print("adam step:", optimizer.state_dict()["state"][0]["step"])
