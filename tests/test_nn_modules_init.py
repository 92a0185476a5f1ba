"""nn.Identity, Flatten, Softmax, LogSoftmax and the activations; nn.init's fills: formulas,
bounds and spreads on large tensors, exact orthogonality, in-place stamping, reproducibility."""
import math
import re
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F
from minigrad.nn import init


@pytest.fixture(autouse=True)
def _seeded():
    mg.manual_seed(0)   # the statistical bounds below hold with many sigmas to spare; seeded anyway


def _softmax_np(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------- modules
def test_identity_returns_its_input_and_ignores_arguments():
    x = mg.randn(2, 3)
    assert nn.Identity(54, unused="x")(x) is x
    assert repr(nn.Identity()) == "Identity()"


@pytest.mark.parametrize("start, end, shape", [(1, -1, (2, 60)), (0, -1, (120,)), (1, 2, (2, 12, 5)),
                                               (-3, -2, (2, 12, 5)), (2, 2, (2, 3, 4, 5)), (0, 1, (6, 4, 5))])
def test_flatten_shapes(start, end, shape):
    x = mg.tensor(np.arange(120.0).reshape(2, 3, 4, 5), requires_grad=True)
    y = nn.Flatten(start, end)(x)
    assert y.shape == shape
    np.testing.assert_array_equal(y.data.reshape(-1), np.arange(120.0))   # values in order
    (y * mg.tensor(np.arange(120.0).reshape(shape))).sum().backward()
    np.testing.assert_array_equal(x.grad, np.arange(120.0).reshape(2, 3, 4, 5))


def test_flatten_edge_cases_and_errors():
    assert nn.Flatten()(mg.zeros(0, 3, 4)).shape == (0, 12)
    assert nn.Flatten(0)(mg.tensor(3.0)).shape == (1,)
    with pytest.raises(IndexError, match=re.escape("Flatten: dimension 1 is out of range for a 1-d input")):
        nn.Flatten()(mg.zeros(3))
    with pytest.raises(ValueError, match="Flatten: start_dim 2 comes after end_dim 1"):
        nn.Flatten(2, 1)(mg.zeros(2, 3, 4))
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Flatten(0, -2)) == "Flatten(start_dim=0, end_dim=-2)"


def test_softmax_and_log_softmax_modules():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    for dim in [0, 1, -1]:
        np.testing.assert_allclose(nn.Softmax(dim)(mg.tensor(x)).data, _softmax_np(x, dim), rtol=1e-12)
        np.testing.assert_allclose(nn.LogSoftmax(dim=dim)(mg.tensor(x)).data, np.log(_softmax_np(x, dim)),
                                   rtol=1e-12)
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)" and repr(nn.LogSoftmax(0)) == "LogSoftmax(dim=0)"
    assert mg.gradcheck(lambda x: nn.LogSoftmax(1)(x), [x])


@pytest.mark.parametrize("ndim, dim", [(1, 0), (2, 1), (3, 0), (4, 1)])
def test_softmax_without_dim_uses_torchs_legacy_choice_and_warns(ndim, dim):
    x = np.random.default_rng(1).standard_normal((2,) * ndim)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = nn.Softmax()(mg.tensor(x))
    np.testing.assert_allclose(y.data, _softmax_np(x, dim), rtol=1e-12)
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        nn.LogSoftmax()(mg.tensor(x))
    assert repr(nn.Softmax()) == "Softmax(dim=None)"
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):  # F.softmax(x): the same
        np.testing.assert_allclose(F.softmax(mg.tensor(x)).data, _softmax_np(x, dim), rtol=1e-12)
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        np.testing.assert_allclose(F.log_softmax(mg.tensor(x)).data, np.log(_softmax_np(x, dim)), rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a given dim: no warning
        np.testing.assert_allclose(F.softmax(mg.tensor(x), dim=-1).data, _softmax_np(x, -1), rtol=1e-12)


def test_activation_modules():
    x = np.array([-2.0, -0.5, 0.5, 2.0])
    np.testing.assert_allclose(nn.Tanh()(mg.tensor(x)).data, np.tanh(x))
    np.testing.assert_allclose(nn.Sigmoid()(mg.tensor(x)).data, 1 / (1 + np.exp(-x)))
    np.testing.assert_array_equal(nn.ReLU()(mg.tensor(x)).data, np.maximum(x, 0))
    np.testing.assert_array_equal(nn.ReLU(inplace=True)(mg.tensor(x)).data, np.maximum(x, 0))
    assert [repr(m) for m in (nn.Tanh(), nn.Sigmoid(), nn.ReLU(), nn.ReLU(True))] == [
        "Tanh()", "Sigmoid()", "ReLU()", "ReLU(inplace=True)"]


def test_sequential_repr_with_the_new_modules():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3), nn.ReLU(), nn.Identity(), nn.LogSoftmax(dim=1))
    assert repr(model) == "\n".join([
        "Sequential(",
        "  (0): Flatten(start_dim=1, end_dim=-1)",
        "  (1): Linear(in_features=12, out_features=3, bias=True)",
        "  (2): ReLU()",
        "  (3): Identity()",
        "  (4): LogSoftmax(dim=1)",
        ")"])
    assert model(mg.randn(5, 3, 4)).shape == (5, 3)


