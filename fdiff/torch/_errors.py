"""torch's error messages, and :class:`UnsupportedError` for what fdiff.torch lacks.

Every message here is worded as PyTorch words it, so a script's failure reads the same under
both engines; :class:`UnsupportedError` is fdiff.torch's own: torch has the op, fdiff.torch not.

>>> raise UnsupportedError("torch.special.zeta")
Traceback (most recent call last):
...
fdiff.torch._errors.UnsupportedError: fdiff.torch does not support `torch.special.zeta` (yet); \
compute it with jax.numpy on `t.detach().numpy()`, or open an issue
"""

from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Callable, Sequence
from types import MappingProxyType, ModuleType
from typing import Any, TypeVar

import numpy as np

from fdiff.torch._torch_names import TORCH_NAMES

F = TypeVar("F", bound=Callable[..., Any])


class UnsupportedError(NotImplementedError):
    """torch has this op (function, method, attribute or keyword argument); fdiff.torch not.

    ``op`` is torch's name of what is missing: ``"torch.special.zeta"``, ``"Tensor.logcumsumexp"``,
    ``"torch.sum(dtype=...)"``.
    """

    def __init__(self, op: str) -> None:
        super().__init__(
            f"fdiff.torch does not support `{op}` (yet); compute it with jax.numpy on "
            "`t.detach().numpy()`, or open an issue"
        )
        self.op = op


class UnsupportedAttributeError(UnsupportedError, AttributeError):
    """An :class:`UnsupportedError` for an attribute lookup, so ``hasattr`` answers False.

    ``name`` and ``obj`` are set as Python sets them on an ``AttributeError``.
    """

    def __init__(self, op: str, name: str, obj: object) -> None:
        UnsupportedError.__init__(self, op)
        self.name = name
        self.obj = obj


def missing_attribute(owner: str, name: str, obj: object) -> AttributeError:
    """The error for ``obj.name`` not found: :class:`UnsupportedAttributeError` for a public
    name torch's ``owner`` has, torch's plain ``AttributeError`` for a name it lacks too (a
    typo) and for a private or dunder one.

    >>> missing_attribute("Tensor", "logcumsumexp", None).op
    'Tensor.logcumsumexp'
    >>> missing_attribute("Tensor", "logcumsumexpp", None)
    AttributeError("'NoneType' object has no attribute 'logcumsumexpp'")
    >>> type(missing_attribute("Tensor", "__jax_array__", None)).__name__
    'AttributeError'
    """
    torch_names = TORCH_NAMES.get(owner)
    if name.startswith("_") or (torch_names is not None and name not in torch_names):
        if isinstance(obj, ModuleType):
            where = f"module '{owner}'"
        else:
            where = f"'{type(obj).__name__}' object"
        return AttributeError(f"{where} has no attribute '{name}'", name=name, obj=obj)
    return UnsupportedAttributeError(f"{owner}.{name}", name, obj)


def refuse_keywords(function: str, keywords: dict[str, Any]) -> None:
    """Raise :class:`UnsupportedError` naming the first keyword argument fdiff.torch's
    ``function`` (e.g. ``"torch.sum"``) does not take; nothing when ``keywords`` is empty."""
    for keyword in keywords:
        raise UnsupportedError(f"{function}({keyword}=...)")


LEAF_IN_PLACE = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_OF_LEAF_IN_PLACE = (
    "a view of a leaf Variable that requires grad is being used in an in-place operation."
)
NO_GRAD_VIEW_IN_PLACE = (
    "A view was created in no_grad mode and is being modified inplace with grad mode enabled. "
    "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify "
    "your code by moving both the view and the inplace either both inside the no_grad block "
    "(if you don't want the inplace to be tracked) or both outside (if you want the inplace to "
    "be tracked)."
)
NO_GRAD_VIEW_BASE_MODIFIED = NO_GRAD_VIEW_IN_PLACE.replace(
    "is being modified inplace", "its base or another view of its base has been modified inplace"
)
OVERLAPPING_WRITE = (
    "unsupported operation: more than one element of the written-to tensor refers to a single "
    "memory location. Please clone() the tensor before performing the operation."
)
VIEW_SIZE_INCOMPATIBLE = (
    "view size is not compatible with input tensor's size and stride (at least one dimension "
    "spans across two contiguous subspaces). Use .reshape(...) instead."
)


