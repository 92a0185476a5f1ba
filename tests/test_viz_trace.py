"""viz.trace and viz.draw_graph on small expressions: exactly the expected nodes, edges and
labels, in the trace and in the DOT source."""
import re

import graphviz
import numpy as np
import pytest

import minigrad as mg
from minigrad import viz
from minigrad.viz.render import value_label


def node_attrs(source, node_id):
    """The attribute text of one node statement in DOT source."""
    m = re.search(rf"\n\t+{re.escape(graphviz.quoting.quote(node_id))} \[(.*?)\]\n", source, re.S)
    assert m, f"no node {node_id} in the DOT source"
    return m.group(1)


def edges_of(source):
    return re.findall(r"\n\t+(\S+) -> (\S+) \[", source)


def small(record=True):
    """y = x ⊙ w + x, L = sum(y) with x = [1, 2], w = [3, 4] (a named leaf, a parameter)."""
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    x.name = "x"
    w = mg.tensor([3.0, 4.0], requires_grad=True)
    if record:
        with viz.record():
            loss = (mg.hadamard(x, w) + x).sum()
            loss.backward()
    else:
        loss = (mg.hadamard(x, w) + x).sum()
    return loss, x, w


def test_trace_of_a_small_expression_has_exactly_the_expected_nodes_and_edges():
    loss, x, w = small()
    g = viz.trace(loss, params={"w": w})
    assert [(n.id, n.kind, n.name) for n in g.nodes.values()] == [
        ("v0", "value", "x"), ("v1", "value", "w"),
        ("op2", "op", "⊙"), ("v2", "value", None),
        ("op3", "op", "+"), ("v3", "value", None),
        ("op4", "op", "sum"), ("v4", "value", None)]
    assert [(e.tail, e.head) for e in g.edges] == [
        ("v0", "op2"), ("v1", "op2"), ("op2", "v2"),
        ("v2", "op3"), ("v0", "op3"), ("op3", "v3"),
        ("v3", "op4"), ("op4", "v4")]
    assert g.root == "v4"
    assert g.nodes["v1"].param and not g.nodes["v0"].param
    assert [g.nodes[i].shape for i in ("v0", "v2", "v4")] == [(2,), (2,), ()]
    # dL/dx = w + 1 = [4, 5], dL/dw = x, dL/dy = 1: norms, on nodes and the edges they touch
    assert g.nodes["v0"].grad_norm == pytest.approx(np.sqrt(41))
    assert g.nodes["v1"].grad_norm == pytest.approx(np.sqrt(5))
    assert g.nodes["v3"].grad_norm == pytest.approx(np.sqrt(2))
    assert g.nodes["v4"].grad_norm == pytest.approx(1.0)
    assert [e.grad_norm for e in g.edges[:2]] == [g.nodes["v0"].grad_norm, g.nodes["v1"].grad_norm]


def test_dot_source_of_a_small_expression_has_the_expected_nodes_edges_and_labels():
    loss, x, w = small()
    src = viz.draw_graph(loss, params={"w": w}).source
    assert sorted(edges_of(src)) == sorted([
        ("v0", "op2"), ("v1", "op2"), ("op2", "v2"), ("v2", "op3"), ("v0", "op3"),
        ("op3", "v3"), ("v3", "op4"), ("op4", "v4")])
    assert re.findall(r"\n\t+(v\d+|op\d+) \[", src) == ["v0", "v1", "op2", "v2", "op3", "v3", "op4", "v4"]
    assert "label=\"⊙\"" in node_attrs(src, "op2")
    assert "label=\"+\"" in node_attrs(src, "op3")
    assert "label=sum" in node_attrs(src, "op4")
    assert "<b>x</b></font><br/>(2,)<br/>‖∇‖ = 6.4e+00" in node_attrs(src, "v0")
    assert "<b>w</b></font><br/>(2,)<br/>‖∇‖ = 2.2e+00" in node_attrs(src, "v1")
    assert "peripheries=2" in node_attrs(src, "v1")          # a parameter
    assert "peripheries" not in node_attrs(src, "v0")
    assert 'label="scalar\n‖∇‖ = 1.0e+00"' in node_attrs(src, "v4")
    assert "gradient norm ‖dL/dx‖, log scale" in src          # the legend


