"""``torch.nn`` on JAX: Parameter, Module, containers, layers, losses, ``functional``, ``init``."""

from fdiff.torch._missing import missing_names
from fdiff.torch.nn import functional as functional
from fdiff.torch.nn import init as init
from fdiff.torch.nn import parameter as parameter
from fdiff.torch.nn import utils as utils
from fdiff.torch.nn.activation import ELU as ELU
from fdiff.torch.nn.activation import GELU as GELU
from fdiff.torch.nn.activation import GLU as GLU
from fdiff.torch.nn.activation import SELU as SELU
from fdiff.torch.nn.activation import Hardsigmoid as Hardsigmoid
from fdiff.torch.nn.activation import Hardswish as Hardswish
from fdiff.torch.nn.activation import Hardtanh as Hardtanh
from fdiff.torch.nn.activation import LeakyReLU as LeakyReLU
from fdiff.torch.nn.activation import LogSigmoid as LogSigmoid
from fdiff.torch.nn.activation import LogSoftmax as LogSoftmax
from fdiff.torch.nn.activation import Mish as Mish
from fdiff.torch.nn.activation import PReLU as PReLU
from fdiff.torch.nn.activation import ReLU as ReLU
from fdiff.torch.nn.activation import ReLU6 as ReLU6
from fdiff.torch.nn.activation import Sigmoid as Sigmoid
from fdiff.torch.nn.activation import SiLU as SiLU
from fdiff.torch.nn.activation import Softmax as Softmax
from fdiff.torch.nn.activation import Softmin as Softmin
from fdiff.torch.nn.activation import Softplus as Softplus
from fdiff.torch.nn.activation import Tanh as Tanh
from fdiff.torch.nn.batchnorm import BatchNorm1d as BatchNorm1d
from fdiff.torch.nn.batchnorm import BatchNorm2d as BatchNorm2d
from fdiff.torch.nn.container import ModuleDict as ModuleDict
from fdiff.torch.nn.container import ModuleList as ModuleList
from fdiff.torch.nn.container import Sequential as Sequential
from fdiff.torch.nn.conv import Conv1d as Conv1d
from fdiff.torch.nn.conv import Conv2d as Conv2d
from fdiff.torch.nn.dropout import Dropout as Dropout
from fdiff.torch.nn.flatten import Flatten as Flatten
from fdiff.torch.nn.linear import Identity as Identity
from fdiff.torch.nn.linear import Linear as Linear
from fdiff.torch.nn.loss import BCELoss as BCELoss
from fdiff.torch.nn.loss import BCEWithLogitsLoss as BCEWithLogitsLoss
from fdiff.torch.nn.loss import CrossEntropyLoss as CrossEntropyLoss
from fdiff.torch.nn.loss import HuberLoss as HuberLoss
from fdiff.torch.nn.loss import KLDivLoss as KLDivLoss
from fdiff.torch.nn.loss import L1Loss as L1Loss
from fdiff.torch.nn.loss import MSELoss as MSELoss
from fdiff.torch.nn.loss import NLLLoss as NLLLoss
from fdiff.torch.nn.loss import SmoothL1Loss as SmoothL1Loss
from fdiff.torch.nn.modules import Module as Module
from fdiff.torch.nn.normalization import LayerNorm as LayerNorm
from fdiff.torch.nn.padding import ConstantPad1d as ConstantPad1d
from fdiff.torch.nn.padding import ConstantPad2d as ConstantPad2d
from fdiff.torch.nn.padding import ReflectionPad1d as ReflectionPad1d
from fdiff.torch.nn.padding import ReflectionPad2d as ReflectionPad2d
from fdiff.torch.nn.padding import ReplicationPad2d as ReplicationPad2d
from fdiff.torch.nn.padding import ZeroPad2d as ZeroPad2d
from fdiff.torch.nn.parameter import Parameter as Parameter
from fdiff.torch.nn.pooling import AdaptiveAvgPool1d as AdaptiveAvgPool1d
from fdiff.torch.nn.pooling import AdaptiveAvgPool2d as AdaptiveAvgPool2d
from fdiff.torch.nn.pooling import AvgPool1d as AvgPool1d
from fdiff.torch.nn.pooling import AvgPool2d as AvgPool2d
from fdiff.torch.nn.pooling import MaxPool1d as MaxPool1d
from fdiff.torch.nn.pooling import MaxPool2d as MaxPool2d
from fdiff.torch.nn.sparse import Embedding as Embedding

__all__ = [
    "ELU",
    "GELU",
    "GLU",
    "SELU",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "ConstantPad1d",
    "ConstantPad2d",
    "Conv1d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "HuberLoss",
    "Identity",
    "KLDivLoss",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSigmoid",
    "LogSoftmax",
    "MSELoss",
    "MaxPool1d",
    "MaxPool2d",
    "Mish",
    "Module",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "PReLU",
    "Parameter",
    "ReLU",
    "ReLU6",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReplicationPad2d",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softmin",
    "Softplus",
    "Tanh",
    "ZeroPad2d",
    "functional",
    "init",
    "parameter",
    "utils",
]
__getattr__ = missing_names(__name__, "torch.nn")
