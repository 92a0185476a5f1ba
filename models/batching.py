"""Sequence batching for truncated backpropagation through time, as the lecture teaches it.

The encoded text is cut into `batch_size` contiguous streams, one row each, and windows of
`seq_len` steps are served one after another, left to right; the target of each item is the
item after it in the text. The lecture's example, the sequence 1..12 with batch size 2:

    streams                 [ 1  2  3  4  5  6]
                            [ 7  8  9 10 11 12]
    first window, seq_len 3  x = [[1, 2, 3],     y = [[2, 3, 4],
                                  [7, 8, 9]]          [8, 9, 10]]

Row b of window k+1 continues row b of window k exactly where it stopped, so the hidden
state a model ends window k with is the right initial state for window k+1: pass it on,
detached (`detach_state`), so that gradients stop at the window's start (truncated BPTT)
and the graph does not grow from window to window:

    state = None
    for x, y in sequence_windows(encoded, batch_size=32, seq_len=64):
        output, state = lstm(one_hot(x.T), state)     # x.T: time-major (seq_len, batch)
        ... loss, backward, step ...
        state = detach_state(state)
"""
import numpy as np

from minigrad.tensor import Tensor


def batch_streams(data, batch_size):
    """Cut a 1-d sequence into `batch_size` contiguous streams of equal length, one per row.

    The tail that does not fill a whole row is dropped.

    >>> batch_streams(np.arange(1, 13), 2)
    array([[ 1,  2,  3,  4,  5,  6],
           [ 7,  8,  9, 10, 11, 12]])
    """
    data = _sequence(data, "batch_streams")
    _check_positive(batch_size, "batch_size", "batch_streams")
    length = len(data) // batch_size
    if length == 0:
        raise ValueError(f"batch_streams: a sequence of {len(data)} items cannot fill "
                         f"{batch_size} streams of at least one item")
    return data[:batch_size * length].reshape(batch_size, length)


def sequence_windows(data, batch_size, seq_len, drop_last=True):
    """Windows (x, y) of shape (batch_size, seq_len) over the streams of `data`, in order.

    x[b, j] is item j of the window in stream b, and y[b, j] the item after it in `data`
    (targets shifted by one). Stream b starts at data[b * L] with L = len(data) // batch_size;
    the very last item of `data` has no target, so the last stream serves at most L - 1
    steps when the streams cover all of `data`, and every stream serves the same number.

    >>> x, y = next(sequence_windows(np.arange(1, 13), batch_size=2, seq_len=3))
    >>> x
    array([[1, 2, 3],
           [7, 8, 9]])
    >>> y
    array([[ 2,  3,  4],
           [ 8,  9, 10]])

    Args:
        data: the encoded text, a 1-d array (or list) of ints.
        batch_size: the number of streams B.
        seq_len: the window length T (the number of steps backpropagated through).
        drop_last: drop a final window shorter than seq_len (else serve it, shorter).
    Yields:
        (x, y) numpy arrays of shape (batch_size, seq_len), batch first: transpose them
        (x.T) for a time-major layer, or build the layer with batch_first=True.
    Raises:
        ValueError if the text is shorter than one window.
    """
    data = _sequence(data, "sequence_windows")
    _check_positive(batch_size, "batch_size", "sequence_windows")
    _check_positive(seq_len, "seq_len", "sequence_windows")
    steps = _steps_per_stream(len(data), batch_size)
    if steps < seq_len:
        raise ValueError(
            f"sequence_windows: a text of {len(data)} items in {batch_size} streams gives "
            f"{steps} steps per stream (each needs the next item as its target), fewer "
            f"than one window of seq_len {seq_len}; use a longer text, a smaller batch_size or "
            f"a shorter seq_len")
    starts = np.arange(batch_size)[:, None] * (len(data) // batch_size)
    for j in range(0, steps, seq_len):
        if drop_last and j + seq_len > steps:
            break
        positions = starts + np.arange(j, min(j + seq_len, steps))
        yield data[positions], data[positions + 1]


def count_windows(length, batch_size, seq_len, drop_last=True):
    """How many windows `sequence_windows` serves for a text of `length` items."""
    steps = _steps_per_stream(length, batch_size)
    return steps // seq_len if drop_last else -(-steps // seq_len)


def detach_state(state):
    """The same state cut off from the graph, for truncated backprop through time.

    Accepts what the layers return: a tensor (RNN, GRU), a tuple (h, c) (the LSTMs), nested
    tuples or lists of them, or None; returns the same structure with every tensor detached
    (same values, no grad_fn), so no gradient flows back into the previous window.
    """
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"detach_state: expected a tensor, a tuple of tensors or None, "
                    f"got {type(state).__name__}")


def _steps_per_stream(length, batch_size):
    """Steps each stream can serve: its length L, less one when the streams reach the end of
    the data (the last item has no target)."""
    length_per_stream = length // batch_size
    return max(length_per_stream - (1 if batch_size * length_per_stream == length else 0), 0)


def _sequence(data, who):
    data = np.asarray(data.data if isinstance(data, Tensor) else data)
    if data.ndim != 1:
        raise ValueError(f"{who}: expected a 1-d sequence, got shape {data.shape}")
    return data


def _check_positive(n, what, who):
    if not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"{who}: {what} must be a positive int, got {n!r}")
