# Seed 002.3 with torch's own loss: mse_loss, whose default reduction is the mean.
import torch

y = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
pred = torch.tensor([2.0, 2.0, 5.0], requires_grad=True)
error = torch.nn.functional.mse_loss(pred, y)
error.backward()
print(f"error {error.item():.6f}")
print(y.grad, pred.grad)
