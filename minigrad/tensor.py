"""Tensor: an n-dimensional numpy array that remembers how it was computed.

A tensor built by an op keeps that op (`grad_fn`), and the op keeps its inputs, so the
whole computation is a graph that `backward()` walks in reverse to fill in `.grad`.
"""
import itertools
import math

import numpy as np

from minigrad import grad_mode, versions


_next_seq = itertools.count(1).__next__  # numbers the recorded nodes in creation order


_NOT_IN_BACKWARD = {
    "create_graph": "backward(create_graph=True): minigrad computes first derivatives only; its "
                    "gradients are not part of a graph",
    "inputs": "backward(inputs=...): minigrad fills in .grad of every leaf; read the ones you need"}


def _is_float(dtype):
    return dtype.kind == "f"


class Tensor:
    """An array with optional gradient tracking, mirroring `torch.Tensor`.

    Attributes:
        data: the numpy array holding the values.
        grad: the gradient, a Tensor of the same shape and dtype that does not require grad,
            filled in by `backward()` (accumulating) and None until then, as in PyTorch.
        requires_grad: whether ops on this tensor are recorded for backward.
        grad_fn: the op that produced this tensor (None for leaves).
        name: an optional label, shown by the graph renderer.
        scope: the scope (`mg.scope`) the tensor was created in, or None.
    """

    __array_ufunc__ = None  # numpy defers to our operators: np.float64(2) * x is a Tensor

    __slots__ = ("data", "_grad", "requires_grad", "grad_fn", "name", "scope",
                 "output_nr", "_g", "_hooks", "_retain", "_modified_at", "__weakref__")

    def __init__(self, data, requires_grad=False, name=None):
        self.data = data if isinstance(data, np.ndarray) else np.asarray(data)
        self.grad_fn = self._grad = self._hooks = None
        self._g = None  # the gradient being summed during backward (autograd.py)
        self.name, self.scope = name, grad_mode.scope_name
        self.output_nr = 0  # which output of its grad_fn this is (ops with several: Split)
        self._retain = self.requires_grad = False
        self._modified_at = 0  # epoch of its last in-place change (versions.py)
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _from_op(cls, data, fn, inputs):
        """Op `fn`'s output on `inputs`, with `fn` as its grad_fn if an input requires grad."""
        if type(data) is tuple:
            return cls._several_from_op(data, fn, inputs)
        out = cls(data)
        if grad_mode.enabled:
            for t in inputs:
                if t.requires_grad:
                    fn.inputs, fn.epoch, fn.seq = inputs, versions.epoch, _next_seq()
                    out.requires_grad, out.grad_fn = True, fn
                    break
        return out

    @classmethod
    def _several_from_op(cls, arrays, fn, inputs):
        """The outputs of an op with several (Split): one tensor per array, one node, the
        tensor's `output_nr` saying which output it is (as in torch)."""
        outs = tuple(cls(a) for a in arrays)
        if grad_mode.enabled and any(t.requires_grad for t in inputs):
            fn.inputs, fn.epoch, fn.seq, fn.n_outputs = inputs, versions.epoch, _next_seq(), len(outs)
            for k, out in enumerate(outs):
                out.requires_grad, out.grad_fn, out.output_nr = True, fn, k
        return outs

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

    def size(self, dim=None):
        """The shape, as torch's `x.size()` (a plain tuple here); `x.size(d)` the length of
        dimension d. (The number of elements is `numel()`.)"""
        if dim is None:
            return self.data.shape
        if self.data.ndim == 0:
            raise IndexError(f"size: dimension {dim} was asked of a 0-d tensor, which has no dimensions")
        return self.data.shape[_one_axis(dim, self.data.ndim, "size")]

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
    @property
    def grad(self):
        """dL/dself as a Tensor (sharing backward's array), or None."""
        if _function.tracer is not None:  # mg.compile: the step may depend on this .grad
            _function.tracer.grad_read(self)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None, got {type(value).__name__}"
                                + ("; wrap the array: mg.from_numpy(a)" if isinstance(value, np.ndarray) else ""))
            if value.shape != self.shape or value.dtype != self.dtype:
                raise RuntimeError(f"assigned grad has shape {value.shape} and dtype {value.dtype}, the tensor "
                                   f"shape {self.shape} and dtype {self.dtype}")
        elif _function.tracer is not None:  # mg.compile: a step that clears .grad (zero_grad) does
            _function.tracer.grad_cleared(self)  # not depend on the .grad it was called with
        self._grad = value

    def requires_grad_(self, requires_grad=True):
        """Turn gradient tracking on or off for this leaf; returns self."""
        if requires_grad and not _is_float(self.data.dtype):
            raise TypeError(f"requires_grad=True needs a floating-point tensor, got {self.data.dtype}; "
                            f"create it with dtype=mg.float32 (or call .float() first)")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) is for leaves; use .detach() on a computed tensor")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Add d self / d leaf to `.grad` of every leaf self depends on (see autograd.py).
        `gradient`: d L / d self, needed unless self has one element; `retain_graph`: keep the
        graph for another backward. (PyTorch's create_graph and inputs are not in minigrad.)"""
        if create_graph or inputs is not None:
            raise NotImplementedError(_NOT_IN_BACKWARD["create_graph" if create_graph else "inputs"])
        _autograd.run_backward(self, gradient, bool(retain_graph))

    def retain_grad(self):
        """Keep `.grad` on this intermediate tensor after backward (leaves always keep it)."""
        if self.grad_fn is not None:
            self._retain = True
        return self

    def register_hook(self, hook):
        """Call `hook(grad)` with this tensor's gradient (a Tensor) during backward; a Tensor it
        returns replaces the gradient (return a new one: do not change `grad` in place).

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

    # ------------------------------------------------------------------ dtype
    @property
    def device(self):
        """Always "cpu": minigrad's tensors are numpy arrays."""
        return "cpu"

    def cpu(self):
        return self

    def cuda(self, *args, **kwargs):
        raise RuntimeError("cuda: minigrad runs on the CPU only (numpy arrays); drop .cuda() / "
                           ".to('cuda') and the code runs as it is")

    def to(self, *args, dtype=None, device=None):
        """self converted to `dtype` (a copy; differentiable between float dtypes), as
        torch's x.to(dtype) and x.to(device, dtype): the device may only be "cpu"."""
        from minigrad.creation import device_and_dtype
        from minigrad.ops.shape import Cast
        dtype = device_and_dtype(args, dtype, device, "to")
        if dtype is None:
            return self
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"to: {dtype!r} is neither a dtype nor a device") from None
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

    def type(self, dtype=None):
        """With no argument, the tensor type's name, torch's with minigrad for torch:
        "minigrad.FloatTensor" for float32, "minigrad.LongTensor" for int64, ... . With a dtype
        (or such a name), the tensor converted to it, as `to(dtype)`."""
        if dtype is None:
            return f"minigrad.{_type_name(self.dtype)}Tensor"
        if isinstance(dtype, str) and dtype.endswith("Tensor"):
            names = {f"minigrad.{name}Tensor": dt for dt, name in _TYPE_NAMES.items()}
            if dtype not in names:
                raise ValueError(f"type: unknown tensor type {dtype!r}; expected one of {sorted(names)}")
            dtype = names[dtype]
        return self.to(dtype)

    # ------------------------------------------------------------------ arithmetic
    # the methods of torch's names; the operators below are the ops
    def add(self, other, alpha=1):
        """self + alpha * other."""
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        """self - alpha * other."""
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other):
        return self * other

    def div(self, other, rounding_mode=None):
        if rounding_mode is not None:
            raise NotImplementedError(f"div: rounding_mode={rounding_mode!r} is not supported; "
                                      f"minigrad's div is true division")
        return self / other

    def pow(self, exponent):
        return self ** exponent

    def matmul(self, other):
        """self @ other: the matrix product (batched, broadcasting; 1-d operands as vectors)."""
        return self @ other

    def mm(self, other):
        """The product of two matrices (2-d only, as torch.mm)."""
        return _linalg.mm(self, _lift(other, self))

    def bmm(self, other):
        """A batch of matrix products: (B, n, k) @ (B, k, m) -> (B, n, m), as torch.bmm."""
        return _linalg.bmm(self, _lift(other, self))

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
        return _ops.MatMul.apply(self, _lift(other, self))

    def __rmatmul__(self, other):
        return _ops.MatMul.apply(_lift(other, self), self)

    def __neg__(self):
        return _ops.Neg.apply(self)

    def __pos__(self):
        return self

    # comparisons give constant boolean tensors (no gradient), as in PyTorch
    __hash__ = object.__hash__  # (defining __eq__ removes it) tensors are dict keys by identity

    def __eq__(self, other):
        """Elementwise x == other, a bool tensor. Beware `t in list_of_tensors`, `list.index`
        and `list.remove`: they call == and then bool() on the result (as in torch); compare
        identities instead: `any(t is p for p in params)`."""
        if not _comparable(other):
            return NotImplemented  # t == None is False, as in torch
        return Tensor(self.data == _raw(other))

    def __ne__(self, other):
        if not _comparable(other):
            return NotImplemented
        return Tensor(self.data != _raw(other))

    def __lt__(self, other):
        return Tensor(self.data < _raw(other))

    def __le__(self, other):
        return Tensor(self.data <= _raw(other))

    def __gt__(self, other):
        return Tensor(self.data > _raw(other))

    def __ge__(self, other):
        return Tensor(self.data >= _raw(other))

    # ------------------------------------------------------------------ in place
    # x += y, x.add_(y), x[i] = v, ... change x's own array, so every alias and view of it (and
    # the array given to mg.from_numpy) sees the change, as in torch. Allowed on a tensor that is
    # not part of a graph; on a leaf that requires grad only under mg.no_grad() (an optimizer
    # step). Each change stamps the tensor (versions.py): backward refuses a graph built before
    # it that read the old values. Unlike torch, minigrad records no in-place op: where torch
    # would record one (x part of a graph, or y requiring grad), `x += y` computes x + y as a
    # new tensor and Python rebinds the name (so `total += loss` accumulates a loss as in torch;
    # other references to the old x keep its old value), and x.add_(y) is refused.
    def __iadd__(self, other):
        return self + other if self._records(other) else self._update_("add_", np.add, other)

    def __isub__(self, other):
        return self - other if self._records(other) else self._update_("sub_", np.subtract, other)

    def __imul__(self, other):
        return self * other if self._records(other) else self._update_("mul_", np.multiply, other)

    def __itruediv__(self, other):
        return self / other if self._records(other) else self._update_("div_", np.true_divide, other)

    def __ipow__(self, exponent):
        return self ** exponent if self._records(exponent) else self._update_("pow_", np.power, exponent)

    def _records(self, other):
        """Would torch record `self op= other` in the graph? (self computed by a recorded op, or
        other requiring grad, with grad mode on)"""
        if not grad_mode.enabled or (self.requires_grad and self.grad_fn is None):
            return False  # (a leaf that requires grad: _update_ raises torch's error)
        return self.grad_fn is not None or (isinstance(other, Tensor) and other.requires_grad)

    def add_(self, other, alpha=1):
        """self += alpha * other, in place."""
        return self._update_("add_", lambda a, b: a + alpha * b, other)

    def sub_(self, other, alpha=1):
        """self -= alpha * other, in place."""
        return self._update_("sub_", lambda a, b: a - alpha * b, other)

    def mul_(self, other):
        return self._update_("mul_", np.multiply, other)

    def div_(self, other):
        return self._update_("div_", np.true_divide, other)

    def clamp_(self, min=None, max=None):  # noqa: A002  (torch's names)
        _check_bounds(min, max, "clamp_")
        return self._update_("clamp_", np.clip, min, max)

    def zero_(self):
        """Set every element to 0, in place."""
        return self._write_("zero_", Ellipsis, 0)

    def fill_(self, value):
        """Set every element to `value` (a number or 0-d tensor, converted to self's dtype)."""
        if isinstance(value, Tensor) and value.ndim != 0:
            raise ValueError(f"fill_: the value must be a number or a 0-d tensor, got shape {value.shape}")
        return self._write_("fill_", Ellipsis, value)

    def copy_(self, src):
        """Copy `src`'s values into self (broadcast to self's shape, converted to its dtype)."""
        return self._write_("copy_", Ellipsis, src)

    def __setitem__(self, index, value):
        """x[index] = value, in place (value converted to x's dtype, as in torch)."""
        self._write_("setitem", _raw_index(index), value, view=True)

    def _update_(self, op, fn, *operands):
        """self = fn(self, *operands), in place. As in torch, the result keeps self's shape and
        must not need a wider kind of dtype (an int tensor cannot take a float result)."""
        self._check_in_place(op, operands)
        try:
            result = np.asarray(fn(self.data, *(_raw(v) for v in operands)))
        except ValueError as exc:
            shapes = " and ".join(str(np.shape(_raw(v))) for v in (self, *operands))
            raise RuntimeError(f"{op}: cannot apply to shapes {shapes}: {exc}") from None
        if result.shape != self.data.shape:
            raise RuntimeError(f"{op}: output with shape {self.shape} doesn't match the broadcast "
                               f"shape {result.shape}")
        if _KIND_RANK[result.dtype.kind] > _KIND_RANK[self.data.dtype.kind]:
            raise RuntimeError(f"{op}: result type {_type_name(result.dtype)} can't be cast to the "
                               f"desired output type {_type_name(self.data.dtype)}")
        return self._write_(op, Ellipsis, result, checked=True)

    def _write_(self, op, index, value, view=False, checked=False):
        """self.data[index] = value (numpy converts it to self's dtype), then stamp self."""
        if not checked:
            self._check_in_place(op, (value,), view)
        try:
            self.data[index] = _raw(value)
        except ValueError as exc:  # a shape that does not broadcast, or a read-only array
            raise RuntimeError(f"{op}: cannot write into the tensor of shape {self.shape}: {exc}") from None
        versions.mark_modified([self])
        return self

    def _check_in_place(self, op, operands=(), view=False):
        """Raise if changing self in place would give a wrong gradient (see the section's comment)."""
        if self.grad_fn is not None:
            raise RuntimeError(
                f"{op}: in-place operations on a tensor that is part of a graph (made by the "
                f"{self.grad_fn.name} op) are not supported in minigrad; write x = x + 1 (a new "
                f"tensor) instead")
        if not grad_mode.enabled:
            return
        if self.requires_grad:
            raise RuntimeError(
                f"{op}: a {'view of a ' if view else ''}leaf Variable that requires grad is being used "
                f"in an in-place operation. Change it under `with mg.no_grad():`, as an optimizer step does")
        if any(isinstance(v, Tensor) and v.requires_grad for v in operands):
            raise RuntimeError(
                f"{op}: the value requires grad, but minigrad records no in-place op, so its gradient "
                f"would be lost; write x = x + y (a new tensor) instead")

    # ------------------------------------------------------------------ elementwise
    def sqrt(self):
        """The square root, x^0.5 (its gradient 0.5 x^-0.5)."""
        return _ops.PowScalar.apply(self, exponent=0.5)

    def clamp(self, min=None, max=None):  # noqa: A002  (torch's names)
        """Values below min set to min, above max to max; the gradient passes where
        min <= x <= max. Tensor bounds get the gradient where they are chosen (as in torch)."""
        _check_bounds(min, max, "clamp")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            out = self if min is None else self.where(self >= min, min)
            return out if max is None else out.where(self <= max, max)
        return _ops.Clamp.apply(self, min=min, max=max)

    clip = clamp

    # ------------------------------------------------------------------ reductions
    # Each takes torch's names (dim, keepdim) or numpy's (axis, keepdims); dim is None (all
    # axes), an int or a tuple of ints.
    def sum(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """The sum over `dim` (an int or tuple; all axes if None), as torch.sum."""
        return _ops.Sum.apply(self, **_reduce_args(self, "sum", dim, axis, keepdim, keepdims))

    def mean(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """The mean over `dim` (an int or tuple; all axes if None), as torch.mean."""
        return _ops.Mean.apply(self, **_reduce_args(self, "mean", dim, axis, keepdim, keepdims))

    def prod(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """The product over one axis, or all; the gradient is the product of the others."""
        args = _reduce_args(self, "prod", dim, axis, keepdim, keepdims)
        if isinstance(args["axis"], tuple):
            raise TypeError("prod: dim must be an int or None (torch.prod reduces one dim or all)")
        return _ops.Prod.apply(self, **args)

    def amax(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """The largest values over `dim` (all axes if None); tied maxima share the gradient."""
        return _ops.Max.apply(self, **_reduce_args(self, "amax", dim, axis, keepdim, keepdims))

    def amin(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """The smallest values over `dim` (all axes if None); tied minima share the gradient."""
        return _ops.Min.apply(self, **_reduce_args(self, "amin", dim, axis, keepdim, keepdims))

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """As torch.max: with no dim, the largest value (0-d; tied maxima share the gradient);
        with a dim, the named tuple (values, indices) along it, the gradient going to the
        index returned; with a tensor, the elementwise maximum."""
        if isinstance(dim, Tensor):
            return _ops.Maximum.apply(self, dim)
        return _max_min(self, "max", dim, axis, keepdim, keepdims)

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """As torch.min: the smallest value, (values, indices) along a dim, or the elementwise minimum."""
        if isinstance(dim, Tensor):
            return _ops.Minimum.apply(self, dim)
        return _max_min(self, "min", dim, axis, keepdim, keepdims)

    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """The index of the largest value along `dim` (of the flattened tensor if None), int64."""
        args = _reduce_args(self, "argmax", dim, axis, keepdim, keepdims, one_axis=True)
        return _reductions.arg_extreme(self, args["axis"], args["keepdims"], "argmax")

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """The index of the smallest value along `dim` (of the flattened tensor if None), int64."""
        args = _reduce_args(self, "argmin", dim, axis, keepdim, keepdims, one_axis=True)
        return _reductions.arg_extreme(self, args["axis"], args["keepdims"], "argmin")

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=False):
        """sum (x - mean)^2 / (n - correction); correction=1 (unbiased=True) by default, as torch."""
        if isinstance(dim, bool):  # x.var(False): torch's var(unbiased) form
            dim, unbiased = None, dim
        correction = _correction(unbiased, correction, "var")
        return _ops.Var.apply(_float(self, "var"), correction=correction,
                              **_reduce_args(self, "var", dim, axis, keepdim, keepdims))

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=False):
        """sqrt(var): correction=1 (unbiased=True) by default, as torch."""
        if isinstance(dim, bool):  # x.std(False): torch's std(unbiased) form
            dim, unbiased = None, dim
        correction = _correction(unbiased, correction, "std")
        return _ops.Std.apply(_float(self, "std"), correction=correction,
                              **_reduce_args(self, "std", dim, axis, keepdim, keepdims))

    def norm(self, p="fro", dim=None, keepdim=False, *, axis=None, keepdims=False):
        """(sum |x|^p)^(1/p) over `dim` (all axes if None): p a number > 0, "fro" (= 2) or inf."""
        args = _reduce_args(self, "norm", dim, axis, keepdim, keepdims)
        _float(self, "norm")
        if p == "fro":
            p = 2
        if p == float("inf"):
            return self.abs().amax(args["axis"], args["keepdims"])
        if isinstance(p, str) or not p > 0:
            raise ValueError(f"norm: p must be a number > 0, 'fro' or inf, got {p!r}")
        return _ops.Norm.apply(self, p=p, **args)

    def logsumexp(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """log sum exp(x) over `dim` (an int or tuple, required as in torch), without overflow;
        its gradient is the softmax."""
        if dim is None and axis is None:
            raise TypeError("logsumexp: missing dim (an int or a tuple of ints), as torch.logsumexp")
        return _ops.LogSumExp.apply(self, **_reduce_args(self, "logsumexp", dim, axis, keepdim, keepdims))

    def all(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """True where every value along `dim` (all if None) is nonzero; a bool tensor."""
        args = _reduce_args(self, "all", dim, axis, keepdim, keepdims)
        axis = None if self.ndim == 0 else args["axis"]
        return Tensor(np.asarray(self.data.all(axis=axis, keepdims=args["keepdims"])))

    def any(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """True where some value along `dim` (all if None) is nonzero; a bool tensor."""
        args = _reduce_args(self, "any", dim, axis, keepdim, keepdims)
        axis = None if self.ndim == 0 else args["axis"]
        return Tensor(np.asarray(self.data.any(axis=axis, keepdims=args["keepdims"])))

    def softmax(self, axis=-1, dim=None):
        """exp(x) / sum exp(x) along `dim` (the last by default), computed without overflow."""
        return _ops.Softmax.apply(self, axis=_one_axis(axis if dim is None else dim, self.ndim, "softmax"))

    def log_softmax(self, axis=-1, dim=None):
        """x - logsumexp(x) along `dim` (the last by default): log of the softmax, stably."""
        return _ops.LogSoftmax.apply(self, axis=_one_axis(axis if dim is None else dim, self.ndim, "log_softmax"))

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape):
        """The same values with a new shape (one size may be -1), as torch.reshape."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.Reshape.apply(self, shape=shape)

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        """Dimensions start_dim..end_dim (inclusive) merged into one (torch.flatten)."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = (_one_axis(d, self.ndim, "flatten") for d in (start_dim, end_dim))
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                             f"for a tensor of shape {self.shape}")
        shape = self.shape
        return self.reshape(shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])

    def unsqueeze(self, dim):
        """A new axis of length 1 at position `dim` (-1: last)."""
        d = _one_axis(dim, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def squeeze(self, dim=None):
        """The axes of length 1 removed: all of them, or those among `dim` (an int or tuple;
        a listed axis whose length is not 1 is kept, as in torch)."""
        if self.ndim == 0:
            return self.reshape(())
        dims = range(self.ndim) if dim is None else _axis(dim, None, self.ndim, "squeeze")
        dims = {dims} if isinstance(dims, int) else set(dims)
        return self.reshape(tuple(n for d, n in enumerate(self.shape) if not (d in dims and n == 1)))

    def t(self):
        """The transpose of a matrix; a 0-d or 1-d tensor is returned as it is (torch.t)."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor with <= 2 dimensions, got shape {self.shape}; "
                             f"use transpose(d0, d1) or permute")
        return self.T if self.ndim == 2 else self

    def expand(self, *sizes):
        """A view stretched along its size-1 axes to `sizes` (-1 keeps a size; new axes in front)."""
        return _shape.expand(self, *sizes)

    def repeat(self, *repeats):
        """The tensor tiled repeats[d] times along dimension d (a copy, as numpy.tile)."""
        return _shape.repeat(self, *repeats)

    def clone(self):
        """A copy with its own memory, still in the graph (the gradient flows back to self)."""
        return _ops.Clone.apply(self)

    def masked_fill(self, mask, value):
        """self with `value` (a number or 0-d tensor) where the bool `mask` is true."""
        mask_dtype = mask.dtype if isinstance(mask, Tensor) else np.asarray(mask).dtype
        if mask_dtype != np.bool_:
            raise TypeError(f"masked_fill: only bool masks are supported, got dtype {mask_dtype}")
        if isinstance(value, Tensor) and value.ndim != 0:
            raise ValueError(f"masked_fill: the value must be a number or a 0-d tensor, got shape {value.shape}")
        if not isinstance(value, Tensor):
            value = Tensor(np.asarray(value, dtype=self.dtype))  # self's dtype, as torch
        out = _indexing.where(mask, value, self)
        if out.shape != self.shape:
            raise ValueError(f"masked_fill: the mask of shape {np.shape(_raw(mask))} does not broadcast "
                             f"to the tensor's shape {self.shape}")
        return out

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


_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
               "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}  # an in-place result may not move up a rank


def _type_name(dtype):
    """torch's name of a dtype's tensor type: float32 -> "Float" (as in torch.FloatTensor)."""
    return _TYPE_NAMES.get(np.dtype(dtype).name, np.dtype(dtype).name)


def _check_bounds(low, high, op):
    if low is None and high is None:
        raise ValueError(f"{op}: at least one of 'min' or 'max' must not be None")


def _comparable(value):
    """What == and != compare elementwise: tensors, numbers and numpy arrays (anything else,
    e.g. None or a string, is simply not equal)."""
    return isinstance(value, (Tensor, int, float, np.ndarray, np.generic))


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


def _reduce_args(t, op, dim, axis, keepdim, keepdims, one_axis=False):
    """A reduction's {"axis", "keepdims"} from torch's names (dim, keepdim) or numpy's (axis,
    keepdims). An empty tuple of dims means all of them, as in torch."""
    if dim is not None and axis is not None:
        raise TypeError(f"{op}: got both dim={dim!r} and axis={axis!r}; they are one argument "
                        f"(dim is torch's name, axis numpy's)")
    dim = axis if dim is None else dim
    if one_axis and isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be an int or None, got {dim!r}"
                        + ("; amax/amin reduce several dims" if op in ("max", "min") else ""))
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        dim = None
    return {"axis": None if dim is None else _axis(dim, None, t.ndim, op), "keepdims": bool(keepdim or keepdims)}


def _max_min(t, op, dim, axis, keepdim, keepdims):
    """x.max() / x.max(dim) (and min): the value, or the named tuple (values, indices)."""
    args = _reduce_args(t, op, dim, axis, keepdim, keepdims, one_axis=True)
    if args["axis"] is None:
        return (_ops.Max if op == "max" else _ops.Min).apply(t, axis=None, keepdims=False)
    return _reductions.max_along(t, args["axis"], args["keepdims"], op)


def _correction(unbiased, correction, op):
    """var/std's correction c (n - c divides): 1 by default (unbiased), 0 for unbiased=False."""
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: give unbiased or correction, not both")
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


def _float(t, op):
    if not _is_float(t.data.dtype):
        raise TypeError(f"{op}: needs a floating-point tensor, got dtype {t.dtype} (call .float() first)")
    return t


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


# The ops and the backward engine make and read Tensors, and Tensor's methods call them: one
# loop, closed here on purpose. Imported last, they find the class complete; then the methods
# named in the list of ops (ops.OPS, method=True or a function) are added to it.
from minigrad import ops as _ops  # noqa: E402
from minigrad.ops import indexing as _indexing, linalg as _linalg  # noqa: E402
from minigrad.ops import reductions as _reductions, shape as _shape  # noqa: E402
from minigrad import autograd as _autograd, function as _function  # noqa: E402


def _method(op):
    """Tensor.<name>(self, ...) = mg.<name>(self, ...) for a line of ops.OPS with method=True."""
    function = op.cls.apply if op.function is None else op.function

    def method(self, *args, **kwargs):
        return function(self, *args, **kwargs)
    method.__name__, method.__qualname__ = op.name, f"Tensor.{op.name}"
    method.__doc__ = op.cls.__doc__ if op.function is None else op.function.__doc__
    return method


for _op in _ops.OPS:
    if _op.method:
        setattr(Tensor, _op.name, _method(_op) if _op.method is True else _op.method)
