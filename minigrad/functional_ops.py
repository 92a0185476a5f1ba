"""Function forms of the ops, as in `torch`: mg.hadamard, mg.cat, mg.tanh, mg.max, ..."""
from minigrad.ops import Hadamard, Maximum, Minimum
from minigrad.ops.indexing import where  # noqa: F401  (re-exported)
from minigrad.ops.linalg import einsum  # noqa: F401
from minigrad.ops.shape import cat, stack, split, chunk, unbind  # noqa: F401
from minigrad.tensor import Tensor, _lift


def _check(t, op):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected a tensor, got {type(t).__name__}")
    return t


def hadamard(a, b):
    """The Hadamard (elementwise) product a ⊙ b: the gate products of the LSTM equations.

    Same values and gradient as `a * b`; drawn as its own ⊙ node in graphs.
    """
    return Hadamard.apply(_check(a, "hadamard"), _check(b, "hadamard"))


def matmul(a, b):
    return _check(a, "matmul") @ b


def exp(x):
    return _check(x, "exp").exp()


def log(x):
    return _check(x, "log").log()


def tanh(x):
    return _check(x, "tanh").tanh()


def sigmoid(x):
    return _check(x, "sigmoid").sigmoid()


def relu(x):
    return _check(x, "relu").relu()


def softmax(x, axis=-1, dim=None):
    return _check(x, "softmax").softmax(axis, dim=dim)


def log_softmax(x, axis=-1, dim=None):
    return _check(x, "log_softmax").log_softmax(axis, dim=dim)


def sqrt(x):
    return _check(x, "sqrt").sqrt()


def abs(x):  # noqa: A001  (torch.abs)
    return _check(x, "abs").abs()


def clamp(x, min=None, max=None):  # noqa: A002
    return _check(x, "clamp").clamp(min, max)


clip = clamp


def sum(x, dim=None, keepdim=False, *, axis=None, keepdims=False):  # noqa: A001  (torch.sum)
    return _check(x, "sum").sum(dim, keepdim, axis=axis, keepdims=keepdims)


def mean(x, dim=None, keepdim=False, *, axis=None, keepdims=False):
    return _check(x, "mean").mean(dim, keepdim, axis=axis, keepdims=keepdims)


def max(x, dim=None, keepdim=False, *, axis=None, keepdims=False):  # noqa: A001  (torch.max)
    """mg.max(x): the largest value; mg.max(x, dim): (values, indices); mg.max(a, b): maximum(a, b)."""
    return _check(x, "max").max(dim, keepdim, axis=axis, keepdims=keepdims)


def min(x, dim=None, keepdim=False, *, axis=None, keepdims=False):  # noqa: A001  (torch.min)
    """mg.min(x): the smallest value; mg.min(x, dim): (values, indices); mg.min(a, b): minimum(a, b)."""
    return _check(x, "min").min(dim, keepdim, axis=axis, keepdims=keepdims)


def maximum(a, b):
    """The elementwise maximum (broadcasting); where a = b each gets half the gradient, as torch."""
    return Maximum.apply(_check(a, "maximum"), _lift(b, a))


def minimum(a, b):
    """The elementwise minimum (broadcasting); where a = b each gets half the gradient, as torch."""
    return Minimum.apply(_check(a, "minimum"), _lift(b, a))


def argmax(x, dim=None, keepdim=False):
    return _check(x, "argmax").argmax(dim, keepdim)


def argmin(x, dim=None, keepdim=False):
    return _check(x, "argmin").argmin(dim, keepdim)


def logsumexp(x, dim, keepdim=False):
    return _check(x, "logsumexp").logsumexp(dim, keepdim)


def mm(a, b):
    return _check(a, "mm").mm(b)


def bmm(a, b):
    return _check(a, "bmm").bmm(b)


def reshape(x, *shape):
    return _check(x, "reshape").reshape(*shape)


def transpose(x, *axes):
    return _check(x, "transpose").transpose(*axes)
