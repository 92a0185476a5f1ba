"""The function forms of the ops, as in `torch`: mg.tanh(x), mg.cat([a, b]), mg.where(c, x, y), ...

Made from the list of ops (minigrad/ops/__init__.py: OPS), one per named line, plus the few
functions that are not ops (argmax and argmin have no gradient; clip is clamp's other name).
nn.functional re-exports the ones torch.nn.functional has too (tanh, sigmoid, relu); its softmax
and log_softmax are its own, as torch's: without dim they take PyTorch's implicit one.
"""
from minigrad.ops import OPS
from minigrad.tensor import Tensor


def _tensor_first(function, name):
    """`function` (a Tensor method) as mg.<name>: the same, after checking that its first
    argument is a tensor (a method called as a function would fail on a number deep inside)."""
    def checked(x, *args, **kwargs):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: expected a tensor, got {type(x).__name__}")
        return function(x, *args, **kwargs)
    checked.__name__ = checked.__qualname__ = name
    checked.__doc__ = function.__doc__
    return checked


def _of_class(cls, name):
    """mg.<name> for an op class used as it is: cls.apply, with the class's docstring."""
    def function(*inputs):
        return cls.apply(*inputs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = cls.__doc__
    return function


FUNCTIONS = {}
for _op in OPS:
    if _op.name is None:
        continue
    if _op.function is None:
        FUNCTIONS[_op.name] = _of_class(_op.cls, _op.name)
    elif getattr(Tensor, _op.name, None) is _op.function:  # a method written out in tensor.py
        FUNCTIONS[_op.name] = _tensor_first(_op.function, _op.name)
    else:
        FUNCTIONS[_op.name] = _op.function
FUNCTIONS["clip"] = FUNCTIONS["clamp"]
FUNCTIONS["argmax"] = _tensor_first(Tensor.argmax, "argmax")
FUNCTIONS["argmin"] = _tensor_first(Tensor.argmin, "argmin")
globals().update(FUNCTIONS)
__all__ = sorted(FUNCTIONS)
