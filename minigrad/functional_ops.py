"""Function forms of the ops, as in `torch`: mg.hadamard, mg.cat, mg.tanh, ..."""
from minigrad.ops import Hadamard
from minigrad.ops.shape import cat, stack, split, chunk  # noqa: F401  (re-exported)
from minigrad.tensor import Tensor


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


def sum(x, axis=None, keepdims=False, dim=None):  # noqa: A001  (torch.sum)
    return _check(x, "sum").sum(axis, keepdims, dim=dim)


def mean(x, axis=None, keepdims=False, dim=None):
    return _check(x, "mean").mean(axis, keepdims, dim=dim)


def reshape(x, *shape):
    return _check(x, "reshape").reshape(*shape)


def transpose(x, *axes):
    return _check(x, "transpose").transpose(*axes)
