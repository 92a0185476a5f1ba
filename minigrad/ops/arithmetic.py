"""Elementwise arithmetic with numpy broadcasting: + - * / **, unary minus, maximum, minimum.

Each backward gives the gradient in the broadcast shape of the output; the engine sums it back
to each input's shape (autograd.unbroadcast).
"""
import numpy as np

from minigrad.function import Function


class BinaryOp(Function):
    """Elementwise op of two inputs; errors name both shapes."""

    def shape_error(self, inputs, exc):
        a, b = (t.shape for t in inputs)
        return ValueError(f"{self.name.lower()}: shapes {a} and {b} cannot be broadcast together")


class Add(BinaryOp):
    """y = a + b;  dy/da = 1, dy/db = 1."""
    symbol = "+"

    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad, grad


class Sub(BinaryOp):
    """y = a - b;  dy/da = 1, dy/db = -1."""
    symbol = "-"

    def forward(self, a, b):
        return a - b

    def backward(self, grad):
        return grad, -grad


class Mul(BinaryOp):
    """y = a * b (elementwise);  dy/da = b, dy/db = a."""
    symbol = "*"

    def forward(self, a, b):
        self.saved = (a, b)
        return a * b

    def backward(self, grad):
        a, b = self.saved
        return grad * b, grad * a


class Hadamard(Mul):
    """The Hadamard (elementwise) product a ⊙ b of the LSTM equations; same math as `*`,
    its own node so that graphs show the gates' products."""
    symbol = "⊙"


class Div(BinaryOp):
    """y = a / b;  dy/da = 1/b, dy/db = -a/b^2 = -y/b."""
    symbol = "/"

    def forward(self, a, b):
        y = a / b
        self.saved = (b, y)
        return y

    def backward(self, grad):
        b, y = self.saved
        return grad / b, -grad * y / b


class Neg(Function):
    """y = -x;  dy/dx = -1."""
    symbol = "neg"

    def forward(self, x):
        return -x

    def backward(self, grad):
        return (-grad,)


class PowScalar(Function):
    """y = x^p for a constant number p;  dy/dx = p x^(p-1)."""

    @property
    def symbol(self):
        return f"^{self.exponent:g}"

    def forward(self, x):
        if not isinstance(self.exponent, (int, float, np.number)):
            raise TypeError(f"pow: exponent must be a number or a tensor, got {type(self.exponent).__name__}")
        if isinstance(self.exponent, np.generic):  # a numpy scalar would upcast float32 to float64
            self.exponent = self.exponent.item()
        self.saved = x
        return x ** self.exponent

    def backward(self, grad):
        x, p = self.saved, self.exponent
        if p == 0:  # x^0 is constant; p x^(p-1) would be 0 * inf = nan at x = 0
            return (np.zeros_like(grad),)
        return (grad * p * x ** (p - 1),)


class Pow(BinaryOp):
    """y = a^b for tensors;  dy/da = b a^(b-1), dy/db = y log(a)."""
    symbol = "^"

    def forward(self, a, b):
        y = np.power(a, b)  # (not a ** b: for a 0-d b, numpy's ** reads b's value to pick a shortcut)
        self.saved = (a, b, y)
        return y

    def backward(self, grad):
        a, b, y = self.saved
        with np.errstate(divide="ignore", invalid="ignore"):  # log(a) of a <= 0, unused if b is constant
            return grad * b * np.power(a, b - 1), grad * y * np.log(a)


class Maximum(BinaryOp):
    """y = max(a, b) elementwise;  dy/da = 1 where a > b, dy/db = 1 where b > a, and where
    a = b each gets 1/2 (as torch.maximum)."""
    symbol = "maximum"

    def forward(self, a, b):
        self.saved = (a, b)
        return np.maximum(a, b)

    def backward(self, grad):
        a, b = self.saved
        share_a = ((a > b) + 0.5 * (a == b)).astype(grad.dtype)
        return grad * share_a, grad * (1 - share_a)


class Minimum(BinaryOp):
    """y = min(a, b) elementwise;  dy/da = 1 where a < b, dy/db = 1 where b < a, 1/2 each where a = b."""
    symbol = "minimum"

    def forward(self, a, b):
        self.saved = (a, b)
        return np.minimum(a, b)

    def backward(self, grad):
        a, b = self.saved
        share_a = ((a < b) + 0.5 * (a == b)).astype(grad.dtype)
        return grad * share_a, grad * (1 - share_a)


def hadamard(a, b):
    """The Hadamard (elementwise) product a ⊙ b: the gate products of the LSTM equations.

    Same values and gradient as `a * b`; drawn as its own ⊙ node in graphs.
    """
    return Hadamard.apply(a, b)


def maximum(a, b):
    """The elementwise maximum (broadcasting); where a = b each gets half the gradient, as torch."""
    from minigrad.tensor import Tensor, _lift
    return Maximum.apply(a, _lift(b, a) if isinstance(a, Tensor) else b)


def minimum(a, b):
    """The elementwise minimum (broadcasting); where a = b each gets half the gradient, as torch."""
    from minigrad.tensor import Tensor, _lift
    return Minimum.apply(a, _lift(b, a) if isinstance(a, Tensor) else b)