def test_value_labels_name_shape_and_norm():
    loss, x, w = small()
    g = viz.trace(loss, params={"w": w})
    assert value_label(g.nodes["v0"]) == "x\n(2,)\n‖∇‖ = 6.4e+00"
    assert value_label(g.nodes["v0"], grads=False) == "x\n(2,)"
    assert value_label(g.nodes["v2"]) == "(2,)\n‖∇‖ = 1.4e+00"


def test_parameters_are_named_from_a_module():
    lin = mg.nn.Linear(3, 2)
    loss = lin(mg.ones(4, 3)).sum()
    names = {n.name for n in viz.trace(loss, params=lin).nodes.values() if n.param}
    assert names == {"weight", "bias"}


def test_a_tensor_used_twice_has_two_edges_and_is_one_node():
    a = mg.tensor([2.0], requires_grad=True)
    a.name = "a"
    b = a + a
    g = viz.trace((b + b).sum())
    assert len(g.find("value", "a")) == 1
    assert [(e.tail, e.head) for e in g.edges if e.tail == "v0"] == [("v0", "op1"), ("v0", "op1")]
    assert sum(1 for e in g.edges if e.tail == "v1") == 2        # b + b


def test_the_picture_is_the_same_on_every_run():
    assert viz.draw_graph(small()[0]).source == viz.draw_graph(small()[0]).source


def test_without_grads_there_are_no_norms_and_no_colour_scale():
    src = viz.draw_graph(small()[0], grads=False).source
    assert "‖∇‖" not in src and "log scale" not in src


def test_backward_outside_record_draws_a_hint():
    loss, x, w = small(record=False)
    loss.backward()
    src = viz.draw_graph(loss).source
    assert "viz.record()" in src          # intermediate gradients were not kept
    assert "‖∇‖ = 6.4e+00" in src         # leaves still show theirs


def test_watch_keeps_every_gradient_for_a_plain_backward():
    loss, x, w = small(record=False)
    viz.watch(loss).backward()
    assert viz.draw_graph(loss).source == viz.draw_graph(small()[0]).source


def test_a_constant_is_labelled_with_its_value():
    z = mg.tensor([0.25, 0.5], requires_grad=True)
    g = viz.trace((1 - z).sum())
    assert g.nodes["v0"].constant == 1.0
    assert value_label(g.nodes["v0"]) == "1"
    assert "label=1" in node_attrs(viz.draw_graph((1 - z).sum()).source, "v0")


def test_a_long_chain_is_walked_without_recursion_and_max_nodes_stops_it():
    y = mg.tensor([0.5], requires_grad=True)
    for _ in range(3000):
        y = y.tanh()
    g = viz.trace(y)
    assert len(g) == 6001 and len(g.edges) == 6000
    with pytest.raises(viz.GraphTooLargeError, match=r"6001 nodes, more than max_nodes=500"):
        viz.draw_graph(y, max_nodes=500)


def test_scoped_nodes_are_drawn_in_clusters_named_after_their_scope():
    a = mg.tensor([1.0], requires_grad=True)
    with mg.scope("encoder"):
        b = a.exp()
    g = viz.trace_graph(b * 2)
    assert {c.label for c in g.clusters.values()} == {"encoder"}
    assert g.nodes["v1"].cluster == "encoder" and g.nodes["v0"].cluster is None


def test_log_scale_colours_are_monotone_and_zero_is_palest():
    scale = viz.LogScale(1e-4, 1.0)
    positions = [scale.position(v) for v in (1.0, 1e-1, 1e-2, 1e-3, 1e-4)]
    assert positions == sorted(positions) and positions[0] == 0 and positions[-1] == 1
    assert scale.colour(1.0) == "#440154" and scale.colour(1e-4) == "#fde725"
    assert scale.colour(0.0) == "#fde725" and scale.colour(None) is None
    assert viz.LogScale.from_values([2.0, 1.0]).lo == pytest.approx(2e-3)   # at least 3 decades
