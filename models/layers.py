"""Sequence layers: a stack of recurrent cells run over a whole sequence, as torch.nn.RNN,
torch.nn.LSTM and torch.nn.GRU.

For layer l = 0 .. L-1 and time step t = 0 .. T-1:

    x_proj   = project_input(x_0 .. x_{T-1})      one matmul for the whole window
    state_t  = step(x_proj[t], state_{t-1})       the recurrence, one step at a time
    h_t      = the hidden part of state_t         (the layer's output at t, and the next
                                                   layer's input, after dropout in training)

Every step runs inside `mg.scope(f"layer{l}")` and `mg.scope(f"t{t}")`, so each tensor of
layer 0 at time 3 has `tensor.scope == "layer0/t3"`: the graph renderer groups by it.

Parameters are held on the layer itself under PyTorch's names, `weight_ih_l0`, `weight_hh_l0`,
`bias_ih_l0`, `bias_hh_l0`, `weight_ih_l1`, ... (the cells in `self.cells` share the very
same Parameter objects), so a PyTorch state_dict converted to numpy loads with
`load_state_dict`. In general a cell's parameter `name` is `{name}_l{layer}` on the layer:
`Recurrent(PeepholeLSTMCell, ...)` adds `weight_ch_l0`, `Recurrent(FourGateLSTMCell, ...)`
has `weight_ih_l0, weight_hh_l0, bias_l0, weight_u_l0, bias_u_l0`.
"""
from minigrad import scope, stack
from minigrad.function import AnomalyError
from minigrad.nn import Module, ModuleList
from minigrad.nn.functional import dropout as apply_dropout

from minigrad.models.cell import RecurrentCell, as_tensor, check_dtype, shape_str, split_state
from minigrad.models.fused_lstm import lstm_window
from minigrad.models.gru import GRUCell
from minigrad.models.lstm import LSTMCell
from minigrad.models.rnn import RNNCell


class Recurrent(Module):
    """Recurrent(cell, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, **cell_options): any of the cells, stacked and run over a sequence.

    `cell` is a cell class: RNNCell, LSTMCell, GRUCell, PeepholeLSTMCell, FourGateLSTMCell
    (or your own RecurrentCell); `cell_options` go to its constructor (e.g. nonlinearity=).
    `Recurrent(LSTMCell, 10, 20, 2)` computes exactly what `LSTM(10, 20, 2)` does.

    Args:
        input_size, hidden_size: D and H.
        num_layers: L; layer l > 0 reads layer l-1's outputs.
        bias: whether the cells have biases.
        batch_first: input and output are (batch, seq_len, feature) instead of
            (seq_len, batch, feature); the states stay (num_layers, batch, hidden_size).
        dropout: probability of zeroing each output of every layer but the last, in
            training mode only (`model.train()` / `model.eval()`).
    """

    def __init__(self, cell, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, **cell_options):
        super().__init__()
        who = type(self).__name__
        if not (isinstance(cell, type) and issubclass(cell, RecurrentCell)):
            raise TypeError(f"{who}: cell must be a cell class such as LSTMCell, got {cell!r}")
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"{who}: num_layers must be a positive int, got {num_layers!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{who}: dropout must be in [0, 1), got {dropout}")
        self.cell_type = cell
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, dropout
        self.cells = ModuleList(cell(input_size if k == 0 else hidden_size, hidden_size, bias=bias,
                                     **cell_options) for k in range(num_layers))
        for k, layer_cell in enumerate(self.cells):  # PyTorch's names for the same Parameters
            for name, p in layer_cell.named_parameters():
                setattr(self, f"{name}_l{k}", p)

    def forward(self, x, state=None):
        """Run the stack over the sequence x.

        Args:
            x: (seq_len, batch, input_size), or (batch, seq_len, input_size) if batch_first.
            state: the initial state, zeros if None: a tensor h0 for RNN and GRU, a tuple
                (h0, c0) for the LSTMs; each part (num_layers, batch, hidden_size).
        Returns:
            (output, final state): output (seq_len, batch, hidden_size) (or batch first), the
            last layer's h at every step; the final state like the initial one, at t = T-1.
        """
        x = self.check_input(x)
        seq_len, batch = x.shape[:2]
        states = self.initial_states(state, batch)
        layer_input, final = x, []
        for k, cell in enumerate(self.cells):
            with scope(f"layer{k}"):
                if k > 0:
                    layer_input = apply_dropout(layer_input, self.dropout, self.training)
                x_proj = self.project_window(cell, k, layer_input)
                layer_input, s = self.run_window(cell, x_proj, states[k])
            final.append(s)
        output = layer_input.transpose(0, 1) if self.batch_first else layer_input
        if isinstance(final[0], tuple):
            return output, tuple(stack(parts) for parts in zip(*final, strict=True))
        return output, stack(final)

    def project_window(self, cell, k, layer_input):
        """x_proj = cell.project_input(x_t) for every step t of the window, as one matmul:
        (seq_len, batch, input) -> (seq_len, batch, gates * hidden_size). Rows are time steps,
        so a NaN or inf that detect_anomaly finds here is reported with its step."""
        seq_len, batch = layer_input.shape[:2]
        try:
            x_proj = cell.project_input(layer_input.reshape(seq_len * batch, -1))
            return x_proj.reshape(seq_len, batch, -1)
        except AnomalyError as err:
            where = f"{type(self).__name__} layer {k}"
            index = err.index
            if err.tensor is layer_input:  # given in the input: rows of (seq_len, batch, input)
                context = f"{where}: it is in the input at time step t = {index[0]} (batch {index[1]})"
            elif err.tensor is None and len(err.shape) == 2 and err.shape[0] == seq_len * batch:
                t, b = divmod(index[0], batch)  # made here, in a row t * batch + b of x_proj
                context = f"{where}: made by the input projection at time step t = {t} (batch {b})"
            else:  # a weight or bias of the projection
                context = f"{where}: in the input projection, from its parameters (so at every step)"
            raise err.within(context) from None

    def run_window(self, cell, x_proj, state):
        """One layer's recurrence over the window: state_t = cell.step(x_proj[t], state_{t-1}).
        Returns (the h of every step stacked (seq_len, batch, hidden_size), the last state)."""
        outputs = []
        for t in range(len(x_proj)):
            with scope(f"t{t}"):
                state = cell.step(x_proj[t], state)
            outputs.append(state[0] if isinstance(state, tuple) else state)
        return stack(outputs), state

    # ------------------------------------------------------------------ checks
    def check_input(self, x):
        """x as a time-major (seq_len, batch, input_size) tensor, or an error naming the shapes."""
        who = type(self).__name__
        x = as_tensor(x, who, "input")
        layout = "(batch, seq_len, input_size)" if self.batch_first else "(seq_len, batch, input_size)"
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"{who}: input has shape {shape_str(x.shape)}, expected "
                             f"{layout} with input_size = {self.input_size}")
        if 0 in x.shape[:2]:
            raise ValueError(f"{who}: input has shape {shape_str(x.shape)}: an empty sequence or batch")
        check_dtype(x, self.cells[0].dtype, who, "input")
        if not self.batch_first:
            return x
        try:
            return x.transpose(0, 1)
        except AnomalyError as err:  # a NaN or inf in x, of shape (batch, seq_len, input_size)
            raise err.within(f"{who}: it is in the input at time step t = {err.index[1]} "
                             f"(batch {err.index[0]})") from None

    def initial_states(self, state, batch):
        """The per-layer initial states: zeros, or the slices [l] of each part of `state`."""
        cell = self.cells[0]
        if state is None:
            return [c.zero_state(batch) for c in self.cells]
        who, names = type(self).__name__, cell.state_names
        parts = split_state(state, names, who)
        expected = (self.num_layers, batch, self.hidden_size)
        for name, part in zip(names, parts, strict=True):
            if part.shape != expected:
                raise ValueError(f"{who}: initial state {name}0 has shape {shape_str(part.shape)}, "
                                 f"expected (num_layers, batch, hidden_size) = {shape_str(expected)}")
            check_dtype(part, cell.dtype, who, f"initial state {name}0")
        try:
            if len(parts) == 1:
                return [parts[0][k] for k in range(self.num_layers)]
            return [tuple(part[k] for part in parts) for k in range(self.num_layers)]
        except AnomalyError as err:  # a NaN or inf in the state given, found before any step
            name = next(n for n, part in zip(names, parts, strict=True) if part is err.tensor)
            raise err.within(f"{who}: it is in the initial state {name}0 given to forward, at "
                             f"layer {err.index[0]} (batch {err.index[1]})") from None

    def extra_repr(self):
        options = [f"{self.input_size}, {self.hidden_size}"]
        if type(self) is Recurrent:
            options.insert(0, self.cell_type.__name__)
        if self.num_layers != 1:
            options.append(f"num_layers={self.num_layers}")
        if not self.bias:
            options.append("bias=False")
        if self.batch_first:
            options.append("batch_first=True")
        if self.dropout:
            options.append(f"dropout={self.dropout}")
        return ", ".join(options)


