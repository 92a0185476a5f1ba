"""PyTorch habits carry over: forward(input, hx=None), unbatched inputs, bidirectional layers
(named, shaped and ordered as torch's), nn.LSTM and friends, and clear errors for what minigrad
leaves out (proj_size, PackedSequence, devices other than the CPU). No torch needed: values are
checked against numpy implementations of the equations written here, gradients by gradcheck."""
import collections
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import models
from module_gradcheck import check, parameters_replaced
from minigrad.models import GRU, LSTM, RNN, GRUCell, LSTMCell, PeepholeLSTMCell, Recurrent, RNNCell

D, H, B, T = 3, 4, 2, 5
LAYERS = [RNN, LSTM, GRU]
CELLS = [RNNCell, LSTMCell, GRUCell]
GATES = {RNN: 1, LSTM: 4, GRU: 3}


def flat(state):
    return list(state) if isinstance(state, tuple) else [state]


def grad(t):
    return np.asarray(t.grad)


def random_state(layer_type, rng, shape, dtype=np.float64):
    """h0 (or (h0, c0) for the LSTM) as tensors of `shape`."""
    parts = [mg.tensor(rng.standard_normal(shape).astype(dtype)) for _ in range(2 if layer_type is LSTM else 1)]
    return tuple(parts) if layer_type is LSTM else parts[0]


