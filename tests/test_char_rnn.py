"""The char-RNN's pieces, in process: text and vocabulary, the model, sampling, evaluation,
checkpoint checks and pictures. (tests/test_char_rnn_cli.py runs the command line.)"""
import os

import numpy as np
import pytest

import minigrad as mg
from minigrad.models import CharRNN
from minigrad.models import char_rnn_checkpoint as checkpoints
from minigrad.models.batching import sequence_windows
from minigrad.models.char_rnn import evaluate, generate, pick_next
from minigrad.models.text import TextError, Vocab, read_text, split, stdlib_corpus
from minigrad.viz.char_rnn_pictures import write_pictures


# ----------------------------------------------------------------------------- text
def test_vocab_encodes_and_decodes_any_characters():
    text = "Anna Аркадьевна, 東京 ✓\n"
    vocab = Vocab.from_text(text)
    assert vocab.chars == "".join(sorted(set(text)))
    ids = vocab.encode(text)
    assert ids.dtype == np.int64 and ids.max() < len(vocab)
    assert vocab.decode(ids) == text
    assert [vocab.chars[i] for i in ids] == list(text)


def test_vocab_rejects_unknown_characters():
    with pytest.raises(TextError, match="not in the vocabulary: 'xz'"):
        Vocab.from_text("abc").encode("axbz")


def test_read_text_errors_say_what_is_wrong(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "latin1.txt").write_bytes("café".encode("latin-1"))
    with pytest.raises(TextError, match="is empty"):
        read_text(tmp_path / "empty.txt")
    with pytest.raises(TextError, match="not UTF-8.*offset 3"):
        read_text(tmp_path / "latin1.txt")
    with pytest.raises(TextError, match="no such file"):
        read_text(tmp_path / "missing.txt")


def test_read_text_normalises_line_ends(tmp_path):
    (tmp_path / "crlf.txt").write_bytes(b"a\r\nb\r\n")
    assert read_text(tmp_path / "crlf.txt") == "a\nb\n"


def test_stdlib_corpus_is_deterministic_ascii_and_capped():
    text, description = stdlib_corpus(50_000)
    assert len(text) == 50_000 and text.isascii()
    assert stdlib_corpus(50_000)[0] == text
    assert "def " in text and "standard library" in description


def test_split_keeps_the_end_for_validation():
    train, val = split(np.arange(100), 0.1)
    assert list(val) == list(range(90, 100)) and len(train) == 90


# ----------------------------------------------------------------------------- the model
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("embedding_dim", [None, 5])
def test_char_rnn_shapes_and_state(cell, embedding_dim):
    mg.manual_seed(0)
    model = CharRNN(7, hidden_size=6, num_layers=2, cell=cell, embedding_dim=embedding_dim)
    logits, state = model(np.zeros((4, 3), dtype=np.int64))
    assert logits.shape == (4, 3, 7)
    parts = state if cell == "lstm" else (state,)
    assert [p.shape for p in parts] == [(2, 3, 6)] * len(parts)
    assert CharRNN(**model.config()).config() == model.config()


def test_carrying_the_state_equals_one_long_window():
    """Two windows with the state carried compute exactly what one window of both does:
    the premise of reading streams window by window."""
    mg.manual_seed(0)
    model = CharRNN(5, hidden_size=8, num_layers=2)
    x = np.random.default_rng(0).integers(0, 5, (10, 3))
    whole, _ = model(x)
    first, state = model(x[:6])
    second, _ = model(x[6:], state)
    np.testing.assert_allclose(np.concatenate([first.data, second.data]), whole.data, rtol=1e-5, atol=1e-6)


def test_char_rnn_rejects_unknown_cells_and_bad_input():
    with pytest.raises(ValueError, match="unknown cell 'lstn'"):
        CharRNN(5, cell="lstn")
    with pytest.raises(ValueError, match=r"\(T, B\) character indices"):
        CharRNN(5, hidden_size=4)(np.zeros(3, dtype=np.int64))


# ----------------------------------------------------------------------------- sampling
def test_pick_next_temperature_and_top_k():
    logits = np.array([0.0, 3.0, 1.0, 2.0])
    rng = np.random.default_rng(0)
    assert pick_next(logits, temperature=0) == 1
    assert pick_next(logits, top_k=1, rng=rng) == 1
    picks = {pick_next(logits, temperature=5.0, top_k=2, rng=rng) for _ in range(200)}
    assert picks == {1, 3}


def test_generate_returns_the_requested_length_from_the_vocabulary():
    mg.manual_seed(0)
    model = CharRNN(6, hidden_size=8, num_layers=1)
    out = generate(model, [1, 2, 3], 40, temperature=1.0, rng=np.random.default_rng(0))
    assert out.shape == (40,) and out.min() >= 0 and out.max() < 6
    again = generate(model, [1, 2, 3], 40, temperature=1.0, rng=np.random.default_rng(0))
    assert np.array_equal(out, again)
    assert model.training  # restored after sampling in eval mode


# ----------------------------------------------------------------------------- evaluation
def test_evaluate_scores_every_character_once_whatever_the_window():
    mg.manual_seed(0)
    model = CharRNN(4, hidden_size=5, num_layers=1)
    ids = np.random.default_rng(1).integers(0, 4, 61)
    exact, n = evaluate(model, ids, batch_size=1, seq_len=100)
    windowed, m = evaluate(model, ids, batch_size=1, seq_len=7)
    assert n == m == 60
    assert windowed == pytest.approx(exact, rel=1e-5)
    x, y = next(sequence_windows(ids, 1, 60))
    logits, _ = model(x.T)
    direct = mg.nn.functional.cross_entropy(logits.reshape(60, 4), y.T.reshape(-1)).item()
    assert exact == pytest.approx(direct, rel=1e-5)


# ----------------------------------------------------------------------------- checkpoints and pictures
def test_weights_of_another_shape_give_a_clear_error():
    mg.manual_seed(0)
    checkpoint = {"vocab": "abcde", "weights": CharRNN(5, hidden_size=8, num_layers=1).state_dict()}
    with pytest.raises(checkpoints.CheckpointMismatch, match="(?s)does not fit this model.*wrong shapes"):
        checkpoints.load_weights(CharRNN(5, hidden_size=16, num_layers=1), checkpoint, "x.ckpt")
    with pytest.raises(checkpoints.CheckpointMismatch, match="6 outputs but the vocabulary 5"):
        checkpoints.load_weights(CharRNN(6, hidden_size=8, num_layers=1), checkpoint, "x.ckpt")


def test_pictures_of_the_trained_model_are_written(tmp_path):
    mg.manual_seed(0)
    model = CharRNN(5, hidden_size=6, num_layers=2)
    ids = np.random.default_rng(0).integers(0, 5, 400)
    written = dict(write_pictures(model, ids, str(tmp_path), graph_steps=3, flow_steps=10))
    assert set(written) == {"unrolled graph", "gradient flow"}
    for path in written.values():
        path = path.split(" ")[0]
        assert os.path.getsize(path) > 1000
    assert all(p.grad is None for p in model.parameters())
