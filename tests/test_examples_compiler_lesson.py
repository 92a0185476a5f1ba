"""Story 8, how a compiler makes autodiff free: the hand-written numpy step equals minigrad's, the
compiled step equals eager bit for bit and is faster; the quick run prints and draws that."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

from conftest import load_example

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
cl = load_example("compiler_lesson")


@pytest.fixture(scope="module")
def data():
    ids, vocab = cl.load_ids(20_000)
    return ids, vocab


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """(stdout, results, out dir) of `python examples/compiler_lesson.py --quick --out DIR`."""
    out = tmp_path_factory.mktemp("stories") / "compiler_lesson"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    env.pop("MINIGRAD_QUICK", None)
    env.pop("MINIGRAD_OUT", None)
    result = subprocess.run([sys.executable, str(EXAMPLES / "compiler_lesson.py"), "--quick", "--out", str(out)],
                            capture_output=True, text=True, cwd=out.parent, env=env, timeout=300)
    assert result.returncode == 0, f"exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout, json.loads((out / "results.json").read_text()), out


def test_windows_are_time_major_and_shifted_by_one(data):
    ids, vocab = data
    (x, y), = cl.windows(ids, batch=3, seq=5, count=1)
    assert x.shape == y.shape == (5, 3) and x.dtype == np.int64
    np.testing.assert_array_equal(x[1:], y[:-1])
    assert 0 <= x.min() and x.max() < vocab


@pytest.mark.parametrize("dtype, tolerance", [(mg.float64, 1e-10), (mg.float32, 1e-5)])
def test_the_step_by_hand_is_minigrads_step(data, dtype, tolerance):
    ids, vocab = data
    x, y = cl.windows(ids, 4, 6, 1, seed=3)[0]
    assert cl.check_by_hand(vocab, 8, x, y, dtype) < tolerance


def test_the_step_by_hand_clips_as_clip_grad_norm_does(data):
    ids, vocab = data
    x, y = cl.windows(ids, 4, 6, 1, seed=3)[0]
    _, params, _ = cl.build(vocab, 8, dtype=mg.float64)
    P = cl.numpy_params(params)
    _, free = cl.numpy_step(P, x, y, max_norm=1e9)
    _, clipped = cl.numpy_step(P, x, y, max_norm=0.01)
    norm = lambda grads: np.sqrt(sum((g ** 2).sum() for g in grads.values()))  # noqa: E731
    assert norm(free) > 0.01 and norm(clipped) == pytest.approx(0.01, rel=1e-4)
    for name in cl.NAMES:
        np.testing.assert_allclose(clipped[name], free[name] * 0.01 / (norm(free) + 1e-6), rtol=1e-12)


def test_compiled_training_equals_eager_bit_for_bit(data):
    ids, vocab = data
    losses, times, compiled = cl.experiment(vocab, 8, 4, 6, steps=4, ids=ids, warmup=2)
    assert len(losses["eager"]) == 4 and len(times["compiled"]) == 4
    assert np.array_equal(losses["eager"], losses["compiled"])
    np.testing.assert_allclose(losses["numpy by hand"], losses["eager"], rtol=1e-5)
    assert losses["eager"][0] != losses["eager"][-1], "the optimizer steps between the calls"
    assert compiled.replays >= 4


def test_plan_numbers_are_read_from_the_plan(data):
    ids, vocab = data
    _, _, compiled = cl.experiment(vocab, 8, 4, 6, steps=1, ids=ids)
    numbers = cl.plan_numbers(compiled.plan)
    assert all(isinstance(numbers[k], int) and numbers[k] > 0
               for k in ("calls", "buffers", "eager_ops", "eager_calls", "eager_arrays"))
    assert numbers["calls"] <= numbers["eager_calls"]
    assert numbers["buffers"] <= numbers["eager_arrays"]
    assert numbers["buffer_size"] and numbers["buffer_size"].split()[-1].endswith("B")


def test_quick_run_prints_its_claims_and_draws_the_chart(quick_run):
    stdout, results, out = quick_run
    assert "mg.compile plan of" in stdout and "numpy calls" in stdout
    assert "equal bit for bit over all" in stdout and results["bit_for_bit"] is True
    assert results["losses"]["eager"] == results["losses"]["compiled"]
    ms = results["ms_per_step"]
    assert set(ms) == {"eager", "compiled", "numpy by hand"}
    assert ms["compiled"] < ms["eager"], "the compiled step is faster than eager"
    assert results["by_hand_error"]["float64"] < 1e-10 and results["by_hand_error"]["float32"] < 1e-5
    plan = results["plan"]
    assert plan["calls"] < plan["eager_calls"] and plan["buffers"] < plan["eager_arrays"]
    assert f"{plan['eager_ops']} graph nodes" in stdout

    from matplotlib.image import imread

    chart = out / "step_time.png"
    assert f"wrote {chart}" in stdout
    assert 10_000 < chart.stat().st_size < 150_000
    height, width = imread(chart).shape[:2]
    assert 900 < width < 2500 and 300 < height < 900


def test_help_describes_the_story_and_the_common_flags(capsys):
    with pytest.raises(SystemExit) as exit_:
        cl.main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--quick", "--out", "--seed", "--hidden", "--steps"):
        assert flag in text
    assert "runs/compiler_lesson" in text.replace(os.sep, "/")
    assert "how a compiler makes autodiff free" in text
