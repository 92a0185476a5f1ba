"""The char-RNN command line never loses a run's training and fails early, in one line, on bad
input: unwritable or occupied checkpoint paths, Ctrl-C at any moment, bad flag values, short or
BOM-marked texts, and damaged or edited checkpoints (checked before anything is built)."""
import os
import resource
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad.models import CharRNN
from minigrad.models import char_rnn_checkpoint as checkpoints
from minigrad.models.char_rnn import pick_next, train_step
from minigrad.models.text import Vocab, read_text
from minigrad.viz.char_rnn_pictures import flow_layout

from conftest import DELETE, load_example, set_field
from test_char_rnn_cli import ROOT, SCRIPT, TINY, generated_text, run

cli = load_example("char_rnn")

QUICK = [*TINY, "--steps", 20, "--eval-every", 0]


def one_line_error(result, *expected):
    """The run failed as a usage error: exit 2, one line on stderr holding `expected`, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def usage_error(result, flag):
    """argparse's usage error: exit 2, its last line names the flag, no traceback."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert f"error: argument {flag}:" in result.stderr.strip().splitlines()[-1], result.stderr


@pytest.fixture(scope="module")
def words(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "words.txt"
    path.write_text(generated_text(1500))
    return path


@pytest.fixture(scope="module")
def tiny(words, tmp_path_factory):
    """A checkpoint of 20 steps of a tiny model on the words."""
    path = tmp_path_factory.mktemp("tiny") / "tiny.ckpt"
    run("train", "--text", words, *QUICK, "--checkpoint", path)
    return path


def edited(tiny, folder, change):
    """A copy of the tiny checkpoint with `change(checkpoint)` applied, saved with mg.save."""
    checkpoint = mg.load(tiny)
    change(checkpoint)
    path = folder / "edited.ckpt"
    mg.save(checkpoint, path)
    return path


# ----------------------------------------------------------------------------- 1. unwritable checkpoint paths
def test_a_checkpoint_folder_that_cannot_be_created_fails_before_training(words, tmp_path):
    (tmp_path / "a_file").write_text("not a folder")
    target = tmp_path / "a_file" / "run" / "model.ckpt"
    result = run("train", "--text", words, *QUICK, "--checkpoint", target, check=False)
    one_line_error(result, str(target), "cannot be created", "--checkpoint")
    assert "model:" not in result.stdout, "no training before the check"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only folder")
def test_a_read_only_checkpoint_folder_fails_before_training(words, tmp_path):
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = run("train", "--text", words, *QUICK, "--checkpoint", folder / "model.ckpt", check=False)
    finally:
        folder.chmod(0o755)
    one_line_error(result, str(folder / "model.ckpt"), "cannot be written")
    assert "model:" not in result.stdout


def test_a_directory_is_not_a_checkpoint_path(words, tmp_path):
    result = run("train", "--text", words, *QUICK, "--checkpoint", tmp_path, check=False)
    one_line_error(result, "is a directory")


# ----------------------------------------------------------------------------- 2. Ctrl-C at any moment
# Runs char_rnn.main with one of its functions wrapped so that a real SIGINT reaches the process
# as that function is entered: exactly the moment under test, whatever the machine's speed.
INTERRUPTING = """
import importlib.util, os, signal, sys
from minigrad.models import char_rnn_checkpoint
from minigrad.threads import use_one_blas_thread
spec = importlib.util.spec_from_file_location("char_rnn", {script!r})   # examples/char_rnn.py
char_rnn = importlib.util.module_from_spec(spec)
spec.loader.exec_module(char_rnn)
use_one_blas_thread()  # as the script's `if __name__ == "__main__":` does
module, name, times = {module}, {name!r}, {times}
real = getattr(module, name)
def interrupted(*args, **kwargs):
    for _ in range(times):
        os.kill(os.getpid(), signal.SIGINT)
    return real(*args, **kwargs)
setattr(module, name, interrupted)
sys.exit(char_rnn.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("module, name, times", [
    ("char_rnn", "evaluate", 1),                  # Ctrl-C in the final validation (--eval-every 0)
    ("char_rnn_checkpoint", "save", 2),           # Ctrl-C twice while the final checkpoint is written
], ids=["final-validation", "twice-while-saving"])
def test_ctrl_c_after_the_last_step_still_saves(words, tmp_path, module, name, times):
    path = tmp_path / "model.ckpt"
    code = INTERRUPTING.format(script=SCRIPT, module=module, name=name, times=times)
    result = subprocess.run([sys.executable, "-c", code, "train", "--text", str(words),
                             *map(str, QUICK), "--checkpoint", str(path)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 130, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "checkpoint saved" in result.stdout and "--resume" in result.stdout
    assert mg.load(path)["run"]["step"] == 20


# ----------------------------------------------------------------------------- 3. an occupied checkpoint path
def test_a_new_run_does_not_replace_a_checkpoint(words, tiny, tmp_path):
    before = tiny.read_bytes()
    result = run("train", "--text", words, *QUICK, "--checkpoint", tiny, check=False)
    one_line_error(result, str(tiny), "--resume", "--overwrite")
    assert tiny.read_bytes() == before
    other = tmp_path / "other.ckpt"
    other.write_bytes(before)
    result = run("train", "--resume", tiny, "--steps", 25, "--checkpoint", other, check=False)
    one_line_error(result, str(other), "--overwrite")
    assert tiny.read_bytes() == before and other.read_bytes() == before
    run("train", "--text", words, *QUICK, "--seed", 1, "--checkpoint", other, "--overwrite")
    assert mg.load(other)["config"]["seed"] == 1


def test_the_demo_run_again_replaces_its_own_checkpoint_and_says_so(words, tmp_path):
    """`demo` (no --checkpoint) writes the default file; a second demo starts afresh over it,
    while `train` there still refuses to replace it."""
    first = run("demo", "--text", words, *QUICK, cwd=tmp_path)
    assert "replacing" not in first.stdout
    default = tmp_path / "runs" / "char_rnn" / "char_rnn.ckpt"
    assert default.exists()
    again = run("demo", "--text", words, *QUICK, "--seed", 3, cwd=tmp_path)
    assert "replacing the previous demo run's checkpoint" in again.stdout
    assert mg.load(default)["config"]["seed"] == 3
    one_line_error(run("train", "--text", words, *QUICK, cwd=tmp_path, check=False), "--resume", "--overwrite")


# ----------------------------------------------------------------------------- 4. flags checked up front
@pytest.mark.parametrize("flags, flag", [
    (["--lr", "nan"], "--lr"), (["--lr", "inf"], "--lr"), (["--lr", "0"], "--lr"),
    (["--clip", "nan"], "--clip"), (["--clip", "-1"], "--clip"),
    (["--val-chars", "0"], "--val-chars"), (["--val-chars", "-5"], "--val-chars"),
    (["--seed", "-1"], "--seed"), (["--hidden-size", "0"], "--hidden-size"), (["--num-layers", "1.5"], "--num-layers"),
    (["--batch-size", "-2"], "--batch-size"), (["--seq-len", "0"], "--seq-len"),
    (["--embedding-dim", "0"], "--embedding-dim"), (["--max-chars", "0"], "--max-chars"),
    (["--val-fraction", "nan"], "--val-fraction"), (["--val-fraction", "1"], "--val-fraction"),
    (["--dropout", "1"], "--dropout"), (["--dropout", "nan"], "--dropout"),
    (["--steps", "0"], "--steps"), (["--minutes", "nan"], "--minutes"), (["--minutes", "-1"], "--minutes"),
    (["--eval-every", "-1"], "--eval-every"), (["--save-every", "-1"], "--save-every"),
    (["--sample-length", "-1"], "--sample-length"),
])
def test_bad_train_flags_are_usage_errors(flags, flag, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.build_parser().parse_args(["train", *flags])
    assert exit_.value.code == 2
    assert f"argument {flag}: expected " in capsys.readouterr().err


@pytest.mark.parametrize("flags, flag", [
    (["--temperature", "nan"], "--temperature"), (["--temperature", "inf"], "--temperature"),
    (["--temperature", "-1"], "--temperature"), (["--length", "-1"], "--length"), (["--top-k", "0"], "--top-k"),
    (["--seed", "-3"], "--seed"), (["--prime", ""], "--prime"), (["--prime", "a\udcff"], "--prime"),
])
def test_bad_sample_flags_are_usage_errors(flags, flag, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.build_parser().parse_args(["sample", *flags])
    assert exit_.value.code == 2
    assert f"argument {flag}: " in capsys.readouterr().err


def test_nan_lr_clip_and_zero_val_chars_fail_before_training(words, tmp_path):
    for flags in (["--lr", "nan"], ["--clip", "nan"], ["--val-chars", "0"]):
        result = run("train", "--text", words, *QUICK, *flags, "--checkpoint", tmp_path / "m.ckpt", check=False)
        usage_error(result, flags[0])
        assert not (tmp_path / "m.ckpt").exists()


def test_sample_flags_fail_cleanly_and_a_tiny_temperature_is_safe(tiny):
    usage_error(run("sample", "--checkpoint", tiny, "--prime", b"a\xff", check=False), "--prime")
    usage_error(run("sample", "--checkpoint", tiny, "--temperature", "nan", check=False), "--temperature")
    greedy = run("sample", "--checkpoint", tiny, "--length", 30, "--temperature", 0).stdout
    tiny_t = run("sample", "--checkpoint", tiny, "--length", 30, "--temperature", "1e-310", "--seed", 0).stdout
    assert tiny_t == greedy  # no NaN: at 1e-310 only the most likely characters are left


def test_pick_next_at_extreme_temperatures():
    logits = np.array([0.0, 3.0, 1.0, 3.0])
    rng = np.random.default_rng(0)
    assert {pick_next(logits, 1e-310, rng=rng) for _ in range(50)} == {1, 3}  # the two most likely
    assert pick_next(logits[:3], 5e-324, rng=rng) == 1
    assert {pick_next(logits, 1e300, rng=rng) for _ in range(200)} == {0, 1, 2, 3}
    with pytest.raises(ValueError, match="temperature"):
        pick_next(logits, float("nan"))


def test_the_flag_kinds_are_the_checkpoint_config():
    assert set(checkpoints.CONFIG) == {*cli.MODEL_DEFAULTS, *cli.DATA_DEFAULTS, *cli.OPTIMIZER_DEFAULTS,
                                       *cli.TRAIN_DEFAULTS}


def test_clip_zero_means_no_clipping():
    mg.manual_seed(0)
    model = CharRNN(5, hidden_size=4, num_layers=1)
    optimizer = mg.optim.Adam(model.parameters(), lr=1e-2)
    before = [p.data.copy() for p in model.parameters()]
    x = np.random.default_rng(0).integers(0, 5, (2, 6))
    train_step(model, optimizer, x[:, :-1], x[:, 1:], None, clip=0.0)
    assert all(not np.array_equal(b, p.data) for b, p in zip(before, model.parameters()))


# ----------------------------------------------------------------------------- 7. resume from another folder
def test_resume_from_another_folder_finds_the_text(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "words.txt").write_text(generated_text(1500))
    run("train", "--text", "words.txt", *QUICK, "--checkpoint", "model.ckpt", cwd=first)
    assert mg.load(first / "model.ckpt")["config"]["text"] == str(first / "words.txt")
    run("train", "--resume", os.path.join("..", "first", "model.ckpt"), "--steps", 25, "--eval-every", 0,
        "--no-pictures", cwd=second)
    assert mg.load(first / "model.ckpt")["run"]["step"] == 25


# ----------------------------------------------------------------------------- 8. short texts and byte-order marks
def test_a_40_character_text_trains_and_draws(tmp_path):
    text = tmp_path / "short.txt"
    text.write_text(generated_text(1500)[:40])
    result = run("train", "--text", text, "--hidden-size", 8, "--batch-size", 2, "--seq-len", 4, "--steps", 5,
                 "--eval-every", 0, "--checkpoint", tmp_path / "run" / "model.ckpt",
                 env={**os.environ, "MPLBACKEND": "Agg"})
    assert "Traceback" not in result.stderr
    assert os.path.getsize(tmp_path / "run" / "gradient_flow.png") > 1000


def test_the_gradient_flow_windows_fit_any_text():
    for n in range(2, 600):
        streams, T = flow_layout(n, 64, 8)
        assert streams >= 1 and T >= 1 and streams * (T + 1) <= n, n
    assert flow_layout(10_000, 64, 8) == (8, 64)


def test_a_byte_order_mark_is_not_a_character(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfab\r\nc\xef\xbb\xbf")
    assert read_text(path) == "ab\nc\ufeff"  # only the mark at the start is dropped
    path.write_bytes(b"\xef\xbb\xbf" + "café".encode("latin-1"))
    with pytest.raises(ValueError, match="offset 6"):  # the byte's offset in the file
        read_text(path)


# ----------------------------------------------------------------------------- 10. an edited hidden_size
def _limit_memory():
    limit = 2 << 30  # 2 GiB of address space: the 13 GiB the edited model would take cannot be had
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.parametrize("command", [["sample"], ["train", "--steps", 30, "--resume"]], ids=["sample", "resume"])
def test_an_edited_hidden_size_fails_before_allocating(tiny, tmp_path, command):
    def change(checkpoint):
        checkpoint["model"]["hidden_size"] = checkpoint["config"]["hidden_size"] = 30000
    path = edited(tiny, tmp_path, change)
    flag = [] if command[0] == "train" else ["--checkpoint"]
    result = run(*command, *flag, path, check=False, preexec_fn=_limit_memory)
    one_line_error(result, str(path), "hidden_size 30000", "'weights.rnn.weight_ih_l0' has shape")


# ----------------------------------------------------------------------------- 11. malformed checkpoints
MALFORMED = {  # id: (the change, the field the error names)
    "no model": (set_field("model", DELETE), "'model' is missing"),
    "unknown model argument": (set_field("model/colour", "red"), "'model.colour'"),
    "cell": (set_field("model/cell", "lstn"), "'model.cell'"),
    "bool hidden_size": (set_field("model/hidden_size", True), "'model.hidden_size'"),
    "version": (set_field("version", 7), "'version'"),
    "vocab type": (set_field("vocab", [1, 2]), "'vocab'"),
    "vocab length": (set_field("vocab", "abc"), "'vocab' has 3 characters"),
    "missing weight": (set_field("weights/head.bias", DELETE), "'weights.head.bias' is missing"),
    "weight shape": (set_field("weights/head.bias", np.zeros(3, np.float32)), "'weights.head.bias' has shape (3,)"),
    "nan weight": (lambda c: c["weights"]["head.bias"].fill(np.nan), "'weights.head.bias' holds NaN"),
    "config lr": (set_field("config/lr", float("nan")), "'config.lr'"),
    "config vs model": (set_field("config/hidden_size", 64), "'config.hidden_size' is 64"),
    "missing config field": (set_field("config/seed", DELETE), "'config.seed' is missing"),
    "no param_groups": (set_field("optimizer/param_groups", DELETE), "'optimizer.param_groups' is missing"),
    "param_groups lr": (set_field("optimizer/param_groups/0/lr", "fast"), "'optimizer.param_groups[0].lr'"),
    "moment shape": (set_field("optimizer/state/0/exp_avg", np.zeros(2, np.float32)), "'optimizer.state.0.exp_avg'"),
    "run step": (set_field("run/step", "ten"), "'run.step'"),
    "run val": (set_field("run/val", [[1]]), "'run.val'"),
    "digest": (set_field("run/text_sha256", 5), "'run.text_sha256'"),
    "hidden shape": (set_field("hidden", [np.zeros((1, 2, 3), np.float32)] * 2), "'hidden[0]'"),
    "rng": (set_field("rng", {"bit_generator": "PCG64", "state": "x"}), "'rng' is not a random generator state"),
}


def test_checkpoint_errors_are_checkpoint_errors():
    assert issubclass(checkpoints.CheckpointMismatch, mg.CheckpointError)


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_checkpoint_names_the_file_and_the_field(tiny, tmp_path, case):
    change, message = MALFORMED[case]
    path = edited(tiny, tmp_path, change)
    with pytest.raises(checkpoints.CheckpointMismatch) as error:
        checkpoints.load(path)
    text = str(error.value)
    assert "\n" not in text and text.startswith(f"{path}: malformed char-RNN checkpoint: ") and message in text


@pytest.mark.parametrize("case, command", [
    ("no model", "sample"), ("unknown model argument", "sample"), ("no param_groups", "train"), ("rng", "train"),
])
def test_the_cli_reports_a_malformed_checkpoint_in_one_line(tiny, tmp_path, case, command):
    change, message = MALFORMED[case]
    path = edited(tiny, tmp_path, change)
    args = ["sample", "--checkpoint", path] if command == "sample" else ["train", "--resume", path, "--steps", 30]
    one_line_error(run(*args, check=False), str(path), message)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("embedding_dim", [None, 3])
def test_every_kind_of_checkpoint_passes_validation(tmp_path, cell, embedding_dim):
    mg.manual_seed(0)
    model = CharRNN(4, hidden_size=5, num_layers=2, cell=cell, embedding_dim=embedding_dim)
    assert CharRNN.parameter_shapes(**model.config()) == {k: v.shape for k, v in model.state_dict().items()}
    optimizer = mg.optim.Adam(model.parameters(), lr=1e-2)
    x = np.random.default_rng(0).integers(0, 4, (2, 7))
    _, state = train_step(model, optimizer, x[:, :-1], x[:, 1:], None, clip=1.0)
    config = {**cli.MODEL_DEFAULTS, **cli.DATA_DEFAULTS, **cli.OPTIMIZER_DEFAULTS, **cli.TRAIN_DEFAULTS,
              **model.config(), "batch_size": 2, "lr": 1e-2}
    del config["vocab_size"]
    run_ = dict(step=1, epoch=0, window=1, losses=[1.0], val=[], text_sha256="0" * 64)
    path = tmp_path / "model.ckpt"
    checkpoints.save(path, model, optimizer, Vocab("abcd"), config, run_, state)
    restored, vocab = checkpoints.load_model(checkpoints.load(path), path)
    assert vocab.chars == "abcd" and restored.config() == model.config()


def test_a_run_window_beyond_the_text_is_a_clear_error(tiny, tmp_path):
    path = edited(tiny, tmp_path, set_field("run/window", 10**9))
    one_line_error(run("train", "--resume", path, "--steps", 30, check=False), str(path), "'run.window'")
