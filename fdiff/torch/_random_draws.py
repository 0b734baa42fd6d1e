"""More draws on torch's CPU generator, bit for bit: ``randperm``, ``bernoulli``,
``multinomial``, ``normal``, ``randint_like``, ``exponential_``.

Each follows PyTorch 2.13's CPU kernel on the words of :class:`~fdiff.torch._random.Generator`:

``randperm(n)``
    Fisher-Yates from the front: for ``i < n - 1``, swap ``i`` with ``i + word % (n - i)``, one
    32-bit word each.
``bernoulli(p)``
    One uniform of ``p``'s dtype per element (as ``rand``), ``1`` where it is below ``p``;
    ``bernoulli(input, p=number)`` and ``x.bernoulli_(number)`` draw float64 uniforms.
``exponential_(lambd)``
    ``-log1p(-u) / lambd`` in double from one float64 uniform per element, then cast.
``multinomial(probs, n)``
    With replacement and ``n > 1``: per row, the running sums in the input dtype divided by the
    total, the last one set to 1; each sample is the first slot whose value is not below a
    float64 uniform. Otherwise (torch's Gumbel trick): ``probs / q`` for ``q`` exponential
    draws, then its ``argmax`` (``n == 1``) or its ``topk(n)`` indices.
``normal(mean, std)`` with a tensor
    Standard normal draws of the broadcast shape, then ``* std + mean`` in the result dtype.

Results are leaves: a draw from a tensor that requires grad raises
:class:`~fdiff.torch.UnsupportedError` (torch's zero or reparameterised gradients are not here).
The in-place fills on a non-leaf are recorded as torch records them (``ExponentialBackward0``,
``BernoulliBackward2``): the tensor's old value, and so its gradient, is gone.

>>> import fdiff.torch as torch
>>> _ = torch.manual_seed(0)
>>> torch.randperm(5)
tensor([4, 0, 1, 3, 2])
"""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp
import numpy as np

from fdiff.torch import _creation, _dtypes, _random
from fdiff.torch import _ops_more as more_ops
from fdiff.torch._args import check_device, shape_args
from fdiff.torch._dispatch import apply
from fdiff.torch._errors import UnsupportedError
from fdiff.torch._errors import refusing_unknown_keywords as torch_function
from fdiff.torch._inplace import assign
from fdiff.torch._tensor_base import TensorBase as Tensor
from fdiff.torch._tensor_base import new_tensor

_FLOAT64 = np.dtype(np.float64)


def _source(generator: Any) -> _random.Generator:
    return generator or _random.default_generator


def _leaf_input(input: Tensor, function: str) -> np.ndarray:
    """``input``'s values; a draw's gradient is not supported (torch's is zero or a
    reparameterisation)."""
    if input.requires_grad:
        raise UnsupportedError(f"{function} (gradient)")
    return np.asarray(input._value)


