"""Weight initialisation, in place on a Parameter's array (as torch.nn.init).

Every function fills `tensor.data` in place, records the change (`mark_modified`, so a graph
built on the old values refuses backward), draws from minigrad's generator (so
`mg.manual_seed` makes it reproducible) and returns the tensor.

Fans follow PyTorch: a weight of shape (out, in, k_1, k_2, ...) has receptive field
r = k_1 k_2 ..., fan_in = in * r and fan_out = out * r.
"""
import math
import warnings

import numpy as np

from minigrad.creation import generator
from minigrad.versions import mark_modified

_GAIN_ONE = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
             "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity, as torch.nn.init.calculate_gain.

    linear, conv*, sigmoid: 1;  tanh: 5/3;  relu: sqrt(2);  selu: 3/4;
    leaky_relu: sqrt(2 / (1 + a^2)) with negative slope a = param (0.01 if None).
    """
    if nonlinearity in _GAIN_ONE:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) = (shape[1] * r, shape[0] * r), r = prod(shape[2:]) the receptive field."""
    if tensor.ndim < 2:
        raise ValueError(f"init: fan in and fan out can not be computed for a tensor with fewer than "
                         f"2 dimensions, got shape {tensor.shape}")
    receptive_field = int(np.prod(tensor.shape[2:], dtype=np.int64))
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode):
    """fan_in (keeps the forward variance) or fan_out (keeps the backward variance)."""
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode {mode!r} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, values):
    """Write `values` into the tensor's array in place and stamp the change."""
    tensor.data[...] = values
    mark_modified([tensor])
    return tensor


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with samples from U(a, b)."""
    return _fill(tensor, generator().uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with samples from N(mean, std^2)."""
    return _fill(tensor, generator().normal(mean, std, tensor.shape))


def constant_(tensor, val):
    """Fill with the value `val`."""
    return _fill(tensor, val)


def zeros_(tensor):
    """Fill with 0."""
    return _fill(tensor, 0)


def ones_(tensor):
    """Fill with 1."""
    return _fill(tensor, 1)


def xavier_uniform_(tensor, gain=1.0):
    """U(-a, a) with a = gain sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    """N(0, std^2) with std = gain sqrt(2 / (fan_in + fan_out)) (Glorot and Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor, a, mode, nonlinearity):
    """std = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a), fan by `mode`."""
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """U(-bound, bound) with bound = gain sqrt(3 / fan) (He et al., 2015).

    Args:
        tensor: a tensor with at least 2 dimensions.
        a: the negative slope of the leaky_relu that follows (0: a relu-like gain of sqrt(2)).
        mode: 'fan_in' keeps the forward pass' variance, 'fan_out' the backward pass'.
        nonlinearity: a name calculate_gain knows; 'relu' or 'leaky_relu' recommended.
    Returns:
        The tensor, filled in place.
    """
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """N(0, std^2) with std = gain / sqrt(fan) (He et al., 2015); arguments as kaiming_uniform_."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))


def orthogonal_(tensor, gain=1):
    """A (semi-)orthogonal matrix times `gain` (Saxe et al., 2013), by PyTorch's algorithm.

    Flatten to A (rows = shape[0], cols = the rest) filled with N(0, 1) samples; take the
    QR decomposition of A (of A^T if rows < cols) and multiply each column of Q by the sign
    of R's diagonal, which makes Q uniformly distributed over orthogonal matrices. Then
    W^T W = gain^2 I if rows >= cols, and W W^T = gain^2 I if rows <= cols. An orthogonal
    recurrent weight keeps the norm of h_t, so gradients through many steps neither grow
    nor shrink from W_hh alone.
    """
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, "
                         f"got shape {tensor.shape}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = generator().normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))
