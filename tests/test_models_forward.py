"""Forward values of every cell and sequence layer against plain-numpy implementations of
their equations written here, and PyTorch naming: state_dicts named and shaped like
PyTorch's load and give the values PyTorch's equations give (no torch needed)."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.models import (GRU, LSTM, RNN, FourGateLSTMCell, GRUCell, LSTMCell, PeepholeLSTMCell, Recurrent,
                    RNNCell)

RNG = np.random.default_rng(1234)


# --------------------------------------------------------------------------- numpy references
def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def relu(a):
    return np.maximum(a, 0.0)


def rows(w, k, H):
    """Block k of a weight or bias stacked by gate (rows k*H .. (k+1)*H)."""
    return w[k * H:(k + 1) * H]


def rnn_ref(p, x, h, nonlinearity="tanh"):
    act = {"tanh": np.tanh, "relu": relu, "sigmoid": sigmoid}[nonlinearity]
    return act(x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"])


def lstm_ref(p, x, state):
    """torch.nn.LSTMCell's documented equations, gate by gate (order i, f, g, o)."""
    h, c = state
    H = h.shape[1]

    def pre(k):
        return (x @ rows(p["weight_ih"], k, H).T + rows(p["bias_ih"], k, H)
                + h @ rows(p["weight_hh"], k, H).T + rows(p["bias_hh"], k, H))

    i, f, g, o = sigmoid(pre(0)), sigmoid(pre(1)), np.tanh(pre(2)), sigmoid(pre(3))
    c = f * c + i * g
    return o * np.tanh(c), c


def gru_ref(p, x, h):
    """torch.nn.GRUCell's documented equations (order r, z, n)."""
    H = h.shape[1]

    def part(name, k, v):
        return v @ rows(p[f"weight_{name}"], k, H).T + rows(p[f"bias_{name}"], k, H)

    r = sigmoid(part("ih", 0, x) + part("hh", 0, h))
    z = sigmoid(part("ih", 1, x) + part("hh", 1, h))
    n = np.tanh(part("ih", 2, x) + r * part("hh", 2, h))
    return (1 - z) * n + z * h


def peephole_ref(p, x, state):
    """The lecture's form: f = σ(W_f [c, h, x] + b_f) etc., with W_f assembled from the blocks."""
    h, c = state
    H = h.shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    peep_row = {0: 0, 1: 1, 3: 2}   # gates i, f, o have peepholes (rows of weight_ch)
    concat = np.concatenate([c, h, x], axis=1)

    def gate(k):
        blocks = [rows(p["weight_ch"], peep_row[k], H) if k in peep_row else np.zeros((H, H)),
                  rows(p["weight_hh"], k, H), rows(p["weight_ih"], k, H)]
        return concat @ np.concatenate(blocks, axis=1).T + rows(b, k, H)

    i, f, g, o = sigmoid(gate(0)), sigmoid(gate(1)), np.tanh(gate(2)), sigmoid(gate(3))
    c = f * c + i * g
    return o * np.tanh(c), c


def four_gate_ref(p, event, state):
    """The four gates of the lecture on [STM, E], W_* assembled from the STM and E blocks."""
    stm, ltm = state
    H = stm.shape[1]
    concat = np.concatenate([stm, event], axis=1)

    def lin(k):   # k: 0 = n, 1 = i, 2 = f, 3 = v
        W = np.concatenate([rows(p["weight_hh"], k, H), rows(p["weight_ih"], k, H)], axis=1)
        return concat @ W.T + rows(p["bias"], k, H)

    N, i = np.tanh(lin(0)), sigmoid(lin(1))
    learn = N * i
    f = sigmoid(lin(2))
    forget = ltm * f
    remember = forget + learn
    U = np.tanh(forget @ p["weight_u"].T + p["bias_u"])
    V = sigmoid(lin(3))
    return U * V, remember


REFERENCES = {RNNCell: rnn_ref, LSTMCell: lstm_ref, GRUCell: gru_ref,
              PeepholeLSTMCell: peephole_ref, FourGateLSTMCell: four_gate_ref}
CELLS = list(REFERENCES)
TWO_PART = (LSTMCell, PeepholeLSTMCell, FourGateLSTMCell)


def params_of(module):
    return {name: p.data.astype(np.float64) for name, p in module.named_parameters()}


def random_state(cell_type, batch, H):
    if cell_type in TWO_PART:
        return RNG.standard_normal((batch, H)), RNG.standard_normal((batch, H))
    return RNG.standard_normal((batch, H))


def to_tensors(state, dtype):
    if isinstance(state, tuple):
        return tuple(mg.tensor(s, dtype=dtype) for s in state)
    return mg.tensor(state, dtype=dtype)


def values(state):
    return tuple(s.data for s in state) if isinstance(state, tuple) else state.data


