"""Which tensors a recorded op saves for backward, and torch's check that they were not modified.

torch's autograd nodes keep some of their inputs (or their output) for the backward formula;
each saved tensor remembers its version (``t._version``, bumped by every in-place op on it or on
a view of the same storage). If an in-place op changed a saved tensor before backward runs, the
backward raises torch's error instead of using the changed value. :data:`SAVES` is torch's
``derivatives.yaml`` for fdiff's ops: the op name, then which inputs are saved given which
inputs require grad, and whether the output is saved. An op not in the table saves its tensor
inputs when its spec says it saves (``OpSpec.saves``), nothing otherwise.

>>> saved_inputs("mul", (True, False)), saved_inputs("exp", (True,)), saves_output("exp")
((1,), (), True)
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class VersionCounter:
    """The version of one storage, shared by a tensor, its views and its ``detach()`` twins."""

    __slots__ = ("version",)

    def __init__(self) -> None:
        self.version = 0


def counter_of(tensor: Any) -> VersionCounter:
    """The tensor's version counter (made on first use: most tensors never need one)."""
    counter = tensor._counter
    if counter is None:
        counter = tensor._counter = VersionCounter()
    return counter


def bump_version(tensor: Any) -> None:
    """Count an in-place change of ``tensor``'s storage (what every in-place op does).

    An optimizer that writes new values into its parameters calls this for each, so a backward
    through a graph that saved a parameter's old value raises torch's error.
    """
    counter_of(tensor).version += 1


def _all(requires: tuple[bool, ...]) -> tuple[int, ...]:
    return tuple(range(len(requires)))


def _nothing(requires: tuple[bool, ...]) -> tuple[int, ...]:
    return ()


def _crossed(requires: tuple[bool, ...]) -> tuple[int, ...]:
    """``a * b``, ``a @ b``: each operand is saved for the gradient of the other (``b`` first,
    as torch saves them: ``saved_tensors_hooks`` sees that order)."""
    return tuple(i for i in (1, 0) if requires[1 - i])


def _division(requires: tuple[bool, ...]) -> tuple[int, ...]:
    """``a / b``: ``b`` for both gradients, then ``a`` for ``b``'s."""
    return tuple(i for i, saved in ((1, any(requires[:2])), (0, requires[1])) if saved)


def _matrices(requires: tuple[bool, ...]) -> tuple[int, ...]:
    """``addmm(bias, m1, m2)``: each matrix for the other's gradient, ``m1`` first."""
    return tuple(i for i in (1, 2) if requires[3 - i])


def _reversed(requires: tuple[bool, ...]) -> tuple[int, ...]:
    """Every input, last first (``pow``'s exponent, ``gather``'s index)."""
    return tuple(reversed(range(len(requires))))


def _for_divisor(requires: tuple[bool, ...]) -> tuple[int, ...]:
    """``remainder``/``fmod`` by a tensor: both, for the divisor's gradient only."""
    return (0, 1) if requires[1] else ()


def _factors(requires: tuple[bool, ...]) -> tuple[int, ...]:
    """``addcmul(a, t1, t2)``: each factor for the other's gradient (``a``'s needs none)."""
    return tuple(i for i in (2, 1) if requires[3 - i])


def _divisor(requires: tuple[bool, ...]) -> tuple[int, ...]:
    """``addcdiv(a, t1, t2)``: ``t2`` for both factors' gradients, then ``t1`` for ``t2``'s."""
    return tuple(i for i, saved in ((2, any(requires[1:])), (1, requires[2])) if saved)


def _first(requires: tuple[bool, ...]) -> tuple[int, ...]:
    return (0,)


def _second(requires: tuple[bool, ...]) -> tuple[int, ...]:
    return (1,)


class Saves(NamedTuple):
    """What one op's node keeps: the inputs (given which require grad) and the output."""

    inputs: Callable[[tuple[bool, ...]], tuple[int, ...]]
    output: bool = False


