"""A small MLP trained from one start with SGD and with Adam, the runs recorded for a landscape.

A torch-style script: ``python demos/landscape_mlp.py`` trains under real torch;
``fdiff landscape demos/landscape_mlp.py --directions pca --log-arrows --out landscape.png``
runs it on fdiff.torch and draws the loss on the top-2 PCA plane of the SGD run, both runs
projected.
It defines what the command reads: ``model``, ``loss_fn``, ``inputs``, ``targets`` and
``trajectories`` (copies of ``model.state_dict()`` at every step).
"""

import torch

torch.manual_seed(0)
inputs = torch.randn(128, 2)
targets = torch.sin(2 * inputs[:, :1]) * torch.cos(inputs[:, 1:])
model = torch.nn.Sequential(
    torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
    torch.nn.Linear(16, 1),
)  # fmt: skip
loss_fn = torch.nn.MSELoss()
start = {name: value.clone() for name, value in model.state_dict().items()}
optimizers = {
    "SGD (lr 0.1, momentum 0.9)": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
    "Adam (lr 0.01)": lambda p: torch.optim.Adam(p, lr=0.01),
}
trajectories = {}
for name, make in optimizers.items():
    model.load_state_dict(start)
    optimizer = make(model.parameters())
    states = [{k: v.clone() for k, v in model.state_dict().items()}]
    for _ in range(60):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        states.append({k: v.clone() for k, v in model.state_dict().items()})
    trajectories[name] = states
    print(f"{name}: loss {loss.item():.4f} after {len(states) - 1} steps")
model.load_state_dict(trajectories[next(iter(optimizers))][-1])  # the landscape's centre
