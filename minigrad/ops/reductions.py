"""Reductions over axes: sum, mean, max/min, prod, var/std, norm, logsumexp (axis None, an
int, or a tuple; keepdims).

Edge cases as in torch: a 0-d tensor holds one value, so axis 0 (or -1) reduces over all of
it and the result is 0-d; the sum of no values is 0, their product 1, their mean NaN and their
logsumexp -inf; the max over an axis of length 0 is an error (it has no value to give).

Two gradients for a max, as in torch: `amax` (and `max()` of the whole tensor) shares the
gradient equally between tied maxima (`Max`, `Min`); `max(dim)` returns the index of one
maximum per slice and sends the gradient there only (`MaxDim`, `MinDim`).
"""
import math
import warnings
from collections import namedtuple

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
    extreme = staticmethod(np.max)

    def forward(self, x):
        self.axis = axis = _axes(self.axis, x.ndim)
        if x.size == 0:
            _check_nonempty(x.shape, axis, self.symbol)
        y = np.asarray(self.extreme(x, axis=axis, keepdims=True))
        self.saved = (x, y)
        return y if self.keepdims else np.asarray(np.squeeze(y, axis=axis))

    def backward(self, grad):
        x, y = self.saved
        mask = x == y
        count = mask.sum(axis=self.axis, keepdims=True)
        g = _expand(grad, x.shape, self.axis, self.keepdims)
        return (mask * (g / count).astype(x.dtype),)

    def shape_error(self, inputs, exc):
        return exc if str(exc).startswith(f"{self.symbol}:") else super().shape_error(inputs, exc)


class Min(Max):
    """y = min_i x_i over `axis`;  dy/dx_i = 1/k at the k positions that attain the min, else 0."""
    symbol = "min"
    extreme = staticmethod(np.min)


class MaxDim(Function):
    """y = x[..., i, ...] along `dim`, where i = `indices` (argmax, found before);
    dy/dx = 1 at the index i returned, 0 elsewhere (torch.max(dim): a tie does not share)."""
    symbol = "max"

    def forward(self, x):
        self.saved = x.shape
        values = np.take_along_axis(x, self.indices, axis=self.dim)
        return values if self.keepdim else np.squeeze(values, axis=self.dim)

    def backward(self, grad):
        g = np.zeros(self.saved, grad.dtype)
        if not self.keepdim:
            grad = np.expand_dims(grad, self.dim)
        np.put_along_axis(g, self.indices, grad, axis=self.dim)
        return (g,)


class MinDim(MaxDim):
    """y = x[..., i, ...] along `dim`, where i = `indices` (argmin); dy/dx = 1 at i, else 0."""
    symbol = "min"


MaxResult = namedtuple("max", ["values", "indices"])  # torch.return_types.max
MinResult = namedtuple("min", ["values", "indices"])  # torch.return_types.min


def max_along(x, dim, keepdim, op="max"):
    """torch.max(x, dim) (or min): the named tuple (values, indices) of the largest (smallest)
    value along `dim`, `dim` already normalised to 0..ndim-1."""
    from minigrad.tensor import Tensor
    result, op_class, find = (MaxResult, MaxDim, np.argmax) if op == "max" else (MinResult, MinDim, np.argmin)
    if x.ndim == 0:  # one value: it is its own max, at index 0 (as torch)
        values, _ = max_along(x.reshape(1), 0, False, op)
        return result(values.reshape(()), Tensor(np.zeros((), np.int64)))
    if x.shape[dim] == 0:
        _check_nonempty(x.shape, dim, op)
    indices = find(x.data, axis=dim, keepdims=True)
    values = op_class.apply(x, dim=dim, indices=indices, keepdim=keepdim)
    return result(values, Tensor(indices if keepdim else np.squeeze(indices, axis=dim)))


def arg_extreme(x, axis, keepdim, op):
    """argmax / argmin: int64 indices (no gradient); over the flattened tensor when axis is None."""
    from minigrad.tensor import Tensor
    find = np.argmax if op == "argmax" else np.argmin
    if x.data.size == 0 and (axis is None or x.shape[axis] == 0):
        raise ValueError(f"{op}: the tensor of shape {x.shape} is empty along the reduced axis, "
                         f"so it has no {op[3:]}")
    if axis is None or x.ndim == 0:
        index = np.asarray(find(x.data))
        return Tensor(index.reshape((1,) * x.ndim) if keepdim else index)
    return Tensor(np.asarray(find(x.data, axis=axis, keepdims=keepdim)))


class Prod(Function):
    """y = prod_i x_i over `axis` (None or one axis);  dy/dx_i = prod_{j != i} x_j, the product
    of the others (computed without dividing by x_i, so exact where some x_j are 0)."""
    symbol = "prod"

    def forward(self, x):
        self.axis = _axes(self.axis, x.ndim)
        self.saved = x
        return np.asarray(x.prod(axis=self.axis, keepdims=self.keepdims))

    def backward(self, grad):
        x = self.saved
        if self.axis is None:
            others = _product_of_others(x.reshape(-1), 0).reshape(x.shape)
        else:
            others = _product_of_others(x, self.axis)
        return (_expand(grad, x.shape, self.axis, self.keepdims) * others,)


