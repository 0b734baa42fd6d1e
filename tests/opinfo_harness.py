"""PyTorch's own OpInfo samples, run through real torch and fdiff.torch and compared.

``torch.testing._internal.common_methods_invocations.op_db`` (needs ``expecttest``) lists, per
torch op, sample inputs chosen by PyTorch's developers: odd shapes, 0-d and empty tensors,
broadcasting, keyword variants. For every op that fdiff.torch implements (:func:`selected_ops`)
each float32 sample runs under both engines (:func:`check_sample`): forward values, then the
gradient of ``sum(w * out)`` for fixed weights ``w`` with respect to every input that requires
grad, and, where asked, the second derivative (the gradient of ``sum(v * grad)``).

Each sample ends in one :class:`Outcome`: ``passed``; ``unsupported`` (fdiff.torch raised
:class:`~fdiff.torch.UnsupportedError`, naming what it lacks: never a silent difference);
``known`` (a deviation listed in :data:`KNOWN_DEVIATIONS` with its reason, which must still
happen: a fixed one fails the sweep until it is removed from the list); or ``deviation``.

Tolerances: elementwise results at float32's ``RTOL``/``ATOL``. A result that is a sum (the
ops in :data:`SUMMING`) may differ by the summation order alone: for the ops that are sums of
products of their inputs (:data:`BILINEAR`) the bound is ``summation_bound(M, n)`` with ``M``
the same computation on absolute values in float64 (forward: the op of ``|inputs|``; gradient:
the gradient of ``sum(|w| * op(|inputs|))``), ``n`` the number of input elements plus a few
elementwise steps; for the others (softmax, norms, variances, losses) the scale ``M`` is the
float64 reference's own size, floored at its mean magnitude.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
from support import ATOL, RTOL, UNIT_ROUNDOFF, import_real_torch

import fdiff.torch

SKIPPED_OPS = {
    # creation ops and random draws: no tensor input to compare through
    "arange", "linspace", "ones", "zeros", "full", "empty", "eye", "randn", "randint",
    "randn_like", "rand_like", "zeros_like", "ones_like",
    "item",  # returns a Python number, compared by the torch-layer tests
    # random draws (compared bit for bit by test_torch_random) and uninitialised memory
    "multinomial", "nn.functional.dropout", "randint_like", "normal", "normal.number_mean",
    "new_empty", "bernoulli", "randperm", "rand", "empty_like",
    "bmm.triton_optimized",  # a GPU kernel's variant
}  # fmt: skip
"""OpInfo entries outside the sweep, and why."""

SUMMING = {
    "matmul", "mm", "bmm", "dot", "nn.functional.linear", "nn.functional.conv2d", "sum", "mean",
    "norm", "var", "std", "logsumexp", "softmax", "log_softmax", "prod",
    "nn.functional.cross_entropy", "nn.functional.nll_loss", "nn.functional.mse_loss",
    "nn.functional.binary_cross_entropy_with_logits",
}  # fmt: skip
"""Ops whose results (or gradients) are sums: compared with a summation bound."""

BILINEAR = {"matmul", "mm", "bmm", "dot", "nn.functional.linear", "nn.functional.conv2d", "sum",
            "mean"}  # fmt: skip
"""Sums of products of the inputs: the magnitude is the op of absolute values."""

_STRUCTURAL_REQUIRES_GRAD = (
    "a create_graph gradient requires grad in torch when its backward formula reads an input "
    "that requires grad; in fdiff.torch when its value depends on one (fdiff/torch/_dependence"
    ".py): this gradient is constant in the input, so only torch lets it be differentiated again"
)
KNOWN_DEVIATIONS: dict[str, str] = {
    "int: forward output 0": "without x64, torch.int32 and torch.int64 share int32 storage, "
    "which reports itself as torch.int64",
    "bucketize: forward output 0": "out_int32=True: without x64, torch.int32 and torch.int64 "
    "share int32 storage, which reports itself as torch.int64 (as for `int`)",
    "cat: forward raised IndexError": "torch's legacy rule skips 1-D empty tensors in cat before "
    "checking dims; fdiff.torch checks every input's dims",
    "diagonal: a gradient's requires_grad differs": _STRUCTURAL_REQUIRES_GRAD,
    "nn.functional.layer_norm: gradient 0": "a one-element layer_norm's exact gradient is 0; "
    "torch's is rounding noise (6e-5 on that sample), fdiff.torch's exactly 0",
    "nn.functional.normalize: gradient 0": "a p=0.5 norm over a dim of size 1: the exact "
    "gradient of x / |x| is 0; torch's is exactly 0, fdiff.torch's (the VJP of norm and division) "
    "rounding noise (2.4e-6 on that sample)",
}
"""``"op[.variant]: stage"`` -> why fdiff.torch differs there. The sweep asserts that each
still happens, so a fixed one must leave this list."""

ELEMENTWISE_STEPS = 16  # roundings outside the sum itself (a loss's log, a mean's division)


def op_database() -> list[Any]:
    """torch's ``op_db`` (imports real torch and ``expecttest``)."""
    import_real_torch()
    from torch.testing._internal.common_methods_invocations import op_db

    return op_db