def test_everything_is_exported():
    for name in ["Identity", "Flatten", "Softmax", "LogSoftmax", "CrossEntropyLoss", "NLLLoss", "MSELoss"]:
        assert name in nn.__all__ and hasattr(nn, name)
    for name in ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
                 "zeros_", "ones_", "constant_", "calculate_gain"]:
        assert callable(getattr(init, name))


# ---------------------------------------------------------------- gains and fans
def test_calculate_gain():
    for name in ["linear", "conv1d", "conv2d", "conv_transpose3d", "sigmoid"]:
        assert init.calculate_gain(name) == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("selu") == pytest.approx(0.75)
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("leaky_relu", 0) == pytest.approx(math.sqrt(2))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'gelu'"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope True is not a valid number"):
        init.calculate_gain("leaky_relu", True)


def test_fans_use_the_receptive_field():
    fans = init._calculate_fan_in_and_fan_out
    assert fans(mg.zeros(3, 4)) == (4, 3)
    assert fans(mg.zeros(8, 3, 5, 5)) == (3 * 25, 8 * 25)   # (out, in, kh, kw), as a conv weight
    with pytest.raises(ValueError, match=re.escape("fewer than 2 dimensions, got shape (5,)")):
        fans(mg.zeros(5))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_normal_(mg.zeros(5))


# ---------------------------------------------------------------- fills: bounds and spreads
SHAPE = (400, 300)   # 120 000 samples: a sample std is within ~0.3% of the true one


