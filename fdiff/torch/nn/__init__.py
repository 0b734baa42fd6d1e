"""``torch.nn`` on JAX: Parameter, Module, layers, losses, and ``nn.functional``."""

from fdiff.torch._missing import missing_names
from fdiff.torch.nn import functional as functional
from fdiff.torch.nn import parameter as parameter
from fdiff.torch.nn.modules import BCEWithLogitsLoss as BCEWithLogitsLoss
from fdiff.torch.nn.modules import Conv2d as Conv2d
from fdiff.torch.nn.modules import CrossEntropyLoss as CrossEntropyLoss
from fdiff.torch.nn.modules import Linear as Linear
from fdiff.torch.nn.modules import Module as Module
from fdiff.torch.nn.modules import MSELoss as MSELoss
from fdiff.torch.nn.modules import ReLU as ReLU
from fdiff.torch.nn.modules import Sequential as Sequential
from fdiff.torch.nn.modules import Sigmoid as Sigmoid
from fdiff.torch.nn.modules import Tanh as Tanh
from fdiff.torch.nn.parameter import Parameter as Parameter

__all__ = [
    "BCEWithLogitsLoss",
    "Conv2d",
    "CrossEntropyLoss",
    "Linear",
    "MSELoss",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "functional",
    "parameter",
]
__getattr__ = missing_names(__name__, "torch.nn", ("init", "utils"))
