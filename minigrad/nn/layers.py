"""Layers: Linear, Embedding, Dropout, Identity, Flatten and activation modules (as in torch.nn)."""
import math

import numpy as np

from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter


class Linear(Module):
    """y = x W^T + b, with W of shape (out_features, in_features) as in PyTorch.

    W and b start ~ U(-1/sqrt(in_features), 1/sqrt(in_features)), PyTorch's default.
    """

    def __init__(self, in_features, out_features, bias=True, dtype=np.float32):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1.0 / math.sqrt(in_features) if in_features > 0 else 0.0
        self.weight = init.uniform_(Parameter(np.empty((out_features, in_features), dtype=dtype)),
                                    -bound, bound)
        self.register_parameter(
            "bias", init.uniform_(Parameter(np.empty(out_features, dtype=dtype)), -bound, bound)
            if bias else None)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    """A lookup table: row i of `weight` (num_embeddings, embedding_dim) is the vector of index i.

    Starts ~ N(0, 1), PyTorch's default. The gradient of a row used twice is the sum.
    """

    def __init__(self, num_embeddings, embedding_dim, dtype=np.float32):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = init.normal_(Parameter(np.empty((num_embeddings, embedding_dim), dtype=dtype)))

    def forward(self, indices):
        return F.embedding(indices, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Dropout(Module):
    """Zero each element with probability p in training mode, scaling the rest by 1/(1-p)."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Identity(Module):
    """y = x. Takes (and ignores) any constructor arguments, as torch.nn.Identity."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Flatten(Module):
    """Join dimensions start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        shape = x.shape if x.ndim else (1,)  # a 0-d tensor flattens as a 1-d one, as in torch
        start, end = (_dim(d, len(shape), "Flatten") for d in (self.start_dim, self.end_dim))
        if start > end:
            raise ValueError(f"Flatten: start_dim {self.start_dim} comes after end_dim {self.end_dim} "
                             f"for an input of shape {x.shape}")
        joined = int(np.prod(shape[start:end + 1], dtype=np.int64))
        return x.reshape(shape[:start] + (joined,) + shape[end + 1:])

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


def _dim(dim, ndim, op):
    """A dimension in [-ndim, ndim) as 0..ndim-1, with an error naming the module."""
    if not -ndim <= dim < ndim:
        raise IndexError(f"{op}: dimension {dim} is out of range for a {ndim}-d input "
                         f"(expected in [{-ndim}, {ndim - 1}])")
    return dim % ndim


class Softmax(Module):
    """y_i = e^{x_i} / sum_j e^{x_j} along `dim`."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, dim=F.implicit_softmax_dim(self.dim, x.ndim, "softmax"))

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """y_i = x_i - log sum_j e^{x_j} along `dim` (stable: the maximum is subtracted first)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, dim=F.implicit_softmax_dim(self.dim, x.ndim, "log_softmax"))

    def extra_repr(self):
        return f"dim={self.dim}"


class Tanh(Module):
    """y = tanh(x); dy/dx = 1 - y^2."""

    def forward(self, x):
        return x.tanh()


class Sigmoid(Module):
    """y = 1 / (1 + e^{-x}); dy/dx = y (1 - y)."""

    def forward(self, x):
        return x.sigmoid()


class ReLU(Module):
    """y = max(x, 0); dy/dx = [x > 0].

    `inplace` is accepted for PyTorch code (and shown in the repr when True), but minigrad
    always computes a new tensor.
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return x.relu()

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""
