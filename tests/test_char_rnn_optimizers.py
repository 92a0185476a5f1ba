"""The char-RNN's --optimizer and --lr-schedule: each optimizer and schedule trains, a run
stopped and resumed continues bit for bit (weights, optimizer and schedule), a resume keeps
them, their flags fail up front, and a checkpoint's optimizer and schedule state is validated
(a checkpoint from before these flags still loads, as Adam without a schedule). The runs go
through char_rnn.main in this process (the same code as the command line, without its start-up),
and one through the command line itself."""
import os
import signal

import pytest

import minigrad as mg
from minigrad.models import char_rnn_checkpoint as checkpoints

from conftest import DELETE, assert_same_training_state, load_example, rename_field, set_field
from test_char_rnn_cli import TINY, generated_text, run

cli = load_example("char_rnn")

SMALL = [*TINY, "--sample-length", 0]


@pytest.fixture(scope="module")
def words(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "words.txt"
    path.write_text(generated_text(1500))
    return path


def train(words, *flags):
    """`char_rnn.py train --text WORDS SMALL FLAGS` in this process; returns the exit code."""
    return cli.main(["train", "--text", str(words), *map(str, SMALL), *map(str, flags)])


def resume(path, *flags):
    return cli.main(["train", "--resume", str(path), "--no-pictures", *map(str, flags)])


def error_line(capsys):
    """The one line a failed run wrote to stderr."""
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    return lines[0]


def assert_same_run(a, b):
    """Two checkpoints at the same point of the same run: losses, weights, optimizer and
    schedule state all equal, bit for bit."""
    a, b = mg.load(a), mg.load(b)
    assert a["run"]["step"] == b["run"]["step"]
    assert a["run"]["losses"] == b["run"]["losses"]
    assert_same_training_state(a, b)


# ----------------------------------------------------------------------------- exact resume
def interrupt(monkeypatch, name, call):
    """Ctrl-C (a real SIGINT) as char_rnn's function `name` is entered for the `call`-th time."""
    real, calls = getattr(cli, name), []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            os.kill(os.getpid(), signal.SIGINT)
        return real(*args, **kwargs)
    monkeypatch.setattr(cli, name, interrupted)


# A tiny lr improves the validation loss by less than ReduceLROnPlateau's threshold: it halves the lr.
RUNS = {  # id: (flags, how the first run stops at step 8)
    "adam, exp": (["--optimizer", "adam", "--lr-schedule", "exp:0.95"], "--steps 8"),
    "rmsprop, cosine": (["--optimizer", "rmsprop", "--lr-schedule", "cosine"], "Ctrl-C in step 8"),
    "sgd, step": (["--optimizer", "sgd", "--lr-schedule", "step:5:0.5"], "Ctrl-C in step 8"),
    "adam, plateau": (["--lr", 1e-6, "--lr-schedule", "plateau"], "--steps 8"),
    "sgd, plateau": (["--optimizer", "sgd", "--lr", 1e-6, "--lr-schedule", "plateau"],
                     "Ctrl-C in the evaluation at step 8"),
}


@pytest.mark.parametrize("case", RUNS)
def test_a_stopped_and_resumed_run_continues_exactly(words, tmp_path, monkeypatch, case):
    """18 steps in one run, and in a run stopped at step 8 (an evaluation's step, which the plateau
    schedule's resumed run takes first) then resumed: the same run, bit for bit."""
    flags, how = RUNS[case]
    flags = [*flags, "--num-layers", 2, "--dropout", 0.2, "--seed", 3, "--eval-every", 4]
    whole, parts = tmp_path / "whole.ckpt", tmp_path / "parts.ckpt"
    assert train(words, *flags, "--steps", 18, "--checkpoint", whole) == 0
    if how == "--steps 8":
        assert train(words, *flags, "--steps", 8, "--checkpoint", parts) == 0
    else:
        interrupt(monkeypatch, *(("train_step", 8) if how == "Ctrl-C in step 8" else ("evaluate", 2)))
        assert train(words, *flags, "--steps", 18, "--checkpoint", parts) == 130
        monkeypatch.undo()
    assert mg.load(parts)["run"]["step"] == 8
    more = [] if "cosine" in case else ["--steps", 18]  # a cosine run resumes to its end
    assert resume(parts, *more, "--eval-every", 4) == 0
    assert_same_run(whole, parts)
    saved = mg.load(whole)
    assert saved["optimizer"]["param_groups"][0]["lr"] < saved["config"]["lr"], "the schedule lowered the lr"


# ----------------------------------------------------------------------------- a resume keeps them
@pytest.fixture(scope="module")
def cosine(words, tmp_path_factory):
    """6 steps of RMSprop with the cosine schedule (over those 6 steps)."""
    path = tmp_path_factory.mktemp("cosine") / "cosine.ckpt"
    assert train(words, "--optimizer", "rmsprop", "--lr-schedule", "cosine", "--steps", 6, "--eval-every", 0,
                 "--checkpoint", path) == 0
    return path


@pytest.mark.parametrize("flags, message", [
    (["--optimizer", "adam"], "--optimizer adam (the checkpoint has rmsprop)"),
    (["--lr-schedule", "none"], "--lr-schedule none (the checkpoint has cosine)"),
    (["--lr", 0.1], "--lr 0.1 (the checkpoint has 0.002, which its lr schedule starts from)"),
    (["--steps", 7], "anneals its lr to 0 at step 6 (--lr-schedule cosine); --steps 7 would go past it"),
])
def test_a_resume_keeps_the_optimizer_and_the_schedule(cosine, capsys, flags, message):
    capsys.readouterr()
    assert resume(cosine, *flags) == 2
    assert message in error_line(capsys)


def test_the_command_line_refuses_to_change_the_schedule_on_resume(words, tmp_path):
    path = tmp_path / "cosine.ckpt"
    run("train", "--text", words, *SMALL, "--optimizer", "rmsprop", "--lr-schedule", "cosine", "--steps", 4,
        "--eval-every", 2, "--checkpoint", path)
    result = run("train", "--resume", path, "--lr-schedule", "exp:0.9", check=False)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "--lr-schedule exp:0.9 (the checkpoint has cosine)" in lines[0]


def test_a_resume_without_a_schedule_may_change_the_lr(words, tmp_path):
    path = tmp_path / "sgd.ckpt"
    assert train(words, "--optimizer", "sgd", "--steps", 3, "--eval-every", 0, "--checkpoint", path) == 0
    assert resume(path, "--steps", 4, "--lr", 0.25, "--optimizer", "sgd", "--lr-schedule", "none") == 0
    saved = mg.load(path)
    assert saved["config"]["lr"] == saved["optimizer"]["param_groups"][0]["lr"] == 0.25
    assert saved["config"]["optimizer"] == "sgd" and saved["scheduler"] is None


# ----------------------------------------------------------------------------- flags and progress
@pytest.mark.parametrize("flags, message", [
    (["--lr-schedule", "step:0:0.5"], "argument --lr-schedule: expected none, step:N:G, exp:G, cosine or plateau"),
    (["--lr-schedule", "step:10"], "argument --lr-schedule: expected"),
    (["--lr-schedule", "exp:1.5"], "0 < G <= 1), got 'exp:1.5'"),
    (["--lr-schedule", "exp:nan"], "argument --lr-schedule: expected"),
    (["--lr-schedule", "cosine:100"], "argument --lr-schedule: expected"),
    (["--lr-schedule", "linear"], "argument --lr-schedule: expected"),
    (["--optimizer", "adagrad"], "argument --optimizer: invalid choice: 'adagrad'"),
])
def test_bad_optimizer_and_schedule_flags_are_usage_errors(flags, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.build_parser().parse_args(["train", *flags])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize("flags, message", [
    (["--lr-schedule", "plateau", "--eval-every", 0], "--lr-schedule plateau lowers the lr when the validation "
                                                      "loss stops improving, so it needs --eval-every N > 0"),
    (["--lr-schedule", "cosine", "--minutes", 1], "--lr-schedule cosine anneals the lr over the run's steps: "
                                                  "give --steps"),
])
def test_a_schedule_without_what_it_needs_fails_before_training(words, tmp_path, capsys, flags, message):
    capsys.readouterr()
    assert train(words, *flags, "--checkpoint", tmp_path / "m.ckpt") == 2
    assert message in error_line(capsys)
    assert "model:" not in capsys.readouterr().out and not (tmp_path / "m.ckpt").exists()


def test_the_progress_shows_the_lr_of_a_schedule(words, tmp_path, capsys):
    assert train(words, "--lr-schedule", "step:2:0.5", "--steps", 5, "--eval-every", 2,
                 "--checkpoint", tmp_path / "step.ckpt") == 0
    out = capsys.readouterr().out
    assert "Adam lr 0.003 (schedule step:2:0.5)" in out
    assert "training" in out and ", lr 0.0015; sample:" in out and ", lr 0.00075; sample:" in out
    assert train(words, "--optimizer", "rmsprop", "--steps", 3, "--eval-every", 2,
                 "--checkpoint", tmp_path / "none.ckpt") == 0
    out = capsys.readouterr().out
    assert "RMSprop lr 0.002, clip" in out and "step 2: validation" in out and ", lr " not in out


# ----------------------------------------------------------------------------- checkpoints
def test_a_checkpoint_from_before_optimizers_resumes_as_adam_without_a_schedule(words, tmp_path):
    """Version 1 had no config.optimizer, config.lr_schedule nor scheduler (and, before Adam's
    amsgrad, no amsgrad in Adam's parameter group): it loads as Adam and continues the same run."""
    new, old = tmp_path / "new.ckpt", tmp_path / "old.ckpt"
    assert train(words, "--steps", 4, "--eval-every", 0, "--checkpoint", new) == 0
    checkpoint = mg.load(new)
    checkpoint["version"] = 1
    del checkpoint["scheduler"], checkpoint["config"]["optimizer"], checkpoint["config"]["lr_schedule"]
    del checkpoint["optimizer"]["param_groups"][0]["amsgrad"]
    del checkpoint["optimizer"]["param_groups"][0]["decoupled_weight_decay"]
    mg.save(checkpoint, old)
    loaded = checkpoints.load(old)
    assert loaded["config"]["optimizer"] == "adam" and loaded["config"]["lr_schedule"] == "none"
    assert loaded["scheduler"] is None
    for path in (new, old):
        assert resume(path, "--steps", 8) == 0
    assert_same_run(new, old)
    assert mg.load(old)["version"] == checkpoints.VERSION


@pytest.fixture(scope="module")
def scheduled(words, tmp_path_factory):
    """Checkpoints of 4 steps with an optimizer and a schedule each: {(optimizer, schedule): path}."""
    folder = tmp_path_factory.mktemp("scheduled")
    paths = {}
    for optimizer, schedule in [("rmsprop", "cosine"), ("sgd", "step:3:0.5"), ("adam", "plateau")]:
        paths[optimizer, schedule] = folder / f"{optimizer}.ckpt"
        assert train(words, "--optimizer", optimizer, "--lr-schedule", schedule, "--steps", 4, "--eval-every", 2,
                     "--checkpoint", paths[optimizer, schedule]) == 0
    return paths


RMSPROP, SGD, ADAM = ("rmsprop", "cosine"), ("sgd", "step:3:0.5"), ("adam", "plateau")
MALFORMED = {  # id: (the checkpoint, the change, what the error says)
    "unknown optimizer": (RMSPROP, set_field("config/optimizer", "lbfgs"), "'config.optimizer' is 'lbfgs'"),
    "unknown schedule": (RMSPROP, set_field("config/lr_schedule", "cosine:9"), "'config.lr_schedule'"),
    "schedule not written the one way": (SGD, set_field("config/lr_schedule", "step:3:.5"), "'config.lr_schedule'"),
    "another optimizer's group": (RMSPROP, set_field("config/optimizer", "adam"),
                                  "'optimizer.param_groups[0].momentum' is not a setting of Adam"),
    "a changed hyper-parameter": (RMSPROP, set_field("optimizer/param_groups/0/alpha", 0.5),
                                  "'optimizer.param_groups[0].alpha' is 0.5, but RMSprop"),
    "another optimizer's state": (ADAM, rename_field("optimizer/state/0/exp_avg", "square_avg"),
                                  "'optimizer.state.0.exp_avg' is missing"),
    "state for plain SGD": (SGD, set_field("optimizer/state/0", {"momentum_buffer": 0.0}),
                            "'optimizer.state.0.momentum_buffer' is not a field of it"),
    "no initial_lr": (SGD, set_field("optimizer/param_groups/0/initial_lr", DELETE),
                      "'optimizer.param_groups[0].initial_lr' is missing"),
    "no scheduler": (RMSPROP, set_field("scheduler", None), "'scheduler' is None, expected a dict"),
    "a scheduler without a schedule": (ADAM, set_field("config/lr_schedule", "none"),
                                       "'scheduler' is {'default_min_lr'"),
    "another schedule's state": (SGD, set_field("config/lr_schedule", "exp:0.5"),
                                 "'scheduler.step_size' is not a field of it"),
    "scheduler field missing": (RMSPROP, set_field("scheduler/T_max", DELETE), "'scheduler.T_max' is missing"),
    "a changed gamma": (SGD, set_field("scheduler/gamma", 0.9), "'scheduler.gamma' is 0.9, but --lr-schedule "
                                                            "step:3:0.5 has 0.5"),
    "bad T_max": (RMSPROP, set_field("scheduler/T_max", 0), "'scheduler.T_max' is 0, expected an integer >= 1"),
    "epoch not the step": (RMSPROP, set_field("scheduler/last_epoch", 3), "'scheduler.last_epoch' is 3, but"),
    "lr not the schedule's": (ADAM, set_field("optimizer/param_groups/0/lr", 0.5), "'scheduler._last_lr'"),
    "plateau's best": (ADAM, set_field("scheduler/best", "low"), "'scheduler.best' is 'low', expected a number"),
    "plateau's patience": (ADAM, set_field("scheduler/patience", 5), "'scheduler.patience' is 5"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_optimizer_or_schedule_names_the_field(scheduled, tmp_path, case):
    which, change, message = MALFORMED[case]
    checkpoint = mg.load(scheduled[which])
    change(checkpoint)
    path = tmp_path / "edited.ckpt"
    mg.save(checkpoint, path)
    with pytest.raises(checkpoints.CheckpointMismatch) as error:
        checkpoints.load(path)
    text = str(error.value)
    assert "\n" not in text and text.startswith(f"{path}: malformed char-RNN checkpoint: ") and message in text

