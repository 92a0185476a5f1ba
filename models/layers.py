"""Sequence layers: a stack of recurrent cells run over a whole sequence, as torch.nn.RNN,
torch.nn.LSTM and torch.nn.GRU.

For layer l = 0 .. L-1 and time step t = 0 .. T-1:

    x_proj   = project_input(x_0 .. x_{T-1})      one matmul for the whole window
    state_t  = step(x_proj[t], state_{t-1})       the recurrence, one step at a time
    h_t      = the hidden part of state_t         (the layer's output at t, and the next
                                                   layer's input, after dropout in training)

With bidirectional=True every layer has a second cell that reads the sequence backwards,
from its own initial state, and the layer's output is both directions side by side:

    h→_t = step(x_proj→[t], h→_{t-1})             t = 0 .. T-1     (the forward direction)
    h←_t = step(x_proj←[t], h←_{t+1})             t = T-1 .. 0     (the reverse direction)
    output_t = [h→_t, h←_t]                       2H wide: the next layer reads both

Every step runs inside `mg.scope(f"layer{l}")` and `mg.scope(f"t{t}")`, so each tensor of
layer 0 at time 3 has `tensor.scope == "layer0/t3"`: the graph renderer groups by it. The
reverse direction's steps are in `mg.scope(f"layer{l}_reverse")`, with t the position in the
sequence (so "layer0_reverse/t3" reads x_3 and makes h←_3, after "layer0_reverse/t4").

Parameters are held on the layer itself under PyTorch's names, `weight_ih_l0`, `weight_hh_l0`,
`bias_ih_l0`, `bias_hh_l0`, `weight_ih_l0_reverse`, ..., `weight_ih_l1`, ... (the cells in
`self.cells`, and `self.reverse_cells` when bidirectional, share the very same Parameter
objects), so a PyTorch state_dict converted to numpy loads with `load_state_dict`. In general
a cell's parameter `name` is `{name}_l{layer}` (and `{name}_l{layer}_reverse`) on the layer:
`Recurrent(PeepholeLSTMCell, ...)` adds `weight_ch_l0`, `Recurrent(FourGateLSTMCell, ...)`
has `weight_ih_l0, weight_hh_l0, bias_l0, weight_u_l0, bias_u_l0`.

As torch, the layers also take one unbatched sequence, x (seq_len, input_size), and then
return output (seq_len, num_directions * hidden_size) and states (num_directions * num_layers,
hidden_size). Sequences of different lengths are padded into one tensor by the caller:
there is no PackedSequence here.
"""
import numpy as np

from minigrad import cat, current_scope, scope, stack
from minigrad.function import AnomalyError
from minigrad.nn import Module, ModuleList
from minigrad.nn.functional import dropout as apply_dropout
from minigrad.tensor import Tensor

from minigrad.models.cell import (RecurrentCell, as_tensor, check_device, check_dtype, parameter_dtype, pick_state,
                                  shape_str, split_state)
from minigrad.models.gru import GRUCell
from minigrad.models.lstm import LSTMCell
from minigrad.models.rnn import RNNCell


