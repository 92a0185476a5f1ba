"""Elementwise functions of one input: exp, log, tanh, sigmoid, relu, abs, clamp.

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
        return (grad * (1 - y * y),)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x);  dy/dx = y (1 - y).

    Computed as written: e^-x may overflow to inf for x < -88 (float32), and then y is 1/inf = 0,
    the right answer, so that overflow (and the underflow of e^-x for large x) is silenced.
    Unlike (1 + tanh(x/2)) / 2, this keeps full relative precision for very negative x
    (where that form cancels to 0 already at x = -18 in float32, and log(sigmoid) becomes -inf).
    """
    symbol = "σ"

    def forward(self, x):
        with np.errstate(over="ignore", under="ignore"):
            y = 1 / (1 + np.exp(-x))
        self.saved = y
        return y

    def backward(self, grad):
        y = self.saved
        return (grad * y * (1 - y),)


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


class Clamp(Function):
    """y = min(max(x, lo), hi) for constant numbers lo, hi (either may be None);
    dy/dx = 1 where lo <= x <= hi, else 0 (the bounds themselves count as inside, as in torch)."""
    symbol = "clamp"

    def forward(self, x):
        self.saved = x
        return np.asarray(np.clip(x, self.min, self.max))

    def backward(self, grad):
        x = self.saved
        inside = np.ones(x.shape, dtype=bool)
        if self.min is not None:
            inside &= x >= self.min
        if self.max is not None:
            inside &= x <= self.max
        return (grad * inside,)
