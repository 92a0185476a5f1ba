"""The LSTM with peepholes as the lecture writes it: the gates also see the long-term memory.

    f  = σ(W_f [c, h, x] + b_f)    = σ(W_fc c + W_fh h + W_fx x + b_f)
    i  = σ(W_i [c, h, x] + b_i)    = σ(W_ic c + W_ih h + W_ix x + b_i)
    o  = σ(W_o [c, h, x] + b_o)    = σ(W_oc c + W_oh h + W_ox x + b_o)
    g  = tanh(W_g [h, x] + b_g)                 (no peephole: as the standard LSTM)
    c' = f ⊙ c + i ⊙ g
    h' = o ⊙ tanh(c')

with c, h the previous step's memories. A matrix acting on the concatenation [c, h, x] is the
sum of one block per part, which is how it is computed: the x and h blocks exactly as in
`LSTMCell` (PyTorch's layout), plus the peephole blocks W_ic, W_fc, W_oc stacked in
`weight_ch`. With weight_ch = 0 this is `LSTMCell`.

How this differs from the peepholes of Gers and Schmidhuber (2000), also in Graves (2013):
there each peephole is *diagonal*, w_fc ⊙ c, so a gate unit sees only its own cell, and the
output gate looks at the *new* memory c' (o = σ(... + w_oc ⊙ c')). Here every gate unit sees
the whole memory through a full H x H matrix, and all three gates look at the previous c, so
they are computed together before the memory is updated.
"""
from minigrad import hadamard

from minigrad.models.cell import label
from minigrad.models.lstm import LSTMCell


class PeepholeLSTMCell(LSTMCell):
    """PeepholeLSTMCell(input_size, hidden_size, bias=True, device=None, dtype=None): one step
    (x, (h, c)) -> (h', c').

    Parameters: those of LSTMCell (weight_ih (4H, D), weight_hh (4H, H), bias_ih, bias_hh
    (4H,), gate order i, f, g, o), and weight_ch (3H, H), the peepholes from c, in gate
    order i, f, o. All start ~ U(-1/sqrt(H), 1/sqrt(H)). The input's share of the gates,
    `project_input`, is LSTMCell's.
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.weight_ch = self.new_parameter(3 * self.hidden_size, self.hidden_size)
        self.reset_parameters()

    def step(self, x_proj, state):
        """One time step; x_proj = project_input(x), state = (h, c)."""
        h, c = state
        H = self.hidden_size
        gates = x_proj + h @ self.weight_hh.T       # rows i, f, g, o
        peep = c @ self.weight_ch.T                 # rows i, f, o
        i = (gates[:, 0 * H:1 * H] + peep[:, 0 * H:1 * H]).sigmoid()
        f = (gates[:, 1 * H:2 * H] + peep[:, 1 * H:2 * H]).sigmoid()
        g = gates[:, 2 * H:3 * H].tanh()
        o = (gates[:, 3 * H:4 * H] + peep[:, 2 * H:3 * H]).sigmoid()
        c_next = hadamard(f, c) + hadamard(i, g)
        h_next = hadamard(o, c_next.tanh())
        label(i=i, f=f, g=g, o=o, c=c_next, h=h_next)
        return h_next, c_next
