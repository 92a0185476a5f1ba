"""Neural-network building blocks, as in `torch.nn`.

The recurrent layers and cells live in `minigrad.models` and are also reachable here, where
torch users look: `nn.RNN, nn.LSTM, nn.GRU, nn.RNNCell, nn.LSTMCell, nn.GRUCell`. They are
imported on first use (`__getattr__` below), so `import minigrad` does not load the models,
and `minigrad.models` (which builds on `minigrad.nn`) can import this package without a cycle.
"""
from minigrad.nn.parameter import Parameter
from minigrad.nn.module import Module, ModuleList, Sequential
from minigrad.nn.layers import (Linear, Embedding, Dropout, Identity, Flatten, Softmax, LogSoftmax, Tanh, Sigmoid,
                                ReLU)
from minigrad.nn.loss import CrossEntropyLoss, NLLLoss, MSELoss
from minigrad.nn import functional, init, utils

RECURRENT = ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell")  # from minigrad.models, lazily

__all__ = ["Parameter", "Module", "ModuleList", "Sequential", "Linear", "Embedding", "Dropout",
           "Identity", "Flatten", "Softmax", "LogSoftmax", "Tanh", "Sigmoid", "ReLU",
           "CrossEntropyLoss", "NLLLoss", "MSELoss", "functional", "init", "utils", *RECURRENT]


def __getattr__(name):
    """nn.LSTM and the other recurrent layers: the very classes of minigrad.models."""
    if name in RECURRENT:
        from minigrad import models
        return getattr(models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(RECURRENT))
