"""Story 4, the LSTM's gates: the gates set through the biases hold the memory, in process."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.viz.trace import tensors_in_order

from conftest import load_example

gates = load_example("lstm_gates")


def test_the_mapping_covers_the_four_gates():
    assert [row[0] for row in gates.MAPPING] == ["learn", "forget", "remember", "use"]


@pytest.mark.parametrize("kind", ["lstm", "fourgate"])
def test_hold_gates_sets_only_the_gate_biases(kind):
    cell = gates.make_cell(kind)
    weights = {n: p.data.copy() for n, p in cell.named_parameters() if "weight" in n}
    gates.hold_gates(cell, kind, bias=12.0)
    H = cell.hidden_size
    b = cell.bias_ih.data + cell.bias_hh.data if kind == "lstm" else cell.bias.data
    for gate, sign in gates.HOLD[kind].items():
        k = gates.GATE_ROWS[kind][gate]
        np.testing.assert_array_equal(b[k * H:(k + 1) * H], sign * 12.0)
    for name, value in weights.items():
        np.testing.assert_array_equal(dict(cell.named_parameters())[name].data, value)


@pytest.mark.parametrize("kind", ["lstm", "fourgate"])
def test_gate_values_are_the_cells_own(kind):
    cell = gates.make_cell(kind)
    x = mg.tensor(np.random.default_rng(1).standard_normal((1, 3)).astype(np.float32))
    h, c = (mg.tensor(s) for s in gates.initial_state())
    h.requires_grad_(True)
    h_next, c_next = cell(x, (h, c))
    out = h_next + c_next      # the four-gate cell's STM' does not depend on i: trace both
    named = {t.name: t.data[0] for t in tensors_in_order(out) if t.name}
    mine = gates.gate_values(cell, kind, cell.project_input(x), h)
    np.testing.assert_allclose(mine["i"], named["i"], rtol=1e-5)
    np.testing.assert_allclose(mine["f"], named["f"], rtol=1e-5)
    np.testing.assert_allclose(mine["o"], named["o" if kind == "lstm" else "V"], rtol=1e-5)


def test_with_the_gates_held_the_cell_keeps_its_memory_for_50_steps():
    inputs, runs = gates.experiment(steps=50, bias=12.0, seed=0)
    assert np.abs(inputs).max() > 1, "real input arrives at every step"
    for label in ("LSTM, gates held", "four-gate cell, gates held"):
        trace = runs[label]
        assert trace["c"].shape == (51, 4) and trace["h"].shape == (51, 4)
        np.testing.assert_allclose(trace["c"][-1], trace["c"][0], atol=1e-3)
        np.testing.assert_allclose(trace["c"][0], [0.9, 0.3, -0.3, -0.9], atol=1e-6)
        assert np.abs(trace["h"]).max() < 1e-3, "and shows nothing"
    free = runs["LSTM, initial gates"]
    assert np.abs(free["c"][-1] - free["c"][0]).max() > 0.1
    assert np.abs(free["h"]).max() > 0.1


def test_a_weak_hold_leaks():
    _, runs = gates.experiment(steps=50, bias=3.0, seed=0)
    assert gates.summary(runs["LSTM, gates held"])["c_drift"] > 1e-2
