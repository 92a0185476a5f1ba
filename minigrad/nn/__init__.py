"""Neural-network building blocks, as in `torch.nn`."""
from minigrad.nn.parameter import Parameter
from minigrad.nn.module import Module, ModuleList, Sequential
from minigrad.nn.layers import (Linear, Embedding, Dropout, Identity, Flatten, Softmax, LogSoftmax, Tanh, Sigmoid,
                                ReLU)
from minigrad.nn.loss import CrossEntropyLoss, NLLLoss, MSELoss
from minigrad.nn import functional, init, utils

__all__ = ["Parameter", "Module", "ModuleList", "Sequential", "Linear", "Embedding", "Dropout",
           "Identity", "Flatten", "Softmax", "LogSoftmax", "Tanh", "Sigmoid", "ReLU",
           "CrossEntropyLoss", "NLLLoss", "MSELoss", "functional", "init", "utils"]
