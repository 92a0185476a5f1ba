"""A character-level language model: characters in, a distribution over the next character out.

    x (T, B) character indices
      -> one-hot (T, B, V)  or  embedding (T, B, E)
      -> stacked LSTM / GRU / RNN            (T, B, H), carrying its state from window to window
      -> Linear head                         (T, B, V) logits; softmax gives p(next character)

Trained with cross-entropy on the next character, one window of truncated BPTT per
`train_step` (its differentiable part, `forward_backward`, is what `mg.compile` traces);
`evaluate` scores a text; `generate` then samples a text one character at a time, feeding
each sampled character back in.
"""
import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F
from minigrad.models.batching import count_windows, detach_state, sequence_windows
from minigrad.models.layers import GRU, LSTM, RNN

CELLS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}
GATES = {"lstm": 4, "gru": 3, "rnn": 1}  # the rows of weight_ih are GATES[cell] * hidden_size


class CharRNN(nn.Module):
    """CharRNN(vocab_size, hidden_size=256, num_layers=2, cell="lstm", embedding_dim=None, dropout=0.0)

    Args:
        vocab_size: V, the number of distinct characters.
        hidden_size, num_layers: H and the depth of the recurrent stack.
        cell: "lstm", "gru" or "rnn" (tanh).
        embedding_dim: None feeds one-hot vectors (V wide); an int E learns an embedding.
        dropout: dropout between recurrent layers (as torch.nn.LSTM's), in training mode.
    """

    def __init__(self, vocab_size, hidden_size=256, num_layers=2, cell="lstm", embedding_dim=None,
                 dropout=0.0):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"CharRNN: unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
        if not isinstance(vocab_size, (int, np.integer)) or vocab_size < 1:
            raise ValueError(f"CharRNN: vocab_size must be a positive int, got {vocab_size!r}")
        self.vocab_size, self.hidden_size, self.num_layers = int(vocab_size), hidden_size, num_layers
        self.cell, self.embedding_dim, self.dropout = cell, embedding_dim, dropout
        self.embedding = nn.Embedding(vocab_size, embedding_dim) if embedding_dim else None
        self.rnn = CELLS[cell](embedding_dim or vocab_size, hidden_size, num_layers, dropout=dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def config(self):
        """The constructor's arguments: CharRNN(**model.config()) builds the same shape."""
        return dict(vocab_size=self.vocab_size, hidden_size=self.hidden_size, num_layers=self.num_layers,
                    cell=self.cell, embedding_dim=self.embedding_dim, dropout=self.dropout)

    @staticmethod
    def parameter_shapes(vocab_size, hidden_size=256, num_layers=2, cell="lstm", embedding_dim=None,
                         dropout=0.0):
        """{name: shape} of `CharRNN(same arguments).state_dict()`, worked out without building
        the model: a saved configuration can be checked against saved arrays before any allocation."""
        V, H, G = vocab_size, hidden_size, GATES[cell]
        shapes = {"embedding.weight": (V, embedding_dim)} if embedding_dim else {}
        for k in range(num_layers):
            shapes.update({f"rnn.weight_ih_l{k}": (G * H, (embedding_dim or V) if k == 0 else H),
                           f"rnn.weight_hh_l{k}": (G * H, H),
                           f"rnn.bias_ih_l{k}": (G * H,), f"rnn.bias_hh_l{k}": (G * H,)})
        shapes.update({"head.weight": (V, H), "head.bias": (V,)})
        return shapes

    def forward(self, idx, state=None):
        """idx (T, B) ints -> (logits (T, B, V), new state); state None starts from zeros.

        The state is (h, c) for an LSTM and h for a GRU or RNN, each (num_layers, B, H).
        """
        idx = np.asarray(getattr(idx, "data", idx))
        if idx.ndim != 2:
            raise ValueError(f"CharRNN: input must be (T, B) character indices, got shape {idx.shape}")
        if self.embedding is None:
            x = F.one_hot(idx, self.vocab_size, dtype=mg.float32)
        else:
            x = self.embedding(idx)
        out, state = self.rnn(x, state)
        T, B = idx.shape
        logits = self.head(out.reshape(T * B, self.hidden_size))
        return logits.reshape(T, B, self.vocab_size), state

    def extra_repr(self):
        return f"vocab_size={self.vocab_size}, input={'one-hot' if self.embedding is None else 'embedding'}"


def pick_next(logits, temperature=1.0, top_k=None, rng=None):
    """Sample an index from one row of logits.

    p = softmax(logits / temperature), restricted to the `top_k` most likely indices if given.
    Temperature below 1 sharpens the distribution (safer, more repetitive text), above 1
    flattens it; temperature 0 always picks the most likely index. Computed in float64 with the
    largest logit subtracted before dividing, so any temperature > 0 is safe: a tiny one (1e-310)
    sends every other logit to -inf, i.e. picks among the most likely indices, never NaN.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if not np.isfinite(logits).all():
        raise ValueError("pick_next: the logits hold NaN or infinite values")
    if temperature == 0:
        return int(np.argmax(logits))
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"pick_next: temperature must be a finite number >= 0, got {temperature}")
    with np.errstate(over="ignore"):  # (logits - max) / tiny temperature -> -inf: probability 0
        z = (logits - logits.max()) / temperature
    if top_k is not None and top_k < len(z):
        z[z < np.partition(z, -top_k)[-top_k]] = -np.inf
    p = np.exp(z)
    p /= p.sum()
    rng = np.random.default_rng() if rng is None else rng
    return int(rng.choice(len(p), p=p))


def generate(model, prime, length, temperature=1.0, top_k=None, rng=None):
    """`length` indices following the indices `prime`, sampled one at a time.

    The prime is read first (its last index starts the generation); then each step feeds the
    character just sampled back in, carrying the recurrent state along.
    """
    prime = np.asarray(prime, dtype=np.int64).ravel()
    if prime.size == 0:
        raise ValueError("generate: the prime must hold at least one character")
    was_training = model.training
    model.eval()
    out = []
    try:
        with mg.no_grad():
            state = None
            if prime.size > 1:
                _, state = model(prime[:-1, None], state)
            last = int(prime[-1])
            for _ in range(length):
                logits, state = model(np.array([[last]]), state)
                last = pick_next(logits.data[0, 0], temperature, top_k, rng)
                out.append(last)
    finally:
        model.train(was_training)
    return np.array(out, dtype=np.int64)


def default_prime(vocab):
    """The text a sample starts from when none is given: a newline if the vocabulary has one,
    else its first character."""
    return "\n" if "\n" in vocab.chars else vocab.chars[0]


# ----------------------------------------------------------------------------- training and evaluation
def forward_backward(model, optimizer, x, y, state, clip, training=True):
    """The differentiable part of a training step, the part `mg.compile` traces and replays:
    forward through the window, the loss, zero_grad, backward and (unless `clip` is 0) the
    gradient clipping. x, y (B, T) are inputs and next-character targets, `state` the detached
    state the previous window ended with. `training` is `model.training`, passed so that it is
    part of a compiled call's signature (a compiled call bakes in the Python state it read).
    Returns (the loss tensor, the new state); nothing is read out of a tensor here."""
    B, T = x.shape
    logits, state = model(x.T, state)              # time-major: (T, B) -> (T, B, V)
    loss = F.cross_entropy(logits.reshape(T * B, model.vocab_size), y.T.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    if clip:
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    return loss, state


def train_step(model, optimizer, x, y, state, clip, step=forward_backward):
    """One step of truncated BPTT on a window: `step` (forward_backward, or its mg.compile'd
    version) computes the loss and the clipped gradients; then, eagerly, the optimizer step, the
    loss read out and the state detached. Returns (loss, the state to carry into the next
    window, detached)."""
    loss, state = step(model, optimizer, x, y, state, clip, model.training)
    optimizer.step()
    return loss.item(), detach_state(state)       # carry the values on, but cut the graph here


def evaluate(model, ids, batch_size, seq_len, should_stop=None):
    """Mean cross-entropy (nats per character) of predicting each character of `ids` from those
    before it: the text is cut into up to `batch_size` contiguous streams, each read from a zero
    state in windows of `seq_len`, carrying the state along. Returns (nats, characters scored),
    or None if `should_stop()` turned true between two windows."""
    n_streams = max(1, min(batch_size, (len(ids) - 1) // seq_len))
    steps = count_windows(len(ids), n_streams, 1)   # characters each stream can score
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    try:
        with mg.no_grad():
            for x, y in sequence_windows(ids, n_streams, min(seq_len, steps), drop_last=False):
                if should_stop is not None and should_stop():
                    return None
                logits, state = model(x.T, state)
                total += F.cross_entropy(logits.reshape(-1, model.vocab_size), y.T.reshape(-1)).item() * y.size
                count += y.size
    finally:
        model.train(was_training)
    return total / count, count
