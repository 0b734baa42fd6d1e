"""``torch.autograd.functional`` with ``create_graph=True`` or ``strict=True``: torch's own
algorithm (``torch/autograd/functional.py``) on fdiff.torch's recorded autograd.

The results then carry a graph (``grad_fn``, ``requires_grad``) exactly where torch's do, and
``strict`` finds independent outputs as torch does, from the recorded graph (``allow_unused``
gradients that are ``None``) and from whether a gradient requires grad. ``jvp`` and ``hvp``
use torch's double-backward trick. ``vectorize=True`` computes the same rows one backward at a
time (torch batches them with ``vmap``; the numbers are the same).

>>> import fdiff.torch as torch
>>> x = torch.tensor([1.0, 2.0], requires_grad=True)
>>> jac = jacobian(lambda t: t**3, x, create_graph=True, strict=False, vectorize=False)
>>> jac.requires_grad, torch.autograd.grad(jac.sum(), x)[0]
(True, tensor([ 6., 12.]))
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from fdiff.torch._autograd import grad
from fdiff.torch._creation import zeros_like
from fdiff.torch._grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from fdiff.torch._shape import stack
from fdiff.torch._tensor_base import TensorBase

_INDEPENDENT = (
    "The output of the user-provided function is independent of input {i}. This is not "
    "allowed in strict mode."
)
_NO_GRAD = MappingProxyType(
    {
        "outputs": "Output {i} of the user-provided function does not require gradients. The "
        "outputs must be computed in a differentiable manner from the input when running in strict "
        "mode.",
        "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of the "
        "user-provided function. This is not allowed in strict mode.",
        "jacobian": "While computing the hessian, found that the jacobian of the user-provided "
        "function with respect to input {i} is independent of the input. This is not allowed in "
        "strict mode. You should ensure that your function is twice differentiable and that the "
        "jacobian depends on the inputs (this would be violated by a linear function for example).",
        "hessian": "The hessian of the user-provided function with respect to input {i} is "
        "independent of the input. This is not allowed in strict mode. You should ensure that your "
        "function is thrice differentiable and that the hessian depends on the inputs.",
    }
)
_UNUSED = MappingProxyType(
    {  # a None gradient in strict mode, by stage
        "back": _INDEPENDENT,
        "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
        "grad_outputs when using the double backward trick to compute forward mode gradients. This "
        "is not allowed in strict mode.",
        "double_back": "The jacobian of the user-provided function is independent of input {i}. "
        "This is not allowed in strict mode.",
        "double_back_trick": "The hessian of the user-provided function is independent of entry "
        "{i} in the grad_jacobian. This is not allowed in strict mode as it prevents from using "
        "the double backward trick to replace forward mode AD.",
    }
)
_CONSTANT = (
    "The {what} of the user-provided function is independent of input {i}. This is not allowed "
    "in strict mode when create_graph=True."
)


def as_tuple(value: Any, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    """``(was a tuple, the tensors)``, with torch's TypeError for anything else."""
    was_tuple = isinstance(value, tuple)
    values = value if was_tuple else (value,)
    for i, item in enumerate(values):
        if not isinstance(item, TensorBase):
            where = f"value at index {i}" if was_tuple else f"given {arg_name}"
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                f"Tensors but the {where} has type {type(item)}."
            )
    return was_tuple, values


def _outputs_of(func: Callable[..., Any], inputs: tuple, fn_name: str) -> tuple[bool, tuple]:
    return as_tuple(func(*inputs), "outputs of the user-provided function", fn_name)


