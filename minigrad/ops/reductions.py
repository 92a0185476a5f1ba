"""Reductions over axes: sum, mean, max (axis None, an int, or a tuple; keepdims).

Edge cases as in torch: a 0-d tensor holds one value, so axis 0 (or -1) reduces over all of
it and the result is 0-d; the sum of no values is 0 and their mean NaN; the max over an axis
of length 0 is an error (it has no value to give).
"""
import math
import warnings

import numpy as np

from minigrad.function import Function


def _axes(axis, ndim):
    """`axis` as numpy takes it: on a 0-d tensor, axis 0 is the whole tensor (None)."""
    return None if ndim == 0 else axis


def _count(shape, axis):
    """How many input values each output value of a reduction over `axis` combines."""
    if axis is None:
        return math.prod(shape)
    return math.prod(shape[a] for a in ((axis,) if isinstance(axis, int) else axis))


def _expand(grad, in_shape, axis, keepdims):
    """Put back the reduced axes of `grad` (as size 1) so it broadcasts against the input."""
    if axis is None:
        return grad.reshape((1,) * len(in_shape))
    if not keepdims:
        return np.expand_dims(grad, axis)
    return grad


class Sum(Function):
    """y = sum_i x_i over `axis`;  dy/dx_i = 1."""
    symbol = "sum"

    def forward(self, x):
        self.axis = _axes(self.axis, x.ndim)
        self.saved = x.shape
        return np.asarray(x.sum(axis=self.axis, keepdims=self.keepdims))

    def backward(self, grad):
        shape = self.saved
        return (np.broadcast_to(_expand(grad, shape, self.axis, self.keepdims), shape),)


class Mean(Function):
    """y = (1/n) sum_i x_i over `axis`;  dy/dx_i = 1/n."""
    symbol = "mean"

    def forward(self, x):
        self.axis = _axes(self.axis, x.ndim)
        self.saved = x.shape
        if x.size == 0:  # the mean of no values is NaN, as in torch, without numpy's warnings
            with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                return np.asarray(x.mean(axis=self.axis, keepdims=self.keepdims))
        return np.asarray(x.mean(axis=self.axis, keepdims=self.keepdims))

    def backward(self, grad):
        shape = self.saved
        n = max(_count(shape, self.axis), 1)  # n = 0: no input values, the gradient is empty
        g = _expand(grad, shape, self.axis, self.keepdims) / np.asarray(n, dtype=grad.dtype)
        return (np.broadcast_to(g, shape),)


class Max(Function):
    """y = max_i x_i over `axis`;  dy/dx_i = 1/k at the k positions that attain the max, else 0.

    (Ties share the gradient equally, as torch.amax does.)
    """
    symbol = "max"

    def forward(self, x):
        self.axis = axis = _axes(self.axis, x.ndim)
        if x.size == 0:
            _check_nonempty(x.shape, axis)
        y = np.asarray(x.max(axis=axis, keepdims=True))
        self.saved = (x, y)
        return y if self.keepdims else np.asarray(np.squeeze(y, axis=axis))

    def backward(self, grad):
        x, y = self.saved
        mask = x == y
        count = mask.sum(axis=self.axis, keepdims=True)
        g = _expand(grad, x.shape, self.axis, self.keepdims)
        return (mask * (g / count).astype(x.dtype),)

    def shape_error(self, inputs, exc):
        return exc if str(exc).startswith("max:") else super().shape_error(inputs, exc)


def _check_nonempty(shape, axis):
    """The max of an empty tensor is defined only along axes of nonzero length (as in torch):
    max over (0, 3) along axis 1 gives shape (0,), along axis 0 or all axes it has no value."""
    if axis is None:
        raise ValueError(f"max: the tensor of shape {shape} is empty, so it has no max; "
                         f"reduce along an axis of nonzero length (axis=...) to get an empty result")
    for a in (axis,) if isinstance(axis, int) else axis:
        if shape[a] == 0:
            raise ValueError(f"max: axis {a} of the tensor of shape {shape} has length 0, and "
                             f"the max of no values is undefined")
