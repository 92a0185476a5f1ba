"""The unrolled graph through time: clusters per step, the two levels of detail, the bold
recurrent path, layers, and user loops that scope their own steps."""
import re
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import viz
from minigrad.models import GRU, LSTM, FourGateLSTMCell, Recurrent, RNNCell
from minigrad.viz.scopes import parse_step


def run(model, T=3, B=2, D=3, seed=0):
    rng = np.random.default_rng(seed)
    x = mg.tensor(rng.standard_normal((T, B, D)).astype(np.float32))
    with viz.record():
        output, _ = model(x)
        loss = output[-1].sum()
        loss.backward()
    return loss


@pytest.fixture(scope="module")
def lstm():
    mg.manual_seed(0)
    model = LSTM(3, 4)
    return model, run(model)


def step_of(node):
    return parse_step(node.scope)


def test_cell_level_lstm_has_one_cluster_per_step_and_the_state_edges(lstm):
    model, loss = lstm
    g = viz.trace_unrolled(loss, params=model, level="cell")
    assert [(c.id, c.label, c.parent) for c in g.clusters.values()] == [
        ("t0", "t = 0", None), ("t1", "t = 1", None), ("t2", "t = 2", None)]
    boxes = g.find("cell")
    assert [b.id for b in boxes] == ["cell/layer0/t0", "cell/layer0/t1", "cell/layer0/t2"]
    assert [b.cluster for b in boxes] == ["t0", "t1", "t2"]
    assert boxes[0].name == "LSTM\ni f g o"
    assert not any(n.param for n in g.nodes.values())          # weights are left out
    visible = {(e.tail, e.head): e for e in g.visible_edges()}
    for t in (0, 1):
        for name in ("h", "c"):
            [state] = [n for n in g.find("value", name) if step_of(n).t == t]
            assert state.state and state.cluster == f"t{t}"
            into, out = visible[(f"cell/layer0/t{t}", state.id)], visible[(state.id, f"cell/layer0/t{t + 1}")]
            assert into.recurrent and out.recurrent
            assert into.grad_norm == out.grad_norm == state.grad_norm > 0
    # the last step hands on h (to the output); its c stays inside the box
    assert [step_of(n).t for n in g.find("value", "h")] == [0, 1, 2]
    assert [step_of(n).t for n in g.find("value", "c")] == [0, 1]


def test_cell_level_dot_source_has_three_step_clusters(lstm):
    model, loss = lstm
    src = viz.draw_unrolled(loss, params=model, level="cell").source
    assert re.findall(r"subgraph (\S+) \{", src) == ["cluster_t0", "cluster_t1", "cluster_t2"]
    assert [m for m in re.findall(r'label="(t = \d)"', src)] == ["t = 0", "t = 1", "t = 2"]
    assert src.count("penwidth=5") == 9     # bold: box -> h, c; h, c -> next box; last box -> h
    assert "bold</b>: recurrent path" in src


def test_op_level_lstm_draws_every_gate_and_hadamard_product_in_its_step(lstm):
    model, loss = lstm
    g = viz.trace_unrolled(loss, params=model, level="op")
    assert list(g.clusters) == ["t0", "t1", "t2"]
    for t in range(3):
        inside = [n for n in g.nodes.values() if n.cluster == f"t{t}"]
        assert {n.name for n in inside if n.kind == "value" and not n.leaf} == {"i", "f", "g", "o", "c", "h"}
        assert sum(n.kind == "op" and n.name == "⊙" for n in inside) == 3
        shared = [n for n in inside if n.shared]          # weight_hh drawn in every step, uncoloured
        assert [n.name for n in shared] == ["weight_hh_l0"] and shared[0].grad_norm is None


def test_op_level_recurrent_path_runs_along_the_cell_state(lstm):
    model, loss = lstm
    g = viz.trace_unrolled(loss, params=model, level="op")
    c0, c1 = g.find("value", "c")[:2]
    succ = {}
    for e in g.edges:
        if e.recurrent:
            succ.setdefault(e.tail, []).append(e.head)
    # c_0 -> ⊙ (with f) -> + -> c_1, every edge bold
    [mul] = [h for h in succ[c0.id] if g.nodes[h].name == "⊙"]
    [add] = succ[mul]
    assert g.nodes[add].name == "+" and c1.id in succ[add]
    # and h_0 reaches h_1 along bold edges too
    h0, h1 = g.find("value", "h")[:2]
    seen, todo = set(), [h0.id]
    while todo:
        for nxt in succ.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert h1.id in seen


def test_values_all_keeps_unnamed_intermediates(lstm):
    model, loss = lstm
    named = viz.trace_unrolled(loss, level="op")
    everything = viz.trace_unrolled(loss, level="op", values="all")
    assert len(everything) > len(named)
    assert any(n.kind == "value" and n.name is None and not n.leaf for n in everything.nodes.values())
    assert not any(n.kind == "value" and n.name is None and not n.leaf and n.id != named.root
                   for n in named.nodes.values())


