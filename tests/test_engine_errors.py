"""Error messages: each names the op and the shapes (or keys) involved and says what to do."""
import re

import numpy as np
import pytest

import minigrad as mg
from minigrad.function import AnomalyError
from minigrad.nn import functional as F


def _t(*shape):
    return mg.tensor(np.ones(shape))


# ---------------------------------------------------------------- binary ops
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "hadamard": mg.hadamard,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_shape_mismatch_names_op_and_both_shapes(name):
    with pytest.raises(ValueError) as info:
        BINARY[name](_t(2, 3), _t(4,))
    message = str(info.value)
    assert message.startswith(f"{name}:"), message
    assert "(2, 3)" in message and "(4,)" in message


def test_shape_mismatch_keeps_operand_order():
    with pytest.raises(ValueError, match=re.escape("sub: shapes (3,) and (2,)")):
        _t(3) - _t(2)
    with pytest.raises(ValueError, match=re.escape("div: shapes (2,) and (3,)")):
        _t(2) / _t(3)


def test_matmul_inner_dimension_message_is_exact():
    with pytest.raises(ValueError) as info:
        _t(3, 4) @ _t(5, 6)
    assert str(info.value) == "matmul: (3, 4) @ (5, 6): inner dimensions 4 and 5 differ"


@pytest.mark.parametrize("a, b, expected", [
    ((4,), (5,), "matmul: (4,) @ (5,): inner dimensions 4 and 5 differ"),
    ((3, 4), (5,), "matmul: (3, 4) @ (5,): inner dimensions 4 and 5 differ"),
    ((4,), (5, 6), "matmul: (4,) @ (5, 6): inner dimensions 4 and 5 differ"),
    ((2, 3, 4), (3, 4, 5),
     "matmul: (2, 3, 4) @ (3, 4, 5): batch dimensions (2,) and (3,) cannot be broadcast"),
    ((), (3,), "matmul: () @ (3,): both operands need at least one dimension"),
])
def test_matmul_other_messages(a, b, expected):
    with pytest.raises(ValueError) as info:
        mg.matmul(_t(*a), _t(*b))
    assert str(info.value) == expected


# ---------------------------------------------------------------- backward
def test_backward_on_non_scalar_says_what_to_do():
    y = mg.tensor([1.0, 2.0], requires_grad=True) * 2.0
    with pytest.raises(RuntimeError) as info:
        y.backward()
    message = str(info.value)
    assert "(2,)" in message and ".sum()" in message and "gradient=" in message


def test_backward_grad_of_wrong_shape():
    y = mg.tensor([1.0, 2.0], requires_grad=True) * 2.0
    with pytest.raises(ValueError, match=re.escape("gradient has shape (3,) but the tensor has shape (2,)")):
        y.backward(np.ones(3))


# ---------------------------------------------------------------- shapes and axes
def test_bad_reshape_names_both_shapes():
    with pytest.raises(ValueError) as info:
        _t(2, 3).reshape(4, 2)
    message = str(info.value)
    assert message.startswith("reshape:") and "(2, 3)" in message and "(4, 2)" in message
    assert "6 elements" in message


def test_axis_out_of_range_names_op():
    with pytest.raises(ValueError, match="sum: axis 2 is out of range for a tensor with 2 dimensions"):
        _t(2, 3).sum(axis=2)
    with pytest.raises(ValueError, match="softmax: axis -3"):
        _t(2, 3).softmax(-3)
    with pytest.raises(ValueError, match="repeats an axis"):
        _t(2, 3).mean(axis=(0, -2))
    with pytest.raises(TypeError, match="axis must be an int"):
        _t(2, 3).max(axis=1.5)


def test_transpose_needs_a_permutation():
    with pytest.raises(ValueError, match="not a permutation"):
        _t(2, 3, 4).permute(0, 0, 1)