def _product_of_others(x, axis):
    """prod_{j != i} x_j along `axis` for each i: (the product of those before i) times (the
    product of those after i)."""
    x = np.moveaxis(x, axis, -1)
    before, after = np.ones_like(x), np.ones_like(x)
    before[..., 1:] = np.cumprod(x[..., :-1], axis=-1)
    after[..., :-1] = np.cumprod(x[..., :0:-1], axis=-1)[..., ::-1]
    return np.moveaxis(before * after, -1, axis)


class Var(Function):
    """y = sum_i (x_i - m)^2 / (n - c) over `axis`, m the mean, c the `correction` (1: unbiased);
    dy/dx_i = 2 (x_i - m) / (n - c)."""
    symbol = "var"

    def forward(self, x):
        self.axis = _axes(self.axis, x.ndim)
        d = x - x.mean(axis=self.axis, keepdims=True)
        self.dof = np.asarray(max(_count(x.shape, self.axis) - self.correction, 0), dtype=x.dtype)
        self.saved = d
        with np.errstate(divide="ignore", invalid="ignore"):  # n <= c: inf or NaN, as in torch
            return np.asarray((d * d).sum(axis=self.axis, keepdims=self.keepdims) / self.dof)

    def backward(self, grad):
        d = self.saved
        with np.errstate(divide="ignore", invalid="ignore"):
            return (_expand(grad, d.shape, self.axis, self.keepdims) * 2 * d / self.dof,)


class Std(Function):
    """y = sqrt(sum_i (x_i - m)^2 / (n - c)) over `axis`;  dy/dx_i = (x_i - m) / ((n - c) y),
    and 0 where y = 0 (all values equal), as torch."""
    symbol = "std"

    def forward(self, x):
        self.axis = _axes(self.axis, x.ndim)
        d = x - x.mean(axis=self.axis, keepdims=True)
        self.dof = np.asarray(max(_count(x.shape, self.axis) - self.correction, 0), dtype=x.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.sqrt((d * d).sum(axis=self.axis, keepdims=True) / self.dof)
        self.saved = (d, y)
        return np.asarray(y if self.keepdims else _squeeze(y, self.axis))

    def backward(self, grad):
        d, y = self.saved
        with np.errstate(divide="ignore", invalid="ignore"):
            dy_dx = np.where(y == 0, 0, d / (self.dof * y))
        return (_expand(grad, d.shape, self.axis, self.keepdims) * dy_dx,)


class Norm(Function):
    """y = (sum_i |x_i|^p)^(1/p) over `axis`, for a number p > 0;
    dy/dx_i = sign(x_i) |x_i|^(p-1) / y^(p-1) (for p = 2: x_i / y), and 0 where y = 0, as torch."""
    symbol = "norm"

    def forward(self, x):
        self.axis = _axes(self.axis, x.ndim)
        p = self.p
        y = (np.abs(x) ** p).sum(axis=self.axis, keepdims=True) ** (1 / p)
        self.saved = (x, y)
        return np.asarray(y if self.keepdims else _squeeze(y, self.axis))

    def backward(self, grad):
        x, y = self.saved
        p = self.p
        with np.errstate(divide="ignore", invalid="ignore"):
            dy_dx = np.where(y == 0, 0, np.sign(x) * np.abs(x) ** (p - 1) / y ** (p - 1))
        return (_expand(grad, x.shape, self.axis, self.keepdims) * dy_dx,)


class LogSumExp(Function):
    """y = log sum_i e^{x_i} over `axis` (computed as m + log sum_i e^{x_i - m}, m = max_i x_i,
    so no exp overflows);  dy/dx_i = e^{x_i - y}, the softmax."""
    symbol = "logsumexp"

    def forward(self, x):
        self.axis = _axes(self.axis, x.ndim)
        m = np.max(x, axis=self.axis, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, 0)  # all -inf (or no values): e^{x - 0} = 0, y = -inf
        with np.errstate(divide="ignore"):
            y = m + np.log(np.exp(x - m).sum(axis=self.axis, keepdims=True))
        self.saved = (x, y)
        return np.asarray(y if self.keepdims else _squeeze(y, self.axis))

    def backward(self, grad):
        x, y = self.saved
        return (_expand(grad, x.shape, self.axis, self.keepdims) * np.exp(x - y),)


def _squeeze(y, axis):
    """Drop the reduced axes that a keepdims=True reduction kept (all of them for axis None)."""
    return y.reshape(()) if axis is None else np.squeeze(y, axis=axis)


def _check_nonempty(shape, axis, op="max"):
    """The max of an empty tensor is defined only along axes of nonzero length (as in torch):
    max over (0, 3) along axis 1 gives shape (0,), along axis 0 or all axes it has no value."""
    if axis is None:
        raise ValueError(f"{op}: the tensor of shape {shape} is empty, so it has no {op}; "
                         f"reduce along an axis of nonzero length (axis=...) to get an empty result")
    for a in (axis,) if isinstance(axis, int) else axis:
        if shape[a] == 0:
            raise ValueError(f"{op}: axis {a} of the tensor of shape {shape} has length 0, and "
                             f"the {op} of no values is undefined")
