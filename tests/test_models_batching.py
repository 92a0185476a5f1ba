"""Sequence batching as the lecture teaches it, and detach_state for truncated BPTT."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.models import LSTM, RNN, batch_streams, count_windows, detach_state, sequence_windows


# --------------------------------------------------------------------------- the lecture's example
def test_lecture_example_streams():
    np.testing.assert_array_equal(batch_streams(np.arange(1, 13), 2),
                                  [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]])


def test_lecture_example_first_window_and_shifted_targets():
    x, y = next(sequence_windows(np.arange(1, 13), batch_size=2, seq_len=3))
    np.testing.assert_array_equal(x, [[1, 2, 3], [7, 8, 9]])
    np.testing.assert_array_equal(y, [[2, 3, 4], [8, 9, 10]])


def test_lecture_example_has_one_full_window_then_a_short_one():
    windows = list(sequence_windows(list(range(1, 13)), 2, 3))
    assert len(windows) == 1 == count_windows(12, 2, 3)
    (_, _), (x, y) = sequence_windows(np.arange(1, 13), 2, 3, drop_last=False)
    np.testing.assert_array_equal(x, [[4, 5], [10, 11]])   # 12 has no target: the last step goes
    np.testing.assert_array_equal(y, [[5, 6], [11, 12]])
    assert count_windows(12, 2, 3, drop_last=False) == 2


def test_with_one_item_more_the_second_window_is_full():
    windows = list(sequence_windows(np.arange(1, 14), 2, 3))
    assert len(windows) == 2 == count_windows(13, 2, 3)
    x, y = windows[1]
    np.testing.assert_array_equal(x, [[4, 5, 6], [10, 11, 12]])
    np.testing.assert_array_equal(y, [[5, 6, 7], [11, 12, 13]])


@pytest.mark.parametrize("length, batch_size, seq_len", [(100, 4, 5), (101, 4, 5), (97, 3, 7), (50, 1, 49)])
def test_windows_continue_each_stream_and_targets_are_the_next_items(length, batch_size, seq_len):
    data = np.arange(length) * 10
    windows = list(sequence_windows(data, batch_size, seq_len))
    assert len(windows) == count_windows(length, batch_size, seq_len) > 0
    xs = np.concatenate([x for x, _ in windows], axis=1)
    ys = np.concatenate([y for _, y in windows], axis=1)
    assert all(x.shape == (batch_size, seq_len) for x, _ in windows)
    np.testing.assert_array_equal(xs, batch_streams(data, batch_size)[:, :xs.shape[1]])
    np.testing.assert_array_equal(ys, xs + 10)


def test_text_shorter_than_one_window_is_a_clear_error():
    with pytest.raises(ValueError, match=r"sequence_windows: a text of 7 items in 2 streams gives 3 steps "
                                         r"per stream .* fewer than one window of seq_len 4"):
        next(sequence_windows(np.arange(7), batch_size=2, seq_len=4))
    with pytest.raises(ValueError, match="a text of 3 items in 4 streams gives 0 steps"):
        next(sequence_windows(np.arange(3), batch_size=4, seq_len=1))
    with pytest.raises(ValueError, match="batch_streams: a sequence of 3 items cannot fill 4 streams"):
        batch_streams(np.arange(3), 4)


def test_bad_arguments():
    with pytest.raises(ValueError, match="seq_len must be a positive int"):
        next(sequence_windows(np.arange(20), 2, 0))
    with pytest.raises(ValueError, match="expected a 1-d sequence"):
        next(sequence_windows(np.zeros((4, 5), dtype=int), 2, 2))


# --------------------------------------------------------------------------- truncated BPTT
def test_detach_state_keeps_values_and_structure():
    h = mg.randn(1, 2, 3, requires_grad=True) * 2
    c = mg.randn(1, 2, 3, requires_grad=True) * 2
    h_d, c_d = detach_state((h, c))
    assert h_d.grad_fn is None and not h_d.requires_grad and c_d.grad_fn is None
    np.testing.assert_array_equal(h_d.data, h.data)
    assert isinstance(detach_state([h, c]), list)
    assert detach_state(h).grad_fn is None
    assert detach_state(None) is None
    with pytest.raises(TypeError, match="detach_state: expected a tensor"):
        detach_state(np.zeros(3))


def test_no_gradient_reaches_the_previous_window():
    mg.manual_seed(0)
    lstm = LSTM(3, 4, num_layers=2)
    x1 = mg.randn(3, 2, 3, requires_grad=True)
    x2 = mg.randn(3, 2, 3, requires_grad=True)
    _, state = lstm(x1)
    output, _ = lstm(x2, detach_state(state))
    output.sum().backward()
    assert x1.grad is None                     # the first window is cut off
    assert x2.grad is not None and all(p.grad is not None for p in lstm.parameters())


def test_without_detach_the_gradient_does_reach_it():
    mg.manual_seed(1)
    rnn = RNN(3, 4)
    x1 = mg.randn(3, 2, 3, requires_grad=True)
    _, h = rnn(x1)
    output, _ = rnn(mg.randn(3, 2, 3), h)
    output.sum().backward()
    assert x1.grad is not None and np.abs(x1.grad.data).max() > 0


def test_training_loop_over_windows_with_detached_state():
    """The docstring's loop: the state carries over and each window's graph stays its own."""
    mg.manual_seed(2)
    text = np.random.default_rng(2).integers(0, 5, 200)
    lstm, head = LSTM(5, 8), mg.nn.Linear(8, 5)
    opt = mg.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=0.05)
    state, losses = None, []
    for x, y in sequence_windows(text, batch_size=4, seq_len=10):
        inputs = mg.nn.functional.one_hot(x.T, 5, dtype=mg.float32)    # (seq_len, batch, 5)
        output, state = lstm(inputs, state)
        loss = mg.nn.functional.cross_entropy(head(output.reshape(-1, 8)), y.T.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        state = detach_state(state)
        losses.append(loss.item())
    assert len(losses) == count_windows(200, 4, 10) == 4
    assert all(np.isfinite(losses))