def _preprocess(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """torch's ``_grad_preprocess``: fresh leaves, or views (its ``view_as``) keeping the
    caller's graph."""
    kept = []
    for t in inputs:
        keep = create_graph and t.requires_grad
        kept.append(t.view(t.shape) if keep else t.detach().requires_grad_(need_graph))
    return tuple(kept)


def _postprocess(results: Any, create_graph: bool) -> Any:
    if isinstance(results, TensorBase):
        return results if create_graph else results.detach()
    return tuple(_postprocess(r, create_graph) for r in results)


def _unpacked(results: Any, was_tuple: bool) -> Any:
    return results if was_tuple else results[0]


def _check_requires_grad(tensors: tuple, kind: str, strict: bool) -> None:
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(_INDEPENDENT.format(i=i))
        if not t.requires_grad:
            raise RuntimeError(_NO_GRAD[kind].format(i=i))


def _vector(v: Any, like: tuple, like_tuple: bool, fn_name: str, create_graph: bool) -> Any:
    """``v`` checked against ``like`` as torch's ``_validate_v``; ``None`` stays ``None``."""
    if v is None:
        return None
    _, vs = as_tuple(v, "v", fn_name)
    vs = _preprocess(vs, create_graph, need_graph=False)
    if len(vs) != len(like):
        if like_tuple:
            raise RuntimeError(
                f"v is a tuple of invalid length: should be {len(like)} but got {len(vs)}."
            )
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(vs, like, strict=True)):
        if a.shape != b.shape:
            prefix = f"Entry {i} in " if like_tuple else ""
            raise RuntimeError(
                f"{prefix}v has invalid size: should be {b.size()} but got {a.size()}."
            )
    return vs


def _needs_single_element(tensors: tuple, of: str) -> None:
    if len(tensors) != 1 or tensors[0].nelement() != 1:
        raise RuntimeError(
            f"The vector v can only be None if the {of} a single Tensor with a single element."
        )


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """torch's ``_autograd_grad``: ``grad`` over the outputs that require grad, unused inputs
    ``None``."""
    grad_outputs = (None,) * len(outputs) if grad_outputs is None else grad_outputs
    kept = [(o, g) for o, g in zip(outputs, grad_outputs, strict=True) if o is not None]
    kept = [(o, g) for o, g in kept if o.requires_grad]
    if not kept:
        return (None,) * len(inputs)
    outs, gouts = zip(*kept, strict=True)
    given = None if all(g is None for g in gouts) else list(gouts)
    return grad(
        list(outs),
        list(inputs),
        given,
        retain_graph=retain_graph,
        create_graph=create_graph,
        allow_unused=True,
    )