def multi_output_view_message(function: str, output: int, modified: str) -> str:
    """torch's error for an in-place change of an output of an op returning several views:
    ``modified`` is ``"itself"`` (the view was written) or ``"base"`` (its base was)."""
    what = (
        "is being modified inplace"
        if modified == "itself"
        else "its base or another view of its base has been modified inplace"
    )
    return (
        f"Output {output} of {function} is a view and {what}. This view is the output of a "
        "function that returns multiple views. Such functions do not allow the output views to "
        "be modified inplace. You should replace the inplace operation by an out-of-place one."
    )


NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See "
    "github.com/pytorch/pytorch/pull/30531 for more information."
)

NOT_IMPLEMENTED = "torch::autograd::NotImplemented"
"""The grad_fn torch records for an op without a derivative; a backward through it raises."""


def no_derivative(op: str) -> RuntimeError:
    """torch's error for a backward through op ``op``'s ``NotImplemented`` node.

    >>> no_derivative("heaviside")
    RuntimeError('derivative for aten::heaviside is not implemented')
    """
    return RuntimeError(f"derivative for aten::{op} is not implemented")


GRAPH_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed when "
    "you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward."
)


def matmul_failure(a: tuple[int, ...], b: tuple[int, ...]) -> str | None:
    """torch's message for a matrix product of these shapes, for the 1-D and 2-D cases.

    >>> matmul_failure((2, 3), (2, 3))
    'mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)'
    """
    if len(a) == 1 and len(b) == 1:
        return (
            f"inconsistent tensor size, expected tensor [{a[0]}] and src [{b[0]}] to have the "
            f"same number of elements, but got {a[0]} and {b[0]} elements respectively"
        )
    if len(a) == 2 and len(b) == 1:
        return f"size mismatch, got input ({a[0]}), mat ({a[0]}x{a[1]}), vec ({b[0]})"
    if len(a) in (1, 2) and len(b) == 2:
        rows = a[0] if len(a) == 2 else 1
        return f"mat1 and mat2 shapes cannot be multiplied ({rows}x{a[-1]} and {b[0]}x{b[1]})"
    return None


def op_failure(op: str, values: Sequence[Any], error: Exception, operands: bool) -> Exception:
    """The exception torch raises where op ``op`` failed on these inputs (JAX raised ``error``):
    a ``TypeError`` for an input that is neither a tensor nor a number when the inputs are
    ``operands`` (arithmetic, comparisons, ``where``), else a ``RuntimeError`` with
    :func:`describe_failure`'s message.

    >>> op_failure("add", [np.zeros(2), None], TypeError("unsupported"), operands=True)
    TypeError('add(): argument (position 2) must be Tensor or a number, not NoneType')
    """
    if operands and isinstance(error, TypeError):
        for position, value in enumerate(values, start=1):
            if not (hasattr(value, "shape") or isinstance(value, numbers.Number)):
                return TypeError(
                    f"{op}(): argument (position {position}) must be Tensor or a number, "
                    f"not {type(value).__name__}"
                )
    return RuntimeError(describe_failure(op, values, error))


def describe_failure(op: str, values: Sequence[Any], error: Exception) -> str:
    """torch's message for op ``op`` failing on these inputs (JAX raised ``error``).

    >>> describe_failure("add", [np.zeros(2), np.zeros(3)], ValueError("incompatible"))
    'The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0'
    """
    shapes = [tuple(v.shape) for v in values if hasattr(v, "shape")]
    if op in ("matmul", "dot", "linear") and len(shapes) >= 2:
        a, b = shapes[:2]
        message = matmul_failure(a, b[::-1] if op == "linear" else b)  # linear: x @ w.T
        if message is not None:
            return message
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        message = _broadcast_failure(shapes)
        if message is not None:
            return message
    return f"{op}: {error} (input shapes {shapes})"


