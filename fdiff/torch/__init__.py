"""``import fdiff.torch as torch``: torch-style autograd code, run on JAX with torch's rules.

Tensors record the ops applied to them; ``backward()`` replays the recorded program as one
``jax.jit``-compiled VJP (cached by the graph's structure) and accumulates into ``.grad``.
Printing, error messages, random numbers and gradients at non-differentiable points follow
PyTorch 2.x on the CPU.

>>> import fdiff.torch as torch
>>> x = torch.ones(2, 2, requires_grad=True)
>>> out = (3 * (x + 2) ** 2).mean()
>>> out
tensor(27., grad_fn=<MeanBackward0>)
>>> out.backward()
>>> x.grad
tensor([[4.5000, 4.5000],
        [4.5000, 4.5000]])

What torch has and fdiff.torch lacks raises :class:`UnsupportedError` naming it (``.op``):

>>> x.logcumsumexp(0)
Traceback (most recent call last):
...
fdiff.torch._errors.UnsupportedAttributeError: fdiff.torch does not support `Tensor.logcumsumexp` \
(yet); compute it with jax.numpy on `t.detach().numpy()`, or open an issue
"""

from fdiff.torch import _return_types as return_types
from fdiff.torch import _xla_setup  # noqa: F401 - sets JAX CPU dispatch (before any computation)
from fdiff.torch import autograd as autograd
from fdiff.torch import cuda as cuda
from fdiff.torch import func as func
from fdiff.torch import nn as nn
from fdiff.torch import optim as optim
from fdiff.torch import utils as utils
from fdiff.torch._autograd import functionalize as functionalize
from fdiff.torch._caches import clear_caches as clear_caches
from fdiff.torch._compile import compile as compile
from fdiff.torch._conversions import *  # noqa: F403 - torch.LongTensor, ... are public API
from fdiff.torch._conversions import __all__ as _conversions_all
from fdiff.torch._counting import *  # noqa: F403 - torch.searchsorted, ... are public API
from fdiff.torch._counting import __all__ as _counting_all
from fdiff.torch._creation import *  # noqa: F403 - the creation functions are public API
from fdiff.torch._creation import __all__ as _creation_all
from fdiff.torch._default_dtype import *  # noqa: F403 - get_default_dtype, ... are public API
from fdiff.torch._default_dtype import __all__ as _default_dtype_all
from fdiff.torch._device import *  # noqa: F403 - torch.device is public API
from fdiff.torch._device import __all__ as _device_all
from fdiff.torch._dtypes import bool_ as bool
from fdiff.torch._dtypes import double as double
from fdiff.torch._dtypes import dtype as dtype
from fdiff.torch._dtypes import float as float
from fdiff.torch._dtypes import float32 as float32
from fdiff.torch._dtypes import float64 as float64
from fdiff.torch._dtypes import int as int
from fdiff.torch._dtypes import int32 as int32
from fdiff.torch._dtypes import int64 as int64
from fdiff.torch._dtypes import long as long
from fdiff.torch._errors import UnsupportedError as UnsupportedError
from fdiff.torch._grad_mode import enable_grad as enable_grad
from fdiff.torch._grad_mode import inference_mode as inference_mode
from fdiff.torch._grad_mode import is_grad_enabled as is_grad_enabled
from fdiff.torch._grad_mode import is_inference_mode_enabled as is_inference_mode_enabled
from fdiff.torch._grad_mode import no_grad as no_grad
from fdiff.torch._grad_mode import set_grad_enabled as set_grad_enabled
from fdiff.torch._index_ops import *  # noqa: F403 - torch.index_add, ... are public API
from fdiff.torch._index_ops import __all__ as _index_ops_all
from fdiff.torch._interop import TracedValueError as TracedValueError
from fdiff.torch._interop import from_jax as from_jax
from fdiff.torch._math import *  # noqa: F403 - torch.exp, torch.sum, ... are public API
from fdiff.torch._math import __all__ as _math_all
from fdiff.torch._math_more import *  # noqa: F403 - torch.cumsum, torch.einsum, ... are public
from fdiff.torch._math_more import __all__ as _math_more_all
from fdiff.torch._missing import missing_names
from fdiff.torch._pointwise import *  # noqa: F403 - torch.tan, torch.remainder, ... are public
from fdiff.torch._pointwise import __all__ as _pointwise_all
from fdiff.torch._printing import set_printoptions as set_printoptions
from fdiff.torch._random import Generator as Generator
from fdiff.torch._random_draws import *  # noqa: F403 - torch.randperm, ... are public API
from fdiff.torch._random_draws import __all__ as _random_draws_all
from fdiff.torch._select_more import *  # noqa: F403 - torch.nonzero, torch.unique, ... are public
from fdiff.torch._select_more import __all__ as _select_more_all
from fdiff.torch._select_ops import *  # noqa: F403 - torch.gather, torch.sort, ... are public
from fdiff.torch._select_ops import __all__ as _select_ops_all
from fdiff.torch._serialization import load as load
from fdiff.torch._serialization import save as save
from fdiff.torch._shape import *  # noqa: F403 - torch.cat, torch.reshape, ... are public API
from fdiff.torch._shape import __all__ as _shape_all
from fdiff.torch._shape_more import *  # noqa: F403 - torch.flip, torch.vstack, ... are public
from fdiff.torch._shape_more import __all__ as _shape_more_all
from fdiff.torch._stats import *  # noqa: F403 - torch.var_mean, torch.cdist, ... are public
from fdiff.torch._stats import __all__ as _stats_all
from fdiff.torch._tensor import Size as Size
from fdiff.torch._tensor import Tensor as Tensor

__getattr__ = missing_names(
    __name__,
    "torch",
    (
        "amp", "backends", "distributed", "distributions", "fft", "hub", "jit",
        "linalg", "masked", "mps", "onnx", "profiler", "random", "sparse", "special", "testing",
    ),
)  # fmt: skip


def is_tensor(obj: object) -> bool:
    """Whether ``obj`` is an fdiff.torch tensor."""
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()


__all__ = [
    *_conversions_all,
    *_counting_all,
    *_creation_all,
    *_default_dtype_all,
    *_device_all,
    *_index_ops_all,
    *_math_all,
    *_math_more_all,
    *_pointwise_all,
    *_random_draws_all,
    *_select_ops_all,
    *_select_more_all,
    *_shape_all,
    *_shape_more_all,
    *_stats_all,
    "Generator",
    "Size",
    "Tensor",
    "TracedValueError",
    "UnsupportedError",
    "autograd",
    "bool",
    "clear_caches",
    "compile",
    "cuda",
    "double",
    "dtype",
    "enable_grad",
    "float",
    "float32",
    "float64",
    "func",
    "from_jax",
    "functionalize",
    "int",
    "int32",
    "int64",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "is_tensor",
    "load",
    "long",
    "nn",
    "no_grad",
    "numel",
    "optim",
    "return_types",
    "save",
    "set_grad_enabled",
    "set_printoptions",
    "utils",
]
