"""Function: the base class of every differentiable primitive.

A primitive is a class with a `forward` on numpy arrays and a `backward` that maps the
output's gradient to one gradient per input. `Op.apply(*tensors, **params)` runs forward
and, when a gradient is needed, records an instance of the op as the output's `grad_fn`:
that instance is the node of the graph and holds what backward needs in `self.saved`.
"""
import numpy as np

from minigrad import grad_mode
from minigrad.tensor import Tensor

tracer = None  # while mg.compile traces a call: its recorder, told of each op (compile/trace.py)


class Function:
    """One primitive op. Subclasses define:

    symbol: short label for graphs ("+", "@", "tanh", ...).
    forward(self, *arrays) -> array: may store arrays for backward in `self.saved`.
    backward(self, grad) -> tuple of arrays (or None) with one gradient per input. A gradient
        may have the broadcast shape of the output: the engine sums it to the input's shape.

    A forward that returns a tuple of arrays makes one output tensor each (Split); its backward
    gets a list of their gradients (None for an output no gradient reached).

    How to add an op, with `where` as the worked example (2 files):
      1. Its class, in the file of its kind (minigrad/ops/indexing.py), with the math in the
         docstring and forward/backward written as that math:

             class Where(Function):
                 "y = a where `condition` else b;  dy/da = 1 there, else 0; dy/db the rest"
                 symbol = "where"

                 def forward(self, a, b):
                     return np.where(self.condition, a, b)

                 def backward(self, grad):
                     return np.where(self.condition, grad, 0), np.where(self.condition, 0, grad)

         Arguments that are not tensors come in as keywords of `apply` and are attributes of
         the node (self.condition). Gradients may keep the broadcast shape of the output.
         If the op needs checks or takes numbers, a function beside it does that and calls
         `Where.apply(a, b, condition=cond)` (`where(condition, input, other)`).
      2. One line in the list of ops (minigrad/ops/__init__.py, OPS):

             Op(Where, "where", where, where_method),

         which makes mg.where, Tensor.where (here a function of its own, as torch's method
         takes (condition, other)) and puts Where in ops.__all__.
    Then add a case to the gradcheck catalogue (tests/test_engine_ops_gradcheck.py): its test
    that every class of ops.__all__ has one fails until you do.
    """

    symbol = "?"
    saved = None
    released = False
    n_outputs = None  # one output; ops whose forward returns a tuple: how many (set by apply)

    @classmethod
    def apply(cls, *inputs, **params):
        """Run forward on the inputs' arrays; the output records this op if an input needs a gradient."""
        for t in inputs:
            if not isinstance(t, Tensor):
                raise _not_tensors(cls, inputs)
        fn = cls.__new__(cls)
        fn.__dict__.update(params)
        if tracer is not None:  # mg.compile: give forward traced arrays (parameters included)
            tracer.enter(inputs)
        try:
            data = fn.forward(*[t.data for t in inputs])
        except (ValueError, IndexError, TypeError) as exc:
            raise fn.shape_error(inputs, exc) from None
        out = Tensor._from_op(data, fn, inputs)
        if grad_mode.anomaly:
            _check_outputs(out, fn, inputs)
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


def _not_tensors(cls, inputs):
    bad = next(t for t in inputs if not isinstance(t, Tensor))
    return TypeError(f"{cls.__name__.lower()}: expected a tensor, got {type(bad).__name__}")


def _check_outputs(out, fn, inputs):
    for t in out if type(out) is tuple else (out,):
        check_finite(t.data, fn, inputs, "forward")


def check_finite(array, fn, inputs, stage, scope=None, out_grad=None, parent=None):
    """Raise AnomalyError if `array` holds NaN or inf (used under `mg.detect_anomaly()`).

    forward: `array` is the output of `fn` on `inputs`. backward: it is the gradient `fn`
    gives its input `parent`, from `out_grad` (its output's gradient); `scope` is the scope
    the node was made in (backward runs outside it).
    """
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise _anomaly(array, fn, inputs, stage, scope or fn_scope(inputs), out_grad, parent)


