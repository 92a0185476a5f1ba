"""Story 3, the bear and the wolf: the task, the chrono initialisation and the vanishing gradient,
in process. (Training at several gaps is checked on the script's own run in test_examples_cli.py.)"""
import numpy as np

from conftest import load_example

lm = load_example("long_memory")


def test_stories_put_the_animal_first_and_the_question_last():
    words, answers = lm.make_stories(np.random.default_rng(0), 200, gap=7)
    assert words.shape == (9, 200) and answers.shape == (200,)
    first = [lm.WORDS[k] for k in words[0]]
    assert set(first) <= set(lm.FOREST + lm.HOME)
    assert all(lm.WORDS[k] in lm.SCENERY for k in words[1:-1].ravel())
    assert all(lm.WORDS[k] == lm.QUERY for k in words[-1])
    assert [lm.ANSWERS[a] for a in answers] == ["wolf" if w in lm.FOREST else "dog" for w in first]
    assert 0.3 < answers.mean() < 0.7
    assert lm.story_text(words[:, 0], answers[0]).endswith(("-> wolf", "-> dog"))


def test_chrono_initialisation_of_the_gates():
    H = 16
    lstm = lm.new_reader("LSTM", H, seed=0).rnn
    b = lstm.bias_ih_l0.data + lstm.bias_hh_l0.data
    i, f = b[:H], b[H:2 * H]
    np.testing.assert_allclose(i, -f)
    assert (f >= 0).all() and (f <= np.log(63)).all() and f.max() > 2.5
    gru = lm.new_reader("GRU", H, seed=0).rnn
    z = gru.bias_ih_l0.data[H:2 * H] + gru.bias_hh_l0.data[H:2 * H]
    np.testing.assert_allclose(z, f)
    rnn = lm.new_reader("RNN", H, seed=0).rnn
    assert np.abs(rnn.bias_hh_l0.data).max() <= 1 / np.sqrt(H), "the RNN keeps PyTorch's initialisation"


def test_the_rnns_gradient_vanishes_back_to_the_animal_the_gated_cells_do_not():
    flow = lm.gradient_flow({cell: lm.new_reader(cell, seed=0) for cell in lm.LAYERS}, gap=20)
    for cell, norms in flow.items():
        assert len(norms) == 22 and (norms > 0).all(), cell
    assert flow["RNN"][0] / flow["RNN"][-1] < 1e-4
    assert flow["LSTM"][0] / flow["LSTM"][-1] > 1e-3
    assert flow["GRU"][0] / flow["GRU"][-1] > 1e-2


def test_an_untrained_reader_guesses():
    model = lm.new_reader("LSTM", seed=0)
    assert 0.3 < lm.accuracy(model, gap=3, n=400) < 0.7


def test_training_is_deterministic_with_a_seed():
    runs = [lm.train("GRU", gap=3, steps=15, seed=s)[1] for s in (1, 1, 2)]
    assert runs[0] == runs[1] != runs[2]
