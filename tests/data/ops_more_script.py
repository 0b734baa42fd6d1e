"""A script of the everyday surface (device, einsum, multinomial, gather, masks, new_*, in-place
math): `fdiff compare` must find torch and fdiff.torch agree on it."""

import torch

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
x = torch.randn(8, 5, device=device)
w = torch.randn(5, 3, requires_grad=True)
logits = torch.einsum("bi,ij->bj", x, w)
probs = logits.softmax(dim=1)
labels = torch.multinomial(probs.detach(), 1).squeeze(1)
picked = probs.gather(1, labels.unsqueeze(1))
loss = -picked.log().mean() + logits.cumsum(1).pow(2).mean(axis=0, keepdims=True).sum()
loss.backward()
print(loss, w.grad)
print(torch.max(probs, 1))
print(probs.topk(2, dim=1).indices, torch.randperm(6), torch.bernoulli(probs.detach()))
mask = torch.tril(torch.ones(3, 3)).bool()
print(torch.zeros(3, 3).masked_fill(~mask, float("-inf")))
print(x.new_zeros(2), x.type(), torch.LongTensor([1, 2]), x.nelement(), torch.allclose(x, x + 1e-9))
h = (x * 2).exp_().log_()
print(torch.all(h.isclose(x * 2)), h.var(0, unbiased=False).sum())
