"""Tutorial-style: a regression trained with several optimizers and learning-rate schedules,
an optimizer checkpoint saved and restored mid-run, LayerNorm and an embedding."""

import math

import torch
import torch.nn as nn

torch.manual_seed(2)
tokens = torch.randint(0, 10, (32, 3))
targets = torch.randn(32, 1)


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 6, padding_idx=0)
        self.norm = nn.LayerNorm(6)
        self.head = nn.Sequential(nn.Linear(6, 8), nn.SiLU(), nn.Linear(8, 1))

    def forward(self, tokens):
        return self.head(self.norm(self.embed(tokens).mean(dim=1)))


def train(model, optimizer, scheduler, loss_fn, steps):
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(tokens), targets)
        loss.backward()
        optimizer.step()
        scheduler.step()
    return loss


setups = [
    (
        "RMSprop",
        lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.5),
        lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[2, 4], gamma=0.3),
    ),
    (
        "Adagrad",
        lambda p: torch.optim.Adagrad(p, lr=0.1),
        lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
    ),
    (
        "AdamW",
        lambda p: torch.optim.AdamW(p, lr=0.02, amsgrad=True),
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5, eta_min=0.001),
    ),
    (
        "SGD",
        lambda p: torch.optim.SGD(p, lr=0.05, nesterov=True, momentum=0.9),
        lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / math.sqrt(e + 1)),
    ),
]
for name, make_optimizer, make_scheduler in setups:
    torch.manual_seed(3)
    model = Regressor()
    optimizer = make_optimizer(model.parameters())
    scheduler = make_scheduler(optimizer)
    loss = train(model, optimizer, scheduler, nn.SmoothL1Loss(beta=0.5), 3)
    checkpoint = optimizer.state_dict()
    resumed = make_optimizer(model.parameters())
    resumed.load_state_dict(checkpoint)
    loss = train(model, resumed, make_scheduler(resumed), nn.HuberLoss(delta=0.8), 3)
    print(f"{name}: loss {loss.item():.6f}, lr {scheduler.get_last_lr()}")
    print(f"{name} head weight:", model.head[2].weight)
    print(f"{name} embedding grad row 0:", model.embed.weight.grad[0])
