"""ops.OPS is the one list of ops: mg.<name>, the Tensor methods and ops.__all__ follow from it,
and no op class is left out of it."""
import inspect

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops
from minigrad.function import Function


def _op_classes():
    """Every Function subclass defined in the modules of minigrad.ops."""
    found, stack = set(), [Function]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("minigrad.ops.") and not inspect.isabstract(sub):
                found.add(sub)
    return found


def test_every_op_class_has_a_line_and_all_lists_each_once():
    listed = {op.cls for op in ops.OPS}
    classes = {c for c in _op_classes() if c.__name__ != "BinaryOp"}  # (BinaryOp: a base class)
    assert classes - listed == set(), "op classes missing from ops.OPS"
    assert sorted(ops.__all__) == sorted({c.__name__ for c in listed})
    assert len(ops.__all__) == len(set(ops.__all__))


@pytest.mark.parametrize("op", [op for op in ops.OPS if op.name], ids=lambda op: op.name)
def test_each_named_line_is_a_function_of_mg_and_its_method_if_asked(op):
    function = getattr(mg, op.name)
    assert callable(function) and op.name in mg.functional_ops.__all__
    assert function.__doc__, f"mg.{op.name} has no docstring"
    if op.method:
        method = getattr(mg.Tensor, op.name)
        assert method.__doc__, f"Tensor.{op.name} has no docstring"
        assert op.method is True or method is op.method


def test_a_generated_function_and_method_give_the_op_and_refuse_a_number():
    x = mg.tensor(np.array([0.5, -1.0]), requires_grad=True)
    for y in (mg.tanh(x), x.tanh()):
        assert type(y.grad_fn).__name__ == "Tanh"
        np.testing.assert_array_equal(y.data, np.tanh(x.data))
    with pytest.raises(TypeError, match="tanh: expected a tensor, got float"):
        mg.tanh(0.5)
    with pytest.raises(TypeError, match="sum: expected a tensor, got list"):
        mg.sum([1.0, 2.0])
    c = mg.tensor([True, False])
    np.testing.assert_array_equal(x.where(c, mg.zeros(2, dtype=mg.float64)).data, mg.where(c, x, 0.0).data)


def test_nn_functional_reexports_the_same_functions():
    from minigrad.nn import functional as F
    for name in ("tanh", "sigmoid", "relu"):
        assert getattr(F, name) is getattr(mg, name)
    x = mg.tensor(np.random.default_rng(0).standard_normal((2, 3)))
    for name in ("softmax", "log_softmax"):  # (F's own: without dim, torch's implicit choice)
        np.testing.assert_array_equal(getattr(F, name)(x, dim=1).data, getattr(mg, name)(x, dim=1).data)
