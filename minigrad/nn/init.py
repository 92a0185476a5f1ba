"""Weight initialisation, in place on a Parameter's array (as torch.nn.init)."""
import math

import numpy as np

from minigrad.creation import generator
from minigrad.versions import mark_modified


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with samples from U(a, b)."""
    tensor.data[...] = generator().uniform(a, b, tensor.shape)
    mark_modified([tensor])
    return tensor


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with samples from N(mean, std^2)."""
    tensor.data[...] = generator().normal(mean, std, tensor.shape)
    mark_modified([tensor])
    return tensor


def zeros_(tensor):
    tensor.data[...] = 0
    mark_modified([tensor])
    return tensor


def constant_(tensor, value):
    tensor.data[...] = value
    mark_modified([tensor])
    return tensor


def xavier_uniform_(tensor, gain=1.0):
    """U(-a, a) with a = gain sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010)."""
    fan_out, fan_in = tensor.shape[0], int(np.prod(tensor.shape[1:]))
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)
