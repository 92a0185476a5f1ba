"""The char-RNN trains through mg.compile by default (forward, loss, zero_grad, backward and clip
traced once per window shape and replayed; the optimizer step, the schedule, .item() and the
state detach eager after it), and --no-compile trains eagerly: the same run, bit for bit
(losses, validation losses, printed output, weights, optimizer, schedule and random state),
across an epoch boundary, with dropout, and when a run is resumed the other way. The runs go
through char_rnn.main in this process; one goes through the command line itself."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.models import CharRNN
from minigrad.models.char_rnn import forward_backward, train_step

from conftest import assert_same_training_state, load_example
from test_char_rnn_cli import TINY, generated_text, run

cli = load_example("char_rnn")

SMALL = [*TINY, "--sample-length", 20]
# 1500 words: 20 windows of 16 x 16 per epoch, so 50 steps cross two epoch boundaries.
STEPS = 50


@pytest.fixture(scope="module")
def words(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "words.txt"
    path.write_text(generated_text(1500))
    return path


@pytest.fixture
def compiled_steps(monkeypatch):
    """The mg.compile'd steps char_rnn makes in this test (to count traces and replays)."""
    made, real = [], mg.compile

    def compile_(fn=None, **options):
        compiled = real(fn, **options)
        made.append(compiled)
        return compiled
    monkeypatch.setattr(cli.mg, "compile", compile_)
    return made


def train(words, path, *flags):
    return cli.main(["train", "--text", str(words), *map(str, SMALL), "--checkpoint", str(path), *map(str, flags)])


def assert_same_run(a, b, resumed=False):
    """Two checkpoints of the same run: everything equal, bit for bit (but the validation at the
    step a `resumed` run stopped at, which the other run did not take)."""
    a, b = mg.load(a), mg.load(b)
    if resumed:
        assert a["run"].pop("val")[-1] == b["run"].pop("val")[-1]
    assert a["run"] == b["run"]
    assert (a["hidden"] is None) == (b["hidden"] is None)
    for x, y in zip(a["hidden"] or [], b["hidden"] or [], strict=True):
        assert np.array_equal(x, y)
    assert_same_training_state(a, b)
    assert repr(a["rng"]) == repr(b["rng"])


@pytest.mark.parametrize("flags", [
    ["--num-layers", 2, "--dropout", 0.2, "--lr-schedule", "exp:0.99"],
    ["--cell", "gru", "--embedding-dim", 5, "--optimizer", "rmsprop"],
    ["--cell", "rnn", "--clip", 0, "--optimizer", "sgd", "--lr-schedule", "plateau"],
], ids=["lstm-dropout", "gru-embedding", "rnn-noclip-plateau"])
def test_compiled_and_eager_training_are_the_same_run(words, tmp_path, capsys, compiled_steps, flags):
    flags = [*flags, "--steps", STEPS, "--eval-every", 20, "--seed", 4]
    outputs = {}
    for how in ("compiled", "eager"):
        path = tmp_path / how / "model.ckpt"
        assert train(words, path, *flags, *(["--no-compile"] if how == "eager" else [])) == 0
        outputs[how] = capsys.readouterr().out.replace(str(path), "PATH")
    assert_same_run(tmp_path / "compiled" / "model.ckpt", tmp_path / "eager" / "model.ckpt")
    assert outputs["compiled"] == outputs["eager"]  # validation losses and samples as printed
    saved = mg.load(tmp_path / "compiled" / "model.ckpt")
    assert saved["run"]["epoch"] == 2 and len(saved["run"]["val"]) == 3
    (step,) = compiled_steps  # one compiled step per run (--no-compile makes none)
    # Traced for the first window (state None), the second (a state), and once more at the new
    # epoch's first window (the parameters' .grad are then the plan's): the rest are replays.
    assert step.traces <= 3 and step.replays == STEPS - step.traces


@pytest.mark.parametrize("first, then", [("eager", "compiled"), ("compiled", "eager")])
def test_a_run_resumed_the_other_way_continues_exactly(words, tmp_path, capsys, first, then):
    flags = ["--num-layers", 2, "--dropout", 0.2, "--seed", 7, "--eval-every", 0]
    no_compile = {"eager": ["--no-compile"], "compiled": []}
    whole, parts = tmp_path / "whole.ckpt", tmp_path / "parts.ckpt"
    assert train(words, whole, *flags, "--steps", 20, *no_compile[then]) == 0
    assert train(words, parts, *flags, "--steps", 9, *no_compile[first]) == 0
    assert cli.main(["train", "--resume", str(parts), "--steps", "20", "--no-pictures", *no_compile[then]]) == 0
    assert_same_run(whole, parts, resumed=True)


def test_train_step_takes_the_compiled_step():
    """train_step with mg.compile(forward_backward): the same losses, states and weights as with
    the eager forward_backward (its default)."""
    def steps(step):
        mg.manual_seed(0)
        model = CharRNN(6, hidden_size=8, num_layers=2, dropout=0.3)
        optimizer = mg.optim.Adam(model.parameters(), lr=1e-2)
        x = np.random.default_rng(0).integers(0, 6, (5, 3, 9))
        state, losses = None, []
        for window in x:
            loss, state = train_step(model, optimizer, window[:, :-1], window[:, 1:], state, 1.0, step)
            assert all(not s.requires_grad and s.grad_fn is None for s in state)
            losses.append(loss)
        return losses, [s.data for s in state], [p.data.copy() for p in model.parameters()]

    compiled = mg.compile(forward_backward)
    eager, got = steps(forward_backward), steps(compiled)
    assert compiled.replays == 3
    assert got[0] == eager[0] and all(isinstance(v, float) for v in got[0])
    for a, b in zip([*eager[1], *eager[2]], [*got[1], *got[2]], strict=True):
        assert np.array_equal(a, b)


def test_the_command_line_trains_compiled_by_default_and_eagerly_with_no_compile(words, tmp_path):
    losses = {}
    for flags in ([], ["--no-compile"]):
        path = tmp_path / f"model{len(flags)}.ckpt"
        run("train", "--text", words, *SMALL, "--steps", 12, "--eval-every", 6, "--checkpoint", path, *flags)
        losses[bool(flags)] = mg.load(path)["run"]
    assert losses[False] == losses[True]
    assert "--no-compile" in run("train", "--help").stdout
