"""Softmax, log-softmax and the fused softmax cross-entropy, all numerically stable
(the row maximum is subtracted before exp, so no exp overflows).

Softmax and log-softmax of an empty tensor are empty (as in torch): there is nothing to
normalise, and no row maximum to subtract."""
import numpy as np

from minigrad.function import Function


class Softmax(Function):
    """y_i = e^{x_i} / sum_j e^{x_j};  dL/dx = y * (dL/dy - sum(dL/dy * y))."""
    symbol = "softmax"

    def forward(self, x):
        if x.size == 0:
            self.saved = y = x.copy()
            return y
        e = np.exp(x - x.max(axis=self.axis, keepdims=True))
        y = e / e.sum(axis=self.axis, keepdims=True)
        self.saved = y
        return y

    def backward(self, grad):
        y = self.saved
        return (y * (grad - (grad * y).sum(axis=self.axis, keepdims=True)),)


class LogSoftmax(Function):
    """y_i = x_i - log sum_j e^{x_j};  dL/dx = dL/dy - softmax(x) * sum(dL/dy)."""
    symbol = "log_softmax"

    def forward(self, x):
        if x.size == 0:
            self.saved = y = x.copy()
            return y
        shifted = x - x.max(axis=self.axis, keepdims=True)
        y = shifted - np.log(np.exp(shifted).sum(axis=self.axis, keepdims=True))
        self.saved = y
        return y

    def backward(self, grad):
        y = self.saved
        return (grad - np.exp(y) * grad.sum(axis=self.axis, keepdims=True),)


class CrossEntropy(Function):
    """L = mean_n [ -log softmax(x_n)[t_n] ] for logits x (N, C) and class indices t (N,);
    dL/dx_n = (softmax(x_n) - onehot(t_n)) / N."""
    symbol = "cross_entropy"

    def forward(self, logits):
        targets = self.targets
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        rows = np.arange(len(targets))
        loss = (np.log(total[:, 0]) - shifted[rows, targets]).mean()
        self.saved = (exp, total)
        return np.asarray(loss, dtype=logits.dtype)

    def backward(self, grad):
        exp, total = self.saved
        n = len(self.targets)
        g = exp / total                      # softmax, a new array we may change in place
        g[np.arange(n), self.targets] -= 1
        g *= grad / n
        return (g,)