class Recurrent(Module):
    """Recurrent(cell, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, *, device=None, dtype=None, **cell_options): any of the
    cells, stacked and run over a sequence.

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
        bidirectional: a second cell per layer reads the sequence backwards; outputs are
            2H wide ([forward, reverse]) and the states have 2 * num_layers rows, ordered
            layer 0, layer 0 reverse, layer 1, ... (as torch).
        device: None or "cpu" (minigrad has no other).
        dtype: of the parameters, float32 (None, the default) or float64.
    """

    def __init__(self, cell, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, *, device=None, dtype=None, **cell_options):
        super().__init__()
        who = type(self).__name__
        if not (isinstance(cell, type) and issubclass(cell, RecurrentCell)):
            raise TypeError(f"{who}: cell must be a cell class such as LSTMCell, got {cell!r}")
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"{who}: num_layers must be a positive int, got {num_layers!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{who}: dropout must be in [0, 1), got {dropout}")
        check_device(device, who)
        if dtype is not None:  # passed on only when asked for: your own cell need not take it
            cell_options["dtype"] = parameter_dtype(dtype, who)
        self.cell_type = cell
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, dropout
        self.bidirectional = bool(bidirectional)
        wide = self.num_directions * hidden_size  # what layer l > 0 reads: all directions' h

        def make_cells():
            return ModuleList(cell(input_size if k == 0 else wide, hidden_size, bias=bias, **cell_options)
                              for k in range(num_layers))

        self.cells = make_cells()                                        # the forward direction
        self.reverse_cells = make_cells() if self.bidirectional else None
        for k in range(num_layers):  # PyTorch's names for the same Parameters, in its order
            for row, layer_cell, _ in self.layer_cells(k):
                suffix = "_reverse" if row.endswith("_reverse") else ""
                for name, p in layer_cell.named_parameters():
                    setattr(self, f"{name}_l{k}{suffix}", p)

    @property
    def num_directions(self):
        return 2 if self.bidirectional else 1

    def layer_cells(self, k):
        """Layer k's directions as (scope row, cell, reverse): ("layer{k}", its cell, False),
        then ("layer{k}_reverse", its reverse cell, True) when bidirectional."""
        directions = [(f"layer{k}", self.cells[k], False)]
        if self.bidirectional:
            directions.append((f"layer{k}_reverse", self.reverse_cells[k], True))
        return directions

    def forward(self, input, hx=None, *, state=None):
        """Run the stack over the sequence, as torch: forward(input, hx=None).

        Args:
            input: x (seq_len, batch, input_size), or (batch, seq_len, input_size) if
                batch_first; or one unbatched sequence (seq_len, input_size).
            hx: the initial state, zeros if None: a tensor h0 for RNN and GRU, a tuple
                (h0, c0) for the LSTMs; each part (num_directions * num_layers, batch,
                hidden_size), or without the batch axis for an unbatched x. `state=` is the
                same argument under its older name.
        Returns:
            (output, final state): output (seq_len, batch, num_directions * hidden_size) (or
            batch first, or unbatched as x), the last layer's h at every step, [forward,
            reverse]; the final state like the initial one: for the forward direction at
            t = T-1, for the reverse direction at t = 0 (the last step each made).
        """
        hx = pick_state(hx, state, "state", type(self).__name__)
        x, batched = self.check_input(input)
        seq_len, batch = x.shape[:2]
        states = self.initial_states(hx, batch, batched)
        layer_input, final = x, []
        for k in range(self.num_layers):
            if k > 0:
                with scope(f"layer{k}"):
                    layer_input = apply_dropout(layer_input, self.dropout, self.training)
            outputs = []
            for row, cell, reverse in self.layer_cells(k):
                with scope(row):
                    x_proj = self.project_window(cell, k, layer_input, reverse)
                    output, s = self.run_window(cell, x_proj, states[len(final)], reverse)
                outputs.append(output)
                final.append(s)
            layer_input = outputs[0] if len(outputs) == 1 else cat(outputs, axis=2)
        output = layer_input
        if not batched:  # back to torch's unbatched shapes: no batch axis anywhere
            output = output.reshape(seq_len, -1)
            final = [tuple(part.reshape(-1) for part in s) if isinstance(s, tuple) else s.reshape(-1)
                     for s in final]
        elif self.batch_first:
            output = output.transpose(0, 1)
        if isinstance(final[0], tuple):
            return output, tuple(stack(parts) for parts in zip(*final, strict=True))
        return output, stack(final)

    def project_window(self, cell, k, layer_input, reverse=False):
        """x_proj = cell.project_input(x_t) for every step t of the window, as one matmul:
        (seq_len, batch, input) -> (seq_len, batch, gates * hidden_size). Rows are time steps,
        so a NaN or inf that detect_anomaly finds here is reported with its step."""
        seq_len, batch = layer_input.shape[:2]
        try:
            x_proj = cell.project_input(layer_input.reshape(seq_len * batch, -1))
            return x_proj.reshape(seq_len, batch, -1)
        except AnomalyError as err:
            where = f"{type(self).__name__} layer {k}" + (" reverse" if reverse else "")
            index = err.index
            if err.tensor is layer_input:  # given in the input: rows of (seq_len, batch, input)
                context = f"{where}: it is in the input at time step t = {index[0]} (batch {index[1]})"
            elif err.tensor is None and len(err.shape) == 2 and err.shape[0] == seq_len * batch:
                t, b = divmod(index[0], batch)  # made here, in a row t * batch + b of x_proj
                context = f"{where}: made by the input projection at time step t = {t} (batch {b})"
            else:  # a weight or bias of the projection
                context = f"{where}: in the input projection, from its parameters (so at every step)"
            raise err.within(context) from None

    def run_window(self, cell, x_proj, state, reverse=False):
        """One layer's recurrence over the window: state_t = cell.step(x_proj[t], state_{t-1}),
        or state_t = cell.step(x_proj[t], state_{t+1}) from t = T-1 down to 0 if reverse.
        Returns (the h of every step stacked (seq_len, batch, hidden_size) in the order of t,
        the last state computed)."""
        x_steps = x_proj.unbind(0)  # x_proj[0], x_proj[1], ...: one node, so backward stacks them once
        seq_len = len(x_steps)
        outputs = [None] * seq_len
        for t in (reversed(range(seq_len)) if reverse else range(seq_len)):
            with scope(f"t{t}"):
                x_steps[t].scope = current_scope()  # (made before the loop; drawn in the step that uses it)
                state = cell.step(x_steps[t], state)
            outputs[t] = state[0] if isinstance(state, tuple) else state
        return stack(outputs), state

    # ------------------------------------------------------------------ checks
    def check_input(self, x):
        """(x as a time-major (seq_len, batch, input_size) tensor, whether it came with a
        batch axis), or an error naming the shapes."""
        who = type(self).__name__
        if not isinstance(x, (Tensor, np.ndarray)) and (hasattr(x, "batch_sizes") or isinstance(x, (list, tuple))):
            what = "a PackedSequence" if hasattr(x, "batch_sizes") else f"a {type(x).__name__}"
            raise TypeError(f"{who}: input is {what}, but minigrad's recurrent layers take one padded "
                            f"tensor only (no PackedSequence): pad the sequences to one length and pass "
                            f"(seq_len, batch, input_size)")
        x = as_tensor(x, who, "input")
        layout = "(batch, seq_len, input_size)" if self.batch_first else "(seq_len, batch, input_size)"
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise ValueError(f"{who}: input has shape {shape_str(x.shape)}, expected {layout} with "
                             f"input_size = {self.input_size}, or unbatched (seq_len, input_size)")
        if 0 in x.shape[:-1]:
            raise ValueError(f"{who}: input has shape {shape_str(x.shape)}: an empty sequence or batch")
        check_dtype(x, self.cells[0].dtype, who, "input")
        if x.ndim == 2:  # one unbatched sequence (batch_first does not apply): a batch of one
            try:
                return x.reshape(x.shape[0], 1, self.input_size), False
            except AnomalyError as err:
                raise err.within(f"{who}: it is in the input at time step t = {err.index[0]}") from None
        if not self.batch_first:
            return x, True
        try:
            return x.transpose(0, 1), True
        except AnomalyError as err:  # a NaN or inf in x, of shape (batch, seq_len, input_size)
            raise err.within(f"{who}: it is in the input at time step t = {err.index[1]} "
                             f"(batch {err.index[0]})") from None

    def initial_states(self, state, batch, batched=True):
        """The initial state of every layer and direction, in torch's order (layer 0, layer 0
        reverse, layer 1, ...): zeros, or the slices [k] of each part of `state`."""
        cells = [cell for k in range(self.num_layers) for _, cell, _ in self.layer_cells(k)]
        if state is None:
            return [c.zero_state(batch) for c in cells]
        who, names = type(self).__name__, cells[0].state_names
        parts = split_state(state, names, who)
        ndim = 3 if batched else 2
        if any(part.ndim != ndim for part in parts):
            given = " and ".join(f"{name}0" for name in names)
            dims = ", ".join(f"{part.ndim}-D" for part in parts)
            kind = "batched 3-D" if batched else "unbatched 2-D"
            raise ValueError(f"{who}: for {kind} input, {given} should also be {ndim}-D but got "
                             f"({dims}) {'tensors' if len(parts) > 1 else 'tensor'}")
        rows = "2 * num_layers" if self.bidirectional else "num_layers"
        layout = f"({rows}, batch, hidden_size)" if batched else f"({rows}, hidden_size)"
        expected = (len(cells), batch, self.hidden_size) if batched else (len(cells), self.hidden_size)
        for name, part in zip(names, parts, strict=True):
            if part.shape != expected:
                raise ValueError(f"{who}: initial state {name}0 has shape {shape_str(part.shape)}, "
                                 f"expected {layout} = {shape_str(expected)}")
            check_dtype(part, cells[0].dtype, who, f"initial state {name}0")
        try:
            given = parts
            if not batched:
                parts = tuple(part.reshape(len(cells), 1, self.hidden_size) for part in parts)
            if len(parts) == 1:
                return [parts[0][k] for k in range(len(cells))]
            return [tuple(part[k] for part in parts) for k in range(len(cells))]
        except AnomalyError as err:  # a NaN or inf in the state given, found before any step
            name = next(n for n, part in zip(names, given, strict=True) if part is err.tensor)
            layer, reverse = divmod(err.index[0], self.num_directions)
            where = f"layer {layer}" + (" reverse" if reverse else "")
            where += f" (batch {err.index[1]})" if batched else ""
            raise err.within(f"{who}: it is in the initial state {name}0 given to forward, at {where}") from None

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
        if self.bidirectional:
            options.append("bidirectional=True")
        return ", ".join(options)


