"""benchmarks/vs_peers.py without the harness: its summary, and the launcher of the minigrad runs."""
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
import vs_peers  # noqa: E402


def result(chars, rss=80.0, first=4.41069, last=3.03192, **extra):
    return dict(chars_per_s=chars, peak_rss_mb=rss, loss_first=first, loss_last=last, **extra)


def test_summary_gives_medians_ranges_and_ratios():
    results = {("small", "numpy_manual"): [result(100.0), result(90.0), result(110.0)],
               ("small", "minigrad"): [result(70.0, rss=95.0), result(80.0, rss=93.0), result(75.0, rss=94.0)],
               ("small", "minigrad_fused"): [result(90.0)]}
    text = vs_peers.summary(results, ["small"], budget=False)
    assert "| minigrad | 75 (70-80) | 94 MB |" in text
    assert "| numpy_manual | 100 (90-110) | 80 MB |" in text
    assert "minigrad on small: 0.75x numpy_manual" in text
    assert "minigrad_fused on small: 0.90x numpy_manual" in text
    assert "every run gave loss_first, loss_last = (4.41069, 3.03192)" in text and "WARNING" not in text


def test_summary_flags_a_run_that_computed_something_else():
    results = {("small", "numpy_manual"): [result(100.0)], ("small", "minigrad"): [result(70.0, last=3.1)]}
    assert "WARNING: small runs disagree on loss_first, loss_last" in vs_peers.summary(results, ["small"], False)
    budget = {("small", "numpy_manual"): [result(100.0, last=1.6, val_loss=1.589, steps=5102)],
              ("small", "minigrad"): [result(70.0, last=1.7, val_loss=1.682, steps=3326)]}
    text = vs_peers.summary(budget, ["small"], budget=True)
    assert "| minigrad | 1.682 (1.682-1.682), 3,326 steps | 80 MB |" in text
    assert "WARNING" not in text  # runs of a time budget differ in length, so only loss_first must agree


@pytest.mark.parametrize("fused", [False, True])
def test_launcher_runs_the_harness_with_the_installed_models_package(tmp_path, fused):
    run_py = tmp_path / "run.py"
    run_py.write_text("import sys\nimport minigrad.models\nfrom models import LSTM\n"
                      "import models\nassert models.LSTMCell is minigrad.models.LSTMCell\n"
                      "print('fused' if LSTM(3, 4).fused else 'composed', sys.argv[1:])\n")
    program = vs_peers.LAUNCHER.format(root=vs_peers.ROOT, run_py=str(run_py), fused=fused)
    done = subprocess.run([sys.executable, "-c", program, "--impl", "minigrad"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("fused" if fused else "composed") + " ['--impl', 'minigrad']"


def test_missing_harness_is_a_clear_error(tmp_path):
    done = subprocess.run([sys.executable, os.path.join(vs_peers.ROOT, "benchmarks", "vs_peers.py"),
                           "--harness", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 2 and "no run.py in" in done.stderr and "Traceback" not in done.stderr
