"""Reductions over axes: sum, mean, max (axis None, an int, or a tuple; keepdims)."""
import numpy as np

from minigrad.function import Function


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
        self.saved = x.shape
        return np.asarray(x.sum(axis=self.axis, keepdims=self.keepdims))

    def backward(self, grad):
        shape = self.saved
        return (np.broadcast_to(_expand(grad, shape, self.axis, self.keepdims), shape),)


class Mean(Function):
    """y = (1/n) sum_i x_i over `axis`;  dy/dx_i = 1/n."""
    symbol = "mean"

    def forward(self, x):
        self.saved = x.shape
        return np.asarray(x.mean(axis=self.axis, keepdims=self.keepdims))

    def backward(self, grad):
        shape = self.saved
        n = int(np.prod(shape)) // max(int(np.prod(grad.shape)), 1) if shape else 1
        g = _expand(grad, shape, self.axis, self.keepdims) / np.asarray(n, dtype=grad.dtype)
        return (np.broadcast_to(g, shape),)


class Max(Function):
    """y = max_i x_i over `axis`;  dy/dx_i = 1/k at the k positions that attain the max, else 0.

    (Ties share the gradient equally, as torch.amax does.)
    """
    symbol = "max"

    def forward(self, x):
        if x.size == 0:
            raise ValueError("max of an empty tensor")
        y = np.asarray(x.max(axis=self.axis, keepdims=True))
        self.saved = (x, y)
        return y if self.keepdims else np.asarray(np.squeeze(y, axis=self.axis))

    def backward(self, grad):
        x, y = self.saved
        mask = x == y
        count = mask.sum(axis=self.axis, keepdims=True)
        g = _expand(grad, x.shape, self.axis, self.keepdims)
        return (mask * (g / count).astype(x.dtype),)