def test_getitem_out_of_range_names_index_and_shape():
    with pytest.raises(IndexError) as info:
        _t(2, 3)[5]
    assert "getitem" in str(info.value) and "(2, 3)" in str(info.value)


def test_cat_stack_split_errors():
    with pytest.raises(ValueError, match=re.escape("cat: shapes (2, 3), (2, 4) differ outside axis 0")):
        mg.cat([_t(2, 3), _t(2, 4)])
    with pytest.raises(ValueError, match="same number of dimensions"):
        mg.cat([_t(2, 3), _t(3)])
    with pytest.raises(ValueError, match=re.escape("stack: all tensors need the same shape, got (2,), (3,)")):
        mg.stack([_t(2), _t(3)])
    with pytest.raises(ValueError, match="non-empty"):
        mg.cat([])
    with pytest.raises(TypeError, match="expected tensors"):
        mg.cat([_t(2), np.ones(2)])
    with pytest.raises(ValueError, match=re.escape("sizes [2, 2] add up to 4, but axis 0 has length 5")):
        _t(5).split([2, 2])
    with pytest.raises(ValueError, match="must be positive"):
        _t(5).split(0)
    with pytest.raises(ValueError, match="chunk: the number of chunks must be a positive int, got 0"):
        _t(5).chunk(0)


def test_item_and_bool_need_one_element():
    with pytest.raises(ValueError, match=re.escape("shape (2,)")):
        _t(2).item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(_t(2))
    assert _t(1).item() == 1.0 and bool(_t(1, 1))


def test_pow_exponent_must_be_a_number():
    with pytest.raises(TypeError, match="exponent must be a number or a tensor"):
        _t(2) ** "2"


def test_functional_forms_reject_non_tensors():
    with pytest.raises(TypeError, match="hadamard: expected a tensor, got list"):
        mg.hadamard([1.0], _t(1))
    with pytest.raises(TypeError, match="exp: expected a tensor"):
        mg.exp(np.ones(2))


def test_op_error_with_exotic_numpy_exception_is_reported():
    class IntExp(mg.Function):
        def forward(self, x):
            return np.exp(x, out=np.empty(x.shape, dtype=np.int64))

        def backward(self, grad):
            return (grad,)

    with pytest.raises(TypeError, match="Cannot cast ufunc 'exp' output"):
        IntExp.apply(_t(2))


# ---------------------------------------------------------------- losses and lookups
def test_cross_entropy_errors():
    logits = mg.tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="target 4 is out of range for 4 classes"):
        F.cross_entropy(logits, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="target -1 is out of range for 4 classes"):
        F.cross_entropy(logits, np.array([0, -1, 1]))
    expected = "targets must have shape (3,) to match logits (3, 4), got (2,)"
    with pytest.raises(ValueError, match=re.escape(expected)):
        F.cross_entropy(logits, np.array([0, 1]))
    with pytest.raises(ValueError, match=re.escape("logits must have shape (N, C), got (3, 4, 1)")):
        F.cross_entropy(mg.tensor(np.zeros((3, 4, 1))), np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="indices must be integers, got dtype float"):
        F.cross_entropy(logits, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="empty batch"):
        F.cross_entropy(mg.tensor(np.zeros((0, 4))), np.zeros(0, dtype=np.int64))


def test_one_hot_and_embedding_range_errors():
    with pytest.raises(ValueError, match="index 3 is out of range for 3 classes"):
        F.one_hot(np.array([0, 3]), 3)
    emb = mg.nn.Embedding(3, 2)
    with pytest.raises(IndexError, match="index 7 is out of range for 3 embeddings"):
        emb(np.array([0, 7]))
    with pytest.raises(IndexError, match="index -5 is out of range for 3 embeddings"):
        emb(np.array([0, -5]))
    with pytest.raises(TypeError, match="indices must be integers"):
        emb(np.array([0.0]))


def test_mse_loss_shape_mismatch():
    with pytest.raises(ValueError, match=re.escape("mse_loss: input (2,) and target (3,) differ in shape")):
        F.mse_loss(_t(2), np.ones(3))


