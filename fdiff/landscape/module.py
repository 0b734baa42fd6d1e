"""An ``fdiff.torch`` module, a loss function and data as a pure JAX loss of a parameter dict.

The module runs through ``torch.func.functional_call`` on JAX values (tensors wrapping the
tracers of the landscape's ``vmap``), so the landscape functions treat it as any JAX loss:
``loss(params, data)`` with ``params`` the module's ``named_parameters()`` as JAX arrays.
Buffers (batch-norm statistics) stay the module's own. A module in training mode that has a
dropout or batch-norm layer is refused: its loss would depend on random masks or batch
statistics, not on the parameters alone; call ``model.eval()`` first.

>>> import fdiff.torch as torch
>>> _ = torch.manual_seed(0)
>>> model, x, y = torch.nn.Linear(2, 1), torch.randn(4, 2), torch.randn(4, 1)
>>> problem = module_loss(model, torch.nn.functional.mse_loss, x, y)
>>> direct = torch.nn.functional.mse_loss(model(x), y).item()
>>> sorted(problem.params), float(problem.loss(problem.params, problem.data)) == direct
(['bias', 'weight'], True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax

from fdiff.errors import InputError

__all__ = ["ModuleLoss", "module_loss"]

_STOCHASTIC_IN_TRAINING = ("Dropout", "BatchNorm")


class ModuleLoss(NamedTuple):
    """A module's loss as ``loss(params, data)``, its current parameters, and the data.

    Attributes:
        loss: ``loss(params, data) -> scalar``, a JAX function.
        params: ``{name: jax.Array}`` of the module's parameters (detached copies).
        data: ``(inputs, target)`` as JAX arrays.
    """

    loss: Callable[..., jax.Array]
    params: dict[str, jax.Array]
    data: tuple[Any, Any]


def module_loss(
    module: Any, loss_fn: Callable[[Any, Any], Any], inputs: Any, target: Any
) -> ModuleLoss:
    """``loss_fn(module(inputs), target)`` as a JAX function of the module's parameters.

    Args:
        module: an ``fdiff.torch.nn.Module``.
        loss_fn: ``loss_fn(output, target)``, e.g. ``torch.nn.functional.cross_entropy`` or an
            ``nn.MSELoss()`` instance.
        inputs: the module's input (a tensor, or a tuple of tensors for several arguments).
        target: the loss's target.

    Returns:
        :class:`ModuleLoss`, ready for ``loss_landscape(problem.loss, plane, data=problem.data)``.

    Raises:
        InputError: ``module`` is not an ``fdiff.torch`` module, or is in training mode with
            a dropout or batch-norm layer.
    """
    if not hasattr(module, "named_parameters") or not hasattr(module, "modules"):
        raise InputError(
            f"expected an fdiff.torch.nn.Module, got {type(module).__name__} (a real torch "
            "module cannot run on JAX: build it with `import fdiff.torch as torch`)"
        )
    stochastic = [
        type(m).__name__
        for m in module.modules()
        if module.training and type(m).__name__.startswith(_STOCHASTIC_IN_TRAINING)
    ]
    if stochastic:
        raise InputError(
            f"the module is in training mode and has {', '.join(sorted(set(stochastic)))}: its "
            "loss would depend on random masks or batch statistics; call `model.eval()` first"
        )
    # fdiff.torch is imported here, so that pure-JAX users of fdiff.landscape never load it
    from fdiff.torch._traced import as_jax_function, to_arrays
    from fdiff.torch.func import functional_call

    arguments = inputs if isinstance(inputs, tuple) else (inputs,)

    def on_tensors(params: Any, data: Any) -> Any:
        batch, labels = data
        return loss_fn(functional_call(module, params, batch), labels)

    params = {name: to_arrays(p.detach()) for name, p in module.named_parameters()}
    return ModuleLoss(as_jax_function(on_tensors), params, to_arrays((arguments, target)))