@torch_function
def randperm(n: int, *, generator: Any = None, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    """A random permutation of ``0..n-1``, bit-identical to torch's."""
    check_device(device, "torch.randperm")
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    permutation = _source(generator).randperm(n)
    return _creation.tensor(permutation, _dtypes.resolve(dtype, _dtypes.int64),
                            requires_grad=requires_grad)  # fmt: skip


def _check_probabilities(p: np.ndarray, name: str) -> None:
    if not ((p >= 0) & (p <= 1)).all():
        raise RuntimeError(
            f"Expected {name} >= 0 && {name} <= 1 to be true, but got false.  (Could this error "
            "message be improved?  If so, please report an enhancement request to PyTorch.)"
        )


@torch_function
def bernoulli(input: Tensor, p: float | None = None, *, generator: Any = None) -> Tensor:
    """0/1 draws with probabilities ``input`` (or the number ``p``), in ``input``'s dtype."""
    source = _source(generator)
    if p is not None:
        _check_probabilities(np.asarray(p), "p")
        draws = source._uniform01(input.numel(), _FLOAT64) < p
    else:
        probabilities = _leaf_input(input, "torch.bernoulli")
        _check_probabilities(probabilities, "p_in")
        dtype = probabilities.dtype if probabilities.dtype.kind == "f" else _FLOAT64
        draws = source._uniform01(input.numel(), dtype) < probabilities.ravel()
    return new_tensor(_as_storage(draws.reshape(input.shape), input))


def _as_storage(values: np.ndarray, like: Tensor) -> Any:
    return jnp.asarray(np.asarray(values).astype(like._storage[0].dtype))


def bernoulli_(self: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
    """Fill in place with 0/1 draws of probability ``p`` (a number), as torch's ``bernoulli_``."""
    if isinstance(p, Tensor):
        raise UnsupportedError("Tensor.bernoulli_(p=Tensor)")
    draws = bernoulli(self.detach(), p, generator=generator)
    return assign(self, apply(more_ops.bernoulli_fill, self, draws))


def exponential_(self: Tensor, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill in place with exponential draws of rate ``lambd``, bit-identical to torch's."""
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    draws = _exponential(_source(generator), self.numel(), lambd).reshape(self.shape)
    return assign(self, apply(more_ops.exponential_fill, self, _as_storage(draws, self)))


def _exponential(source: _random.Generator, n: int, lambd: float = 1.0) -> np.ndarray:
    uniforms = source._uniform01(n, _FLOAT64).tolist()
    return np.array([-math.log1p(-u) / lambd for u in uniforms], np.float64)


def _check_distribution(p: np.ndarray, samples: int, replacement: bool) -> None:
    if p.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if p.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_dtypes.from_storage(p.dtype).name.capitalize()}")  # fmt: skip
    if samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and samples > p.shape[-1]:
        raise RuntimeError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
        )
    gumbel = not replacement or samples == 1
    if gumbel and not (np.isfinite(p) & (p >= 0)).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if (p < 0).any():
        raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
    if not np.isfinite(p).all():
        raise RuntimeError(
            "invalid multinomial distribution (encountering probability entry = infinity or NaN)"
        )
    if (p.sum(axis=-1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and ((p > 0).sum(axis=-1) < samples).any():
        raise RuntimeError(
            "invalid multinomial distribution (with replacement=False, not enough non-negative "
            "category to sample)"
        )


def _inverse_cdf_samples(source: _random.Generator, rows: np.ndarray, samples: int) -> np.ndarray:
    out = np.empty((len(rows), samples), np.int64)
    for r, row in enumerate(rows):
        running = np.cumsum(row, dtype=row.dtype)  # sequential, in the input dtype
        cumulative = (running / running[-1]).astype(row.dtype)
        cumulative[-1] = 1
        uniforms = source._uniform01(samples, _FLOAT64)
        out[r] = np.searchsorted(cumulative.astype(np.float64), uniforms, side="left")
    return out


def _gumbel_samples(source: _random.Generator, rows: np.ndarray, samples: int) -> np.ndarray:
    q = _exponential(source, rows.size).astype(rows.dtype).reshape(rows.shape)
    keys = rows / q
    if samples == 1:
        return np.argmax(keys, axis=-1)[:, None]
    ordered = np.sort(keys, axis=-1)[:, ::-1][:, :samples]
    if (np.diff(ordered, axis=-1) == 0).any():
        raise UnsupportedError("torch.multinomial (ties)")
    return np.argsort(-keys, axis=-1, kind="stable")[:, :samples]


@torch_function
def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Any = None) -> Tensor:  # fmt: skip
    """``num_samples`` category indices per row of ``input`` (weights), bit-identical to
    torch's draws."""
    p = _leaf_input(input, "torch.multinomial")
    _check_distribution(p, num_samples, replacement)
    rows = p.reshape(-1, p.shape[-1])
    source = _source(generator)
    if replacement and num_samples > 1:
        samples = _inverse_cdf_samples(source, rows, num_samples)
    else:
        samples = _gumbel_samples(source, rows, num_samples)
    return _creation.tensor(samples.reshape(*p.shape[:-1], num_samples))


@torch_function
def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None,
           dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Normal draws: of ``size`` for numbers ``mean`` and ``std``, else of their broadcast
    shape (standard draws, then ``* std + mean``), bit-identical to torch's."""
    check_device(device, "torch.normal")
    source = _source(generator)
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal() missing required argument 'size' for number mean and std")
        resolved = _dtypes.resolve(dtype, _dtypes.float32)
        values = source.normal(shape_args((size,)), mean, std, dtype=resolved.name)
        return _creation.tensor(values, resolved, requires_grad=requires_grad)
    if size is not None or dtype is not None:
        raise UnsupportedError("torch.normal(tensor mean or std, size=/dtype=)")
    arrays = [_leaf_input(t, "torch.normal") if isinstance(t, Tensor) else t for t in (mean, std)]
    if (np.asarray(arrays[1]) < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0")
    result = np.result_type(*(a for a in arrays if isinstance(a, np.ndarray)))
    shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
    standard = source.normal(shape, 0.0, 1.0, dtype=result.name)
    values = standard * np.asarray(arrays[1], result) + np.asarray(arrays[0], result)
    return new_tensor(jnp.asarray(np.asarray(values, result)))


@torch_function
def randint_like(input: Tensor, low: int = 0, high: int | None = None, *, dtype: Any = None,
                 device: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """``randint(low, high, input.shape)`` in ``input``'s dtype (``randint_like(x, high)``)."""
    check_device(device, "torch.randint_like")
    if high is None:
        low, high = 0, low
    values = _creation.randint(low, high, tuple(input.shape), dtype=dtype or input.dtype)
    return values.requires_grad_(requires_grad) if requires_grad else values


__all__ = ["bernoulli", "multinomial", "normal", "randint_like", "randperm"]
