"""Tensor: an n-dimensional numpy array that remembers how it was computed.

A tensor built by an op keeps that op (`grad_fn`), and the op keeps its inputs, so the
whole computation is a graph that `backward()` walks in reverse to fill in `.grad`.
"""
import numpy as np

from minigrad import grad_mode


def _is_float(dtype):
    return dtype.kind == "f"


class Tensor:
    """An array with optional gradient tracking, mirroring `torch.Tensor`.

    Attributes:
        data: the numpy array holding the values.
        grad: the gradient (a numpy array of the same shape), filled in by `backward()`.
        requires_grad: whether ops on this tensor are recorded for backward.
        grad_fn: the op that produced this tensor (None for leaves).
        name: an optional label, shown by the graph renderer.
        scope: the scope (`mg.scope`) the tensor was created in, or None.
    """

    __array_ufunc__ = None  # numpy defers to our operators: np.float64(2) * x is a Tensor

    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "name", "scope",
                 "_g", "_g_owned", "_hooks", "_retain", "_modified_at", "__weakref__")

    def __init__(self, data, requires_grad=False, name=None):
        data = data if isinstance(data, np.ndarray) else np.asarray(data)
        self.data = data
        self.grad = None
        self.grad_fn = None
        self.name = name
        self.scope = grad_mode.scope_name
        self._g = None
        self._g_owned = False
        self._hooks = None
        self._retain = False
        self._modified_at = 0  # epoch of its last in-place change (versions.py)
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ properties
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return self.data.size

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded op (user-made tensors, parameters)."""
        return self.grad_fn is None

    @property
    def T(self):
        """The transpose (all axes reversed)."""
        if self.data.ndim == 2:  # W.T on every time step: skip the general axis checks
            return _ops.Transpose.apply(self, axes=(1, 0))
        return self.transpose()

    def __len__(self):
        return len(self.data)

    def numel(self):
        return self.data.size

    def dim(self):
        return self.data.ndim

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors convert to a Python number; "
                             f"this one has shape {self.shape}")
        return self.data.item()

    def numpy(self):
        """The values as a numpy array (the same memory, as in PyTorch)."""
        return self.data

    def tolist(self):
        return self.data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.data)

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extra = []
        if self.data.dtype != np.float32:
            extra.append(f"dtype={self.data.dtype}")
        if self.grad_fn is not None:
            extra.append(f"grad_fn=<{type(self.grad_fn).__name__}>")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        if self.name:
            extra.append(f"name={self.name!r}")
        return "tensor(" + body + "".join(", " + e for e in extra) + ")"

    # ------------------------------------------------------------------ autodiff
    def requires_grad_(self, requires_grad=True):
        """Turn gradient tracking on or off for this leaf; returns self."""
        if requires_grad and not _is_float(self.data.dtype):
            raise TypeError(f"requires_grad=True needs a floating-point tensor, got {self.data.dtype}; "
                            f"create it with dtype=mg.float32 (or call .float() first)")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) is for leaves; use .detach() on a computed tensor")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, grad=None, retain_graph=False):
        """Fill in `.grad` of every leaf this tensor depends on (accumulating, like PyTorch).

        Args:
            grad: dL/dself, required unless self holds one element (then 1).
            retain_graph: keep the graph so backward can run through it again.
        """
        _autograd.run_backward(self, grad, retain_graph)

    def retain_grad(self):
        """Keep `.grad` on this intermediate tensor after backward (leaves always keep it)."""
        if self.grad_fn is not None:
            self._retain = True
        return self

    def register_hook(self, hook):
        """Call `hook(grad)` with this tensor's gradient during backward; a returned array replaces it.

        Returns a handle whose `remove()` unregisters the hook.
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook: this tensor does not require grad, so no gradient will reach it")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)

    def detach(self):
        """The same values (shared memory) cut off from the graph: no gradient flows back through it."""
        out = Tensor(self.data)
        out.name = self.name
        return out

    def detach_(self):
        """Cut this tensor off from its graph in place; returns self."""
        self.grad_fn = None
        self.requires_grad = False
        return self

    def zero_grad_(self):
        self.grad = None

    # ------------------------------------------------------------------ dtype
    def to(self, dtype):
        """A copy converted to `dtype` (differentiable between float dtypes)."""
        from minigrad.ops.shape import Cast
        dtype = np.dtype(dtype)
        if dtype == self.data.dtype:
            return self
        if self.requires_grad and _is_float(dtype):
            return Cast.apply(self, dtype=dtype)
        return Tensor(self.data.astype(dtype))

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def long(self):
        return self.to(np.int64)

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return _ops.Add.apply(self, _lift(other, self))

    def __radd__(self, other):
        return _ops.Add.apply(_lift(other, self), self)

    def __sub__(self, other):
        return _ops.Sub.apply(self, _lift(other, self))

    def __rsub__(self, other):
        return _ops.Sub.apply(_lift(other, self), self)

    def __mul__(self, other):
        return _ops.Mul.apply(self, _lift(other, self))

    def __rmul__(self, other):
        return _ops.Mul.apply(_lift(other, self), self)

    def __truediv__(self, other):
        return _ops.Div.apply(self, _lift(other, self))

    def __rtruediv__(self, other):
        return _ops.Div.apply(_lift(other, self), self)

    def __pow__(self, exponent):
        if isinstance(exponent, Tensor):
            return _ops.Pow.apply(self, exponent)
        return _ops.PowScalar.apply(self, exponent=exponent)

    def __rpow__(self, base):
        return _ops.Pow.apply(_lift(base, self), self)

    def __matmul__(self, other):
        return _ops.matmul(self, _lift(other, self))

    def __rmatmul__(self, other):
        return _ops.matmul(_lift(other, self), self)

    def __neg__(self):
        return _ops.Neg.apply(self)

    def __pos__(self):
        return self

    # comparisons give constant boolean tensors (no gradient), as in PyTorch
    def __lt__(self, other):
        return Tensor(self.data < _raw(other))

    def __le__(self, other):
        return Tensor(self.data <= _raw(other))

    def __gt__(self, other):
        return Tensor(self.data > _raw(other))

    def __ge__(self, other):
        return Tensor(self.data >= _raw(other))

    # ------------------------------------------------------------------ elementwise
    def exp(self):
        return _ops.Exp.apply(self)

    def log(self):
        return _ops.Log.apply(self)

    def tanh(self):
        return _ops.Tanh.apply(self)

    def sigmoid(self):
        return _ops.Sigmoid.apply(self)

    def relu(self):
        return _ops.ReLU.apply(self)

    def sqrt(self):
        return _ops.PowScalar.apply(self, exponent=0.5)

    def abs(self):
        return _ops.Abs.apply(self)

    # ------------------------------------------------------------------ reductions
    def sum(self, axis=None, keepdims=False, dim=None):
        return _ops.Sum.apply(self, axis=_axis(axis, dim, self.ndim, "sum"), keepdims=keepdims)

    def mean(self, axis=None, keepdims=False, dim=None):
        return _ops.Mean.apply(self, axis=_axis(axis, dim, self.ndim, "mean"), keepdims=keepdims)

    def max(self, axis=None, keepdims=False, dim=None):
        return _ops.Max.apply(self, axis=_axis(axis, dim, self.ndim, "max"), keepdims=keepdims)

    def softmax(self, axis=-1, dim=None):
        return _ops.Softmax.apply(self, axis=_one_axis(axis if dim is None else dim, self.ndim, "softmax"))

    def log_softmax(self, axis=-1, dim=None):
        return _ops.LogSoftmax.apply(self, axis=_one_axis(axis if dim is None else dim, self.ndim, "log_softmax"))

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.Reshape.apply(self, shape=shape)

    view = reshape

    def flatten(self):
        return self.reshape(-1)

    def transpose(self, *axes):
        """No argument reverses the axes; two ints swap those two (as torch.transpose, for any
        number of dimensions); a tuple, or three ints or more, is a full permutation (as numpy)."""
        n = self.ndim
        if len(axes) == 2 and not isinstance(axes[0], (tuple, list)):
            a, b = (_one_axis(x, n, "transpose") for x in axes)
            perm = list(range(n))
            perm[a], perm[b] = perm[b], perm[a]
            return _ops.Transpose.apply(self, axes=tuple(perm))
        return self.permute(*axes) if axes else self.permute(tuple(range(n - 1, -1, -1)))

    def permute(self, *axes):
        """Reorder the axes: axis k of the result is axis axes[k] of self (torch.permute)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        n = self.ndim
        axes = tuple(_one_axis(x, n, "permute") for x in axes)
        if sorted(axes) != list(range(n)):
            raise ValueError(f"permute: axes {axes} are not a permutation of a {n}-d tensor's axes")
        return _ops.Transpose.apply(self, axes=axes)

    def __getitem__(self, index):
        return _ops.GetItem.apply(self, index=_raw_index(index))

    def split(self, split_size_or_sections, axis=0, dim=None):
        from minigrad.ops.shape import split
        return split(self, split_size_or_sections, axis if dim is None else dim)

    def chunk(self, chunks, axis=0, dim=None):
        from minigrad.ops.shape import chunk
        return chunk(self, chunks, axis if dim is None else dim)


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _lift(value, like):
    """Wrap a Python number or array as a constant tensor; numbers take `like`'s float dtype
    so `x * 0.5` stays float32 (no silent upcast)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (int, float)) and like.data.dtype.kind == "f":
        return Tensor(np.asarray(value, dtype=like.data.dtype))
    return Tensor(np.asarray(value))


