"""Story 2, the children's book: the grammar, the mistake counts and the sampler, in process."""
import numpy as np

from conftest import load_example

book = load_example("childrens_book")


def story(text):
    return np.array(book.encode(text))


def test_the_book_follows_its_grammar_and_its_thread():
    words = book.write_book(np.random.default_rng(3), 500)
    assert len(words) == 2000
    assert book.text(words[:8]).count(".") == 2
    counts, examples = book.grammar_report([words])
    assert counts["sentences"] == 500 and counts["broken"] == 0 and counts["thread_breaks"] == 0
    assert book.encode("Doug saw Jane.") == [0, 3, 1, 4] and book.text([0, 3, 1, 4]) == "Doug saw Jane."


def test_mistakes_are_classified_as_the_notes_name_them():
    assert book.mistake(book.encode("Doug saw Jane")) is None
    assert book.mistake(book.encode("Doug saw Doug")) == "self"
    assert book.mistake(book.encode("Jane saw Spot saw Doug")) == "run-on"
    for bad in ("saw Jane", "Doug Jane", "Doug saw", "Doug saw saw", "Spot Spot saw Doug"):
        assert book.mistake(book.encode(bad)) == "other", bad


def test_grammar_report_counts_sentences_first_sentences_and_thread():
    stories = [story("Doug saw Doug. Doug saw Jane. Spot saw Jane. Jane saw"),   # unfinished tail ignored
               story("Jane saw Spot saw Doug. Doug saw Spot.")]
    counts, examples = book.grammar_report(stories)
    assert counts["sentences"] == 5 and counts["broken"] == 2
    assert counts["self"] == 1 and counts["run-on"] == 1 and counts["other"] == 0
    assert counts["first_sentences"] == 2 and counts["first_broken"] == 2
    assert counts["thread_breaks"] == 1, "Spot saw Jane. after Doug saw Jane."
    assert examples["self"] == ["Doug saw Doug."] and examples["run-on"] == ["Jane saw Spot saw Doug."]
    assert abs(counts["break_rate"] - 0.4) < 1e-12


def test_sampling_is_batched_seeded_and_follows_the_model():
    model = book.WordModel("LSTM", 4)
    a = book.sample_stories(model, n=50, length=12, seed=1)
    b = book.sample_stories(model, n=50, length=12, seed=1)
    assert a.shape == (50, 12) and a.min() >= 0 and a.max() < len(book.WORDS)
    np.testing.assert_array_equal(a, b)
    # a model whose read-out always says "saw" writes nothing else
    model.head.weight.data[...] = 0
    model.head.bias.data[...] = -30
    model.head.bias.data[book.SAW] = 30
    assert (book.sample_stories(model, n=5, length=6) == book.SAW).all()
