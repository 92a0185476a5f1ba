"""Checkpoints of a char-RNN run: all it takes to sample from it or to continue it exactly.

A checkpoint is an `mg.save` file (arrays and JSON, never pickle) holding:

    model      CharRNN's constructor arguments      weights    its state_dict
    config     the run's settings (text, batch size, seq_len, learning rate, seed, ...)
    vocab      the characters, in index order
    optimizer  Adam's state_dict (its moment estimates and step counts)
    run        step, epoch and window (where in the text), the losses so far, the text's digest
    hidden     the state carried into the next window (None at the start of an epoch)
    rng        minigrad's random generator (dropout), so a resumed run draws what it would have
"""
import os
import sys

import minigrad as mg
from minigrad.models.char_rnn import CharRNN

from text_data import Vocab

FORMAT = "minigrad-char-rnn"


class CheckpointMismatch(ValueError):
    """A checkpoint that does not fit: missing, not a char-RNN's, another vocabulary or shape."""


def save(path, model, optimizer, vocab, config, run, state):
    """Write the run to `path` (atomically: an interrupted save leaves the old file)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    mg.save({
        "format": FORMAT, "version": 1,
        "model": model.config(),
        "config": config,
        "vocab": vocab.chars,
        "weights": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "run": run,
        "hidden": None if state is None else [s.data for s in _parts(state)],
        "rng": mg.generator().bit_generator.state,
    }, path)


def load(path):
    try:
        checkpoint = mg.load(path)
    except FileNotFoundError:
        raise CheckpointMismatch(f"no such checkpoint: {path}") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise CheckpointMismatch(f"{path} is a minigrad checkpoint but not a char-RNN one (no '{FORMAT}' "
                                 f"format tag)")
    return checkpoint


def check_vocab(checkpoint, vocab, path):
    """A clear error when the text's characters are not those the checkpoint was trained on."""
    saved = checkpoint["vocab"]
    if saved != vocab.chars:
        differences = [f"{what}: {''.join(sorted(chars))!r}" for what, chars in
                       (("only in the checkpoint", set(saved) - set(vocab.chars)),
                        ("only in this text", set(vocab.chars) - set(saved))) if chars]
        raise CheckpointMismatch(f"{path} was trained on a different vocabulary: {len(saved)} characters, "
                                 f"this text has {len(vocab)} ({'; '.join(differences)}). Resume with the "
                                 f"text it was trained on.")


def load_model(checkpoint, path):
    """The trained CharRNN and its Vocab."""
    model = CharRNN(**checkpoint["model"])
    load_weights(model, checkpoint, path)
    return model, Vocab(checkpoint["vocab"])


def load_weights(model, checkpoint, path):
    if model.vocab_size != len(checkpoint["vocab"]):
        raise CheckpointMismatch(f"{path}: the model has {model.vocab_size} outputs but the vocabulary "
                                 f"{len(checkpoint['vocab'])} characters")
    try:
        model.load_state_dict(checkpoint["weights"])
    except ValueError as exc:
        raise CheckpointMismatch(f"{path} does not fit this model: {exc}") from None


def restore(checkpoint, model, optimizer, run, path):
    """Load weights, optimizer state, the run's position and the RNG into a freshly built run;
    returns the hidden state to continue with."""
    load_weights(model, checkpoint, path)
    optimizer.load_state_dict(checkpoint["optimizer"])
    mg.generator().bit_generator.state = checkpoint["rng"]
    saved = checkpoint["run"]
    digest = run["text_sha256"]
    run.update(saved, losses=list(saved["losses"]), val=[list(v) for v in saved["val"]])
    if saved["text_sha256"] != digest:
        print(f"warning: the text differs from the one {path} was trained on (same vocabulary); "
              f"training continues from the start of this text", file=sys.stderr)
        run.update(window=0, text_sha256=digest)
        return None
    if checkpoint["hidden"] is None:
        return None
    parts = tuple(mg.tensor(a) for a in checkpoint["hidden"])
    return parts if len(parts) > 1 else parts[0]


def _parts(state):
    return state if isinstance(state, tuple) else (state,)