def _fill_in_zeros(grads, refs, strict: bool, create_graph: bool, stage: str) -> tuple:
    filled = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_UNUSED[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(_CONSTANT.format(what=what, i=i))
        filled.append(g)
    return tuple(filled)


def vjp(func, inputs, v, create_graph: bool, strict: bool):
    with enable_grad():
        inputs_tuple, inputs = as_tuple(inputs, "inputs", "vjp")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _outputs_of(func, inputs, "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        vs = _vector(v, outputs, outputs_tuple, "vjp", create_graph)
        if vs is None:
            _needs_single_element(outputs, "user-provided function returns")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = _autograd_grad(outputs, inputs, vs, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "back")
    return (
        _unpacked(_postprocess(outputs, create_graph), outputs_tuple),
        _unpacked(_postprocess(result, create_graph), inputs_tuple),
    )


def jvp(func, inputs, v, create_graph: bool, strict: bool):
    with enable_grad():
        inputs_tuple, inputs = as_tuple(inputs, "inputs", "jvp")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        vs = _vector(v, inputs, inputs_tuple, "jvp", create_graph)
        if vs is None:
            _needs_single_element(inputs, "input to the user-provided function is")
        outputs_tuple, outputs = _outputs_of(func, inputs, "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        grad_outputs = tuple(zeros_like(o, requires_grad=True) for o in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = _autograd_grad(grad_inputs, grad_outputs, vs, create_graph=create_graph)
        result = _fill_in_zeros(grads, outputs, strict, create_graph, "back_trick")
    return (
        _unpacked(_postprocess(outputs, create_graph), outputs_tuple),
        _unpacked(_postprocess(result, create_graph), outputs_tuple),
    )


def jacobian(func, inputs, create_graph: bool, strict: bool, vectorize: bool):
    """Reverse mode, one backward per output element (torch's loop)."""
    with enable_grad():
        inputs_tuple, inputs = as_tuple(inputs, "inputs", "jacobian")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _outputs_of(func, inputs, "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are "
                "not supported together. Please either set `strict=False` or "
                "`vectorize=False`."
            )
        jacobian = []
        for i, out in enumerate(outputs):
            rows: list[list] = [[] for _ in inputs]
            for j in range(out.nelement()):
                row = _autograd_grad(
                    (out.reshape(-1)[j],), inputs, retain_graph=True, create_graph=create_graph
                )
                for k, (g, inp) in enumerate(zip(row, inputs, strict=True)):
                    if g is None:
                        if strict:
                            raise RuntimeError(
                                f"Output {i} of the user-provided function is independent of "
                                f"input {k}. This is not allowed in strict mode."
                            )
                        g = zeros_like(inp)
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError(_CONSTANT.format(what="jacobian", i=i))
                    rows[k].append(g)
            jacobian.append(
                tuple(
                    _stacked(r, inp).view(out.size() + inp.size())
                    for r, inp in zip(rows, inputs, strict=True)
                )
            )
        result = _postprocess(tuple(jacobian), create_graph)
    if not inputs_tuple:
        result = tuple(r[0] for r in result)
    return _unpacked(result, outputs_tuple)


def _stacked(rows: list, like: TensorBase) -> TensorBase:
    return stack(rows, dim=0) if rows else zeros_like(like).reshape(0, *like.shape)


def hessian(func, inputs, create_graph: bool, strict: bool, vectorize: bool):
    inputs_tuple, inputs = as_tuple(inputs, "inputs", "hessian")

    def single_output(*args):
        out = func(*args)
        out_tuple, outs = as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(outs, "outputs", strict)
        if out_tuple or not isinstance(out, TensorBase):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.nelement() != 1:
            raise RuntimeError(
                "The Tensor returned by the function given to hessian should contain a single "
                "element"
            )
        return out.squeeze()

    def jac_func(*args):
        jac = jacobian(single_output, args, create_graph=True, strict=False, vectorize=False)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    result = jacobian(jac_func, inputs, create_graph, strict, vectorize)
    if not inputs_tuple:
        result = result[0][0]
    return result


def _second_order_setup(func, inputs, v, create_graph: bool, strict: bool, name: str):
    inputs_tuple, inputs = as_tuple(inputs, "inputs", name)
    inputs = _preprocess(inputs, create_graph, need_graph=True)
    vs = _vector(v, inputs, inputs_tuple, name, create_graph)
    if vs is None:
        _needs_single_element(inputs, "input to the user-provided function is")
    outputs_tuple, outputs = _outputs_of(func, inputs, name)
    _check_requires_grad(outputs, "outputs", strict)
    if outputs_tuple or not isinstance(outputs[0], TensorBase):
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(
            f"The Tensor returned by the function given to {name} should contain a single element"
        )
    jac = _autograd_grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict)
    return inputs_tuple, inputs, vs, outputs, jac


def vhp(func, inputs, v, create_graph: bool, strict: bool):
    with enable_grad():
        inputs_tuple, inputs, vs, outputs, jac = _second_order_setup(
            func, inputs, v, create_graph, strict, "vhp"
        )
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = _autograd_grad(jac, inputs, vs, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "double_back")
    return (
        _postprocess(outputs, create_graph)[0],
        _unpacked(_postprocess(result, create_graph), inputs_tuple),
    )


def hvp(func, inputs, v, create_graph: bool, strict: bool):
    with enable_grad():
        inputs_tuple, inputs, vs, outputs, jac = _second_order_setup(
            func, inputs, v, create_graph, strict, "hvp"
        )
        grad_jac = tuple(zeros_like(t, requires_grad=True) for t in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = _autograd_grad(double_back, grad_jac, vs, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "double_back_trick")
    return (
        _postprocess(outputs, create_graph)[0],
        _unpacked(_postprocess(result, create_graph), inputs_tuple),
    )
