"""Numerical stability at extreme inputs (no overflow, no numpy warnings) and dtype rules."""
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import functional as F


@pytest.fixture
def strict_numpy():
    """Any numpy floating-point warning or error fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            yield


@pytest.fixture
def no_overflow():
    """Overflow, invalid values and division by zero fail the test; underflow to 0 (e^-1000) is
    the right answer and allowed."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            yield


# ---------------------------------------------------------------- stability
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_finite_at_extremes(strict_numpy, dtype):
    x = mg.tensor(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype), requires_grad=True)
    y = x.sigmoid()
    y.sum().backward()
    assert y.dtype == dtype and x.grad.dtype == dtype
    np.testing.assert_allclose(y.data[[0, 2, 4]], [0.0, 0.5, 1.0], atol=1e-30)
    assert np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(x.grad[[0, 2, 4]], [0.0, 0.25, 0.0], atol=1e-30)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tanh_finite_at_extremes(strict_numpy, dtype):
    x = mg.tensor(np.array([-1000.0, 0.0, 1000.0], dtype=dtype), requires_grad=True)
    y = x.tanh()
    y.sum().backward()
    np.testing.assert_array_equal(y.data, [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])


def test_sigmoid_matches_logistic_formula():
    v = np.linspace(-30, 30, 61)
    np.testing.assert_allclose(mg.tensor(v).sigmoid().data, 1 / (1 + np.exp(-v)), rtol=1e-12)


