"""LSTM(fused=True): the same values and gradients as the composed cells, one node per layer."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.gradcheck import gradcheck
from minigrad.models import LSTM, CharRNN, detach_state
from minigrad.models.fused_lstm import lstm_window


def run(lstm, x, state, fused, grads):
    """Output, final state and every gradient of <output, R> + <h_n, S> + <c_n, U>."""
    lstm.fused = fused
    lstm.zero_grad()
    leaves = [x] + [s for s in state or () if s.requires_grad]
    for leaf in leaves:
        leaf.grad = None
    out, (h_n, c_n) = lstm(x, state)
    r, s, u = (mg.tensor(g) for g in grads)
    ((out * r).sum() + (h_n * s).sum() + (c_n * u).sum()).backward()
    return ([out.data, h_n.data, c_n.data] + [leaf.grad for leaf in leaves]
            + [p.grad for p in lstm.parameters()])


def make(dtype, num_layers=2, batch_first=False, seed=0, T=5, B=3, D=4, H=6):
    mg.manual_seed(seed)
    lstm = LSTM(D, H, num_layers, batch_first=batch_first)
    if dtype == np.float64:
        lstm.double()
    rng = np.random.default_rng(seed)
    shape = (B, T, D) if batch_first else (T, B, D)
    x = mg.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
    state = tuple(mg.tensor(rng.standard_normal((num_layers, B, H)).astype(dtype), requires_grad=True)
                  for _ in range(2))
    out_shape = (B, T, H) if batch_first else (T, B, H)
    grads = (rng.standard_normal(out_shape).astype(dtype),
             rng.standard_normal((num_layers, B, H)).astype(dtype),
             rng.standard_normal((num_layers, B, H)).astype(dtype))
    return lstm, x, state, grads


@pytest.mark.parametrize("num_layers, batch_first", [(1, False), (2, False), (3, True)])
def test_fused_values_and_gradients_equal_the_composed_cells_in_float64(num_layers, batch_first):
    lstm, x, state, grads = make(np.float64, num_layers, batch_first)
    composed = run(lstm, x, state, False, grads)
    fused = run(lstm, x, state, True, grads)
    assert len(composed) == len(fused) == 3 + 3 + 4 * num_layers
    for k, (a, b) in enumerate(zip(composed, fused)):
        assert a.shape == b.shape and a.dtype == b.dtype == np.float64, k
        if k < 3:  # the same formulas in the same order: the very same values
            np.testing.assert_array_equal(b, a)
        else:
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14, err_msg=f"gradient {k}")


def test_fused_in_float32_keeps_float32_and_matches():
    lstm, x, state, grads = make(np.float32)
    composed = run(lstm, x, state, False, grads)
    fused = run(lstm, x, state, True, grads)
    for k, (a, b) in enumerate(zip(composed, fused)):
        assert b.dtype == np.float32, k
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5, err_msg=f"result {k}")


def test_fused_from_zero_state_and_with_dropout_matches():
    lstm, x, _, grads = make(np.float64, num_layers=2)
    lstm.dropout = 0.5  # the same masks when the random stream starts at the same point
    results = []
    for fused in (False, True):
        mg.manual_seed(7)
        results.append(run(lstm, x, None, fused, grads))
    for k, (a, b) in enumerate(zip(*results)):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14, err_msg=f"result {k}")


def test_lstm_window_gradient_against_finite_differences():
    rng = np.random.default_rng(1)
    T, B, H = 4, 2, 3
    x_proj = rng.standard_normal((T, B, 4 * H))
    weight_hh = rng.standard_normal((4 * H, H)) * 0.5
    h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    assert gradcheck(lstm_window, [x_proj, weight_hh, h0, c0])


def test_lstm_window_gradient_with_one_tensor_as_both_states():
    rng = np.random.default_rng(2)
    x_proj = mg.tensor(rng.standard_normal((3, 2, 8)), requires_grad=True)
    weight_hh = mg.tensor(rng.standard_normal((8, 2)), requires_grad=True)
    s = mg.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    assert gradcheck(lambda xp, w, s: lstm_window(xp, w, s, s * 2), [x_proj, weight_hh, s])


def test_lstm_window_skips_what_needs_no_gradient():
    rng = np.random.default_rng(3)
    x_proj = mg.tensor(rng.standard_normal((3, 2, 8)), requires_grad=True)
    weight_hh = mg.tensor(rng.standard_normal((8, 2)))  # frozen
    h0 = c0 = mg.zeros(2, 2, dtype=mg.float64)
    lstm_window(x_proj, weight_hh, h0, c0).sum().backward()
    assert x_proj.grad.shape == (3, 2, 8) and np.abs(x_proj.grad.data).sum() > 0
    assert weight_hh.grad is None and h0.grad is None


def test_lstm_window_bad_shapes_name_the_op_and_shapes():
    x_proj = mg.zeros(3, 2, 8)
    with pytest.raises(ValueError, match=r"lstmwindow: .*\(3, 2, 8\) and \(8, 3\).*expected x_proj \(T, B, 4H\)"):
        lstm_window(x_proj, mg.zeros(8, 3), mg.zeros(2, 2), mg.zeros(2, 2))
    with pytest.raises(ValueError, match=r"lstmwindow: .*h0 and c0 \(B, H\)"):
        lstm_window(x_proj, mg.zeros(8, 2), mg.zeros(3, 2), mg.zeros(2, 2))
    with pytest.raises(ValueError, match=r"lstmwindow: cannot apply to shapes \(2, 8\)"):
        lstm_window(mg.zeros(2, 8), mg.zeros(8, 2), mg.zeros(2, 2), mg.zeros(2, 2))
    with pytest.raises(TypeError, match=r"lstmwindow: .*one float dtype for all four, got float32, float64"):
        lstm_window(x_proj, mg.zeros(8, 2, dtype=mg.float64), mg.zeros(2, 2), mg.zeros(2, 2))


def test_fused_layer_is_one_node_per_layer_with_the_same_parameters():
    composed = LSTM(4, 6, 2)
    fused = LSTM(4, 6, 2, fused=True)
    assert list(fused.state_dict()) == list(composed.state_dict())
    assert "fused=True" in repr(fused) and "fused" not in repr(composed)
    out, (h_n, c_n) = fused(mg.zeros(5, 3, 4))
    nodes, stack = [], [out, h_n, c_n]
    seen = set()
    while stack:
        t = stack.pop()
        if id(t) in seen or t.grad_fn is None:
            continue
        seen.add(id(t))
        nodes.append(type(t.grad_fn).__name__)
        stack.extend(t.grad_fn.inputs)
    assert nodes.count("LSTMWindow") == 2
    assert "Sigmoid" not in nodes and "Tanh" not in nodes


def test_fused_carries_state_across_windows_like_the_composed_layer():
    lstm, _, _, _ = make(np.float64)
    rng = np.random.default_rng(4)
    windows = [mg.tensor(rng.standard_normal((5, 3, 4))) for _ in range(3)]
    outputs = {}
    for fused in (False, True):
        lstm.fused, state, outs = fused, None, []
        for x in windows:
            out, state = lstm(x, state)
            state = detach_state(state)
            outs.append(out.data)
        outputs[fused] = outs
    for a, b in zip(outputs[False], outputs[True]):
        np.testing.assert_array_equal(b, a)


def test_char_rnn_trains_the_same_fused_or_composed():
    rng = np.random.default_rng(5)
    batches = [(rng.integers(0, 11, (8, 4)), rng.integers(0, 11, (8, 4)))] * 4  # one batch, learnt
    losses = {}
    for fused in (False, True):
        mg.manual_seed(0)
        model = CharRNN(11, hidden_size=16, num_layers=2, fused=fused)
        opt = mg.optim.Adam(model.parameters(), lr=1e-2)
        state, losses[fused] = None, []
        for x, y in batches:
            logits, state = model(x, state)
            loss = mg.nn.functional.cross_entropy(logits.reshape(-1, 11), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            state = detach_state(state)
            losses[fused].append(loss.item())
    assert losses[True][0] == losses[False][0]
    np.testing.assert_allclose(losses[True], losses[False], rtol=1e-5)
    assert losses[True][-1] < losses[True][0]
    assert "fused" not in model.config()


def test_char_rnn_fused_is_for_lstm_only():
    with pytest.raises(ValueError, match="fused=True is only for cell='lstm', not 'gru'"):
        CharRNN(11, cell="gru", fused=True)


def test_gradient_flow_of_a_fused_layer_says_how_to_see_the_steps():
    from minigrad import viz
    model = CharRNN(11, hidden_size=8, num_layers=1, fused=True)
    logits, _ = model(np.zeros((4, 2), dtype=int))
    loss = mg.nn.functional.cross_entropy(logits[-1], np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match=r"fused=True makes no per-step tensors: set its .fused = False"):
        viz.gradient_norms(loss)
