"""What the graph renderer and users rely on: named intermediates, ⊙ nodes, scopes
"layer{l}/t{t}", PyTorch parameter names shared with the cells, dropout, and clear errors."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.models import (GRU, LSTM, RNN, FourGateLSTMCell, GRUCell, LSTMCell, PeepholeLSTMCell, Recurrent,
                    RNNCell)

NAMES = {
    RNNCell: {"h"},
    LSTMCell: {"i", "f", "g", "o", "c", "h"},
    PeepholeLSTMCell: {"i", "f", "g", "o", "c", "h"},
    GRUCell: {"r", "z", "n", "h"},
    FourGateLSTMCell: {"learn", "forget", "remember", "use", "N", "i", "f", "U", "V"},
}
HADAMARDS_PER_STEP = {RNNCell: 0, LSTMCell: 3, PeepholeLSTMCell: 3, GRUCell: 3, FourGateLSTMCell: 3}


def graph_tensors(*roots):
    """Every tensor the roots were computed from (iteratively, through grad_fn.inputs)."""
    seen, stack, found = set(), list(roots), []
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        found.append(t)
        if t.grad_fn is not None:
            stack.extend(t.grad_fn.inputs)
    return found


def flat(state):
    return list(state) if isinstance(state, tuple) else [state]


# --------------------------------------------------------------------------- names, ⊙, scopes
@pytest.mark.parametrize("cell_type", list(NAMES))
def test_cell_names_its_intermediates_and_draws_gate_products_as_hadamard(cell_type):
    cell = cell_type(3, 4)
    state = cell(mg.randn(2, 3))
    tensors = graph_tensors(*flat(state))
    assert {t.name for t in tensors if t.name} == NAMES[cell_type]
    hadamards = [t for t in tensors if t.grad_fn is not None and type(t.grad_fn).__name__ == "Hadamard"]
    assert len(hadamards) == HADAMARDS_PER_STEP[cell_type]
    assert flat(state)[0].name == {FourGateLSTMCell: "use"}.get(cell_type, "h")


def test_cell_alone_sets_no_scope_but_keeps_the_callers():
    cell = LSTMCell(3, 4)
    h, c = cell(mg.randn(2, 3))
    assert h.scope is None and c.scope is None
    with mg.scope("mine"):
        h, c = cell(mg.randn(2, 3))
    assert h.scope == "mine" and c.scope == "mine"


@pytest.mark.parametrize("cell_type", list(NAMES))
def test_layer_runs_every_step_in_its_layer_and_time_scope(cell_type):
    T, L = 4, 2
    layer = Recurrent(cell_type, 3, 4, num_layers=L)
    output, state = layer(mg.randn(T, 2, 3))
    named = [t for t in graph_tensors(output, *flat(state)) if t.name in NAMES[cell_type]]
    scopes = {t.scope for t in named}
    assert scopes == {f"layer{k}/t{t}" for k in range(L) for t in range(T)}
    for scope in scopes:   # each step has its full set of names
        assert {t.name for t in named if t.scope == scope} == NAMES[cell_type]


def test_layer_scopes_nest_inside_the_callers():
    lstm = LSTM(3, 4)
    with mg.scope("encoder"):
        output, _ = lstm(mg.randn(2, 1, 3))
    cell_scopes = {t.scope for t in graph_tensors(output) if t.name == "c"}
    assert cell_scopes == {"encoder/layer0/t0", "encoder/layer0/t1"}


def test_input_projection_is_one_matmul_per_layer_outside_the_time_loop():
    T, L = 5, 2
    lstm = LSTM(3, 4, num_layers=L)
    output, _ = lstm(mg.randn(T, 2, 3))
    matmul_scopes = sorted(t.scope for t in graph_tensors(output) if type(t.grad_fn).__name__ == "MatMul")
    # per layer: one input projection for the window, then one h @ W_hh^T per step
    assert matmul_scopes == sorted([f"layer{k}" for k in range(L)]
                                   + [f"layer{k}/t{t}" for k in range(L) for t in range(T)])


# --------------------------------------------------------------------------- parameters
def test_layer_parameters_are_pytorchs_and_shared_with_the_cells():
    lstm = LSTM(3, 4, num_layers=2)
    names = [n for n, _ in lstm.named_parameters()]
    assert names == [f"{w}_l{k}" for k in range(2) for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    assert lstm.weight_ih_l0.shape == (16, 3) and lstm.weight_ih_l1.shape == (16, 4)
    for k, cell in enumerate(lstm.cells):
        for name, p in cell.named_parameters():
            assert getattr(lstm, f"{name}_l{k}") is p
    assert len(list(lstm.parameters())) == 8


def test_nested_model_sees_pytorch_names():
    model = mg.nn.Module()
    model.rnn = GRU(3, 4, num_layers=2)
    model.fc = mg.nn.Linear(4, 2)
    assert [n for n, _ in model.named_parameters()] == [
        "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
        "rnn.weight_ih_l1", "rnn.weight_hh_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l1", "fc.weight", "fc.bias"]


def test_layer_without_bias_and_other_cells_names():
    assert [n for n, _ in LSTM(3, 4, bias=False).named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    assert [n for n, _ in Recurrent(PeepholeLSTMCell, 3, 4).named_parameters()] == [  # LSTM's, then
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ch_l0"]   # the peepholes'
    assert [n for n, _ in Recurrent(PeepholeLSTMCell, 3, 4, bias=False).named_parameters()] == [
        "weight_ih_l0", "weight_hh_l0", "weight_ch_l0"]
    assert [n for n, _ in Recurrent(FourGateLSTMCell, 3, 4).named_parameters()] == [
        "weight_ih_l0", "weight_hh_l0", "bias_l0", "weight_u_l0", "bias_u_l0"]


def test_initialisation_is_uniform_within_one_over_sqrt_hidden():
    mg.manual_seed(0)
    for cell_type in NAMES:
        params = list(cell_type(50, 16).parameters())
        assert all(p.dtype == np.float32 for p in params)
        values = np.abs(np.concatenate([p.data.ravel() for p in params]))
        assert 0.24 < values.max() <= 0.25 and 0.11 < values.mean() < 0.14   # U(-1/4, 1/4)


def test_an_optimizer_step_on_the_layer_changes_what_the_cells_compute():
    mg.manual_seed(1)
    lstm = LSTM(3, 4, num_layers=2)
    x = mg.randn(5, 2, 3)
    before = lstm(x)[0].data.copy()
    opt = optim.SGD(lstm.parameters(), lr=0.5)
    lstm(x)[0].sum().backward()
    opt.step()
    assert not np.allclose(lstm(x)[0].data, before)


def test_double_converts_the_shared_parameters():
    lstm = LSTM(3, 4, num_layers=2).double()
    output, (h_n, c_n) = lstm(mg.randn(2, 2, 3, dtype=mg.float64))
    assert output.dtype == h_n.dtype == np.float64
    assert lstm.cells[1].weight_hh.dtype == np.float64


def test_repr_shows_the_stack():
    text = repr(LSTM(3, 4, num_layers=2, batch_first=True, dropout=0.25))
    assert text.startswith("LSTM(3, 4, num_layers=2, batch_first=True, dropout=0.25")
    assert "LSTMCell(3, 4)" in text and "LSTMCell(4, 4)" in text
    assert repr(Recurrent(GRUCell, 3, 4)).startswith("Recurrent(GRUCell, 3, 4")


# --------------------------------------------------------------------------- dropout
def test_dropout_between_layers_in_training_mode_only():
    mg.manual_seed(2)
    with_dropout = LSTM(3, 4, num_layers=2, dropout=0.5)
    without = LSTM(3, 4, num_layers=2)
    without.load_state_dict(with_dropout.state_dict())
    x = mg.randn(6, 3, 3)
    plain = without(x)[0].data
    assert not np.allclose(with_dropout(x)[0].data, plain)      # training mode: dropped
    with_dropout.eval()
    np.testing.assert_allclose(with_dropout(x)[0].data, plain)  # eval mode: the same
    with_dropout.train()
    assert not np.allclose(with_dropout(x)[0].data, plain)


def test_dropout_leaves_a_single_layer_alone():
    single = RNN(3, 4, dropout=0.5)
    x = mg.randn(4, 2, 3)
    np.testing.assert_allclose(single(x)[0].data, single.eval()(x)[0].data)


# --------------------------------------------------------------------------- errors
def test_cell_wrong_input_size():
    with pytest.raises(ValueError, match=r"LSTMCell: input has shape \(2, 5\), expected "
                                         r"\(batch, input_size\) = \(batch, 3\)"):
        LSTMCell(3, 4)(mg.randn(2, 5))


def test_cell_wrong_state_shape():
    with pytest.raises(ValueError, match=r"LSTMCell: state c has shape \(2, 3\), expected "
                                         r"\(batch, hidden_size\) = \(2, 4\)"):
        LSTMCell(3, 4)(mg.randn(2, 3), (mg.zeros(2, 4), mg.zeros(2, 3)))
    with pytest.raises(ValueError, match=r"GRUCell: state h has shape \(3, 4\), expected .* = \(2, 4\)"):
        GRUCell(3, 4)(mg.randn(2, 3), mg.zeros(3, 4))


def test_cell_wrong_state_structure():
    with pytest.raises(TypeError, match=r"LSTMCell: the state is a tuple \(h, c\), got a Tensor"):
        LSTMCell(3, 4)(mg.randn(2, 3), mg.zeros(2, 4))
    with pytest.raises(TypeError, match=r"FourGateLSTMCell: the state is a tuple \(STM, LTM\)"):
        FourGateLSTMCell(3, 4)(mg.randn(2, 3), (mg.zeros(2, 4),))
    with pytest.raises(TypeError, match=r"RNNCell: the state is one tensor h, got a tuple"):
        RNNCell(3, 4)(mg.randn(2, 3), (mg.zeros(2, 4), mg.zeros(2, 4)))


@pytest.mark.parametrize("layer_type", [RNN, LSTM, GRU])
def test_layer_wrong_input_size(layer_type):
    name = layer_type.__name__
    with pytest.raises(ValueError, match=rf"{name}: input has shape \(5, 2, 7\), expected "
                                         rf"\(seq_len, batch, input_size\) with input_size = 3"):
        layer_type(3, 4)(mg.randn(5, 2, 7))
    with pytest.raises(ValueError, match=rf"{name}: input has shape \(5, 7\), expected .* "
                                         rf"input_size = 3, or unbatched \(seq_len, input_size\)"):
        layer_type(3, 4)(mg.randn(5, 7))
    with pytest.raises(ValueError, match=rf"{name}: input has shape \(5, 2, 1, 3\)"):
        layer_type(3, 4)(mg.randn(5, 2, 1, 3))
    with pytest.raises(ValueError, match=r"\(batch, seq_len, input_size\)"):
        layer_type(3, 4, batch_first=True)(mg.randn(2, 5, 7))


def test_layer_wrong_state_shape():
    lstm = LSTM(3, 4, num_layers=2)
    x = mg.randn(5, 3, 3)
    with pytest.raises(ValueError, match=r"LSTM: initial state c0 has shape \(1, 3, 4\), expected "
                                         r"\(num_layers, batch, hidden_size\) = \(2, 3, 4\)"):
        lstm(x, (mg.zeros(2, 3, 4), mg.zeros(1, 3, 4)))
    with pytest.raises(ValueError, match=r"GRU: initial state h0 has shape \(2, 2, 4\), expected "
                                         r".* = \(2, 3, 4\)"):
        GRU(3, 4, num_layers=2)(x, mg.zeros(2, 2, 4))
    with pytest.raises(TypeError, match=r"LSTM: the state is a tuple \(h, c\)"):
        lstm(x, mg.zeros(2, 3, 4))


def test_dtype_mismatch_is_an_error_not_a_silent_upcast():
    with pytest.raises(TypeError, match=r"LSTM: input has dtype float64 but the parameters are float32"):
        LSTM(3, 4)(mg.randn(5, 2, 3, dtype=mg.float64))
    with pytest.raises(TypeError, match=r"GRUCell: input has dtype int64"):
        GRUCell(3, 4)(mg.tensor(np.ones((2, 3), dtype=np.int64)))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="RNNCell: unknown nonlinearity 'softplus'"):
        RNNCell(3, 4, nonlinearity="softplus")
    with pytest.raises(ValueError, match="LSTMCell: hidden_size must be a positive int"):
        LSTMCell(3, 0)
    with pytest.raises(ValueError, match="LSTM: num_layers must be a positive int"):
        LSTM(3, 4, num_layers=0)
    with pytest.raises(ValueError, match=r"GRU: dropout must be in \[0, 1\)"):
        GRU(3, 4, dropout=1.0)
    with pytest.raises(TypeError, match="Recurrent: cell must be a cell class"):
        Recurrent("lstm", 3, 4)