class RNN(Recurrent):
    """torch.nn.RNN: a stack of RNNCells, h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).

    RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
    batch_first=False, dropout=0.0); forward(x, h0=None) -> (output, h_n).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0):
        super().__init__(RNNCell, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         nonlinearity=nonlinearity)

    def forward(self, x, h0=None):
        """x (seq_len, batch, input_size), h0 (num_layers, batch, hidden_size) or None
        -> (output (seq_len, batch, hidden_size), h_n (num_layers, batch, hidden_size))."""
        return super().forward(x, h0)


class LSTM(Recurrent):
    """torch.nn.LSTM: a stack of LSTMCells (see models/lstm.py for the equations).

    LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    fused=False); forward(x, state=None) -> (output, (h_n, c_n)), state = (h0, c0).

    fused=True (not in PyTorch, whose fused kernels are chosen for you) runs each layer's
    recurrence as one op with a hand-written backward (models/fused_lstm.py): the same values
    and gradients, faster where Python overhead dominates (hidden 128: about 1.3x; from
    hidden 256 the matrix products dominate and it gains nothing), but a graph picture shows
    one node per layer instead of the cells' equations. The attribute `fused` can be switched
    at any time; the parameters and state_dict are the same either way.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, fused=False):
        super().__init__(LSTMCell, input_size, hidden_size, num_layers, bias, batch_first, dropout)
        self.fused = fused

    def run_window(self, cell, x_proj, state):
        if not self.fused:
            return super().run_window(cell, x_proj, state)
        hc = lstm_window(x_proj, cell.weight_hh, *state)  # (2, seq_len, batch, hidden_size)
        return hc[0], (hc[0, -1], hc[1, -1])

    def extra_repr(self):
        return super().extra_repr() + (", fused=True" if self.fused else "")


class GRU(Recurrent):
    """torch.nn.GRU: a stack of GRUCells (see models/gru.py for the equations).

    GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0);
    forward(x, h0=None) -> (output, h_n).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0):
        super().__init__(GRUCell, input_size, hidden_size, num_layers, bias, batch_first, dropout)

    def forward(self, x, h0=None):
        """x (seq_len, batch, input_size), h0 (num_layers, batch, hidden_size) or None
        -> (output (seq_len, batch, hidden_size), h_n (num_layers, batch, hidden_size))."""
        return super().forward(x, h0)
