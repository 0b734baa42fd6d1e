"""``torch.nn.utils``: gradient clipping and parameter/vector conversion.

>>> import fdiff.torch as torch
>>> from fdiff.torch.nn.utils import parameters_to_vector
>>> parameters_to_vector(torch.nn.Linear(2, 1).parameters()).shape
torch.Size([3])
"""

from fdiff.torch._missing import missing_names
from fdiff.torch.nn.utils import clip_grad as clip_grad
from fdiff.torch.nn.utils import convert_parameters as convert_parameters
from fdiff.torch.nn.utils.clip_grad import clip_grad_norm_ as clip_grad_norm_
from fdiff.torch.nn.utils.clip_grad import clip_grad_value_ as clip_grad_value_
from fdiff.torch.nn.utils.clip_grad import clip_grads_with_norm_ as clip_grads_with_norm_
from fdiff.torch.nn.utils.clip_grad import get_total_norm as get_total_norm
from fdiff.torch.nn.utils.convert_parameters import parameters_to_vector as parameters_to_vector
from fdiff.torch.nn.utils.convert_parameters import vector_to_parameters as vector_to_parameters

__all__ = [
    "clip_grad",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "convert_parameters",
    "get_total_norm",
    "parameters_to_vector",
    "vector_to_parameters",
]
__getattr__ = missing_names(__name__, "torch.nn.utils")