class AnomalyError(FloatingPointError):
    """What `detect_anomaly` raises. Besides the message it says where the first NaN or inf
    is, so code that knows what the axes mean (a recurrent layer: axis 0 is time) can say more.

    Attributes:
        op, stage: the node's name ("Log") and "forward" or "backward".
        tensor: the input the NaN or inf came in by (the op "received" it), or None when the
            op "produced" it from finite values.
        shape, index: the shape of the array that holds it (that input, or the op's output
            or input gradient) and the index of its first NaN or inf (None if not known).
    """

    def __init__(self, what, shapes, op, stage, tensor=None, shape=None, index=None):
        super().__init__(f"{what}. {shapes}")
        self.what, self.shapes = what, shapes
        self.op, self.stage, self.tensor, self.shape, self.index = op, stage, tensor, shape, index

    def within(self, context):
        """The same error with `context` (what the caller knows about the place) added."""
        return AnomalyError(f"{self.what}; {context}", self.shapes, self.op, self.stage, self.tensor,
                            self.shape, self.index)


def _anomaly(array, fn, inputs, stage, scope, out_grad, parent):
    """The AnomalyError for a NaN or inf in `array`: "received" if an input (forward) or the
    output's gradient (backward) already held one, "produced" if the op made it from finite values."""
    where = f" in scope {scope!r}" if scope else ""
    shapes = "Input shapes: " + ", ".join(str(t.shape) for t in inputs)
    head = f"detect_anomaly: {fn.name} {stage}{where}"
    if stage == "forward":
        for k, t in enumerate(inputs):
            data = t.data
            if data.dtype.kind == "f" and not np.isfinite(data).all():
                index = _first_bad(data)
                return AnomalyError(f"{head} received {_kind(data)}{_at(index)} in input {k} of shape "
                                    f"{t.shape}, {_describe(t)}", shapes, fn.name, stage, t, data.shape, index)
        index = _first_bad(array)
        return AnomalyError(f"{head} produced {_kind(array)}{_at(index)} in its output of shape "
                            f"{array.shape} from finite inputs", shapes, fn.name, stage, None, array.shape, index)
    k = next((k for k, t in enumerate(inputs) if t is parent), None)
    target = "an input's gradient" if k is None else f"the gradient of input {k}"
    if out_grad is not None:
        given = out_grad if isinstance(out_grad, list) else [out_grad]  # (a list: an op with several outputs)
        if not all(np.isfinite(g).all() for g in given if g is not None):
            return AnomalyError(f"{head} received {_kind(given)} in the gradient of its output (from "
                                f"the ops that use it, a hook or backward(grad=...)) and passed it on "
                                f"to {target}", shapes, fn.name, stage)
    index = _first_bad(array) if parent is not None and array.shape == parent.shape else None
    return AnomalyError(f"{head} produced {_kind(array)}{_at(index)} in {target} from a finite "
                        f"output gradient", shapes, fn.name, stage, None, array.shape, index)


def _first_bad(array):
    """The index of the first NaN or inf of `array` (in C order), as a tuple of ints."""
    return tuple(int(i) for i in np.unravel_index(np.argmin(np.isfinite(array)), array.shape))


def _at(index):
    return f" (first at {list(index)})" if index else ""


def _kind(array):
    nan, inf = np.isnan(array).any(), np.isinf(array).any()
    return "NaN and inf" if nan and inf else "NaN" if nan else "inf"


def _describe(t):
    """How an error names an input tensor: the op that made it, or that it is a leaf."""
    name = f" {t.name!r}" if t.name else ""
    if t.grad_fn is not None:
        return f"the output{name} of a {t.grad_fn.name} node"
    if type(t).__name__ == "Parameter":
        return f"a parameter{name} (a leaf)"
    return f"a leaf{name}: a user input or a constant, not computed by an op"


def fn_scope(inputs):
    return grad_mode.scope_name or next((t.scope for t in inputs if t.scope), None)

