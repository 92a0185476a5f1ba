"""Story 7, backprop by hand: the hand-derived gradients equal .grad and pass gradcheck."""
import numpy as np
import pytest

from conftest import load_example

bp = load_example("backprop_by_hand")


def test_tiny_expression_by_hand_equals_grad():
    forward, rows = bp.tiny_by_hand()
    engine = bp.tiny_by_engine()
    h = np.tanh(1.5 * 0.8 - 0.4)
    assert forward["h"] == pytest.approx(h) and forward["L"] == pytest.approx(h * h)
    grads = {name.split("/d")[1]: value for name, _, _, value in rows}
    assert grads["w"] == pytest.approx(2 * h * (1 - h * h) * 1.5)
    assert grads["x"] == pytest.approx(2 * h * (1 - h * h) * 0.8)
    for node, value in grads.items():
        assert float(engine[node].grad) == pytest.approx(value, abs=1e-12), node
    # the local derivative times the upstream gradient is the gradient, row by row
    upstream = {"h": 1.0, "s": grads["h"], "a": grads["s"], "b": grads["s"], "w": grads["a"], "x": grads["a"]}
    for name, _, local, value in rows[1:]:
        node = name.split("/d")[1]
        assert local * upstream[node] == pytest.approx(value, abs=1e-12)
    assert bp.tiny_gradcheck()


def test_finite_differences_agree_with_the_hand_gradient():
    _, rows = bp.tiny_by_hand()
    grads = {name.split("/d")[1]: value for name, _, _, value in rows}
    eps = 1e-6
    for leaf in ("x", "w", "b"):
        up, down = dict(bp.TINY_VALUES), dict(bp.TINY_VALUES)
        up[leaf] += eps
        down[leaf] -= eps
        numeric = (bp.tiny_by_hand(up)[0]["L"] - bp.tiny_by_hand(down)[0]["L"]) / (2 * eps)
        assert numeric == pytest.approx(grads[leaf], abs=1e-8)


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_rnn_by_hand_equals_grad_and_gradcheck(steps):
    params = bp.rnn_parameters(seed=0)
    hand, terms, fwd = bp.rnn_by_hand(params, steps)
    leaves, named = bp.rnn_by_engine(params, steps)
    grads = {k: t.grad for k, t in {**leaves, **named}.items() if t.grad is not None}
    names = ["y", *[f"{k}{t}" for t in range(1, steps + 1) for k in ("h", "a")], *bp.LEAVES]
    for name, diff in bp.compare(grads, hand, names):
        assert diff < 1e-12, name
    assert named["L"].item() == pytest.approx(fwd["L"], abs=1e-14)
    for k in ("W_xh", "W_hh", "b"):
        assert len(terms[k]) == steps
        np.testing.assert_allclose(sum(terms[k]), grads[k], atol=1e-12)
    assert bp.rnn_gradcheck(params, steps)


def test_one_step_formulas():
    p = bp.rnn_parameters(seed=0)
    hand, _, fwd = bp.rnn_by_hand(p, 1)
    h1 = fwd["h"][1]
    dy = fwd["y"] - p["target"]
    da = (dy @ p["W_hy"].T) * (1 - h1 ** 2)
    np.testing.assert_allclose(hand["W_xh"], p["x"].T @ da)
    np.testing.assert_allclose(hand["W_hh"], p["h0"].T @ da)
    np.testing.assert_allclose(hand["h0"], da @ p["W_hh"].T)
    np.testing.assert_allclose(hand["W_hy"], h1.T @ dy)