def _broadcast_failure(shapes: list[tuple[int, ...]]) -> str | None:
    """torch's message for operands that do not broadcast, folded left to right as its
    ``infer_size`` does: ``a`` is the shape so far, ``b`` the next operand's.

    >>> _broadcast_failure([(2,), (2,), (3,)])
    'The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0'
    """
    if len(shapes) < 2:
        return None
    a = shapes[0]
    for b in shapes[1:]:
        for dim in range(1, max(len(a), len(b)) + 1):
            sa, sb = (a[-dim] if dim <= len(a) else 1), (b[-dim] if dim <= len(b) else 1)
            if sa != sb and 1 not in (sa, sb):
                return (
                    f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) "
                    f"at non-singleton dimension {max(len(a), len(b)) - dim}"
                )
        a = np.broadcast_shapes(a, b)
    return None


def refusing_unknown_keywords(function: F, name: str | None = None) -> F:
    """``function`` (a torch function such as ``torch.sum``), raising :class:`UnsupportedError`
    for a keyword argument it does not take, e.g. ``torch.sum(x, dtype=...)``, instead of
    Python's ``TypeError``: torch takes more keywords (``dtype``, ``out``, ``layout``...) than
    fdiff.torch, and ignoring one would compute something else. ``name`` defaults to
    ``torch.<function name>``."""
    params = inspect.signature(function).parameters.values()
    keywords = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    name = name or f"torch.{function.__name__}"
    python_level = name in PYTHON_LEVEL or name.startswith("torch.nn.")  # no parser: no aliases
    spellings = {} if python_level else {a: k for a, k in NUMPY_SPELLINGS.items() if k in keywords}
    sized = any(p.kind is p.VAR_POSITIONAL and p.name == "size" for p in params)
    positions = {p.name: i for i, p in enumerate(params) if p.kind is p.POSITIONAL_OR_KEYWORD}

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if kwargs and not keywords.issuperset(kwargs):
            args, kwargs = _respelled(function.__name__, args, kwargs, spellings, sized, positions)
            if not keywords.issuperset(kwargs):
                refuse_keywords(name, {k: v for k, v in kwargs.items() if k not in keywords})
        return function(*args, **kwargs)

    return checked  # type: ignore[return-value]


NUMPY_SPELLINGS = MappingProxyType({"axis": "dim", "keepdims": "keepdim"})
"""NumPy's names that torch's argument parser accepts for its own (``x.sum(axis=0)``)."""

PYTHON_LEVEL = frozenset({"torch.norm"})
"""torch functions written in Python (as ``torch.nn.functional``'s are): no NumPy spellings."""


def _respelled(
    function: str,
    args: tuple,
    kwargs: dict[str, Any],
    spellings: dict[str, str],
    sized: bool,
    positions: dict[str, int],
) -> tuple[tuple, dict[str, Any]]:
    """``args`` and ``kwargs`` with torch's other spellings replaced by the function's own: the
    NumPy names in ``spellings`` and, for a ``*size`` function (``torch.zeros(size=(2, 3))``),
    ``size=`` as the positional sizes (``positions``: where each argument goes); a name given
    twice is torch's ``TypeError``."""
    kwargs = dict(kwargs)
    for alias, own in spellings.items():
        if alias in kwargs:
            # given twice: torch's parser then reads the alias as an unknown keyword
            if own in kwargs or positions.get(own, len(args)) < len(args):
                raise TypeError(f"{function}() got an unexpected keyword argument '{alias}'")
            kwargs[own] = kwargs.pop(alias)
    if sized and "size" in kwargs:
        if args:
            raise TypeError(f"{function}() got multiple values for argument 'size'")
        args = (tuple(kwargs.pop("size")),)
    return args, kwargs
