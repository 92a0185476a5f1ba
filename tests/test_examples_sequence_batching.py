"""Story 5, sequence batching: the lecture's windows and the graph with and without detaching."""
import numpy as np

import minigrad as mg
from minigrad.viz.trace import tensors_in_order

from conftest import load_example

sb = load_example("sequence_batching")


def test_the_lecture_windows():
    (x0, y0), (x1, y1) = sb.lecture_windows(12, 2, 3)
    assert x0.tolist() == [[1, 2, 3], [7, 8, 9]] and y0.tolist() == [[2, 3, 4], [8, 9, 10]]
    assert x1.tolist() == [[4, 5], [10, 11]] and y1.tolist() == [[5, 6], [11, 12]]


def test_steps_are_scoped_by_their_place_in_the_whole_text():
    mg.manual_seed(0)
    model = sb.Reader(13)
    x, y = sb.lecture_windows()[0]
    loss, h = sb.window_loss(model, x, y, None, t0=3)
    scopes = {t.scope for t in tensors_in_order(loss) if t.scope}
    assert scopes == {"t3", "t4", "t5"}
    assert h.shape == (2, 4)


def test_detached_windows_keep_one_graph_size_and_undetached_ones_fail_or_grow():
    mg.manual_seed(0)
    model = sb.Reader(13)
    windows = list(sb.sequence_windows(np.arange(60) % 12 + 1, 2, 3))
    detached = sb.read(model, windows, detach=True)
    assert len(detached) == len(windows) and all(e["error"] is None for e in detached)
    assert {e["nodes"] for e in detached} == {detached[0]["nodes"]} and {e["steps"] for e in detached} == {3}

    failed = sb.read(model, windows, detach=False)
    assert len(failed) == 2 and failed[0]["error"] is None
    assert "second time" in failed[1]["error"]

    kept = sb.read(model, windows, detach=False, retain_graph=True)
    nodes = [e["nodes"] for e in kept]
    assert len(kept) == len(windows)
    assert len(set(np.diff(nodes))) == 1 and np.diff(nodes)[0] > 0
    assert [e["steps"] for e in kept] == [3 * (k + 1) for k in range(len(windows))]
    assert nodes[0] == detached[0]["nodes"]


def test_detaching_keeps_the_values_carried_over():
    mg.manual_seed(0)
    model = sb.Reader(13)
    (x0, y0), (x1, y1) = sb.lecture_windows()
    _, h = sb.window_loss(model, x0, y0, None, 0)
    loss_detached, _ = sb.window_loss(model, x1, y1, sb.detach_state(h), 3)
    loss_kept, _ = sb.window_loss(model, x1, y1, h, 3)
    assert loss_detached.item() == loss_kept.item(), "the same numbers, only the graph differs"
    _, zero_state = sb.window_loss(model, x1, y1, None, 3)
    assert not np.allclose(zero_state.data, sb.window_loss(model, x1, y1, h, 3)[1].data)