def op_key(opinfo: Any) -> str:
    """``name`` or ``name.variant``: the harness's name for an OpInfo entry."""
    return f"{opinfo.name}.{opinfo.variant_test_name}" if opinfo.variant_test_name else opinfo.name


ADAPTED = {
    "where": lambda self, condition, other: fdiff.torch.where(condition, self, other),
    "zero_": lambda x: x.clone().zero_(),
    "einsum": lambda tensors, equation: fdiff.torch.einsum(equation, tensors),
    "nn.functional.embedding": lambda weight, idx, **kwargs: fdiff.torch.nn.functional.embedding(
        idx, weight, **kwargs
    ),
}
"""Entries whose OpInfo ``op`` is a lambda around the torch function: fdiff.torch's same."""


def fdiff_callable(opinfo: Any) -> Any:
    """fdiff.torch's function for this OpInfo (``torch.X``, ``F.X`` or ``Tensor.X``), or None."""
    name = opinfo.name
    if name in ADAPTED:
        return ADAPTED[name]
    if name.startswith("nn.functional."):
        return getattr(fdiff.torch.nn.functional, name.removeprefix("nn.functional."), None)
    function = getattr(fdiff.torch, name, None)
    if callable(function) and not isinstance(function, type):
        return function
    method = getattr(fdiff.torch.Tensor, name, None)
    if isinstance(method, property):
        return lambda tensor: method.fget(tensor)
    return (lambda tensor, *a, **k: method(tensor, *a, **k)) if callable(method) else None


def selected_ops() -> list[Any]:
    """Every float32 OpInfo entry fdiff.torch has a function for, minus :data:`SKIPPED_OPS`."""
    torch = import_real_torch()
    return [
        opinfo
        for opinfo in op_database()
        if op_key(opinfo) not in SKIPPED_OPS
        and opinfo.name not in SKIPPED_OPS
        and fdiff_callable(opinfo) is not None
        and opinfo.supports_dtype(torch.float32, "cpu")
    ]


# --- converting a sample to fdiff.torch -------------------------------------------------------


class Unconvertible(Exception):
    """A sample argument with no fdiff.torch counterpart (a device object, a memory format)."""


