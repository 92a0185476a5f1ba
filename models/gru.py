"""The gated recurrent unit, exactly torch.nn.GRUCell:

    r  = σ(W_ir x + b_ir + W_hr h + b_hr)           reset gate
    z  = σ(W_iz x + b_iz + W_hz h + b_hz)           update gate: how much of h to keep
    n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))  candidate state
    h' = (1 - z) ⊙ n + z ⊙ h

How this differs from the paper (Cho et al., 2014): there the reset gate multiplies h
*before* the matmul, n = tanh(W_in x + W_hn (r ⊙ h)); PyTorch (like cuDNN) applies it
*after*, to W_hn h + b_hn, so that W_hn h can be computed together with the other gates'
W_h* h in one matmul. The two are different functions (same parameter count), so weights
trained in one form do not carry over to the other. (Some texts also swap z and 1 - z;
PyTorch's choice, kept here, is the paper's.)

Weights stacked in PyTorch's order r, z, n: weight_ih (3H, D), weight_hh (3H, H),
bias_ih (3H,), bias_hh (3H,). Unlike the LSTM, b_hn cannot be merged into b_in: it sits inside r ⊙ (...).
"""
from minigrad import hadamard, split

from minigrad.models.cell import RecurrentCell, label, pick_state


class GRUCell(RecurrentCell):
    """GRUCell(input_size, hidden_size, bias=True, device=None, dtype=None): one step (x, h) -> h'.

    Parameters have PyTorch's names, shapes and initialisation U(-1/sqrt(H), 1/sqrt(H)):
    weight_ih (3H, D), weight_hh (3H, H), bias_ih (3H,), bias_hh (3H,); dtype float32
    (default) or float64; device None or "cpu".
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, device, dtype)
        H = self.hidden_size
        self.weight_ih = self.new_parameter(3 * H, self.input_size)
        self.weight_hh = self.new_parameter(3 * H, H)
        self.register_parameter("bias_ih", self.new_parameter(3 * H) if bias else None)
        self.register_parameter("bias_hh", self.new_parameter(3 * H) if bias else None)
        self.reset_parameters()

    def forward(self, input, hx=None, *, h=None):
        """One step: x (batch, input_size) and hx (batch, hidden_size), zeros if None -> h';
        unbatched, x (input_size,) and hx (hidden_size,). `h=` is hx's older name."""
        return super().forward(input, pick_state(hx, h, "h", type(self).__name__))

    def project_input(self, x):
        """W_ih x + b_ih (rows r, z, n): the gates' parts that do not depend on h."""
        x_proj = x @ self.weight_ih.T
        return x_proj if self.bias_ih is None else x_proj + self.bias_ih

    def step(self, x_proj, h):
        """One time step; x_proj = project_input(x)."""
        h_proj = h @ self.weight_hh.T
        if self.bias_hh is not None:
            h_proj = h_proj + self.bias_hh
        x_r, x_z, x_n = split(x_proj, self.hidden_size, axis=1)   # W_i* x + b_i*
        h_r, h_z, h_n = split(h_proj, self.hidden_size, axis=1)   # W_h* h + b_h*
        r = (x_r + h_r).sigmoid()
        z = (x_z + h_z).sigmoid()
        n = (x_n + hadamard(r, h_n)).tanh()
        h_next = hadamard(1 - z, n) + hadamard(z, h)
        label(r=r, z=z, n=n, h=h_next)
        return h_next
