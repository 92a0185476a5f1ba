"""Story 6, the char-RNN tour: the passage features, the unit picker, sampling and surprise, in
process with a small untrained model. (Training is checked on the script's run in test_examples_cli.py.)"""
import numpy as np
import pytest

import minigrad as mg
from minigrad.models import CharRNN
from minigrad.models.text import Vocab

from conftest import load_example

tour = load_example("char_rnn_tour")


def test_features_of_a_line_of_code():
    passage = 'x = f("a(b)", [1])  # y\n    z\n'
    f = tour.features(passage)
    inside = "".join(ch for ch, s in zip(passage, f["inside a string"]) if s)
    assert inside == '"a(b)"'
    brackets = "".join(ch for ch, s in zip(passage, f["inside brackets"]) if s)
    assert brackets == '("a(b)", [1]'
    assert "".join(ch for ch, s in zip(passage, f["inside a comment"]) if s) == "# y"
    assert "".join(ch for ch, s in zip(passage, f["indentation"]) if s) == "    "
    assert f["position in the line"][passage.index("z")] == 5


def test_pick_unit_finds_the_unit_that_follows_a_feature():
    rng = np.random.default_rng(0)
    passage = "def f(a, b):\n    return (a + b)\n" * 5
    feats = tour.features(passage)
    states = rng.standard_normal((len(passage), 8)) * 0.1
    states[:, 5] = -np.tanh(2 * feats["inside brackets"] - 1)
    unit, feature, r = tour.pick_unit(states, feats)
    assert (unit, feature) == (5, "inside brackets") and r < -0.99


def test_sampling_temperature_and_surprise():
    text = "abcabcabd\n" * 20
    vocab = Vocab.from_text(text)
    mg.manual_seed(0)
    model = CharRNN(len(vocab), hidden_size=8, num_layers=1)
    greedy = {tour.sample(model, vocab, "ab", 0.0, 30, seed=s) for s in range(3)}
    assert len(greedy) == 1, "temperature 0 takes the likeliest character: no randomness"
    hot = [tour.sample(model, vocab, "ab", 5.0, 30, seed=s) for s in range(3)]
    assert len(set(hot)) == 3
    s = next(iter(greedy))
    assert tour.surprise(model, vocab, "ab", s) < np.mean([tour.surprise(model, vocab, "ab", h) for h in hot])
    assert tour.surprise(model, vocab, "ab", s) == pytest.approx(tour.surprise(model, vocab, "ab", s))


def test_hidden_states_are_the_layers_outputs():
    vocab = Vocab.from_text("hello world\n")
    mg.manual_seed(0)
    model = CharRNN(len(vocab), hidden_size=6, num_layers=2)
    states = tour.hidden_states(model, vocab, "hello")
    assert states.shape == (5, 6) and np.abs(states).max() < 1
    with mg.no_grad():
        out, _ = model.rnn(mg.nn.functional.one_hot(vocab.encode("hello")[:, None], len(vocab), dtype=mg.float32))
    np.testing.assert_allclose(states, out.data[:, 0, :])
