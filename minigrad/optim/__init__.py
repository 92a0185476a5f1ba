"""Optimizers, as in `torch.optim`: SGD, Adam, AdamW, Adagrad, RMSprop; learning-rate
schedules in `minigrad.optim.lr_scheduler`."""
from minigrad.optim.optimizer import Optimizer
from minigrad.optim.sgd import SGD
from minigrad.optim.adam import Adam
from minigrad.optim.adamw import AdamW
from minigrad.optim.adagrad import Adagrad
from minigrad.optim.rmsprop import RMSprop
from minigrad.optim import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "lr_scheduler"]