def test_two_layers_make_a_grid_of_layers_and_steps():
    mg.manual_seed(0)
    model = LSTM(3, 4, num_layers=2)
    g = viz.trace_unrolled(run(model), params=model, level="cell")
    top = [c.id for c in g.clusters.values() if c.parent is None]
    assert sorted(top) == ["layer0", "layer1"]
    for layer in (0, 1):
        labels = [c.label for c in g.clusters.values() if c.parent == f"layer{layer}"]
        assert labels == ["t = 0", "t = 1", "t = 2"]
    # step t of both layers in one column
    boxes = [ids for ids in g.same_rank if g.nodes[ids[0]].kind == "cell"]
    assert boxes == [[f"cell/layer0/t{t}", f"cell/layer1/t{t}"] for t in range(3)]
    assert '{rank=same; "cell/layer0/t0" "cell/layer1/t0"}' in viz.to_digraph(g).source
    # layer 1 at step t reads layer 0's h_t: an edge that does not push ranks
    for t in range(3):
        [h] = [n for n in g.find("value", "h") if n.scope == f"layer0/t{t}"]
        [edge] = [e for e in g.edges if e.tail == h.id and e.head == f"cell/layer1/t{t}"]
        assert not edge.constraint and not edge.recurrent


def test_gru_and_four_gate_cells_are_titled_and_pass_their_states():
    mg.manual_seed(0)
    g = viz.trace_unrolled(run(GRU(3, 4)), level="cell")
    assert g.nodes["cell/layer0/t0"].name == "GRU\nr z n"
    mg.manual_seed(0)
    g = viz.trace_unrolled(run(Recurrent(FourGateLSTMCell, 3, 4)), level="cell")
    assert g.nodes["cell/layer0/t1"].name.startswith("four-gate LSTM")
    states = {n.name for n in g.nodes.values() if n.state}
    assert states == {"use", "remember"}


def test_every_box_lists_only_the_gates_also_in_the_last_step(lstm):
    """The last step hands on only h, its c stays inside the box: c is still a state, not a gate."""
    model, loss = lstm
    boxes = viz.trace_unrolled(loss, params=model, level="cell").find("cell")
    assert [b.name for b in boxes] == ["LSTM\ni f g o"] * 3
    mg.manual_seed(0)
    one_step = viz.trace_unrolled(run(LSTM(3, 4), T=1), level="cell").find("cell")
    assert [b.name for b in one_step] == ["LSTM\ni f g o"]
    mg.manual_seed(0)     # the four-gate cell's last step computes no `learn`: titled from the others
    boxes = viz.trace_unrolled(run(Recurrent(FourGateLSTMCell, 3, 4)), level="cell").find("cell")
    assert [b.name.split("\n")[0] for b in boxes] == ["four-gate LSTM"] * 3
    assert not {"remember", "use"} & {gate for b in boxes for gate in b.name.split("\n")[1].split()}


def test_a_users_own_loop_in_scopes_is_unrolled():
    """x[t] sliced outside the step scope is drawn inside step t (its only use)."""
    mg.manual_seed(0)
    cell = RNNCell(3, 4)
    x = mg.randn(3, 2, 3, requires_grad=True)
    h = None
    with viz.record():
        with mg.scope("layer0"):
            for t in range(3):
                xt = x[t]
                xt.name = "x_t"
                with mg.scope(f"t{t}"):
                    h = cell(xt, h)
        loss = h.sum()
        loss.backward()
    for level in ("op", "cell"):
        g = viz.trace_unrolled(loss, params=cell, level=level)
        assert sorted(n.cluster for n in g.find("value", "x_t")) == ["t0", "t1", "t2"]
        assert sorted(n.cluster for n in g.find("value", "h")) == ["t0", "t1", "t2"]
    assert [b.name for b in g.find("cell")] == ["RNN"] * 3


def test_steps_are_kept_in_order_by_invisible_edges(lstm):
    model, loss = lstm
    g = viz.trace_unrolled(loss, level="op")
    hidden = [e for e in g.edges if not e.visible]
    assert hidden and all(g.nodes[e.tail].state for e in hidden)
    assert all(step_of(g.nodes[e.head]) is None or g.nodes[e.head].cluster != g.nodes[e.tail].cluster
               for e in hidden)
    assert 'style=invis' in viz.to_digraph(g).source


def test_unrolled_without_scopes_warns_and_bad_level_raises():
    a = mg.tensor([1.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        viz.trace_unrolled(a.tanh())
    assert "time-step scope" in str(caught[0].message)
    with pytest.raises(ValueError, match="level must be one of"):
        viz.trace_unrolled(a.tanh(), level="gates")


def test_max_nodes_suggests_the_cell_level(lstm):
    model, loss = lstm
    with pytest.raises(viz.GraphTooLargeError, match="level='cell'"):
        viz.draw_unrolled(loss, level="op", max_nodes=20)
    assert len(viz.trace_unrolled(loss, level="cell", max_nodes=20)) <= 20