_RESULT_ONLY = Saves(_nothing, output=True)
_INPUTS_AND_RESULT = Saves(_all, output=True)

SAVES: dict[str, Saves] = {
    "mul": Saves(_crossed),
    "matmul": Saves(_crossed),
    "mm": Saves(_crossed),
    "bmm": Saves(_crossed),
    "dot": Saves(_crossed),
    "linear": Saves(_crossed),
    "addmm": Saves(_matrices),
    "div": Saves(_division),
    "rdiv": Saves(_nothing),  # torch computes ``c / x`` as ``x.reciprocal() * c``
    "pow_tensor": Saves(_reversed, output=True),
    "gather": Saves(_reversed),
    "embedding": Saves(_second),  # the indices only
    "rpow": _INPUTS_AND_RESULT,
    "exp": _RESULT_ONLY,
    "sqrt": _RESULT_ONLY,
    "rsqrt": _RESULT_ONLY,
    "tanh": _RESULT_ONLY,
    "sigmoid": _RESULT_ONLY,
    "relu": _RESULT_ONLY,
    "expm1": _RESULT_ONLY,
    "softmax": _RESULT_ONLY,
    "tan": _RESULT_ONLY,
    "reciprocal": _RESULT_ONLY,
    "hypot": _INPUTS_AND_RESULT,
    "clamp_min": Saves(_first),
    "clamp_max": Saves(_first),
    "remainder": Saves(_for_divisor),
    "fmod": Saves(_for_divisor),
    "addcmul": Saves(_factors),
    "addcdiv": Saves(_divisor),
    "log_softmax": _RESULT_ONLY,
    "prod": _INPUTS_AND_RESULT,
    "std": _INPUTS_AND_RESULT,
    "logsumexp": _INPUTS_AND_RESULT,
    "norm": _INPUTS_AND_RESULT,
    "max": _INPUTS_AND_RESULT,
    "min": _INPUTS_AND_RESULT,
    "amax": _INPUTS_AND_RESULT,
    "amin": _INPUTS_AND_RESULT,
    "aminmax_min": _INPUTS_AND_RESULT,
    "aminmax_max": _INPUTS_AND_RESULT,
    "median": _INPUTS_AND_RESULT,
    "scatter_reduce_sum": _INPUTS_AND_RESULT,  # one backward for every reduction
    "scatter_reduce_mean": _INPUTS_AND_RESULT,
    "scatter_reduce_amax": _INPUTS_AND_RESULT,
    "scatter_reduce_amin": _INPUTS_AND_RESULT,
    "index_add": Saves(_second),  # the indices only
    "index_copy": Saves(_second),
    "index_fill": Saves(_second),
    "index_fill_tensor": Saves(_second),
    "median_dim": Saves(_nothing),  # the indices only
    "std_mean_spread": _INPUTS_AND_RESULT,
    "std_mean_mean": _INPUTS_AND_RESULT,
    "dist": _INPUTS_AND_RESULT,
    "cdist": _INPUTS_AND_RESULT,
    "max_dim": Saves(_nothing),  # the indices only
    "min_dim": Saves(_nothing),
    "where": Saves(_first),  # the condition only
    "index": Saves(_nothing),  # the indices only
    "index_put": Saves(_nothing),
    "copy_slices": Saves(_nothing),
    "replayed_gradient": Saves(_nothing),
}


