"""Story 1, what's for dinner: the data, the predictions and the no-memory control, in process.
(The trained RNN's week is checked on the script's own run in tests/test_examples_cli.py.)"""
import numpy as np

from conftest import load_example

dinner = load_example("dinner")


def test_days_are_the_cycle_with_yesterdays_dinner_as_input_or_zeros_when_away():
    x, targets, seen = dinner.make_days(np.random.default_rng(0), batch=16, days=10, p_seen=0.3)
    assert x.shape == (10, 16, 3) and targets.shape == (10, 16) and seen.shape == (10, 16)
    assert seen[0].all() and not seen.all()
    assert ((targets[1:] - targets[:-1]) % 3 == 1).all(), "pizza -> sushi -> waffles -> pizza"
    for t in range(10):
        for b in range(16):
            yesterday = (targets[t, b] - 1) % 3
            expected = np.eye(3)[yesterday] if seen[t, b] else np.zeros(3)
            np.testing.assert_array_equal(x[t, b], expected)


def test_true_week_and_inputs():
    assert dinner.true_week("waffles", 4) == ["pizza", "sushi", "waffles", "pizza"]
    x = dinner.inputs_for(["sushi", None, "pizza"])
    np.testing.assert_array_equal(x[:, 0], [[0, 1, 0], [0, 0, 0], [1, 0, 0]])


def test_a_trained_rnn_predicts_the_week_an_untrained_one_does_not():
    model, losses = dinner.train(steps=150, seed=0)
    assert losses[-1] < 0.05 < losses[0]
    for sunday in dinner.DINNERS:
        p = dinner.predict_week(model, sunday)
        assert p.shape == (7, 3) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
        assert dinner.names(p) == dinner.true_week(sunday)
    untrained = dinner.DinnerRNN()
    assert any(dinner.names(dinner.predict_week(untrained, s)) != dinner.true_week(s) for s in dinner.DINNERS)
    blind = dinner.without_memory(model)
    assert not blind.rnn.weight_hh_l0.data.any() and model.rnn.weight_hh_l0.data.any(), "a copy, not the model"
    for sunday in dinner.DINNERS:
        first, *rest = dinner.names(dinner.predict_week(blind, sunday))
        assert first == dinner.true_week(sunday)[0], "it still reads yesterday's dinner"
        assert len(set(rest)) == 1, "with no memory every day away looks the same"


def test_training_is_deterministic_with_a_seed():
    _, a = dinner.train(steps=30, seed=3)
    _, b = dinner.train(steps=30, seed=3)
    _, c = dinner.train(steps=30, seed=4)
    assert a == b and a != c
