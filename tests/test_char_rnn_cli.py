"""The char-RNN command line, run as a user runs it: train on a small generated text, sample,
stop with Ctrl-C and resume, and the errors for bad texts and mismatched checkpoints."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import minigrad as mg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "examples", "char_rnn.py")
TINY = ["--hidden-size", "32", "--batch-size", "16", "--seq-len", "16", "--save-every", "0", "--no-pictures"]


def run(*args, check=True, cwd=ROOT, **options):
    """Run `python examples/char_rnn.py ARGS` in `cwd`; returns the CompletedProcess. (Bytes
    arguments are passed as they are; other subprocess.run options, e.g. preexec_fn, go through.)"""
    result = subprocess.run([sys.executable, SCRIPT, *(a if isinstance(a, bytes) else str(a) for a in args)],
                            capture_output=True, text=True, cwd=cwd, timeout=120, **options)
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def generated_text(n_words=4000, seed=0):
    """Words drawn at random from a small list: high unigram entropy, little once a word started."""
    rng = np.random.default_rng(seed)
    words = "the cat sat on a mat while dog ran far".split()
    return "".join(words[rng.integers(len(words))] + ("\n" if i % 12 == 11 else " ") for i in range(n_words))


def unigram_entropy(text):
    _, counts = np.unique(list(text), return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model trained for 300 steps on the generated text: (text path, checkpoint, output)."""
    folder = tmp_path_factory.mktemp("char_rnn")
    text = folder / "words.txt"
    text.write_text(generated_text())
    checkpoint = folder / "model.ckpt"
    result = run("train", "--text", text, *TINY, "--steps", 300, "--eval-every", 100,
                 "--checkpoint", checkpoint)
    return text, checkpoint, result.stdout


def test_training_lowers_the_loss_well_below_the_unigram_entropy(trained):
    text, checkpoint, out = trained
    saved = mg.load(checkpoint)
    steps, final = saved["run"]["val"][-1]
    assert steps == 300 and len(saved["run"]["losses"]) == 300
    assert final < 0.5 * unigram_entropy(text.read_text())
    assert [s for s, _ in saved["run"]["val"]] == [100, 200, 300]
    assert "step 100: validation" in out and "bits/char" in out and f"checkpoint: {checkpoint}" in out


def test_sample_returns_the_requested_length_from_the_vocabulary(trained):
    text, checkpoint, _ = trained
    out = run("sample", "--checkpoint", checkpoint, "--prime", "the", "--length", 80, "--seed", 3).stdout
    assert out.endswith("\n")
    sample = out[:-1]
    assert len(sample) == 3 + 80 and sample.startswith("the")
    assert set(sample) <= set(text.read_text())
    again = run("sample", "--checkpoint", checkpoint, "--prime", "the", "--length", 80, "--seed", 3).stdout
    assert again == out
    greedy = run("sample", "--checkpoint", checkpoint, "--length", 30, "--temperature", 0, "--top-k", 3).stdout
    assert len(greedy) == 1 + 30 + 1


def test_sample_rejects_a_prime_outside_the_vocabulary(trained):
    _, checkpoint, _ = trained
    result = run("sample", "--checkpoint", checkpoint, "--prime", "Zebra", check=False)
    assert result.returncode == 2 and "not in the vocabulary: 'Zb'" in result.stderr


@pytest.mark.parametrize("training", [[], ["--optimizer", "rmsprop", "--lr-schedule", "exp:0.99"]],
                         ids=["adam", "rmsprop-exp"])
def test_ctrl_c_saves_and_resume_continues_exactly(tmp_path, training):
    """Stop a run with SIGINT, resume it, and compare with one uninterrupted run: the same losses,
    weights and lr, bit for bit (dropout draws random numbers, so the RNG is restored too)."""
    text = tmp_path / "words.txt"
    text.write_text(generated_text(1500))
    flags = ["--text", text, *TINY, "--num-layers", 2, "--dropout", 0.2, "--eval-every", 0, "--seed", 5, *training]
    stopped = tmp_path / "stopped.ckpt"
    proc = subprocess.Popen([sys.executable, SCRIPT, "train", *map(str, flags), "--steps", "1000000",
                             "--checkpoint", str(stopped)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    for line in proc.stdout:          # wait until training has started
        if line.startswith("model:"):
            break
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Ctrl-C" in out and "checkpoint saved" in out and "--resume" in out
    k = mg.load(stopped)["run"]["step"]
    assert k > 0

    run("train", "--resume", stopped, "--steps", k + 15, "--eval-every", 0, "--no-pictures")
    whole = tmp_path / "whole.ckpt"
    run("train", *flags, "--steps", k + 15, "--checkpoint", whole)
    resumed, uninterrupted = mg.load(stopped), mg.load(whole)
    assert resumed["run"]["step"] == uninterrupted["run"]["step"] == k + 15
    assert resumed["run"]["losses"] == uninterrupted["run"]["losses"]
    assert resumed["optimizer"]["param_groups"] == uninterrupted["optimizer"]["param_groups"]
    assert resumed["scheduler"] == uninterrupted["scheduler"]
    for name, value in uninterrupted["weights"].items():
        assert np.array_equal(resumed["weights"][name], value), name


def test_a_mismatched_checkpoint_gives_a_clear_error(trained, tmp_path):
    _, checkpoint, _ = trained
    result = run("train", "--resume", checkpoint, "--hidden-size", 64, "--steps", 400, check=False)
    assert result.returncode == 2
    assert "--hidden-size 64 (the checkpoint has 32)" in result.stderr
    other = tmp_path / "other.txt"
    other.write_text("a different text, with other letters! " * 200)
    result = run("train", "--resume", checkpoint, "--text", other, "--steps", 400, check=False)
    assert result.returncode == 2
    assert "different vocabulary" in result.stderr and "only in this text" in result.stderr
    result = run("sample", "--checkpoint", other, check=False)
    assert result.returncode == 2 and "not a readable minigrad checkpoint" in result.stderr


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"too short for a batch", "too short"),
    ("caf\xe9 ".encode("latin-1") * 1000, "not UTF-8"),
])
def test_bad_texts_give_their_errors(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    result = run("train", "--text", path, check=False)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_help_reads_well():
    helps = {command: run(*command, "--help").stdout for command in ((), ("train",), ("sample",))}
    assert all(out.startswith("usage: char_rnn.py") for out in helps.values())
    assert "--resume" in helps[("train",)] and "--temperature" in helps[("sample",)]