def to_fdiff(value: Any, torch: Any) -> Any:
    """``value`` (a sample's input, argument or keyword) as fdiff.torch takes it: tensors copied
    with their dtype and ``requires_grad``; dtypes mapped; lists, tuples and dicts item by item."""
    if isinstance(value, torch.Tensor):
        dtype = getattr(fdiff.torch, str(value.dtype).removeprefix("torch."), None)
        if dtype is None:
            raise Unconvertible(f"a tensor of {value.dtype}")
        copy = fdiff.torch.tensor(value.detach().numpy(), dtype=dtype)
        return copy.requires_grad_() if value.requires_grad else copy
    if isinstance(value, torch.dtype):
        dtype = getattr(fdiff.torch, str(value).removeprefix("torch."), None)
        if dtype is None:
            raise Unconvertible(str(value))
        return dtype
    if isinstance(value, torch.Size):
        return tuple(value)
    if isinstance(value, list | tuple):
        return type(value)(to_fdiff(v, torch) for v in value)
    if isinstance(value, dict):
        return {k: to_fdiff(v, torch) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str | slice):
        return value
    raise Unconvertible(type(value).__name__)


def tensors_in(value: Any) -> list[Any]:
    """The tensors in a (nested) output or argument, in order."""
    if hasattr(value, "detach") and hasattr(value, "dtype"):
        return [value]
    if isinstance(value, list | tuple):
        return [t for v in value for t in tensors_in(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in tensors_in(v)]
    return []


# --- comparing ---------------------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    """How one sample went: ``kind`` is passed, unsupported, known or deviation."""

    op: str
    index: int
    kind: str
    detail: str = ""


def _as_float64(tensor: Any) -> np.ndarray:
    if isinstance(tensor, fdiff.torch.Tensor):
        return np.asarray(tensor.detach().numpy(), dtype=np.float64)
    return np.asarray(tensor.detach().numpy(force=True), dtype=np.float64)  # also a ZeroTensor


def _bound(key: str, expected: np.ndarray, magnitude: np.ndarray | None, terms: int,
           summed: bool = False):  # fmt: skip
    """The allowed difference for one result (None: ``RTOL``/``ATOL``); ``summed``: a sum
    whatever the op (the gradient of an input that was broadcast)."""
    if not summed and key.partition(".")[0] not in SUMMING and key not in SUMMING:
        return None
    gamma = terms * UNIT_ROUNDOFF / (1 - terms * UNIT_ROUNDOFF)
    if magnitude is None:
        scale = np.abs(expected)
        magnitude = np.maximum(scale, scale.mean() if scale.size else 0.0)
    return 2 * gamma * np.abs(magnitude) + ATOL


def differences(actual: Any, expected: Any, bound: np.ndarray | None) -> str | None:
    """Why two tensors differ (shape, dtype, values), or None when they agree."""
    if tuple(actual.shape) != tuple(expected.shape):
        return f"shape {tuple(actual.shape)} != torch's {tuple(expected.shape)}"
    if str(actual.dtype) != str(expected.dtype):
        return f"dtype {actual.dtype} != torch's {expected.dtype}"
    a, e = _as_float64(actual), _as_float64(expected)
    same = (a == e) | (np.isnan(a) & np.isnan(e))
    with np.errstate(invalid="ignore"):
        error = np.where(same, 0.0, np.abs(a - e))
        allowed = RTOL * np.abs(e) + ATOL if bound is None else np.broadcast_to(bound, e.shape)
        outside = ~same & ~(error <= allowed)
    if not outside.any():
        return None
    worst = np.unravel_index(np.argmax(np.where(outside, error, -1.0)), e.shape)
    return f"{outside.sum()}/{e.size} values differ, e.g. {a[worst]!r} vs torch's {e[worst]!r}"


def _weights(tensors: list[Any], torch: Any, seed: int) -> list[Any]:
    """Fixed cotangents: one per float tensor, drawn from a seeded NumPy generator."""
    rng = np.random.default_rng(seed)
    return [torch.tensor(rng.uniform(-1, 1, tuple(t.shape)).astype(np.float32)) for t in tensors]


def _float_outputs(outputs: Any) -> list[Any]:
    return [t for t in tensors_in(outputs) if t.dtype.is_floating_point and t.requires_grad]


def _gradients(engine: Any, outputs: list[Any], inputs: list[Any], weights: list[Any], create):
    grads = engine.autograd.grad(
        outputs, inputs, weights, allow_unused=True, create_graph=create, retain_graph=True
    )
    return [engine.zeros_like(x) if g is None else g for g, x in zip(grads, inputs, strict=True)]


def _magnitude_run(torch: Any, opinfo: Any, sample: Any) -> tuple[Any, list[Any]]:
    """For a :data:`BILINEAR` op: the op of ``|inputs|`` in float64, and the gradient of
    ``sum(|w| * op(|inputs|))``: the float64 magnitudes of the forward and backward sums."""

    def absolute(value):
        if isinstance(value, torch.Tensor) and value.dtype.is_floating_point:
            return value.detach().double().abs().requires_grad_(value.requires_grad)
        if isinstance(value, list | tuple):
            return type(value)(absolute(v) for v in value)
        return value

    inputs = absolute([sample.input, *sample.args])
    kwargs = {k: absolute(v) for k, v in sample.kwargs.items()}
    out = opinfo(*inputs, **kwargs)
    outs = [t for t in tensors_in(out) if t.dtype.is_floating_point]
    leaves = [t for t in tensors_in([inputs, kwargs]) if t.requires_grad]
    grads = []
    if leaves and outs and all(t.requires_grad for t in outs):
        weights = [w.double().abs() for w in _weights(outs, torch, seed=0)]
        grads = torch.autograd.grad(outs, leaves, weights, allow_unused=True)
    return outs, grads


def _broadcast_magnitudes(torch: Any, opinfo: Any, sample: Any) -> list[Any]:
    """For an elementwise op: per input that requires grad, the sum over its broadcast copies of
    ``|w * d out / d input|`` in float64 (the magnitude of the sum its gradient is), from a run
    with every such input expanded to the output's shape. Empty if the op cannot run so."""
    shape = tensors_in(opinfo(sample.input, *sample.args, **sample.kwargs))[0].shape

    def expanded(value):
        if isinstance(value, torch.Tensor) and value.requires_grad:
            return value.detach().double().expand(shape).clone().requires_grad_()
        return value

    originals = [v for v in [sample.input, *sample.args] if isinstance(v, torch.Tensor)
                 and v.requires_grad]  # fmt: skip
    try:
        inputs = [expanded(v) for v in [sample.input, *sample.args]]
        out = tensors_in(opinfo(*inputs, **sample.kwargs))[0]
    except RuntimeError:  # an input that does not expand to the output's shape
        return []
    weight = _weights([out], torch, seed=0)[0].double().abs()
    leaves = [v for v in inputs if isinstance(v, torch.Tensor) and v.requires_grad]
    everywhere = tensors_in([sample.input, sample.args, sample.kwargs])
    if not leaves or len(leaves) != sum(t.requires_grad for t in everywhere):
        return []  # a leaf inside a list or a keyword: not an elementwise operand
    grads = torch.autograd.grad(out, leaves, weight, allow_unused=True)
    return [
        None if g is None else g.abs().sum_to_size(o.shape)
        for g, o in zip(grads, originals, strict=True)
    ]


def check_sample(opinfo: Any, index: int, sample: Any, second_order: bool) -> Outcome:
    """Run one sample under both engines and compare; see the module docstring."""
    torch = import_real_torch()
    key = op_key(opinfo)
    function = fdiff_callable(opinfo)
    expected = opinfo(sample.input, *sample.args, **sample.kwargs)
    try:
        args = to_fdiff([sample.input, *sample.args], torch)
        kwargs = to_fdiff(sample.kwargs, torch)
    except Unconvertible as error:
        return Outcome(key, index, "unsupported", f"argument: {error}")
    except TypeError as error:  # a float64 argument without x64
        kind = "unsupported" if "jax_enable_x64" in str(error) else "deviation"
        return Outcome(key, index, kind, f"argument: {error}")
    try:
        actual = function(*args, **kwargs)
    except fdiff.torch.UnsupportedError as error:
        return Outcome(key, index, "unsupported", error.op)
    except TypeError as error:
        if "jax_enable_x64" not in str(error):
            return Outcome(key, index, "deviation", f"forward raised TypeError: {error}")
        return Outcome(key, index, "unsupported", "float64 without x64")
    except Exception as error:
        return Outcome(key, index, "deviation", f"forward raised {type(error).__name__}: {error}")
    expected_out, actual_out = tensors_in(expected), tensors_in(actual)
    if len(expected_out) != len(actual_out):
        return Outcome(
            key, index, "deviation", f"{len(actual_out)} outputs, torch {len(expected_out)}"
        )
    terms = ELEMENTWISE_STEPS + max((t.numel() for t in tensors_in(args)), default=0)
    magnitudes = _magnitude_run(torch, opinfo, sample) if opinfo.name in BILINEAR else None
    for i, (a, e) in enumerate(zip(actual_out, expected_out, strict=True)):
        magnitude = None if magnitudes is None else _as_float64(magnitudes[0][i])
        bound = _bound(key, _as_float64(e), magnitude, terms) if e.dtype.is_floating_point else None
        problem = differences(a, e, bound)
        if problem:
            return Outcome(key, index, "deviation", f"forward output {i}: {problem}")
    return _check_gradients(key, index, opinfo, sample, (expected, actual), (args, kwargs),
                            terms, magnitudes, second_order)  # fmt: skip


def _check_gradients(key, index, opinfo, sample, results, fdiff_args, terms, magnitudes, second):
    torch = import_real_torch()
    expected, actual = results
    expected_leaves = [t for t in tensors_in([sample.input, sample.args, sample.kwargs])
                       if t.requires_grad]  # fmt: skip
    actual_leaves = [t for t in tensors_in(list(fdiff_args)) if t.requires_grad]
    expected_out, actual_out = _float_outputs(expected), _float_outputs(actual)
    if not (opinfo.supports_autograd and expected_leaves and expected_out):
        return Outcome(key, index, "passed")
    if len(actual_out) != len(expected_out):
        return Outcome(key, index, "deviation", "outputs that require grad differ from torch's")
    weights = _weights(expected_out, torch, seed=0)
    expected_grads = _gradients(torch, expected_out, expected_leaves, weights, second)
    try:
        fdiff_weights = [fdiff.torch.tensor(w.numpy()) for w in weights]
        actual_grads = _gradients(fdiff.torch, actual_out, actual_leaves, fdiff_weights, second)
    except fdiff.torch.UnsupportedError as error:
        return Outcome(key, index, "unsupported", f"backward: {error.op}")
    except Exception as error:
        return Outcome(key, index, "deviation", f"backward raised {type(error).__name__}: {error}")
    broadcast = max(t.numel() for t in expected_out)
    grad_magnitudes = [] if magnitudes is None else magnitudes[1]
    if key not in SUMMING and any(e.numel() < broadcast for e in expected_grads):
        grad_magnitudes = _broadcast_magnitudes(torch, opinfo, sample)
    for i, (a, e) in enumerate(zip(actual_grads, expected_grads, strict=True)):
        magnitude = grad_magnitudes[i] if grad_magnitudes else None
        magnitude = None if magnitude is None else _as_float64(magnitude)
        summed = e.numel() < broadcast  # a broadcast input's gradient sums over the copies
        problem = differences(a, e, _bound(key, _as_float64(e), magnitude, 2 * terms, summed))
        if problem:
            return Outcome(key, index, "deviation", f"gradient {i}: {problem}")
    if second and opinfo.supports_gradgrad:
        return _check_second_order(key, index, (expected_grads, actual_grads),
                                   (expected_leaves, actual_leaves), terms)  # fmt: skip
    return Outcome(key, index, "passed")


def _check_second_order(key, index, grads, leaves, terms):
    torch = import_real_torch()
    pairs = list(zip(*grads, strict=True))  # (torch's gradient, fdiff.torch's)
    if any(e.requires_grad != a.requires_grad for e, a in pairs):
        return Outcome(key, index, "deviation", "a gradient's requires_grad differs")
    pairs = [(a, e) for e, a in pairs if e.requires_grad]
    if not pairs:
        return Outcome(key, index, "passed")
    weights = _weights([e for _, e in pairs], torch, seed=1)
    expected = _gradients(torch, [e for _, e in pairs], leaves[0], weights, False)
    fdiff_weights = [fdiff.torch.tensor(w.numpy()) for w in weights]
    try:
        actual = _gradients(fdiff.torch, [a for a, _ in pairs], leaves[1], fdiff_weights, False)
    except Exception as error:
        return Outcome(
            key, index, "deviation", f"second order raised {type(error).__name__}: {error}"
        )
    for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
        problem = differences(a, e, _bound(key, _as_float64(e), None, 3 * terms))
        if problem:
            return Outcome(key, index, "deviation", f"second derivative {i}: {problem}")
    return Outcome(key, index, "passed")


# --- sweeping ----------------------------------------------------------------------------------


def samples(opinfo: Any, limit: int | None) -> Iterator[tuple[int, Any]]:
    """The op's float32 samples that require grad (as many as ``limit``), numbered."""
    torch = import_real_torch()
    generated = opinfo.sample_inputs("cpu", torch.float32, requires_grad=opinfo.supports_autograd)
    for index, sample in enumerate(generated):
        if limit is not None and index >= limit:
            return
        yield index, sample


def sweep(ops: list[Any], limit: int | None, second_order: bool) -> list[Outcome]:
    """Every sample of ``ops`` (``limit`` per op), checked; known deviations resolved."""
    torch = import_real_torch()
    outcomes = []
    with torch.random.fork_rng():
        for opinfo in ops:
            torch.manual_seed(0)  # sample_inputs draws from torch's generator: per op, the same
            for index, sample in samples(opinfo, limit):
                with warnings.catch_warnings():  # the values are compared here; an op's
                    warnings.simplefilter("ignore")  # warnings (kl_div's) are tested with it
                    outcome = check_sample(opinfo, index, sample, second_order)
                outcomes.append(_resolve_known(outcome))
    return outcomes


def _resolve_known(outcome: Outcome) -> Outcome:
    key = f"{outcome.op}: {outcome.detail.partition(':')[0]}"
    if outcome.kind == "deviation" and key in KNOWN_DEVIATIONS:
        return dataclasses.replace(outcome, kind="known")
    return outcome


def coverage_table(outcomes: list[Outcome], seconds: float) -> str:
    """The Markdown coverage table docs/opinfo.md holds: one row per op."""
    by_op: dict[str, Counter] = {}
    notes: dict[str, set[str]] = {}
    for outcome in outcomes:
        by_op.setdefault(outcome.op, Counter())[outcome.kind] += 1
        if outcome.kind != "passed":
            stage = (
                outcome.detail if outcome.kind == "unsupported" else outcome.detail.split(":")[0]
            )
            notes.setdefault(outcome.op, set()).add(stage[:60])
    totals = Counter(outcome.kind for outcome in outcomes)
    lines = [
        f"{len(by_op)} OpInfo entries, {len(outcomes)} float32 samples: "
        f"{totals['passed']} passed, {totals['unsupported']} unsupported, "
        f"{totals['known']} known deviations, {totals['deviation']} deviations "
        f"({math.ceil(seconds)} s).",
        "",
        "| OpInfo | samples | passed | unsupported | known deviations | deviations | notes |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for op, counts in sorted(by_op.items()):
        note = "; ".join(sorted(notes.get(op, ())))
        lines.append(
            f"| `{op}` | {sum(counts.values())} | {counts['passed']} | {counts['unsupported']} "
            f"| {counts['known']} | {counts['deviation']} | {note} |"
        )
    return "\n".join(lines) + "\n"


def timed_sweep(ops: list[Any], limit: int | None, second_order: bool):
    """``(outcomes, seconds)``."""
    start = time.perf_counter()
    outcomes = sweep(ops, limit, second_order)
    return outcomes, time.perf_counter() - start
