"""Ops that pick values by a mask or an index tensor: where (and masked_fill), gather.

Their backward sends each gradient value to the input its value was picked from.
"""
import numpy as np

from minigrad.function import Function


class Where(Function):
    """y = a where `condition` else b (a constant bool array; all three broadcast);
    dy/da = 1 where condition, else 0;  dy/db = 0 where condition, else 1."""
    symbol = "where"

    def forward(self, a, b):
        return np.where(self.condition, a, b)

    def backward(self, grad):
        return np.where(self.condition, grad, 0), np.where(self.condition, 0, grad)

    def shape_error(self, inputs, exc):
        a, b = (t.shape for t in inputs)
        return ValueError(f"where: condition {np.shape(self.condition)}, input {a} and other {b} "
                          f"cannot be broadcast together")


class Gather(Function):
    """y[i][j] = x[index[i][j]][j] for dim 0 (likewise for any dim: the index replaces that
    coordinate);  dL/dx = zeros with dL/dy added at the gathered places (a repeated index
    adds once per repeat)."""
    symbol = "gather"

    def forward(self, x):
        self.saved = x.shape
        return x[self.places]

    def backward(self, grad):
        g = np.zeros(self.saved, grad.dtype)
        np.add.at(g, self.places, grad)
        return (g,)


def where(condition, input, other):  # noqa: A002  (torch's argument names)
    """torch.where(condition, input, other): input where condition is true, else other."""
    from minigrad.tensor import Tensor, _lift
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    like = input if isinstance(input, Tensor) else other
    if not isinstance(like, Tensor):  # two numbers: the dtype mg.tensor(input) would have
        from minigrad.creation import tensor
        like = tensor(input)
    return Where.apply(_lift(input, like), _lift(other, like), condition=cond)


def where_method(self, condition, other):
    """x.where(condition, y): x where condition is true, else y (torch's Tensor.where)."""
    return where(condition, self, other)


def gather(x, dim, index):
    """torch.gather(x, dim, index): out[i][j][k] = x[index[i][j][k]][j][k] for dim 0, and so on.

    `index` has x's number of dimensions and is no larger than x apart from along `dim`.
    """
    from minigrad.tensor import Tensor, _one_axis
    dim = _one_axis(dim, x.ndim, "gather")
    index = index.data if isinstance(index, Tensor) else np.asarray(index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"gather: index must hold integers, got dtype {index.dtype}")
    if index.ndim != x.ndim:
        raise ValueError(f"gather: index {index.shape} must have as many dimensions as the input {x.shape}")
    for d, (n, m) in enumerate(zip(index.shape, x.shape)):
        if d != dim and n > m:
            raise ValueError(f"gather: index {index.shape} is larger than the input {x.shape} in "
                             f"dimension {d} (only dimension {dim}, the gathered one, may be larger)")
    if index.size and (index.min() < 0 or index.max() >= x.shape[dim]):
        bad = index.min() if index.min() < 0 else index.max()
        raise IndexError(f"gather: index {bad} is out of bounds for dimension {dim} with size {x.shape[dim]}")
    places = list(np.indices(index.shape, sparse=True))  # the coordinates of every output element
    places[dim] = index                                  # ... with `dim`'s taken from the index
    return Gather.apply(x, places=tuple(places))
