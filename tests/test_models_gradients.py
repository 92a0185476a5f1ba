"""Gradients through unrolled steps, for the inputs, the initial state and every parameter,
against central finite differences in float64 (mg.gradcheck). Sizes are tiny on purpose."""

import numpy as np
import pytest

import minigrad as mg
from module_gradcheck import check, parameters_replaced
from minigrad.models import FourGateLSTMCell, GRUCell, LSTMCell, PeepholeLSTMCell, Recurrent, RNNCell

D, H, B, T = 3, 2, 2, 5
TWO_PART = (LSTMCell, PeepholeLSTMCell, FourGateLSTMCell)
CELLS = [RNNCell, LSTMCell, GRUCell, PeepholeLSTMCell, FourGateLSTMCell]


@pytest.mark.parametrize("cell_type", CELLS)
def test_the_swap_reaches_every_parameter(cell_type):
    """Guards the checks below: were a parameter not swapped, its analytic and numeric
    gradients would both be zero and gradcheck would pass vacuously."""
    layer = Recurrent(cell_type, D, H, num_layers=2).double()
    stand_ins = {name: mg.tensor(p.data.copy(), requires_grad=True) for name, p in layer.named_parameters()}
    with parameters_replaced(layer, stand_ins):
        output, _ = layer(mg.randn(T, B, D, dtype=mg.float64))
    (output * output).sum().backward()
    assert all(t.grad is not None and np.abs(t.grad.data).max() > 0 for t in stand_ins.values())
    assert all(p.grad is None for p in layer.parameters())
    assert layer.cells[0].weight_ih is layer.weight_ih_l0   # restored


def state_arrays(cell_type, rng, shape):
    parts = 2 if cell_type in TWO_PART else 1
    return [rng.standard_normal(shape) for _ in range(parts)]


@pytest.mark.parametrize("cell_type", CELLS)
def test_cell_gradients_through_five_steps(cell_type):
    mg.manual_seed(10)
    rng = np.random.default_rng(10)
    cell = cell_type(D, H).double()
    xs = rng.standard_normal((T, B, D))
    state0 = state_arrays(cell_type, rng, (B, H))

    def unrolled(xs, *state):
        state = tuple(state) if len(state) > 1 else state[0]
        outputs = []
        for t in range(T):
            state = cell(xs[t], state)
            outputs.append(state[0] if isinstance(state, tuple) else state)
        return mg.stack(outputs), state

    check(cell, unrolled, [xs, *state0])


@pytest.mark.parametrize("nonlinearity", ["relu", "sigmoid"])
def test_rnn_cell_gradients_other_nonlinearities(nonlinearity):
    mg.manual_seed(11)
    rng = np.random.default_rng(11)
    cell = RNNCell(D, H, nonlinearity=nonlinearity).double()

    def unrolled(xs, h):
        for t in range(T):
            h = cell(xs[t], h)
        return h

    check(cell, unrolled, [rng.standard_normal((T, B, D)), rng.standard_normal((B, H))])


@pytest.mark.parametrize("cell_type", CELLS)
def test_two_layer_stack_gradients(cell_type):
    mg.manual_seed(12)
    rng = np.random.default_rng(12)
    layer = Recurrent(cell_type, D, H, num_layers=2).double()
    state0 = state_arrays(cell_type, rng, (2, B, H))

    def run(xs, *state):
        return layer(xs, tuple(state) if len(state) > 1 else state[0])

    check(layer, run, [rng.standard_normal((T, B, D)), *state0])


def test_batch_first_gradients():
    mg.manual_seed(13)
    rng = np.random.default_rng(13)
    layer = Recurrent(GRUCell, D, H, num_layers=1, batch_first=True).double()
    check(layer, lambda xs: layer(xs), [rng.standard_normal((B, T, D))])


def test_float32_gradients_stay_float32():
    mg.manual_seed(14)
    layer = Recurrent(LSTMCell, D, H, num_layers=2)
    x = mg.randn(T, B, D, requires_grad=True)
    output, (h_n, c_n) = layer(x)
    (output.sum() + c_n.sum()).backward()
    assert output.dtype == np.float32 and x.grad.dtype == np.float32
    assert all(p.grad is not None and p.grad.dtype == np.float32 for p in layer.parameters())
