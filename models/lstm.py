"""The standard LSTM cell, exactly torch.nn.LSTMCell (Hochreiter and Schmidhuber, 1997, with
the forget gate of Gers et al., 2000).

    i  = σ(W_ii x + b_ii + W_hi h + b_hi)       input gate: how much of g to write
    f  = σ(W_if x + b_if + W_hf h + b_hf)       forget gate: how much of c to keep
    g  = tanh(W_ig x + b_ig + W_hg h + b_hg)    candidate values
    o  = σ(W_io x + b_io + W_ho h + b_ho)       output gate: how much of the memory to show
    c' = f ⊙ c + i ⊙ g                          new long-term memory (cell state)
    h' = o ⊙ tanh(c')                           new short-term memory (hidden state, the output)

The four gates' weights are stacked in PyTorch's order i, f, g, o: weight_ih (4H, D) holds
W_ii, W_if, W_ig, W_io one under the other, weight_hh (4H, H) the W_h*, and bias_ih, bias_hh
(4H,) the biases; so all four pre-activations come from one matmul each, and are cut apart
with `chunk(4)`.
"""
from minigrad import hadamard

from minigrad.models.cell import RecurrentCell, label


class LSTMCell(RecurrentCell):
    """LSTMCell(input_size, hidden_size, bias=True, device=None, dtype=None): one step
    (x, (h, c)) -> (h', c'); forward(input, hx=None) with hx = (h, c), as torch.

    Parameters have PyTorch's names, shapes and initialisation U(-1/sqrt(H), 1/sqrt(H)):
    weight_ih (4H, D), weight_hh (4H, H), bias_ih (4H,), bias_hh (4H,); dtype float32
    (default) or float64; device None or "cpu".
    """

    state_names = ("h", "c")

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, device, dtype)
        H = self.hidden_size
        self.weight_ih = self.new_parameter(4 * H, self.input_size)
        self.weight_hh = self.new_parameter(4 * H, H)
        self.register_parameter("bias_ih", self.new_parameter(4 * H) if bias else None)
        self.register_parameter("bias_hh", self.new_parameter(4 * H) if bias else None)
        self.reset_parameters()

    def project_input(self, x):
        """W_ih x + b_ih + b_hh: the gates' pre-activations that do not depend on h."""
        x_proj = x @ self.weight_ih.T
        if self.bias_ih is not None:
            x_proj = x_proj + (self.bias_ih + self.bias_hh)
        return x_proj

    def step(self, x_proj, state):
        """One time step; x_proj = project_input(x), state = (h, c)."""
        h, c = state
        gates = x_proj + h @ self.weight_hh.T       # columns i, f, g, o
        i, f, g, o = gates.chunk(4, dim=1)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c_next = hadamard(f, c) + hadamard(i, g)
        h_next = hadamard(o, c_next.tanh())
        label(i=i, f=f, g=g, o=o, c=c_next, h=h_next)
        return h_next, c_next
