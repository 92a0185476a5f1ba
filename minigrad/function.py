"""Function: the base class of every differentiable primitive.

A primitive is a class with a `forward` on numpy arrays and a `backward` that maps the
output's gradient to one gradient per input. `Op.apply(*tensors, **params)` runs forward
and, when a gradient is needed, records an instance of the op as the output's `grad_fn`:
that instance is the node of the graph and holds what backward needs in `self.saved`.
"""
import itertools

import numpy as np

from minigrad import grad_mode, versions
from minigrad.tensor import Tensor

_new_tensor = object.__new__
_next_seq = itertools.count(1).__next__  # numbers the recorded nodes in creation order


class Function:
    """One primitive op. Subclasses define:

    symbol: short label for graphs ("+", "@", "tanh", ...).
    forward(self, *arrays) -> array: may store arrays for backward in `self.saved`.
    backward(self, grad) -> tuple of arrays (or None) with one gradient per input.
    """

    symbol = "?"
    saved = None
    released = False
    accepts_lazy = False  # backward takes the gradient as a LazyGrad (see lazy_grad.py)

    @classmethod
    def apply(cls, *inputs, **params):
        fn = cls.__new__(cls)
        if params:
            fn.__dict__.update(params)
        try:
            if len(inputs) == 1:
                data = fn.forward(inputs[0].data)
            elif len(inputs) == 2:
                data = fn.forward(inputs[0].data, inputs[1].data)
            else:
                data = fn.forward(*[t.data for t in inputs])
        except (ValueError, IndexError, TypeError) as exc:
            raise fn.shape_error(inputs, exc) from None
        if type(data) is not np.ndarray:
            data = np.asarray(data)
        out = _new_tensor(Tensor)
        out.data = data
        out.grad = None
        out.name = None
        out.scope = grad_mode.scope_name
        out._g = None
        out._hooks = None
        out._retain = False
        out._modified_at = 0
        out.requires_grad = False
        out.grad_fn = None
        if grad_mode.enabled:
            for t in inputs:
                if t.requires_grad:
                    fn.inputs = inputs
                    fn.epoch = versions.epoch
                    fn.seq = _next_seq()  # later than the nodes of all its inputs
                    out.requires_grad = True
                    out.grad_fn = fn
                    break
        if grad_mode.anomaly:
            check_finite(data, fn, inputs, "forward")
        return out

    @property
    def name(self):
        return type(self).__name__

    def shape_error(self, inputs, exc):
        """The error raised when forward fails on these inputs; names the op and the shapes."""
        shapes = " and ".join(str(t.shape) for t in inputs)
        message = f"{self.name.lower()}: cannot apply to shapes {shapes}: {exc}"
        try:
            return type(exc)(message)
        except Exception:  # an exception class whose __init__ wants other arguments
            return next(t for t in (ValueError, IndexError, TypeError) if isinstance(exc, t))(message)


def check_finite(array, fn, inputs, stage, scope=None):
    """Raise FloatingPointError if `array` holds NaN or inf (used under `mg.detect_anomaly()`).
    `scope` is the scope the node was made in (backward runs outside it)."""
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        shapes = ", ".join(str(t.shape) for t in inputs)
        scope = scope or fn_scope(inputs)
        where = f" in scope {scope!r}" if scope else ""
        raise FloatingPointError(
            f"detect_anomaly: {fn.name} {stage} produced NaN or inf{where}; input shapes: {shapes}")


def fn_scope(inputs):
    return grad_mode.scope_name or next((t.scope for t in inputs if t.scope), None)


def unbroadcast(grad, shape):
    """Sum `grad` over the axes numpy broadcasting added or stretched, so it has `shape`.

    The one place where broadcasting is undone: every op with broadcasting inputs calls it.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1)
    if axes:
        grad = grad.sum(axis=axes)
    return grad.reshape(shape)

