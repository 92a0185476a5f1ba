"""Elementwise functions of one input: exp, log, tanh, sigmoid, relu, abs.

tanh and sigmoid save their output y: their derivatives 1 - y^2 and y (1 - y) need only y,
and they are where gradients vanish (both are below 1 everywhere but at one point).
"""
import numpy as np

from minigrad.function import Function


class Exp(Function):
    """y = e^x;  dy/dx = y."""
    symbol = "exp"

    def forward(self, x):
        y = np.exp(x)
        self.saved = y
        return y

    def backward(self, grad):
        return (grad * self.saved,)


class Log(Function):
    """y = ln x;  dy/dx = 1/x."""
    symbol = "log"

    def forward(self, x):
        self.saved = x
        return np.log(x)

    def backward(self, grad):
        return (grad / self.saved,)


class Tanh(Function):
    """y = tanh x;  dy/dx = 1 - y^2."""
    symbol = "tanh"

    def forward(self, x):
        y = np.tanh(x)
        self.saved = y
        return y

    def backward(self, grad):
        y = self.saved
        d = np.asarray(grad * y)  # g (1 - y^2) as g - g y y: two temporaries fewer
        d *= y                    # (asarray: for 0-d inputs numpy returns a scalar, not an array)
        return (np.subtract(grad, d, out=d),)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x);  dy/dx = y (1 - y).

    Computed as (1 + tanh(x/2)) / 2, the same function, which never overflows.
    """
    symbol = "σ"

    def forward(self, x):
        y = np.asarray(np.multiply(x, 0.5))  # an array even for 0-d x (numpy gives a scalar)
        np.tanh(y, out=y)
        y *= 0.5
        y += 0.5
        self.saved = y
        return y

    def backward(self, grad):
        y = self.saved
        gy = np.asarray(grad * y)  # g y (1 - y) as g y - g y y (an array even when 0-d)
        gyy = gy * y
        return (np.subtract(gy, gyy, out=gy),)


class ReLU(Function):
    """y = max(x, 0);  dy/dx = 1 where x > 0, else 0."""
    symbol = "relu"

    def forward(self, x):
        y = np.maximum(x, 0)
        self.saved = y
        return y

    def backward(self, grad):
        return (grad * (self.saved > 0),)


class Abs(Function):
    """y = |x|;  dy/dx = sign(x)."""
    symbol = "abs"

    def forward(self, x):
        self.saved = x
        return np.abs(x)

    def backward(self, grad):
        return (grad * np.sign(self.saved),)
