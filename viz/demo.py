"""demo: the standard lecture examples behind `python -m minigrad.viz`: a small recurrent layer of a
chosen cell, run over a random sequence, with the loss on the last step only, so every
gradient reaching an earlier step has come back through time.
"""
import numpy as np

import minigrad as mg
from minigrad.models import FourGateLSTMCell, GRUCell, LSTMCell, PeepholeLSTMCell, Recurrent, RNNCell
from minigrad.viz.record import record

CELLS = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell, "peephole": PeepholeLSTMCell,
         "fourgate": FourGateLSTMCell}
TITLES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU", "peephole": "peephole LSTM",
          "fourgate": "four-gate LSTM"}
FORGET_ROWS = {"lstm": 1, "peephole": 1, "fourgate": 2}   # the forget gate's block of bias rows


def make_model(cell, input_size=3, hidden_size=4, num_layers=1, forget_bias=None, seed=0):
    """A `Recurrent` layer of the named cell, seeded; `forget_bias` (LSTMs) is added to the
    forget gate's bias, so f = σ(... + forget_bias) starts near 1 for a large value."""
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
    mg.manual_seed(seed)
    model = Recurrent(CELLS[cell], input_size, hidden_size, num_layers)
    if forget_bias is not None:
        if cell not in FORGET_ROWS:
            raise ValueError(f"forget_bias: the {cell} cell has no forget gate")
        H, k = hidden_size, FORGET_ROWS[cell]
        for cell_module in model.cells:     # one bias per cell: bias_hh (LSTMs) or bias (four-gate)
            bias = cell_module.bias if cell == "fourgate" else cell_module.bias_hh
            bias.data[k * H:(k + 1) * H] += np.float32(forget_bias)
    return model


def run(model, steps, batch=2, seed=1, backward=True):
    """Run `model` on a random (steps, batch, input_size) sequence x and backpropagate the
    loss L = sum(h at the last step) inside `viz.record()` (backward=False: leave that to
    the caller, e.g. `viz.animate_backward`). Returns (L, x)."""
    rng = np.random.default_rng(seed)
    x = mg.tensor(rng.standard_normal((steps, batch, model.input_size)).astype(np.float32),
                  requires_grad=True)
    x.name = "x"
    with record():
        output, _ = model(x)
        loss = output[-1].sum()
        loss.name = "L"
        if backward:
            loss.backward()
    return loss, x