def assert_state_close(actual, expected, tol):
    actual = actual if isinstance(actual, tuple) else (actual,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(a, e, rtol=tol, atol=tol)


# --------------------------------------------------------------------------- cells
@pytest.mark.parametrize("cell_type", CELLS)
def test_cell_matches_numpy_over_several_steps(cell_type):
    mg.manual_seed(0)
    D, H, B, T = 3, 4, 2, 6
    cell = cell_type(D, H).double()
    p = params_of(cell)
    ref = REFERENCES[cell_type]
    xs = RNG.standard_normal((T, B, D))
    state_np = random_state(cell_type, B, H)
    state = to_tensors(state_np, np.float64)
    for t in range(T):
        state = cell(mg.tensor(xs[t]), state)
        state_np = ref(p, xs[t], state_np)
        assert_state_close(values(state), state_np, 1e-12)


@pytest.mark.parametrize("cell_type", CELLS)
def test_cell_starts_from_zeros_and_keeps_float32(cell_type):
    mg.manual_seed(1)
    D, H, B = 3, 5, 2
    cell = cell_type(D, H)
    x = RNG.standard_normal((B, D)).astype(np.float32)
    state = cell(mg.tensor(x))
    zeros = (np.zeros((B, H)),) * 2 if cell_type in TWO_PART else np.zeros((B, H))
    expected = REFERENCES[cell_type](params_of(cell), x.astype(np.float64), zeros)
    assert_state_close(values(state), expected, 1e-5)
    for part in (state if isinstance(state, tuple) else (state,)):
        assert part.dtype == np.float32


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu", "sigmoid"])
def test_rnn_cell_nonlinearities(nonlinearity):
    mg.manual_seed(2)
    cell = RNNCell(3, 4, nonlinearity=nonlinearity).double()
    x, h = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 4))
    out = cell(mg.tensor(x), mg.tensor(h))
    np.testing.assert_allclose(out.data, rnn_ref(params_of(cell), x, h, nonlinearity), atol=1e-12)


def test_peephole_with_zero_peepholes_is_the_standard_lstm():
    mg.manual_seed(3)
    peephole, lstm = PeepholeLSTMCell(3, 4).double(), LSTMCell(3, 4).double()
    lstm.load_state_dict({k: v for k, v in peephole.state_dict().items() if k != "weight_ch"})
    peephole.weight_ch.data[...] = 0
    x, h, c = (mg.tensor(RNG.standard_normal(s)) for s in ((2, 3), (2, 4), (2, 4)))
    for a, b in zip(peephole(x, (h, c)), lstm(x, (h, c)), strict=True):
        np.testing.assert_allclose(a.data, b.data, atol=1e-14)


@pytest.mark.parametrize("cell_type", [RNNCell, LSTMCell, GRUCell])
def test_cells_without_bias(cell_type):
    mg.manual_seed(4)
    cell = cell_type(3, 4, bias=False).double()
    assert [n for n, _ in cell.named_parameters()] == ["weight_ih", "weight_hh"]
    p = params_of(cell)
    G = p["weight_ih"].shape[0]
    p.update(bias_ih=np.zeros(G), bias_hh=np.zeros(G))
    x, state_np = RNG.standard_normal((2, 3)), random_state(cell_type, 2, 4)
    out = cell(mg.tensor(x), to_tensors(state_np, np.float64))
    assert_state_close(values(out), REFERENCES[cell_type](p, x, state_np), 1e-12)


# --------------------------------------------------------------------------- sequence layers
def layer_ref(cell_type, p, xs, states, num_layers, **options):
    """Stacked numpy reference: layer l reads layer l-1's outputs; p has names like weight_ih_l0."""
    ref = REFERENCES[cell_type]
    layer_input, final = xs, []
    for k in range(num_layers):
        pk = {name[:-len(f"_l{k}")]: v for name, v in p.items() if name.endswith(f"_l{k}")}
        state = states[k]
        outputs = []
        for x in layer_input:
            state = ref(pk, x, state, **options)
            outputs.append(state[0] if isinstance(state, tuple) else state)
        layer_input = np.stack(outputs)
        final.append(state)
    return layer_input, final


@pytest.mark.parametrize("cell_type", CELLS)
def test_stacked_layer_matches_numpy(cell_type):
    mg.manual_seed(5)
    D, H, B, T, L = 3, 4, 2, 5, 2
    layer = Recurrent(cell_type, D, H, num_layers=L).double()
    xs = RNG.standard_normal((T, B, D))
    layer_states = [random_state(cell_type, B, H) for _ in range(L)]
    if cell_type in TWO_PART:
        state0 = tuple(mg.tensor(np.stack([s[j] for s in layer_states])) for j in range(2))
    else:
        state0 = mg.tensor(np.stack(layer_states))
    output, final = layer(mg.tensor(xs), state0)
    expected_out, expected_final = layer_ref(cell_type, params_of(layer), xs, layer_states, L)
    np.testing.assert_allclose(output.data, expected_out, atol=1e-12)
    if cell_type in TWO_PART:
        for j in range(2):
            np.testing.assert_allclose(final[j].data, np.stack([s[j] for s in expected_final]), atol=1e-12)
    else:
        np.testing.assert_allclose(final.data, np.stack(expected_final), atol=1e-12)


