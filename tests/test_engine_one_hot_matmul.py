"""The one-hot fast path of matmul: a big constant one-hot left operand is a row gather.

It must give exactly the product and the gradient of the general MatMul, and must not be
taken for anything that is not one-hot."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import topological_order
from minigrad.nn import functional as F
from minigrad.ops.linalg import ONE_HOT_MIN_SIZE, MatMul, OneHotMatMul, one_hot_rows

CLASSES = 83
ROWS = -(-ONE_HOT_MIN_SIZE // CLASSES)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_hot_product_and_weight_gradient_equal_the_dense_matmul(rng, dtype):
    ids = rng.integers(0, CLASSES, ROWS)
    x = F.one_hot(ids, CLASSES, dtype=dtype)
    w = mg.tensor(rng.standard_normal((16, CLASSES)).astype(dtype), requires_grad=True)
    upstream = rng.standard_normal((ROWS, 16)).astype(dtype)

    y = x @ w.T
    assert type(y.grad_fn) is OneHotMatMul
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.data, w.data.T[ids])
    y.backward(upstream)

    w_dense = mg.tensor(w.data.copy(), requires_grad=True)
    y_dense = MatMul.apply(x, w_dense.T)
    np.testing.assert_array_equal(y.data, y_dense.data)
    y_dense.backward(upstream)
    np.testing.assert_allclose(w.grad, w_dense.grad, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_char_rnn_input_projection_takes_the_gather_path(rng):
    from minigrad.models import LSTM

    lstm = LSTM(CLASSES, 8)
    ids = rng.integers(0, CLASSES, (ROWS // 4 + 1, 4))
    out, _ = lstm(F.one_hot(ids, CLASSES, dtype=mg.float32))
    ops = {type(t.grad_fn) for t in topological_order(out) if t.grad_fn is not None}
    assert OneHotMatMul in ops


@pytest.mark.parametrize("spoil", ["two ones", "zero row", "a two", "negative", "nan"])
def test_anything_not_one_hot_takes_the_general_product(rng, spoil):
    ids = rng.integers(0, CLASSES, ROWS)
    x = np.eye(CLASSES)[ids]
    row = 5
    if spoil == "two ones":
        x[row, (ids[row] + 1) % CLASSES] = 1.0
    elif spoil == "zero row":
        x[row] = 0.0
    elif spoil == "a two":
        x[row, ids[row]] = 2.0
    elif spoil == "negative":
        x[row] = 0.0
        x[row, 3] = -1.0
    else:
        x[row, ids[row]] = np.nan
    assert one_hot_rows(x) is None
    w = mg.tensor(rng.standard_normal((CLASSES, 4)), requires_grad=True)
    y = mg.tensor(x) @ w
    assert type(y.grad_fn) is MatMul
    np.testing.assert_array_equal(y.data, x @ w.data)


def test_a_one_hot_that_needs_its_own_gradient_takes_the_general_product(rng):
    x = F.one_hot(rng.integers(0, CLASSES, ROWS), CLASSES, dtype=mg.float64).requires_grad_()
    w = mg.tensor(rng.standard_normal((CLASSES, 4)), requires_grad=True)
    y = x @ w
    assert type(y.grad_fn) is MatMul
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.broadcast_to(w.data.sum(axis=1), x.shape))


def test_small_one_hot_inputs_skip_the_check(rng):
    x = F.one_hot(rng.integers(0, 5, 8), 5, dtype=mg.float64)
    assert type((x @ mg.tensor(np.ones((5, 2)), requires_grad=True)).grad_fn) is MatMul


def test_shape_and_dtype_mismatches_behave_as_the_general_product(rng):
    x = F.one_hot(rng.integers(0, CLASSES, ROWS), CLASSES, dtype=mg.float32)
    with pytest.raises(ValueError, match=rf"matmul: \({ROWS}, {CLASSES}\) @ \(5, 4\): inner dimensions"):
        x @ mg.tensor(np.ones((5, 4), np.float32), requires_grad=True)
    w64 = mg.tensor(rng.standard_normal((CLASSES, 3)), requires_grad=True)
    y = x @ w64  # float32 @ float64 promotes, exactly as numpy's product
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.data, x.data @ w64.data)
