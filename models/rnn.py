"""The plain (Elman) recurrent cell, exactly torch.nn.RNNCell (plus a sigmoid option):

    h' = act(W_ih x + b_ih + W_hh h + b_hh),   act = tanh, relu or σ

Its gradient through time is a product of factors act'(.) W_hh, one per step: with tanh or
σ (derivatives below 1) it vanishes over long spans, which is what the LSTM was made to fix.
"""
from minigrad.models.cell import RecurrentCell, label, pick_state

NONLINEARITIES = {
    "tanh": lambda a: a.tanh(),
    "relu": lambda a: a.relu(),
    "sigmoid": lambda a: a.sigmoid(),
}


class RNNCell(RecurrentCell):
    """RNNCell(input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
    one step (x, h) -> h'.

    Parameters have PyTorch's names, shapes and initialisation U(-1/sqrt(H), 1/sqrt(H)):
    weight_ih (H, D), weight_hh (H, H), bias_ih (H,), bias_hh (H,); dtype float32 (default)
    or float64; device None or "cpu".
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, device, dtype)
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; "
                             f"choose one of {', '.join(NONLINEARITIES)}")
        self.nonlinearity = nonlinearity
        H = self.hidden_size
        self.weight_ih = self.new_parameter(H, self.input_size)
        self.weight_hh = self.new_parameter(H, H)
        self.register_parameter("bias_ih", self.new_parameter(H) if bias else None)
        self.register_parameter("bias_hh", self.new_parameter(H) if bias else None)
        self.reset_parameters()

    def forward(self, input, hx=None, *, h=None):
        """One step: x (batch, input_size) and hx (batch, hidden_size), zeros if None -> h';
        unbatched, x (input_size,) and hx (hidden_size,). `h=` is hx's older name."""
        return super().forward(input, pick_state(hx, h, "h", type(self).__name__))

    def project_input(self, x):
        """W_ih x + b_ih + b_hh: the pre-activation's part that does not depend on h."""
        x_proj = x @ self.weight_ih.T
        if self.bias_ih is not None:
            x_proj = x_proj + (self.bias_ih + self.bias_hh)
        return x_proj

    def step(self, x_proj, h):
        """One time step; x_proj = project_input(x)."""
        act = NONLINEARITIES[self.nonlinearity]
        h_next = act(x_proj + h @ self.weight_hh.T)
        label(h=h_next)
        return h_next

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}, nonlinearity={self.nonlinearity!r}"