# --------------------------------------------------------------------------- numpy references
def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def rnn_step(p, x, h):
    return np.tanh(x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"])


def lstm_step(p, x, state):
    h, c = state
    i, f, g, o = np.split(x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"], 4, axis=1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


def gru_step(p, x, h):
    x_r, x_z, x_n = np.split(x @ p["weight_ih"].T + p["bias_ih"], 3, axis=1)
    h_r, h_z, h_n = np.split(h @ p["weight_hh"].T + p["bias_hh"], 3, axis=1)
    r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
    n = np.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h


STEPS = {RNN: rnn_step, LSTM: lstm_step, GRU: gru_step}


def bidirectional_ref(layer_type, params, x, state0, num_layers):
    """torch's bidirectional stack, written out: direction d of layer l uses the parameters
    `*_l{l}` (d = 0) or `*_l{l}_reverse` (d = 1) and the initial state row 2 l + d; the
    reverse direction runs t = T-1 .. 0; layer l + 1 reads [forward h_t, reverse h_t].
    x (T, B, D); state0 a list of arrays (2 L, B, H). Returns (output, [final parts])."""
    step, parts = STEPS[layer_type], len(state0)
    layer_input, finals = x, []
    for layer in range(num_layers):
        outputs = []
        for d, suffix in enumerate(("", "_reverse")):
            p = {name: params[f"{name}_l{layer}{suffix}"] for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
            state = tuple(s[2 * layer + d] for s in state0) if parts == 2 else state0[0][2 * layer + d]
            hs = [None] * len(x)
            for t in (range(len(x) - 1, -1, -1) if d else range(len(x))):
                state = step(p, layer_input[t], state)
                hs[t] = state[0] if parts == 2 else state
            outputs.append(np.stack(hs))
            finals.append(state if parts == 2 else (state,))
        layer_input = np.concatenate(outputs, axis=2)
    return layer_input, [np.stack([f[j] for f in finals]) for j in range(parts)]


# --------------------------------------------------------------------------- 1. hx=
@pytest.mark.parametrize("layer_type", LAYERS)
def test_layers_take_the_state_positionally_as_hx_and_by_the_older_name(layer_type):
    rng = np.random.default_rng(0)
    layer = layer_type(D, H, num_layers=2)
    x = mg.tensor(rng.standard_normal((T, B, D)).astype(np.float32))
    hx = random_state(layer_type, rng, (2, B, H), np.float32)
    older = {RNN: "h0", GRU: "h0", LSTM: "state"}[layer_type]
    positional = layer(x, hx)
    for output, final in (layer(input=x, hx=hx), layer(x, **{older: hx})):
        np.testing.assert_array_equal(output.data, positional[0].data)
        for a, b in zip(flat(final), flat(positional[1]), strict=True):
            np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(TypeError, match=rf"{layer_type.__name__}: the state is given twice, as hx and as {older}="):
        layer(x, hx, **{older: hx})


@pytest.mark.parametrize("cell_type", CELLS)
def test_cells_take_hx_and_the_older_name(cell_type):
    rng = np.random.default_rng(1)
    cell = cell_type(D, H)
    x = mg.tensor(rng.standard_normal((B, D)).astype(np.float32))
    hx = random_state(LSTM if cell_type is LSTMCell else RNN, rng, (B, H), np.float32)
    older = "state" if cell_type is LSTMCell else "h"
    expected = flat(cell(x, hx))
    for new in (cell(input=x, hx=hx), cell(x, **{older: hx})):
        for a, b in zip(flat(new), expected, strict=True):
            np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(TypeError, match=rf"{cell_type.__name__}: the state is given twice"):
        cell(x, hx, **{older: hx})


# --------------------------------------------------------------------------- 2. unbatched
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("layer_type", LAYERS)
def test_unbatched_sequence_is_a_batch_of_one_without_the_batch_axis(layer_type, batch_first, bidirectional):
    rng = np.random.default_rng(2)
    layer = layer_type(D, H, num_layers=2, batch_first=batch_first, bidirectional=bidirectional)
    rows = 2 * (2 if bidirectional else 1)
    x = rng.standard_normal((T, D)).astype(np.float32)
    hx = random_state(layer_type, rng, (rows, H), np.float32)
    output, final = layer(mg.tensor(x), hx)   # batch_first does not apply to an unbatched x
    assert output.shape == (T, (rows // 2) * H)
    assert [f.shape for f in flat(final)] == [(rows, H)] * len(flat(final))
    one = x[None] if batch_first else x[:, None]
    batched_hx = tuple(mg.tensor(h.data[:, None]) for h in flat(hx))
    expected, expected_final = layer(mg.tensor(one), batched_hx if layer_type is LSTM else batched_hx[0])
    np.testing.assert_array_equal(output.data, expected.data[0] if batch_first else expected.data[:, 0])
    for a, b in zip(flat(final), flat(expected_final), strict=True):
        np.testing.assert_array_equal(a.data, b.data[:, 0])


@pytest.mark.parametrize("cell_type", CELLS)
def test_unbatched_cell_step(cell_type):
    rng = np.random.default_rng(3)
    cell = cell_type(D, H)
    x = rng.standard_normal(D).astype(np.float32)
    new = flat(cell(mg.tensor(x)))
    assert [s.shape for s in new] == [(H,)] * len(new)
    assert [s.name for s in new] == (["h", "c"] if cell_type is LSTMCell else ["h"])
    hx = random_state(LSTM if cell_type is LSTMCell else RNN, rng, (H,), np.float32)
    batched = [mg.tensor(s.data[None]) for s in flat(hx)]
    expected = flat(cell(mg.tensor(x[None]), tuple(batched) if cell_type is LSTMCell else batched[0]))
    for a, b in zip(flat(cell(mg.tensor(x), hx)), expected, strict=True):
        np.testing.assert_array_equal(a.data, b.data[0])


def test_unbatched_gradients():
    rng = np.random.default_rng(4)
    layer = GRU(2, 2, num_layers=2, bidirectional=True).double()
    check(layer, lambda x, h: layer(x, h), [rng.standard_normal((3, 2)), rng.standard_normal((4, 2))])
    cell = LSTMCell(2, 2).double()
    check(cell, lambda x, h, c: cell(x, (h, c)), [rng.standard_normal(2), rng.standard_normal(2),
                                                  rng.standard_normal(2)])


def test_states_must_be_batched_as_the_input():
    lstm, gru = LSTM(D, H, num_layers=2), GRU(D, H)
    with pytest.raises(ValueError, match=r"LSTM: for unbatched 2-D input, h0 and c0 should also be 2-D "
                                         r"but got \(3-D, 3-D\) tensors"):
        lstm(mg.randn(T, D), (mg.zeros(2, 1, H), mg.zeros(2, 1, H)))
    with pytest.raises(ValueError, match=r"GRU: for batched 3-D input, h0 should also be 3-D but got \(2-D\) tensor"):
        gru(mg.randn(T, B, D), mg.zeros(1, H))
    with pytest.raises(ValueError, match=r"GRU: initial state h0 has shape \(2, 4\), expected "
                                         r"\(num_layers, hidden_size\) = \(1, 4\)"):
        gru(mg.randn(T, D), mg.zeros(2, H))
    with pytest.raises(ValueError, match=r"LSTMCell: for unbatched 1-D input, state h should also be 1-D "
                                         r"but got a 2-D tensor of shape \(1, 4\)"):
        LSTMCell(D, H)(mg.randn(D), (mg.zeros(1, H), mg.zeros(1, H)))
    with pytest.raises(ValueError, match=r"GRUCell: for batched 2-D input, state h should also be 2-D"):
        GRUCell(D, H)(mg.randn(B, D), mg.zeros(H))
    with pytest.raises(ValueError, match=r"RNNCell: state h has shape \(5,\), expected \(hidden_size,\) = \(4,\)"):
        RNNCell(D, H)(mg.randn(D), mg.zeros(5))
    with pytest.raises(ValueError, match=r"RNNCell: input has shape \(2, 1, 3\), expected .* or unbatched "
                                         r"\(input_size,\) = \(3,\)"):
        RNNCell(D, H)(mg.randn(2, 1, D))


# --------------------------------------------------------------------------- 3. bidirectional
def torch_names(num_layers, bias=True):
    """torch.nn.LSTM(..., num_layers, bidirectional=True).state_dict() keys, in its order."""
    kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh") if bias else ("weight_ih", "weight_hh")
    return [f"{w}_l{k}{suffix}" for k in range(num_layers) for suffix in ("", "_reverse") for w in kinds]


@pytest.mark.parametrize("layer_type", LAYERS)
def test_bidirectional_parameters_are_named_shaped_and_ordered_as_torchs(layer_type):
    layer = layer_type(D, H, num_layers=2, bidirectional=True)
    G = GATES[layer_type]
    assert list(layer.state_dict()) == torch_names(2)
    shapes = {k: v.shape for k, v in layer.state_dict().items()}
    assert shapes["weight_ih_l0"] == shapes["weight_ih_l0_reverse"] == (G * H, D)
    assert shapes["weight_ih_l1"] == shapes["weight_ih_l1_reverse"] == (G * H, 2 * H)   # reads both directions
    assert shapes["weight_hh_l1_reverse"] == (G * H, H) and shapes["bias_hh_l1_reverse"] == (G * H,)
    assert layer.reverse_cells[1].weight_hh is layer.weight_hh_l1_reverse
    assert layer.cells[1].weight_hh is layer.weight_hh_l1
    assert [n for n, _ in layer_type(D, H, bias=False, bidirectional=True).named_parameters()] == \
        torch_names(1, bias=False)
    assert LSTM(D, H).reverse_cells is None and LSTM(D, H).bidirectional is False


def test_bidirectional_generic_layer_names_every_cells_parameters():
    names = [n for n, _ in Recurrent(PeepholeLSTMCell, D, H, bidirectional=True).named_parameters()]
    assert names == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ch_l0",
                     "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
                     "weight_ch_l0_reverse"]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("layer_type", LAYERS)
def test_bidirectional_layer_matches_numpy(layer_type, batch_first):
    mg.manual_seed(5)
    rng = np.random.default_rng(5)
    L = 2
    layer = layer_type(D, H, num_layers=L, batch_first=batch_first, bidirectional=True).double()
    # a state_dict named and shaped as torch's, loaded by name
    G = GATES[layer_type]
    state = {}
    for name in torch_names(L):
        rows_in = D if "_l0" in name else 2 * H
        shape = {"weight_ih": (G * H, rows_in), "weight_hh": (G * H, H)}.get(name.split("_l")[0], (G * H,))
        state[name] = rng.uniform(-0.5, 0.5, shape)
    assert layer.load_state_dict(state) == ([], [])
    x = rng.standard_normal((T, B, D))
    state0 = [rng.standard_normal((2 * L, B, H)) for _ in range(2 if layer_type is LSTM else 1)]
    hx = tuple(mg.tensor(s) for s in state0) if layer_type is LSTM else mg.tensor(state0[0])
    output, final = layer(mg.tensor(x.transpose(1, 0, 2).copy() if batch_first else x), hx)
    expected, expected_final = bidirectional_ref(layer_type, state, x, state0, L)
    assert output.shape == ((B, T, 2 * H) if batch_first else (T, B, 2 * H))
    np.testing.assert_allclose(output.data, expected.transpose(1, 0, 2) if batch_first else expected, atol=1e-12)
    for a, b in zip(flat(final), expected_final, strict=True):
        assert a.shape == (2 * L, B, H)
        np.testing.assert_allclose(a.data, b, atol=1e-12)
    h_n = flat(final)[0].data   # torch's order: layer 1 forward is row 2, layer 1 reverse row 3
    out = output.data.transpose(1, 0, 2) if batch_first else output.data
    np.testing.assert_allclose(h_n[2], out[-1, :, :H], atol=1e-12)   # forward: ends at t = T-1
    np.testing.assert_allclose(h_n[3], out[0, :, H:], atol=1e-12)    # reverse: ends at t = 0


# gradients through both directions, from zeros and from given states
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("layer_type", LAYERS)
def test_bidirectional_gradients(layer_type, with_state):
    mg.manual_seed(6)
    rng = np.random.default_rng(6)
    layer = layer_type(2, 2, num_layers=2, bidirectional=True).double()
    x = rng.standard_normal((3, 2, 2))
    if not with_state:
        check(layer, lambda x: layer(x), [x])
        return
    state0 = [rng.standard_normal((4, 2, 2)) for _ in range(2 if layer_type is LSTM else 1)]
    check(layer, lambda x, *s: layer(x, tuple(s) if len(s) > 1 else s[0]), [x, *state0])


def test_the_swap_reaches_the_reverse_parameters():
    layer = LSTM(2, 2, num_layers=2, bidirectional=True).double()
    stand_ins = {name: mg.tensor(p.data.copy(), requires_grad=True) for name, p in layer.named_parameters()}
    with parameters_replaced(layer, stand_ins):
        output, _ = layer(mg.randn(3, 2, 2, dtype=mg.float64))
    (output * output).sum().backward()
    assert all(t.grad is not None and np.abs(grad(t)).max() > 0 for t in stand_ins.values())


def test_reverse_steps_have_their_own_scopes_and_the_forward_ones_stay():
    from minigrad.viz.scopes import Step, parse_step
    lstm = LSTM(D, H, num_layers=2, bidirectional=True)
    output, _ = lstm(mg.randn(T, B, D))
    named = graph_tensors(output)
    scopes = {t.scope for t in named if t.name == "c"}
    assert scopes == {f"layer{k}{d}/t{t}" for k in range(2) for d in ("", "_reverse") for t in range(T)}
    # the reverse step "t3" reads x_3 and makes the reverse half of output[3]
    h_rev = {t.scope: t for t in named if t.name == "h" and t.scope.startswith("layer1_reverse/")}
    for t in range(T):
        np.testing.assert_array_equal(h_rev[f"layer1_reverse/t{t}"].data, output.data[t, :, H:])
    assert parse_step("layer0_reverse/t3") == Step("layer0_reverse", 3)
    assert parse_step("layer0/t3") == Step("layer0", 3)


def graph_tensors(*roots):
    seen, stack, found = set(), list(roots), []
    while stack:
        t = stack.pop()
        if id(t) not in seen:
            seen.add(id(t))
            found.append(t)
            stack.extend(t.grad_fn.inputs if t.grad_fn is not None else ())
    return found


def test_bidirectional_dropout_between_layers_in_training_mode_only():
    mg.manual_seed(7)
    with_dropout = GRU(D, H, num_layers=2, dropout=0.5, bidirectional=True)
    without = GRU(D, H, num_layers=2, bidirectional=True)
    without.load_state_dict(with_dropout.state_dict())
    x = mg.randn(T, B, D)
    output = with_dropout(x)[0]
    assert not np.allclose(output.data, without(x)[0].data)
    dropped = [t for t in graph_tensors(output) if t.grad_fn is not None and t.scope == "layer1"
               and type(t.grad_fn).__name__ == "Mul" and t.shape == (T, B, 2 * H)]
    assert dropped   # one mask over both directions' outputs of layer 0, as torch
    np.testing.assert_allclose(with_dropout.eval()(x)[0].data, without(x)[0].data)


def test_bidirectional_repr_and_wrong_state_shape():
    lstm = LSTM(D, H, num_layers=2, bidirectional=True)
    assert repr(lstm).startswith("LSTM(3, 4, num_layers=2, bidirectional=True")
    with pytest.raises(ValueError, match=r"LSTM: initial state h0 has shape \(2, 2, 4\), expected "
                                         r"\(2 \* num_layers, batch, hidden_size\) = \(4, 2, 4\)"):
        lstm(mg.randn(T, B, D), (mg.zeros(2, B, H), mg.zeros(4, B, H)))


def test_detect_anomaly_names_the_reverse_direction_of_a_nan_initial_state():
    gru = GRU(D, H, num_layers=2, bidirectional=True)
    h0 = np.zeros((4, B, H), np.float32)
    h0[3, 1, 0] = np.nan
    with pytest.raises(mg.AnomalyError, match=r"GRU: it is in the initial state h0 given to forward, "
                                              r"at layer 1 reverse \(batch 1\)"):
        with mg.detect_anomaly():
            gru(mg.randn(T, B, D), mg.tensor(h0))


# --------------------------------------------------------------------------- 4. nn.LSTM
def test_recurrent_layers_are_reachable_from_nn():
    for name in ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"):
        assert getattr(mg.nn, name) is getattr(models, name)
        assert name in dir(mg.nn) and name in mg.nn.__all__
    from minigrad.nn import GRUCell as imported
    assert imported is GRUCell
    with pytest.raises(AttributeError, match="module 'minigrad.nn' has no attribute 'Transformer'"):
        mg.nn.Transformer  # noqa: B018


def test_import_minigrad_does_not_import_the_models():
    code = ("import sys, minigrad; assert 'minigrad.models' not in sys.modules; "
            "lstm = minigrad.nn.LSTM; assert 'minigrad.models' in sys.modules; "
            "import minigrad.models; assert lstm is minigrad.models.LSTM; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


# --------------------------------------------------------------------------- 5. left out, clearly
def test_lstm_has_no_projection():
    with pytest.raises(NotImplementedError, match=r"LSTM: proj_size=2 is not supported: minigrad's LSTM "
                                                  r"has no projection"):
        LSTM(D, H, proj_size=2)
    with pytest.raises(ValueError, match=r"LSTM: proj_size must be 0 \(no projection\), got -1"):
        LSTM(D, H, proj_size=-1)
    assert LSTM(D, H, proj_size=0).proj_size == 0


@pytest.mark.parametrize("layer_type", LAYERS)
def test_packed_sequences_and_lists_are_refused_clearly(layer_type):
    PackedSequence = collections.namedtuple("PackedSequence", "data batch_sizes sorted_indices unsorted_indices")
    packed = PackedSequence(mg.randn(7, D), np.array([3, 2, 2]), None, None)
    name = layer_type.__name__
    with pytest.raises(TypeError, match=rf"{name}: input is a PackedSequence, but minigrad's recurrent "
                                        rf"layers take one padded tensor only"):
        layer_type(D, H)(packed)
    with pytest.raises(TypeError, match=rf"{name}: input is a list, .* pad the sequences to one length"):
        layer_type(D, H)([mg.randn(T, D), mg.randn(T - 1, D)])


@pytest.mark.parametrize("make", [lambda **kw: LSTM(D, H, **kw), lambda **kw: GRU(D, H, **kw),
                                  lambda **kw: RNN(D, H, **kw), lambda **kw: LSTMCell(D, H, **kw),
                                  lambda **kw: Recurrent(PeepholeLSTMCell, D, H, **kw)])
def test_device_and_dtype_keywords(make):
    assert all(p.dtype == np.float32 for p in make(device="cpu", dtype=None).parameters())
    double = make(dtype=mg.float64)
    assert all(p.dtype == np.float64 for p in double.parameters())
    x = mg.randn(T, B, D, dtype=mg.float64) if hasattr(double, "num_layers") else mg.randn(B, D, dtype=mg.float64)
    assert flat(double(x)[0] if hasattr(double, "num_layers") else double(x))[0].dtype == np.float64
    assert make(dtype="float64").parameters().__next__().dtype == np.float64
    with pytest.raises(ValueError, match=r": minigrad runs on the CPU only \(numpy arrays\): device must be "
                                         r"None or 'cpu', got 'cuda'"):
        make(device="cuda")
    with pytest.raises(TypeError, match=r": dtype must be float32 or float64 .*, got <class 'numpy.float16'>"):
        make(dtype=mg.float16)


def test_lstm_takes_torchs_positional_arguments():
    lstm = LSTM(D, H, 2, True, True, 0.0, True)   # ..., batch_first, dropout, bidirectional
    assert lstm.num_layers == 2 and lstm.bias and lstm.batch_first and lstm.dropout == 0.0 and lstm.bidirectional
    rnn = RNN(D, H, 1, "relu", False, False, 0.0, True)
    assert rnn.cells[0].nonlinearity == "relu" and not rnn.bias and rnn.bidirectional
