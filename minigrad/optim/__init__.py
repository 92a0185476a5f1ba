"""Optimizers, as in `torch.optim`: SGD, Adam, Adagrad."""
from minigrad.optim.optimizer import Optimizer
from minigrad.optim.sgd import SGD
from minigrad.optim.adam import Adam
from minigrad.optim.adagrad import Adagrad

__all__ = ["Optimizer", "SGD", "Adam", "Adagrad"]