def test_dropout_probability_checked():
    with pytest.raises(ValueError, match="p must be in"):
        mg.nn.Dropout(1.5)
    with pytest.raises(ValueError, match="p must be in"):
        F.dropout(_t(2), p=-0.1)


# ---------------------------------------------------------------- modules and optimizers
class _Net(mg.nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = mg.nn.Linear(3, 4)
        self.dec = mg.nn.Linear(4, 2, bias=False)


def test_load_state_dict_lists_missing_unexpected_and_mis_shaped_keys():
    net = _Net()
    state = net.state_dict()
    del state["enc.bias"]
    state["dec.weight"] = np.zeros((2, 5))
    state["head.weight"] = np.zeros(1)
    before = {k: v.copy() for k, v in net.state_dict().items()}
    with pytest.raises(ValueError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert "missing keys: enc.bias" in message
    assert "unexpected keys: head.weight" in message
    assert "dec.weight: expected (2, 4), got (2, 5)" in message
    for k, v in net.state_dict().items():  # nothing was half-loaded
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_non_strict_reports_but_loads():
    net = _Net()
    state = {"enc.weight": np.full((4, 3), 2.0), "extra": np.zeros(1)}
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["enc.bias", "dec.weight"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(net.enc.weight.data, 2.0)
    with pytest.raises(ValueError, match="wrong shapes"):
        net.load_state_dict({"enc.weight": np.zeros((3, 4))}, strict=False)


def test_module_without_super_init():
    class Broken(mg.nn.Module):
        def __init__(self):
            self.w = mg.nn.Parameter(np.zeros(2))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_optimizer_argument_errors():
    p = mg.nn.Parameter(np.zeros(2))
    with pytest.raises(TypeError, match="not a single tensor"):
        mg.optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        mg.optim.Adam([])
    with pytest.raises(TypeError, match="requires_grad=True"):
        mg.optim.SGD([mg.tensor([1.0])], lr=0.1)
    with pytest.raises(ValueError, match="nesterov"):
        mg.optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        mg.optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match=">= 0"):
        mg.optim.Adagrad([p], lr=-1.0)


def test_optimizer_load_state_dict_mismatch():
    a, b = mg.nn.Parameter(np.zeros(2)), mg.nn.Parameter(np.zeros(3))
    opt = mg.optim.SGD([a, b], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"\[1\] parameters per group, this optimizer \[2\]"):
        opt.load_state_dict(mg.optim.SGD([a], lr=0.1).state_dict())
    other = mg.optim.SGD([mg.nn.Parameter(np.zeros(5)), b], lr=0.1, momentum=0.9)
    other.param_groups[0]["params"][0].grad = mg.tensor(np.ones(5), dtype=other.param_groups[0]["params"][0].dtype)
    other.step()
    with pytest.raises(ValueError, match=r"has shape \(5,\), the parameter \(2,\)"):
        opt.load_state_dict(other.state_dict())


# ---------------------------------------------------------------- detect_anomaly: what and where
def _anomaly(run):
    """The message of the AnomalyError that `run()` raises under detect_anomaly."""
    with mg.detect_anomaly(), np.errstate(all="ignore"):
        with pytest.raises(FloatingPointError) as info:
            run()
    assert isinstance(info.value, AnomalyError)
    return str(info.value)


def _sequence(seq_len=6, batch=2, size=3):
    return np.random.default_rng(0).standard_normal((seq_len, batch, size)).astype(np.float32)


def test_detect_anomaly_says_produced_when_the_op_made_the_nan():
    x = mg.tensor([1.0, -1.0], requires_grad=True)
    message = _anomaly(lambda: x.log())
    assert message.startswith("detect_anomaly: Log forward produced NaN (first at [1])")
    assert "from finite inputs" in message and "received" not in message


def test_detect_anomaly_says_received_and_names_the_input_and_a_leaf():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    bad = mg.tensor([0.0, np.inf])
    message = _anomaly(lambda: (x * 2.0) * bad)
    assert message.startswith("detect_anomaly: Mul forward received inf (first at [1]) "
                              "in input 1 of shape (2,), a leaf")
    assert "produced" not in message
    w = mg.nn.Parameter(np.array([np.nan, 1.0], dtype=np.float32))
    assert "in input 0 of shape (2,), a parameter" in _anomaly(lambda: w.exp())


def test_detect_anomaly_backward_received_vs_produced():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    message = _anomaly(lambda: (x * 2.0).backward(np.array([np.nan, 1.0])))
    assert message.startswith("detect_anomaly: Mul backward received NaN in the gradient of its output")
    y = mg.tensor([0.0, 4.0], requires_grad=True)
    message = _anomaly(lambda: y.sqrt().sum().backward())
    assert message.startswith("detect_anomaly: PowScalar backward produced inf (first at [0]) "
                              "in the gradient of input 0 from a finite output gradient")


@pytest.mark.parametrize("layer", ["RNN", "LSTM", "GRU"])
def test_detect_anomaly_names_the_time_step_of_a_nan_in_a_layers_input(layer):
    from minigrad import models
    mg.manual_seed(0)
    model = getattr(models, layer)(3, 4, num_layers=2)
    x = _sequence()
    x[3, 1, 2] = np.nan
    message = _anomaly(lambda: model(mg.tensor(x)))
    assert "received NaN (first at [3, 1, 2]) in input 0 of shape (6, 2, 3), a leaf" in message
    assert f"{layer} layer 0: it is in the input at time step t = 3 (batch 1)" in message


def test_detect_anomaly_names_the_time_step_of_a_batch_first_input():
    from minigrad.models import LSTM
    x = _sequence().transpose(1, 0, 2).copy()
    x[0, 4, 1] = np.inf
    message = _anomaly(lambda: LSTM(3, 4, batch_first=True)(mg.tensor(x)))
    assert "received inf" in message and "time step t = 4 (batch 0)" in message


def test_detect_anomaly_names_the_time_step_where_the_projection_overflows():
    from minigrad.models import RNN
    model = RNN(3, 4)
    model.weight_ih_l0.data[:] = 1.0
    x = _sequence()
    x[2, 1] = 3e38  # finite, but 3 * 3e38 is not in float32
    message = _anomaly(lambda: model(mg.tensor(x)))
    assert message.startswith("detect_anomaly: MatMul forward in scope 'layer0' produced inf")
    assert "RNN layer 0: made by the input projection at time step t = 2 (batch 1)" in message


@pytest.mark.parametrize("layer, part", [("RNN", "h"), ("LSTM", "h"), ("LSTM", "c")])
def test_detect_anomaly_names_a_nan_initial_state(layer, part):
    from minigrad import models
    model = getattr(models, layer)(3, 4, num_layers=2)
    zeros = np.zeros((2, 2, 4), np.float32)
    state = {"h": zeros.copy(), "c": zeros.copy()}
    state[part][1, 0, 3] = np.nan
    given = mg.tensor(state["h"]) if layer == "RNN" else (mg.tensor(state["h"]), mg.tensor(state["c"]))
    message = _anomaly(lambda: model(mg.tensor(_sequence()), given))
    assert message.startswith("detect_anomaly: GetItem forward received NaN (first at [1, 0, 3])")
    assert f"{layer}: it is in the initial state {part}0 given to forward, at layer 1 (batch 0)" in message


def test_detect_anomaly_inside_a_step_names_its_scope():
    from minigrad.models import LSTM
    model = LSTM(3, 4)
    model.weight_hh_l0.data[0, 0] = np.nan
    message = _anomaly(lambda: model(mg.tensor(_sequence())))
    assert "in scope 'layer0/t0' received NaN" in message and "a parameter" in message
