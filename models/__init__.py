"""models: recurrent cells and sequence layers built from minigrad ops, PyTorch-compatible.

Cells (one time step; each file reads like its equations):
    RNNCell           models/rnn.py            h' = act(W_ih x + b_ih + W_hh h + b_hh)
    LSTMCell          models/lstm.py           torch.nn.LSTMCell: gates i, f, g, o
    GRUCell           models/gru.py            torch.nn.GRUCell: gates r, z, n
    PeepholeLSTMCell  models/peephole_lstm.py  gates also see the memory: σ(W [c, h, x] + b)
    FourGateLSTMCell  models/four_gate_lstm.py the lecture's learn/forget/remember/use gates

Sequence layers (models/layers.py), as torch.nn, parameters named weight_ih_l0, ...:
    RNN, LSTM, GRU                             input (seq_len, batch, input_size), or unbatched
                                               (seq_len, input_size); bidirectional=True adds
                                               weight_ih_l0_reverse, ... as torch
    Recurrent(cell, input_size, hidden_size, num_layers=1, ...)   any cell above, stacked
All of them take torch's forward(input, hx=None); RNN, LSTM, GRU and the three torch cells are
also minigrad.nn.RNN, nn.LSTM, ... (the same classes).

Truncated BPTT (models/batching.py):
    batch_streams, sequence_windows, count_windows, detach_state

A character-level language model on top (models/char_rnn.py): CharRNN, with its training step
(train_step), evaluate and generate; its text and vocabulary in models/text.py (minigrad.models.text:
read_text, stdlib_corpus, Vocab, split), its checkpoints in models/char_rnn_checkpoint.py

    from minigrad.models import LSTM, sequence_windows, detach_state
    lstm = LSTM(input_size=65, hidden_size=128, num_layers=2)
    output, (h_n, c_n) = lstm(x)             # x (seq_len, batch, 65)
    output, (h_n, c_n) = lstm(x, hx=(h_n, c_n))
"""
from minigrad.models.cell import RecurrentCell
from minigrad.models.rnn import RNNCell
from minigrad.models.lstm import LSTMCell
from minigrad.models.gru import GRUCell
from minigrad.models.peephole_lstm import PeepholeLSTMCell
from minigrad.models.four_gate_lstm import FourGateLSTMCell
from minigrad.models.layers import Recurrent, RNN, LSTM, GRU
from minigrad.models.batching import batch_streams, sequence_windows, count_windows, detach_state
from minigrad.models.char_rnn import CharRNN

__all__ = ["RecurrentCell", "RNNCell", "LSTMCell", "GRUCell", "PeepholeLSTMCell", "FourGateLSTMCell",
           "Recurrent", "RNN", "LSTM", "GRU",
           "batch_streams", "sequence_windows", "count_windows", "detach_state", "CharRNN"]
