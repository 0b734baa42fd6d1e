"""``torch.optim`` on JAX: SGD, Adam, AdamW, RMSprop, Adagrad, Adamax, NAdam, RAdam, Adadelta
and ``lr_scheduler``.

Each optimizer runs torch's single-tensor CPU update as jitted JAX functions, outside the
graph, and writes parameters and state through ``_optimizer.overwrite``.

>>> import fdiff.torch as torch
>>> w = torch.tensor([1.0], requires_grad=True)
>>> optimizer = torch.optim.AdamW([w], lr=0.1)
>>> type(optimizer).__name__, optimizer.defaults["weight_decay"]
('AdamW', 0.01)
"""

from fdiff.torch._missing import missing_names
from fdiff.torch.optim import lr_scheduler as lr_scheduler
from fdiff.torch.optim._optimizer import Optimizer as Optimizer
from fdiff.torch.optim.adadelta import Adadelta as Adadelta
from fdiff.torch.optim.adagrad import Adagrad as Adagrad
from fdiff.torch.optim.adam import Adam as Adam
from fdiff.torch.optim.adam import AdamW as AdamW
from fdiff.torch.optim.adamax import Adamax as Adamax
from fdiff.torch.optim.nadam import NAdam as NAdam
from fdiff.torch.optim.radam import RAdam as RAdam
from fdiff.torch.optim.rmsprop import RMSprop as RMSprop
from fdiff.torch.optim.sgd import SGD as SGD

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "lr_scheduler",
]
__getattr__ = missing_names(__name__, "torch.optim", ("swa_utils",))
