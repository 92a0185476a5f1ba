"""Edge shapes, as torch treats them: 0-d tensors reduced over axis 0, and empty tensors.

A 0-d tensor holds one value: sum, mean and max over axis 0 return it (0-d) and pass the
gradient 1. Of no values the sum is 0 and the mean NaN; the max over an axis of length 0 is
an error naming the op and the shape; softmax and log_softmax of an empty tensor are empty.
(The expected values were checked against torch 2.13.)
"""
import re
import warnings

import numpy as np
import pytest

import minigrad as mg

REDUCTIONS = ["sum", "mean", "amax"]

def _reduce(x, op, axis, keepdims=False):
    return getattr(x, op)(axis=axis, keepdims=keepdims)


@pytest.fixture(autouse=True)
def no_numpy_warnings():
    """An empty input must not make numpy warn (mean of empty slice, invalid value...)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ---------------------------------------------------------------- 0-d tensors
@pytest.mark.parametrize("op", REDUCTIONS)
@pytest.mark.parametrize("axis", [0, (0,), -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_a_0d_tensor_reduced_over_axis_0_is_itself_with_gradient_1(op, axis, keepdims):
    x = mg.tensor(2.0, requires_grad=True)
    y = _reduce(x, op, axis, keepdims)
    assert y.shape == () and y.item() == 2.0
    (y * 3.0).backward()
    assert x.grad.shape == () and x.grad == 3.0


@pytest.mark.parametrize("op", REDUCTIONS)
def test_0d_reductions_match_finite_differences(op):
    assert mg.gradcheck(lambda x: _reduce(x, op, 0).tanh(), [np.array(0.3)])


@pytest.mark.parametrize("name, value", [("softmax", 1.0), ("log_softmax", 0.0)])
@pytest.mark.parametrize("axis", [0, -1])
def test_softmax_of_a_0d_tensor_is_constant(name, value, axis):
    x = mg.tensor(2.0, requires_grad=True)
    y = getattr(x, name)(axis)
    assert y.shape == () and y.item() == value
    (y * 3.0).backward()
    assert x.grad == 0.0  # a constant: nothing flows back


# ---------------------------------------------------------------- empty tensors: sum and mean
EMPTY_CASES = [  # (shape, axis, result shape)
    ((0,), None, ()), ((0,), 0, ()), ((0,), -1, ()),
    ((3, 0), None, ()), ((3, 0), 0, (0,)), ((3, 0), 1, (3,)), ((3, 0), (0, 1), ()),
    ((0, 3), 0, (3,)), ((0, 3), -1, (0,)),
]


@pytest.mark.parametrize("shape, axis, out_shape", EMPTY_CASES)
def test_sum_of_no_values_is_0_and_mean_is_nan(shape, axis, out_shape):
    for op, fill in (("sum", 0.0), ("mean", np.nan)):
        x = mg.zeros(shape, requires_grad=True)
        y = _reduce(x, op, axis)
        assert y.shape == out_shape, op
        np.testing.assert_array_equal(y.data, np.full(out_shape, fill, np.float32))
        y.sum().backward()
        assert x.grad.shape == shape and x.grad.dtype == np.float32


@pytest.mark.parametrize("op", ["sum", "mean"])
def test_sum_and_mean_over_an_empty_axis_keep_their_dims(op):
    x = mg.zeros((3, 0), requires_grad=True)
    y = _reduce(x, op, 1, keepdims=True)
    assert y.shape == (3, 1)
    y.sum().backward()
    assert x.grad.shape == (3, 0)


# ---------------------------------------------------------------- empty tensors: max
@pytest.mark.parametrize("shape, axis", [((0,), None), ((0,), 0), ((0,), -1), ((3, 0), None),
                                         ((3, 0), 1), ((3, 0), (0, 1)), ((0, 3), 0)])
def test_max_over_an_axis_of_length_0_is_an_error_naming_op_and_shape(shape, axis):
    x = mg.zeros(shape, requires_grad=True)
    with pytest.raises(ValueError, match=r"^max: .*" + re.escape(str(shape))) as info:
        x.amax(axis=axis)
    assert ("is empty" if axis is None else "has length 0") in str(info.value)


@pytest.mark.parametrize("shape, axis, out_shape", [((3, 0), 0, (0,)), ((0, 3), 1, (0,)),
                                                    ((0, 3), -1, (0,))])
def test_max_along_a_nonempty_axis_of_an_empty_tensor_is_empty(shape, axis, out_shape):
    x = mg.zeros(shape, requires_grad=True)
    y = x.amax(axis=axis)
    assert y.shape == out_shape
    y.sum().backward()
    assert x.grad.shape == shape


# ---------------------------------------------------------------- empty tensors: softmax
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 3)])
@pytest.mark.parametrize("axis", [0, -1])
def test_softmax_of_an_empty_tensor_is_empty(name, shape, axis):
    x = mg.ones(shape, requires_grad=True)
    y = getattr(mg, name)(x, axis)
    assert y.shape == shape and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.shape == shape


def test_softmax_still_normalises_rows_next_to_the_empty_case():
    x = mg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    np.testing.assert_allclose(x.softmax().data.sum(), 1.0, rtol=1e-6)
    assert mg.gradcheck(lambda x: x.log_softmax(0) * x, [np.array([[0.1, -0.4], [0.3, 2.0]])])
