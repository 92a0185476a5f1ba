"""Gradient flow through time: ‖dL/dh_t‖ per step, its colours in the unrolled graph, and the
plot of it."""
import re

import graphviz
import numpy as np
import pytest

import minigrad as mg
from minigrad import viz
from minigrad.models import LSTM, RNN

T = 6


def forward(model, seed=0):
    x = mg.tensor(np.random.default_rng(seed).standard_normal((T, 2, 3)).astype(np.float32))
    output, _ = model(x)
    return output[-1].sum()      # the loss sees the last step only


def recorded(model):
    with viz.record():
        loss = forward(model)
        loss.backward()
    return loss


@pytest.fixture(scope="module")
def small_rnn():
    """An RNN with small recurrent weights: every step back multiplies the gradient by
    about W_hh tanh' (norm < 1)."""
    mg.manual_seed(0)
    model = RNN(3, 8)
    model.weight_hh_l0.data *= 0.3
    return model, recorded(model)


@pytest.fixture(scope="module")
def remembering_lstm():
    """An LSTM whose forget gates sit near 1 (forget bias +6), with the same small recurrent
    weights: the cell state carries the gradient back."""
    mg.manual_seed(0)
    model = LSTM(3, 8)
    model.weight_hh_l0.data *= 0.3
    model.bias_hh_l0.data[8:16] += 6.0
    return model, recorded(model)


def luminance(hex_colour):
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def fills(src, nodes):
    out = []
    for node in nodes:
        stmt = re.search(rf"\n\t+{re.escape(graphviz.quoting.quote(node.id))} \[(.*?)\]\n", src, re.S)
        out.append(re.search(r'fillcolor="(#[0-9a-f]{6})"', stmt.group(1)).group(1))
    return out


def test_rnn_gradient_norms_fall_back_through_time_and_colours_follow(small_rnn):
    model, loss = small_rnn
    norms = viz.gradient_norms(loss)
    assert norms.shape == (T,)
    assert np.all(np.diff(norms) > 0)                    # smaller at every step back from the loss
    assert norms[0] < 1e-2 * norms[-1]
    g = viz.trace_unrolled(loss, params=model, level="cell")
    hs = sorted(g.find("value", "h"), key=lambda n: n.scope)
    assert [n.grad_norm for n in hs] == pytest.approx(list(norms))
    light = [luminance(c) for c in fills(viz.to_digraph(g).source, hs)]
    assert np.all(np.diff(light) < 0)                    # paler at every step back (viridis)


def test_lstm_with_forget_gates_near_one_keeps_its_gradient(small_rnn, remembering_lstm):
    rnn = viz.gradient_norms(small_rnn[1])
    model, loss = remembering_lstm
    lstm = viz.gradient_norms(loss)
    assert lstm[0] / lstm[-1] > 100 * rnn[0] / rnn[-1]   # h: far less lost over the sequence
    g = viz.trace_unrolled(loss, params=model, level="cell")
    cs = sorted(g.find("value", "c"), key=lambda n: n.scope)
    c_norms = np.array([n.grad_norm for n in cs])
    assert c_norms.min() > 0.5 * c_norms.max()           # the cell state barely loses any
    light = [luminance(c) for c in fills(viz.to_digraph(g).source, cs)]
    assert max(light) - min(light) < 0.1                 # so its colour hardly changes


def test_norms_from_a_users_list_match_the_scope_and_the_kept_grads(small_rnn):
    model, loss = small_rnn
    hs = viz.states_by_scope(loss)
    assert [h.scope for h in hs] == [f"layer0/t{t}" for t in range(T)]
    expected = [np.linalg.norm(h.grad.data.astype(np.float64)) for h in hs]
    assert viz.gradient_norms(loss, hs) == pytest.approx(expected)
    assert viz.gradient_norms(loss) == pytest.approx(expected)


def test_norms_before_backward_leave_every_grad_untouched():
    mg.manual_seed(0)
    model = RNN(3, 4)
    loss = forward(model)
    hs = viz.states_by_scope(loss)
    norms = viz.gradient_norms(loss, hs)                 # computed by its own backward pass
    assert all(h.grad is None for h in hs) and all(p.grad is None for p in model.parameters())
    with viz.record():
        loss.backward()                                  # the user's backward still works, once
    assert viz.gradient_norms(loss, hs) == pytest.approx(norms)
    mg.manual_seed(0)
    fresh = RNN(3, 4)
    forward(fresh).backward()
    # (float32: the kept-gradients pass may sum the steps in another order, hence rtol 1e-5)
    np.testing.assert_allclose(model.weight_hh_l0.grad, fresh.weight_hh_l0.grad, rtol=1e-5, atol=1e-7)


def test_states_of_a_chosen_layer_are_found_by_scope():
    mg.manual_seed(0)
    model = RNN(3, 4, num_layers=2)
    loss = forward(model)
    assert [h.scope for h in viz.states_by_scope(loss, layer=0)] == [f"layer0/t{t}" for t in range(T)]
    assert [h.scope for h in viz.states_by_scope(loss)] == [f"layer1/t{t}" for t in range(T)]
    assert viz.states_by_scope(loss, layer="layer0")[0].scope == "layer0/t0"


def test_states_outside_the_graph_or_unknown_names_are_refused(small_rnn):
    model, loss = small_rnn
    with pytest.raises(ValueError, match="not part of the loss's graph"):
        viz.gradient_norms(forward(model), [mg.zeros(2, 8, requires_grad=True)])
    with pytest.raises(ValueError, match="names found in steps: 'h'"):
        viz.states_by_scope(loss, name="c")


def test_plot_is_written_to_png_and_holds_the_norms(small_rnn, remembering_lstm, tmp_path):
    curves = {"RNN": viz.gradient_norms(small_rnn[1]), "LSTM": viz.gradient_norms(remembering_lstm[1])}
    fig = viz.plot_gradient_flow(curves)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in ax.lines] == ["RNN", "LSTM"]
    for line, norms in zip(ax.lines, curves.values(), strict=True):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(T))
        np.testing.assert_array_equal(line.get_ydata(), norms)
    path = tmp_path / "flow.png"
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_the_four_gate_cells_hidden_state_is_found_by_default():
    from minigrad.models import FourGateLSTMCell, Recurrent
    mg.manual_seed(0)
    loss = forward(Recurrent(FourGateLSTMCell, 3, 4))
    hs = viz.states_by_scope(loss)
    assert [h.name for h in hs] == ["use"] * T
    assert viz.gradient_norms(loss).shape == (T,)
