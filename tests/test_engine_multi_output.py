"""Ops with several outputs (Split for split/chunk, Unbind): one node, visited once, whose
backward gets every output's gradient (None where none came); hooks, retain_grad, backward from
one piece, anomaly detection and a second backward behave as for any other op."""
import numpy as np
import pytest

import minigrad as mg


def _x():
    return mg.tensor(np.arange(12.0).reshape(3, 4) / 10, requires_grad=True)


def test_the_pieces_share_one_node_and_know_which_output_they_are():
    x = _x()
    a, b = x.chunk(2, dim=1)
    rows = x.unbind(0)
    assert a.grad_fn is b.grad_fn and type(a.grad_fn).__name__ == "Split"
    assert (a.output_nr, b.output_nr) == (0, 1) and [r.output_nr for r in rows] == [0, 1, 2]
    assert all(r.grad_fn is rows[0].grad_fn for r in rows) and rows[0].grad_fn.n_outputs == 3
    with mg.no_grad():
        c, d = x.split(2, dim=1)
    assert c.grad_fn is None and not c.requires_grad


def test_backward_from_one_piece_gives_zeros_to_the_others():
    x = _x()
    rows = x.unbind(0)
    (rows[1] * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0, 0, 0], [3, 3, 3, 3], [0, 0, 0, 0]])
    x.grad = None
    _, b = x.split([1, 3], dim=1)
    b.backward(np.ones((3, 3)))
    np.testing.assert_array_equal(x.grad.data, np.tile([0.0, 1, 1, 1], (3, 1)))


def test_hooks_and_retained_grads_of_pieces_see_their_own_gradient():
    x = _x()
    a, b = x.chunk(2, dim=1)
    seen = []
    a.register_hook(lambda g: seen.append(("a", g.shape)) or g * 10)  # replaces a's gradient
    b.retain_grad()
    (a.sum() + (b * b).sum()).backward()
    assert seen == [("a", (3, 2))]
    np.testing.assert_allclose(b.grad.data, 2 * x.data[:, 2:])
    np.testing.assert_allclose(x.grad.data[:, :2], 10.0)
    np.testing.assert_allclose(x.grad.data[:, 2:], 2 * x.data[:, 2:])
    with mg.record_visits() as visits:
        y = _x()
        p, q = y.chunk(2, dim=1)
        (p.sum() + q.sum()).backward()
    made = [t for t in visits if t.grad_fn is not None and type(t.grad_fn).__name__ == "Split"]
    where = [next(k for k, t in enumerate(visits) if t is m) for m in made]  # (by identity: == is elementwise)
    assert len(made) == 2 and abs(where[0] - where[1]) == 1  # visited together


def test_a_second_backward_through_a_freed_split_is_refused_and_anomalies_name_the_op():
    x = _x()
    a, b = x.chunk(2, dim=1)
    loss = (a * b).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()
    y = mg.tensor(np.array([[1.0, np.nan], [2.0, 3.0]]), requires_grad=True)
    with mg.detect_anomaly(), pytest.raises(mg.AnomalyError, match="Split forward received NaN"):
        y.chunk(2, dim=1)


def test_unbind_of_a_0d_tensor_is_refused():
    with pytest.raises(ValueError, match="unbind: a 0-d tensor"):
        mg.tensor(1.0).unbind()