FUSED_BACKWARD: Mapping[str, tuple[int, ...]] = MappingProxyType(
    {
        "conv2d": (0, 1),  # convolution_backward(grad, input, weight)
        "max_pool2d": (0,),  # max_pool2d_with_indices_backward(grad, self, indices)
        "avg_pool2d": (0,),
        "adaptive_avg_pool2d": (0,),  # _adaptive_avg_pool2d_backward(grad, self)
        "reflection_pad1d": (0,),  # reflection_pad1d_backward(grad, self, padding)
        "reflection_pad2d": (0,),
        "replication_pad1d": (0,),
        "replication_pad2d": (0,),
        "layer_norm": (0, 1, 2),  # native_layer_norm_backward(grad, input, ..., weight, bias)
        "batch_norm": (0, 3),  # native_batch_norm_backward(grad, input, weight, ...)
        "nll_loss": (0,),
        "softplus": (0,),
        "hardtanh": (0,),  # hardtanh_backward(grad, self, min_val, max_val): relu6 too
        "elu": (0,),  # elu_backward(grad, alpha, scale, input_scale, is_result, self): selu too
        "prelu": (0, 1),  # _prelu_kernel_backward(grad, self, weight)
    }
)
"""Ops whose torch backward is one differentiable call computing every input's gradient from
these inputs (positions): with ``create_graph=True`` each of those gradients requires grad when
any of them does, whether or not its value depends on it (``_dependence.fused_reads``)."""


def saved_inputs(name: str, requires: tuple[bool, ...], saves: bool = True) -> tuple[int, ...]:
    """The positions of the inputs op ``name`` saves, given which inputs require grad."""
    entry = SAVES.get(name)
    if entry is None:
        return _all(requires) if saves else ()
    return entry.inputs(requires)


def saves_output(name: str) -> bool:
    entry = SAVES.get(name)
    return entry is not None and entry.output


# --- torch.autograd.graph.saved_tensors_hooks ------------------------------------------------

_hooks: list[tuple[Callable, Callable]] = []  # (pack, unpack), innermost last
_disabled: list[str] = []  # disable_saved_tensors_hooks messages, innermost last


def push_hooks(pack: Callable[[Any], Any], unpack: Callable[[Any], Any]) -> None:
    """Enter ``saved_tensors_hooks(pack, unpack)`` (torch's error inside
    ``disable_saved_tensors_hooks``)."""
    if _disabled:
        raise RuntimeError(_disabled[-1])
    _hooks.append((pack, unpack))


def pop_hooks() -> None:
    _hooks.pop()


def hooks_active() -> bool:
    """Whether ops now save their tensors through ``saved_tensors_hooks``."""
    return bool(_hooks)


def push_disabled(message: str) -> None:
    _disabled.append(message)


def pop_disabled() -> None:
    _disabled.pop()


class SavedTensor:
    """One tensor a node saved: its version counter and the version it had then.

    ``tensor`` is a weak reference (torch names the saved tensor's current grad_fn in its
    error, and its backward reads the saved tensor's current storage), ``index`` the input
    position it was saved from, ``output_of`` the node when it is that node's own output.
    Under ``saved_tensors_hooks`` the innermost ``pack`` runs now and its result is kept in
    ``packed``, for ``unpack`` to turn back into the tensor the backward reads (torch then
    checks no version).
    """

    __slots__ = ("counter", "index", "output_of", "packed", "tensor", "unpack", "version")

    def __init__(
        self, tensor: Any, index: int | None = None, output_of: Any = None, packed: Any = None
    ) -> None:
        self.index = index
        self.counter = counter_of(tensor)
        self.version = self.counter.version
        self.tensor = weakref.ref(tensor)
        self.output_of = output_of
        self.unpack: Callable[[Any], Any] | None = None
        self.packed = None
        if packed is not None:  # an in-place op's output, packed when its node was recorded
            self.unpack, self.packed = packed.unpack, packed.packed
        elif _hooks:
            pack, self.unpack = _hooks[-1]
            self.packed = pack(tensor)