@pytest.mark.parametrize("fill, bound", [
    (lambda w: init.xavier_uniform_(w), math.sqrt(6 / 700)),
    (lambda w: init.xavier_uniform_(w, gain=2.0), 2 * math.sqrt(6 / 700)),
    (lambda w: init.kaiming_uniform_(w), math.sqrt(6 / 300)),      # a=0: leaky_relu's gain is sqrt(2)
    (lambda w: init.kaiming_uniform_(w, a=math.sqrt(5)), 1 / math.sqrt(300)),   # nn.Linear's torch default
    (lambda w: init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu"), math.sqrt(6 / 400)),
])
def test_uniform_fills_stay_inside_and_fill_the_bound(fill, bound):
    w = fill(mg.zeros(*SHAPE, dtype=mg.float64)).data
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.999 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert abs(w.mean()) < 0.01 * bound


@pytest.mark.parametrize("fill, std", [
    (lambda w: init.xavier_normal_(w), math.sqrt(2 / 700)),
    (lambda w: init.xavier_normal_(w, gain=init.calculate_gain("tanh")), 5 / 3 * math.sqrt(2 / 700)),
    (lambda w: init.kaiming_normal_(w), math.sqrt(2 / 300)),
    (lambda w: init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"), math.sqrt(2 / 400)),
    (lambda w: init.kaiming_normal_(w, a=0.5, nonlinearity="leaky_relu"), math.sqrt(2 / 1.25 / 300)),
])
def test_normal_fills_have_the_std(fill, std):
    w = fill(mg.zeros(*SHAPE, dtype=mg.float64)).data
    assert w.std() == pytest.approx(std, rel=0.02)
    assert abs(w.mean()) < 0.02 * std
    assert np.abs(w).max() > 3 * std   # a normal's tails, not a uniform's edge


def test_kaiming_on_a_conv_shaped_weight_uses_fan_in_times_receptive_field():
    w = init.kaiming_normal_(mg.zeros(64, 32, 3, 3, dtype=mg.float64), nonlinearity="relu").data
    assert w.std() == pytest.approx(math.sqrt(2 / (32 * 9)), rel=0.03)


def test_kaiming_errors_and_zero_element_tensors():
    with pytest.raises(ValueError, match="mode 'fan_avg' not supported"):
        init.kaiming_uniform_(mg.zeros(3, 3), mode="fan_avg")
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        empty = mg.zeros(0, 3)
        assert init.kaiming_uniform_(empty) is empty


def test_constant_fills():
    w = mg.zeros(2, 3)
    assert init.ones_(w) is w
    np.testing.assert_array_equal(w.data, 1.0)
    np.testing.assert_array_equal(init.constant_(w, 0.25).data, 0.25)
    np.testing.assert_array_equal(init.zeros_(w).data, 0.0)


# ---------------------------------------------------------------- orthogonal_
@pytest.mark.parametrize("shape", [(6, 6), (8, 3), (3, 8), (4, 2, 3), (1, 5), (5, 1)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal_is_exactly_semi_orthogonal(shape, gain):
    w = init.orthogonal_(mg.zeros(*shape, dtype=mg.float64), gain=gain).data
    assert w.shape == shape
    m = w.reshape(shape[0], -1)
    rows, cols = m.shape
    if rows >= cols:      # orthonormal columns: W^T W = gain^2 I
        np.testing.assert_allclose(m.T @ m, gain ** 2 * np.eye(cols), atol=1e-12)
    if rows <= cols:      # orthonormal rows: W W^T = gain^2 I
        np.testing.assert_allclose(m @ m.T, gain ** 2 * np.eye(rows), atol=1e-12)


def test_orthogonal_square_float32_and_norm_preserving():
    w = init.orthogonal_(nn.Parameter(np.zeros((32, 32), dtype=np.float32)))
    assert w.dtype == np.float32
    np.testing.assert_allclose(w.data.T @ w.data, np.eye(32), atol=1e-5)
    h = np.random.default_rng(0).standard_normal(32)
    assert np.linalg.norm(w.data @ h) == pytest.approx(np.linalg.norm(h), rel=1e-5)


@pytest.mark.parametrize("shape", [(5, 5), (6, 3), (3, 6)])
def test_orthogonal_follows_torchs_sign_corrected_qr(shape):
    """W comes from the QR of the normal matrix A that the generator draws (A^T when wide),
    with the signs fixed so that R = Q^T A has a positive diagonal."""
    mg.manual_seed(11)
    w = init.orthogonal_(mg.zeros(*shape, dtype=mg.float64)).data
    mg.manual_seed(11)
    a = mg.generator().normal(0.0, 1.0, shape)
    if shape[0] < shape[1]:
        a, w = a.T, w.T
    r = w.T @ a
    np.testing.assert_allclose(np.tril(r, -1), 0.0, atol=1e-12)   # upper triangular
    assert (np.diag(r) > 0).all()
    np.testing.assert_allclose(w @ r, a, atol=1e-12)             # A = Q R


def test_orthogonal_refuses_vectors():
    with pytest.raises(ValueError, match=re.escape("orthogonal_: only tensors with 2 or more dimensions")):
        init.orthogonal_(mg.zeros(4))


# ---------------------------------------------------------------- in place, stamped, seeded
FILLS = {
    "uniform_": lambda w: init.uniform_(w, -1, 1), "normal_": init.normal_, "zeros_": init.zeros_,
    "ones_": init.ones_, "constant_": lambda w: init.constant_(w, 3.0), "xavier_uniform_": init.xavier_uniform_,
    "xavier_normal_": init.xavier_normal_, "kaiming_uniform_": init.kaiming_uniform_,
    "kaiming_normal_": init.kaiming_normal_, "orthogonal_": init.orthogonal_,
}


@pytest.mark.parametrize("name", list(FILLS))
def test_fills_in_place_stamp_the_tensor_and_return_it(name):
    w = nn.Parameter(np.full((4, 3), 7.0, dtype=np.float32))
    data = w.data
    before = w._modified_at
    loss = (w * 2.0).sum()                   # a graph built on the old values
    assert FILLS[name](w) is w
    assert w.data is data and w.dtype == np.float32
    assert w._modified_at > before
    assert not (w.data == 7.0).all()
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()


@pytest.mark.parametrize("name", ["uniform_", "normal_", "xavier_uniform_", "xavier_normal_",
                                  "kaiming_uniform_", "kaiming_normal_", "orthogonal_"])
def test_random_fills_are_reproducible_with_manual_seed(name):
    mg.manual_seed(3)
    a = FILLS[name](mg.zeros(5, 4)).data.copy()
    b = FILLS[name](mg.zeros(5, 4)).data.copy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(FILLS[name](mg.zeros(5, 4)).data, a)
    assert not np.array_equal(a, b)


def test_no_warnings_from_ordinary_fills():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fill in FILLS.values():
            fill(mg.zeros(3, 2))