def test_batch_first_is_the_transposed_layout():
    mg.manual_seed(6)
    time_major = LSTM(3, 4, num_layers=2)
    batch_first = LSTM(3, 4, num_layers=2, batch_first=True)
    batch_first.load_state_dict(time_major.state_dict())
    xs = RNG.standard_normal((5, 2, 3)).astype(np.float32)
    out_t, (h_t, c_t) = time_major(mg.tensor(xs))
    out_b, (h_b, c_b) = batch_first(mg.tensor(xs.transpose(1, 0, 2)))
    assert out_b.shape == (2, 5, 4) and h_b.shape == (2, 2, 4)   # h_n stays (L, B, H)
    np.testing.assert_allclose(out_b.data, out_t.data.transpose(1, 0, 2), atol=1e-6)
    np.testing.assert_allclose(h_b.data, h_t.data, atol=1e-6)
    np.testing.assert_allclose(c_b.data, c_t.data, atol=1e-6)


def test_two_windows_with_the_state_passed_on_equal_one_long_window():
    mg.manual_seed(7)
    lstm = LSTM(3, 4, num_layers=2)
    xs = mg.tensor(RNG.standard_normal((6, 2, 3)).astype(np.float32))
    whole, (h, c) = lstm(xs)
    first, state = lstm(xs[:3])
    second, (h2, c2) = lstm(xs[3:], state)
    np.testing.assert_allclose(np.concatenate([first.data, second.data]), whole.data, atol=1e-6)
    np.testing.assert_allclose(h2.data, h.data, atol=1e-6)
    np.testing.assert_allclose(c2.data, c.data, atol=1e-6)


# --------------------------------------------------------------------------- PyTorch naming
def torch_cell_state_dict(gates, D, H):
    """Arrays named and shaped as torch.nn.{RNN,LSTM,GRU}Cell(D, H).state_dict()."""
    k = 1 / np.sqrt(H)
    return {"weight_ih": RNG.uniform(-k, k, (gates * H, D)), "weight_hh": RNG.uniform(-k, k, (gates * H, H)),
            "bias_ih": RNG.uniform(-k, k, (gates * H,)), "bias_hh": RNG.uniform(-k, k, (gates * H,))}


def torch_layer_state_dict(gates, D, H, num_layers):
    """Arrays named and shaped as torch.nn.{RNN,LSTM,GRU}(D, H, num_layers).state_dict(), in order."""
    state = {}
    for layer in range(num_layers):
        cell = torch_cell_state_dict(gates, D if layer == 0 else H, H)
        state.update({f"{name}_l{layer}": v for name, v in cell.items()})
    return state


@pytest.mark.parametrize("cell_type, gates", [(RNNCell, 1), (LSTMCell, 4), (GRUCell, 3)])
def test_cell_loads_a_pytorch_state_dict(cell_type, gates):
    D, H, B = 3, 5, 2
    torch_state = torch_cell_state_dict(gates, D, H)
    cell = cell_type(D, H).double()
    assert list(cell.state_dict()) == list(torch_state)
    assert {k: v.shape for k, v in cell.state_dict().items()} == {k: v.shape for k, v in torch_state.items()}
    assert cell.load_state_dict(torch_state) == ([], [])
    x, state_np = RNG.standard_normal((B, D)), random_state(cell_type, B, H)
    out = cell(mg.tensor(x), to_tensors(state_np, np.float64))
    assert_state_close(values(out), REFERENCES[cell_type](torch_state, x, state_np), 1e-12)


@pytest.mark.parametrize("layer_type, cell_type, gates", [(RNN, RNNCell, 1), (LSTM, LSTMCell, 4),
                                                          (GRU, GRUCell, 3)])
def test_two_layer_stack_loads_a_pytorch_state_dict(layer_type, cell_type, gates):
    D, H, B, T, L = 3, 4, 2, 5, 2
    torch_state = torch_layer_state_dict(gates, D, H, L)
    layer = layer_type(D, H, num_layers=L).double()
    assert list(layer.state_dict()) == list(torch_state)   # same names, same order as PyTorch
    assert [n for n, _ in layer.named_parameters()] == list(torch_state)
    assert layer.load_state_dict(torch_state) == ([], [])
    assert layer.cells[1].weight_hh is layer.weight_hh_l1   # the cells use the loaded values
    xs = RNG.standard_normal((T, B, D))
    output, _ = layer(mg.tensor(xs))
    zeros = [random_state(cell_type, B, H) for _ in range(L)]
    zeros = [tuple(np.zeros_like(s) for s in z) if isinstance(z, tuple) else np.zeros_like(z) for z in zeros]
    expected, _ = layer_ref(cell_type, torch_state, xs, zeros, L)
    np.testing.assert_allclose(output.data, expected, atol=1e-12)


def test_pytorch_lstm_state_dict_with_wrong_shapes_is_refused():
    torch_state = torch_layer_state_dict(4, 3, 4, 2)
    torch_state["weight_hh_l1"] = torch_state["weight_hh_l1"][:, :3]
    with pytest.raises(ValueError, match=r"weight_hh_l1: expected \(16, 4\), got \(16, 3\)"):
        LSTM(3, 4, num_layers=2).load_state_dict(torch_state)