def unpack_saved(nodes: Iterable[Any]) -> dict[int, dict[int | None, Any]]:
    """Run the ``unpack`` hooks of the tensors ``nodes`` saved under ``saved_tensors_hooks``, in
    torch's order (the latest node first, each node's saved tensors in order): per node id, the
    unpacked tensor by input position (``None`` for the node's own output)."""
    unpacked: dict[int, dict[int | None, Any]] = {}
    for node in sorted(nodes, key=lambda n: -n.sequence):
        for saved in node.saved:
            if saved.unpack is None:
                continue
            tensor = saved.unpack(saved.packed)
            if not hasattr(tensor, "_storage"):  # not a tensor
                raise TypeError(
                    "Output of saved tensor unpack_hook expected to be a Tensor but got result "
                    f"of type {type(tensor).__name__}"
                )
            unpacked.setdefault(id(node), {})[saved.index] = tensor
    return unpacked


def _zero_like(x: jax.Array) -> Any:
    if jnp.issubdtype(x.dtype, jnp.inexact):
        return jnp.zeros_like(x)
    return np.zeros(x.shape, jax.dtypes.float0)


def saved_as(op: Callable[..., Any], saved: dict[int, Any]) -> Callable[..., Any]:
    """``op``, whose derivative is its VJP at the arguments with ``saved`` (position -> array,
    the unpacked saved tensors) in place of the values it ran on: torch's backward formula
    reads the saved tensors as ``unpack`` returns them."""

    def with_saved(*args: Any) -> Any:
        positions = [i for i, a in enumerate(args) if isinstance(a, jax.Array)]
        replaced = [saved.get(i) for i in positions]

        def run(*arrays):
            full = list(args)
            for i, a in zip(positions, arrays, strict=True):
                full[i] = a
            return op(*full)

        @jax.custom_vjp
        def watched(arrays, replaced):
            return run(*arrays)

        def forward(arrays, replaced):
            return run(*arrays), (arrays, replaced)

        def backward(residuals, gradient):
            arrays, replaced = residuals
            at = [a if r is None else r for a, r in zip(arrays, replaced, strict=True)]
            grads = jax.vjp(run, *at)[1](gradient)
            return list(grads), jax.tree_util.tree_map(_zero_like, replaced)

        watched.defvjp(forward, backward)
        return watched([args[i] for i in positions], replaced)

    return with_saved


SCALAR_TYPE_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int"}
"""torch's scalar type names (``torch.FloatTensor``), by numpy dtype name."""
_HINT = (
    "Hint: enable anomaly detection to find the operation that failed to compute its gradient, "
    "with torch.autograd.set_detect_anomaly(True, check_nan=False)."
)


def _producer(saved: SavedTensor) -> Any:
    """The node torch names as the saved tensor's producer (None for a leaf)."""
    if saved.output_of is not None:
        return saved.output_of
    tensor = saved.tensor()
    return None if tensor is None else tensor._node


def modified_message(saved: SavedTensor, node: Any) -> str:
    """torch's error for a tensor ``node`` saved, changed in place before backward."""
    value = node if saved.output_of is not None else node.inputs[saved.index]
    if not hasattr(value, "shape"):  # a leaf's edge: the value the op read
        value = value.value
    type_name = SCALAR_TYPE_NAMES.get(np.dtype(value.dtype).name, "Bool")
    described = f"[torch.{type_name}Tensor {list(value.shape)}]"
    producer = _producer(saved)
    if producer is not None:
        name = re.sub(r"Backward\d*$", "", producer.name())
        described += f", which is output 0 of {name},"
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: {described} is at version {saved.counter.version}; expected version "
        f"{saved.version} instead. {_HINT}"
    )


def check_saved(nodes: Iterable[Any]) -> None:
    """Raise torch's error if a tensor one of ``nodes`` saved was modified in place since; of
    several, the one of the latest node, which torch's backward runs first."""
    stale = [
        (node.sequence, saved, node)
        for node in nodes
        for saved in node.saved
        if saved.unpack is None and saved.counter.version != saved.version
    ]
    if stale:
        _, saved, node = max(stale, key=lambda found: found[0])
        raise RuntimeError(modified_message(saved, node))