class RNN(Recurrent):
    """torch.nn.RNN: a stack of RNNCells, h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).

    RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
    batch_first=False, dropout=0.0, bidirectional=False, *, device=None, dtype=None);
    forward(input, hx=None) -> (output, h_n).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, *, device=None, dtype=None):
        super().__init__(RNNCell, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype, nonlinearity=nonlinearity)

    def forward(self, input, hx=None, *, h0=None):
        """x (seq_len, batch, input_size), hx (num_layers, batch, hidden_size) or None
        -> (output (seq_len, batch, hidden_size), h_n (num_layers, batch, hidden_size));
        see Recurrent.forward for bidirectional and unbatched shapes. `h0=` is hx's older name."""
        return super().forward(input, pick_state(hx, h0, "h0", type(self).__name__))


class LSTM(Recurrent):
    """torch.nn.LSTM: a stack of LSTMCells (see models/lstm.py for the equations).

    LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0, *, device=None, dtype=None);
    forward(input, hx=None) -> (output, (h_n, c_n)), hx = (h0, c0) (`state=` also works).
    proj_size must stay 0: minigrad's LSTM has no projection of h.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, *, device=None, dtype=None):
        if not isinstance(proj_size, (int, np.integer)) or proj_size < 0:
            raise ValueError(f"{type(self).__name__}: proj_size must be 0 (no projection), got {proj_size!r}")
        if proj_size:
            raise NotImplementedError(
                f"{type(self).__name__}: proj_size={proj_size} is not supported: minigrad's LSTM has no "
                f"projection (h_t stays hidden_size wide, as with proj_size=0); put an nn.Linear on "
                f"the output instead")
        super().__init__(LSTMCell, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)
        self.proj_size = 0


class GRU(Recurrent):
    """torch.nn.GRU: a stack of GRUCells (see models/gru.py for the equations).

    GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, *, device=None, dtype=None); forward(input, hx=None) -> (output, h_n).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, *, device=None, dtype=None):
        super().__init__(GRUCell, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)

    def forward(self, input, hx=None, *, h0=None):
        """x (seq_len, batch, input_size), hx (num_layers, batch, hidden_size) or None
        -> (output (seq_len, batch, hidden_size), h_n (num_layers, batch, hidden_size));
        see Recurrent.forward for bidirectional and unbatched shapes. `h0=` is hx's older name."""
        return super().forward(input, pick_state(hx, h0, "h0", type(self).__name__))