def test_sigmoid_keeps_relative_precision_in_the_negative_tail(strict_numpy):
    """(1 + tanh(x/2)) / 2 cancels to exactly 0 at x = -18 in float32; 1 / (1 + e^-x) does not."""
    v = np.array([-20.0, -40.0, -80.0], dtype=np.float32)
    y = mg.tensor(v).sigmoid()
    np.testing.assert_allclose(y.data, np.exp(v.astype(np.float64)), rtol=1e-6)
    assert np.isfinite(y.log().data).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_stable_for_huge_logits(no_overflow, dtype):
    logits = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 999.0]], dtype=dtype)
    x = mg.tensor(logits, requires_grad=True)
    p = x.softmax(axis=1)
    ls = x.log_softmax(axis=1)
    (p * mg.tensor(np.arange(6.0, dtype=dtype).reshape(2, 3))).sum().backward()
    ls.sum().backward()
    assert np.isfinite(p.data).all() and np.isfinite(ls.data).all() and np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(p.data[0], [1.0, 0.0, 0.0], atol=1e-30)
    np.testing.assert_allclose(ls.data[0], [0.0, -1000.0, -2000.0], rtol=1e-6)
    e = np.exp([0.0, 0.0, -1.0])
    np.testing.assert_allclose(p.data[1], e / e.sum(), rtol=1e-6)
    np.testing.assert_allclose(ls.data[1], np.log(e / e.sum()), rtol=1e-6)
    np.testing.assert_allclose(p.data.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_stable_for_huge_logits(no_overflow, dtype):
    x = mg.tensor(np.array([[1000.0, 0.0], [0.0, 1000.0], [500.0, 500.0]], dtype=dtype), requires_grad=True)
    loss = F.cross_entropy(x, np.array([1, 1, 0]))
    loss.backward()
    assert loss.dtype == dtype
    # -log softmax: row 0 wrong by 1000, row 1 right (0), row 2 tie (log 2)
    np.testing.assert_allclose(loss.item(), (1000.0 + 0.0 + np.log(2)) / 3, rtol=1e-6)
    expected = np.array([[1.0, -1.0], [0.0, 0.0], [-0.5, 0.5]]) / 3
    np.testing.assert_allclose(x.grad, expected, atol=1e-7)


# ---------------------------------------------------------------- dtypes
def test_python_floats_default_to_float32():
    assert mg.tensor(1.5).dtype == np.float32
    assert mg.tensor([1.0, 2.0]).dtype == np.float32
    assert mg.tensor([[1, 2.5]]).dtype == np.float32
    assert mg.tensor([1, 2]).dtype == np.int64
    made = (mg.zeros(2), mg.ones(2, 3), mg.full((2,), 7.0), mg.randn(3), mg.rand(3), mg.arange(0.0, 1.0, 0.5))
    for t in made:
        assert t.dtype == np.float32
    assert mg.arange(4).dtype == np.int64


def test_float64_arrays_are_kept():
    a = np.array([1.0, 2.0])
    assert mg.tensor(a).dtype == np.float64
    assert mg.tensor([1.0], dtype=mg.float64).dtype == np.float64
    assert mg.zeros(2, dtype=mg.float64).dtype == np.float64
    assert mg.nn.Parameter(a).dtype == np.float64


def test_tensor_copies_its_data():
    a = np.array([1.0, 2.0])
    t = mg.tensor(a)
    a[0] = 99.0
    assert t.data[0] == 1.0


SCALAR_OPS = {
    "add": lambda x: x + 2.5, "radd": lambda x: 2.5 + x, "sub": lambda x: x - 1.5,
    "rsub": lambda x: 1.5 - x, "mul": lambda x: x * 0.1, "rmul": lambda x: 3 * x,
    "div": lambda x: x / 3, "rdiv": lambda x: 1.0 / x, "pow": lambda x: x ** 2.0,
    "pow_int": lambda x: x ** 3, "pow_numpy_float64": lambda x: x ** np.float64(2.0),
    "pow_numpy_int": lambda x: x ** np.int64(2), "mul_numpy_float64": lambda x: x * np.float64(0.5),
    "rpow": lambda x: 2.0 ** x, "sqrt": lambda x: x.sqrt(), "exp": lambda x: x.exp(),
    "log": lambda x: x.log(), "tanh": lambda x: x.tanh(), "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(), "abs": lambda x: x.abs(), "mean": lambda x: x.mean(),
    "sum": lambda x: x.sum(axis=0), "max": lambda x: x.max(), "softmax": lambda x: x.softmax(),
    "log_softmax": lambda x: x.log_softmax(), "matmul": lambda x: x @ x,
    "getitem": lambda x: x[[0, 0]], "cat": lambda x: mg.cat([x, x]), "stack": lambda x: mg.stack([x, x]),
    "reshape": lambda x: x.reshape(1, 3), "neg": lambda x: -x,
    "compare_then_mul": lambda x: x * (x > 1.5).to(x.dtype),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(SCALAR_OPS))
def test_float_dtype_survives_ops_with_python_scalars(name, dtype):
    x = mg.tensor(np.array([1.0, 2.0, 3.0], dtype=dtype), requires_grad=True)
    y = SCALAR_OPS[name](x)
    assert y.dtype == dtype, f"{name}: {dtype.__name__} became {y.dtype}"
    y.sum().backward()
    assert x.grad.dtype == dtype


def test_cast_is_differentiable_and_grad_keeps_input_dtype():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.dtype == np.float64 and type(y.grad_fn).__name__ == "Cast"
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    assert x.float() is x


def test_cast_to_int_gives_a_constant():
    x = mg.tensor([1.7, 2.2], requires_grad=True)
    i = x.long()
    assert i.dtype == np.int64 and not i.requires_grad
    np.testing.assert_array_equal(i.data, [1, 2])


def test_int_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match=r"floating-point.*float32"):
        mg.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match=r"\.float\(\)"):
        mg.tensor([1, 2]).requires_grad_()
    with pytest.raises(TypeError, match="floating-point"):
        mg.nn.Parameter(np.array([1, 2]))
    t = mg.tensor([1, 2]).float().requires_grad_()
    assert t.dtype == np.float32 and t.requires_grad


def test_bad_dtype_argument_is_explained():
    with pytest.raises(TypeError, match="not a dtype"):
        mg.zeros(2, dtype="floaty")


def test_non_numeric_data_refused():
    with pytest.raises(TypeError, match="numeric"):
        mg.tensor(["a", "b"])
