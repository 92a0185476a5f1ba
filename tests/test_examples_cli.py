"""The lecture example scripts as a lecturer runs them: `python examples/<story>.py --quick --out DIR`.

Each quick run is done once (in a subprocess, one BLAS thread, as the scripts are meant to run)
and its printout, figures and results.json are checked against what its story claims. Finer
checks of the scripts' functions are in tests/test_examples_<story>.py.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import load_example, needs_dot

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

STORIES = ["dinner", "childrens_book", "long_memory", "lstm_gates", "sequence_batching", "char_rnn_tour",
           "backprop_by_hand", "compiler_lesson"]


def run_story(story, out, *args):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    env.pop("MINIGRAD_QUICK", None)
    env.pop("MINIGRAD_OUT", None)
    result = subprocess.run([sys.executable, str(EXAMPLES / f"{story}.py"), "--quick", "--out", str(out), *args],
                            capture_output=True, text=True, cwd=out.parent, env=env, timeout=300)
    assert result.returncode == 0, f"{story}.py exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout, json.loads((out / "results.json").read_text())


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """story -> (stdout, results, out dir) of its quick run, each run once, when first asked for."""
    runs = {}

    def get(story):
        if story not in runs:
            out = tmp_path_factory.mktemp("stories") / story
            runs[story] = (*run_story(story, out), out)
        return runs[story]
    return get


def written(out, stdout):
    """The files a run says it wrote, checked to exist and be non-empty."""
    paths = []
    for line in stdout.splitlines():
        if line.strip().startswith("wrote "):
            paths += [Path(p.strip()) for p in line.strip()[len("wrote "):].split(",")]
    for p in paths:
        assert p.exists() and p.stat().st_size > 1000, f"{p} is missing or empty"
        assert p.parent == out
    return {p.name for p in paths}


# ----------------------------------------------------------------------------- every script
@pytest.mark.parametrize("story", STORIES)
def test_help_describes_the_story_and_the_common_flags(story, capsys):
    module = load_example(story)
    with pytest.raises(SystemExit) as exit_:
        module.main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--quick", "--out", "--seed"):
        assert flag in text
    assert f"runs/{story}" in text.replace(os.sep, "/"), "the default output directory is runs/<story>"
    assert module.__doc__.split("\n")[0].split(":")[0] in text


# ----------------------------------------------------------------------------- the stories' claims
@needs_dot
def test_dinner_predicts_the_whole_week_and_draws_three_days(quick):
    stdout, results, out = quick("dinner")
    for sunday, week in results["weeks"].items():
        assert week["predicted"] == week["truth"], f"after {sunday}: {week}"
        assert week["min_probability_of_truth"] > 0.9
    # without W_hh the prediction is lost after the first day
    for sunday, blind in results["weeks_without_memory"].items():
        assert blind != results["weeks"][sunday]["truth"]
    assert results["mixed"]["predicted"] == results["mixed"]["truth"]
    files = written(out, stdout)
    assert {"week.png", "weights.png", "training.png", "unrolled_3_days.svg", "unrolled_3_days.png"} <= files
    svg = (out / "unrolled_3_days.svg").read_text()
    assert all(f"t = {t}" in svg for t in range(3)) and "t = 3" not in svg
    assert "predicts the whole week correctly" in stdout


def test_childrens_book_lstm_breaks_the_grammar_less_often(quick):
    stdout, results, out = quick("childrens_book")
    rnn, lstm = results["RNN"]["counts"], results["LSTM"]["counts"]
    assert rnn["sentences"] > 1000 and lstm["sentences"] > 1000
    assert lstm["break_rate"] < rnn["break_rate"]
    assert lstm["break_rate"] < 0.05
    assert rnn["self"] > lstm["self"], "'X saw X.' is the RNN's typical mistake"
    assert any(ex.split()[0] == ex.split()[2].rstrip(".") for ex in results["RNN"]["examples"]["self"])
    assert results["LSTM"]["final_loss"] < results["entropy_floor"] + 0.05
    assert {"grammar_breaks.png", "training.png", "samples.png"} <= written(out, stdout)
    assert "less often than the RNN" in stdout


@needs_dot
def test_long_memory_lstm_beats_the_rnn_at_the_largest_gap(quick):
    stdout, results, out = quick("long_memory")
    acc, gaps = results["accuracy"], results["gaps"]
    assert gaps == [2, 20]
    assert acc["RNN"][0] > 0.95, "the RNN manages a short gap"
    assert acc["RNN"][-1] < 0.65, "the RNN is near chance at the largest gap"
    assert acc["LSTM"][-1] > acc["RNN"][-1] + 0.3 and acc["LSTM"][-1] > 0.95
    assert acc["GRU"][-1] > 0.95
    ratio = results["gradient_ratio_initial"]
    assert ratio["RNN"] < 1e-4 < ratio["LSTM"], "the RNN's gradient vanishes back through time, the LSTM's less"
    flow = results["flow_initial"]["RNN"]
    assert len(flow) == gaps[-1] + 2 and flow[0] < flow[-1]
    files = written(out, stdout)
    assert {"accuracy_vs_gap.png", "gradient_flow.png", "training_losses.png", "unrolled_rnn_initial.svg",
            "unrolled_lstm_initial.svg"} <= files


@needs_dot
def test_lstm_gates_hold_the_memory_without_input_or_output(quick):
    stdout, results, out = quick("lstm_gates")
    assert results["steps"] == 50
    for label in ("LSTM, gates held", "four-gate cell, gates held"):
        held = results[label]
        assert held["c_drift"] < 1e-3, label
        assert held["h_max"] < 1e-3, label
        assert held["i_max"] < 1e-3 and held["f_min"] > 0.999 and held["o_max"] < 1e-3
        assert max(abs(a - b) for a, b in zip(held["c_final"], results["c0"])) < 1e-3
    assert results["LSTM, initial gates"]["c_drift"] > 0.1, "with ordinary gates the memory is overwritten"
    files = written(out, stdout)
    assert {"memory_kept.png", "equations.png", "fourgate_cell.svg", "lstm_cell.svg"} <= files
    for gate in ("learn", "forget", "remember", "use"):
        assert gate in stdout


@needs_dot
def test_sequence_batching_windows_and_graph_growth(quick):
    stdout, results, out = quick("sequence_batching")
    assert results["streams"] == [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]]
    (x0, y0), (x1, y1) = results["windows"]
    assert x0 == [[1, 2, 3], [7, 8, 9]] and y0 == [[2, 3, 4], [8, 9, 10]]
    assert x1 == [[4, 5], [10, 11]] and y1 == [[5, 6], [11, 12]]
    assert "second time" in results["lecture"]["not_detached_error"]
    detached, kept = results["detached"], results["not detached (retain_graph=True)"]
    assert len(set(detached["nodes"])) == 1 and set(detached["steps"]) == {3}
    growth = [b - a for a, b in zip(kept["nodes"], kept["nodes"][1:])]
    assert len(growth) > 10 and all(g == growth[0] > 0 for g in growth)
    assert kept["steps"] == [3 * (k + 1) for k in range(len(kept["steps"]))]
    files = written(out, stdout)
    assert {"windows.png", "graph_growth.png", "window1_detached.svg", "window1_not_detached.svg"} <= files
    assert "t = 0" not in (out / "window1_detached.svg").read_text()
    assert "t = 0" in (out / "window1_not_detached.svg").read_text()


def test_char_rnn_tour_trains_samples_and_finds_a_unit(quick):
    stdout, results, out = quick("char_rnn_tour")
    assert results["val_after"] < results["val_before"] - 0.69, "at least a bit per character better"
    assert results["val_before"] > 0.95 * results["uniform"]
    surprise = [s["surprise"] for s in results["samples"].values()]
    temperatures = [float(t) for t in results["samples"]]
    assert temperatures == sorted(temperatures)
    assert all(a < b for a, b in zip(surprise, surprise[1:])), "hotter samples are more surprising"
    assert results["greedy_is_deterministic"]
    assert abs(results["unit"]["correlation"]) > 0.5
    assert {"training.png", "hidden_unit.png"} <= written(out, stdout)


@needs_dot
def test_backprop_by_hand_matches_grad_and_gradcheck(quick):
    stdout, results, out = quick("backprop_by_hand")
    tiny = results["tiny"]
    assert tiny["gradcheck"] and max(row[5] for row in tiny["rows"]) < 1e-12
    assert abs(tiny["forward"]["L"] - 0.440945) < 1e-6
    rnn = results["rnn"]
    assert rnn["gradcheck"] and rnn["max_difference"] < 1e-12
    assert {"tiny_table.png", "tiny_graph.svg", "rnn_step_graph.svg"} <= written(out, stdout)


@needs_dot
def test_backprop_through_three_steps(tmp_path):
    stdout, results = run_story("backprop_by_hand", tmp_path / "bptt", "--steps", "3")
    assert results["rnn"]["steps"] == 3 and results["rnn"]["gradcheck"]
    assert results["rnn"]["max_difference"] < 1e-12
    assert "each shared weight sums one term per step" in stdout


def test_char_rnn_tour_reads_a_checkpoint_of_char_rnn_py(tmp_path):
    words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far"]
    rng = __import__("numpy").random.default_rng(0)
    text = tmp_path / "words.txt"
    text.write_text(" ".join(rng.choice(words, 3000)) + "\n")
    ckpt = tmp_path / "run" / "tiny.ckpt"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    trained = subprocess.run([sys.executable, str(EXAMPLES / "char_rnn.py"), "train", "--text", str(text),
                              "--hidden-size", "16", "--batch-size", "8", "--seq-len", "16", "--steps", "30",
                              "--eval-every", "0", "--save-every", "0", "--no-pictures", "--checkpoint", str(ckpt)],
                             capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert trained.returncode == 0, trained.stderr
    stdout, results = run_story("char_rnn_tour", tmp_path / "tour", "--checkpoint", str(ckpt), "--text", str(text),
                                "--temperatures", "0.5", "1.0")
    assert "model: " in stdout and "Training" not in stdout, "a checkpoint is used as it is, not trained"
    assert results["steps"] == 0 and results["val_before"] == results["val_after"] < results["uniform"]
    assert list(results["samples"]) == ["0.5", "1.0"]