def _raw(value):
    return value.data if isinstance(value, Tensor) else value


def _raw_index(index):
    """An index with tensors in it replaced by their arrays (x[idx] with idx a tensor)."""
    if isinstance(index, tuple):
        for part in index:  # (a loop, not a generator: x[:, a:b] on every time step)
            if isinstance(part, Tensor):
                return tuple(i.data if isinstance(i, Tensor) else i for i in index)
        return index
    return index.data if isinstance(index, Tensor) else index


def _one_axis(axis, ndim, op):
    """Normalise one axis to 0..ndim-1 with an error naming the op."""
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor with {ndim} dimensions")
    return int(axis) % max(ndim, 1)


def _axis(axis, dim, ndim, op):
    """Normalise a reduction's axis (None, int or tuple; `dim` is PyTorch's name for it)."""
    if dim is not None:
        axis = dim
    if axis is None:
        return None
    if isinstance(axis, (tuple, list)):
        axes = tuple(_one_axis(a, ndim, op) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"{op}: axis {tuple(axis)} repeats an axis")
        return axes
    return _one_axis(axis, ndim, op)


# ops and the backward engine import Tensor, so they are imported last to close the loop
from minigrad import ops as _ops  # noqa: E402
from minigrad import autograd as _autograd  # noqa: E402
