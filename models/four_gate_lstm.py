"""The lecture's own LSTM: four gates acting on a long-term memory LTM, a short-term memory
STM and the event E (the input at this step).

    learn gate:     N = tanh(W_n [STM, E] + b_n)
                    i = σ(W_i [STM, E] + b_i)
                    learn = N ⊙ i
    forget gate:    f = σ(W_f [STM, E] + b_f)
                    forget = LTM ⊙ f
    remember gate:  LTM' = forget + learn
    use gate:       U = tanh(W_u forget + b_u)
                    V = σ(W_v [STM, E] + b_v)
                    STM' = U ⊙ V                  (also the output)

Line by line against the standard LSTM (`models/lstm.py`, h = STM, c = LTM, x = E):

    N, i      are g and i:  learn = i ⊙ g
    f         is f:         forget = f ⊙ c
    remember  is c' = f ⊙ c + i ⊙ g, the same line
    V         is o, but the use gate differs: the LSTM shows h' = o ⊙ tanh(c'), the new memory
              squashed with no weights; here STM' = V ⊙ tanh(W_u (f ⊙ c) + b_u) reads only
              what the forget gate kept of the old memory (not what was just learned),
              through a learned layer W_u, b_u of its own.

A matrix acting on [STM, E] is one block for STM plus one for E: the E blocks of W_n, W_i,
W_f, W_v are stacked in `weight_ih` (4H, D) and the STM blocks in `weight_hh` (4H, H), rows in
the order n, i, f, v, with their biases in `bias` (4H,); the use gate's layer is `weight_u`
(H, H) and `bias_u` (H,). State and output as LSTMCell: (STM, LTM) = (h, c).
"""
from minigrad import hadamard

from minigrad.models.cell import RecurrentCell, label


class FourGateLSTMCell(RecurrentCell):
    """FourGateLSTMCell(input_size, hidden_size, bias=True, device=None, dtype=None): one step
    (E, (STM, LTM)) -> (STM', LTM').

    Parameters: weight_ih (4H, D), weight_hh (4H, H), bias (4H,) for N, i, f, V (rows in
    that order); weight_u (H, H), bias_u (H,) for U. All start ~ U(-1/sqrt(H), 1/sqrt(H)).
    """

    state_names = ("STM", "LTM")

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, device, dtype)
        H = self.hidden_size
        self.weight_ih = self.new_parameter(4 * H, self.input_size)
        self.weight_hh = self.new_parameter(4 * H, H)
        self.register_parameter("bias", self.new_parameter(4 * H) if bias else None)
        self.weight_u = self.new_parameter(H, H)
        self.register_parameter("bias_u", self.new_parameter(H) if bias else None)
        self.reset_parameters()

    def project_input(self, event):
        """The E blocks W_* E + b_* of N, i, f, V (rows n, i, f, v)."""
        x_proj = event @ self.weight_ih.T
        return x_proj if self.bias is None else x_proj + self.bias

    def step(self, x_proj, state):
        """One time step; x_proj = project_input(E), state = (STM, LTM)."""
        stm, ltm = state
        H = self.hidden_size
        gates = x_proj + stm @ self.weight_hh.T     # W_* [STM, E] + b_*, rows n, i, f, v
        N = gates[:, 0 * H:1 * H].tanh()
        i = gates[:, 1 * H:2 * H].sigmoid()
        f = gates[:, 2 * H:3 * H].sigmoid()
        V = gates[:, 3 * H:4 * H].sigmoid()
        learn = hadamard(N, i)
        forget = hadamard(ltm, f)
        remember = forget + learn                   # LTM'
        U = forget @ self.weight_u.T
        if self.bias_u is not None:
            U = U + self.bias_u
        U = U.tanh()
        use = hadamard(U, V)                        # STM'
        label(N=N, i=i, f=f, V=V, U=U, learn=learn, forget=forget, remember=remember, use=use)
        return use, remember
