"""benchmarks/vs_peers.py without the harness: its summary, and the launcher of the minigrad runs."""
import ast
import os
import subprocess
import sys

import numpy as np

from conftest import ROOT, load_script

vs_peers = load_script(ROOT / "benchmarks" / "vs_peers.py")


def result(chars, rss=80.0, first=4.41069, last=3.03192, **extra):
    return dict(chars_per_s=chars, peak_rss_mb=rss, loss_first=first, loss_last=last, **extra)


def test_summary_gives_medians_ranges_and_ratios():
    results = {("small", "numpy_manual"): [result(100.0), result(90.0), result(110.0)],
               ("small", "minigrad"): [result(70.0, rss=95.0), result(80.0, rss=93.0), result(75.0, rss=94.0)],
               ("small", "minigrad_compiled"): [result(90.0)],
               ("medium", "numpy_manual"): [result(20.0, rss=200.0)],
               ("medium", "minigrad_compiled"): [result(22.0, rss=210.0)]}
    text = vs_peers.summary(results, ["small", "medium"], budget=False)
    assert "| impl | small chars/s | medium chars/s | peak RSS small | peak RSS medium |" in text
    assert "| minigrad | 75 (70-80) | - | 94 MB | - |" in text
    assert "| numpy_manual | 100 (90-110) | 20 (20-20) | 80 MB | 200 MB |" in text
    assert "minigrad on small: 0.75x numpy_manual, peak RSS 1.18x numpy_manual's" in text
    assert "minigrad_compiled on small: 0.90x numpy_manual, peak RSS 1.00x numpy_manual's" in text
    assert "minigrad_compiled on medium: 1.10x numpy_manual, peak RSS 1.05x numpy_manual's" in text
    assert "fastest steps" not in text  # (results without step times)
    timed = {k: [dict(r, sec_per_step_median=2.0, sec_per_step_min=1.0 if k[1] == "numpy_manual" else 1.6)
                 for r in runs] for k, runs in results.items()}
    text = vs_peers.summary(timed, ["small", "medium"], budget=False)
    assert "  minigrad_compiled on small: 112 chars/s, 0.56x numpy_manual" in text  # 90 * 2 / 1.6; 100 * 2
    assert "every run gave loss_first, loss_last = (4.41069, 3.03192)" in text and "WARNING" not in text


def test_summary_flags_a_run_that_computed_something_else():
    results = {("small", "numpy_manual"): [result(100.0)], ("small", "minigrad"): [result(70.0, last=3.1)]}
    assert "WARNING: small runs disagree on loss_first, loss_last" in vs_peers.summary(results, ["small"], False)
    budget = {("small", "numpy_manual"): [result(100.0, last=1.6, val_loss=1.589, steps=5102)],
              ("small", "minigrad"): [result(70.0, last=1.7, val_loss=1.682, steps=3326)]}
    text = vs_peers.summary(budget, ["small"], budget=True)
    assert "| minigrad | 1.682 (1.682-1.682), 3,326 steps | 80 MB |" in text
    assert "WARNING" not in text  # runs of a time budget differ in length, so only loss_first must agree


def test_launcher_runs_the_harness_with_the_installed_models_package(tmp_path):
    run_py = tmp_path / "run.py"
    run_py.write_text("import sys\nimport minigrad.models\nfrom models import LSTM\n"
                      "import models\nassert models.LSTMCell is minigrad.models.LSTMCell\n"
                      "assert LSTM is minigrad.models.LSTM\n"
                      "print(type(LSTM(3, 4)).__name__, sys.argv[1:])\n")
    program = vs_peers.LAUNCHER.format(root=vs_peers.ROOT, run_py=str(run_py), compiled=None)
    done = subprocess.run([sys.executable, "-c", program, "--impl", "minigrad"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "LSTM ['--impl', 'minigrad']"


def test_compiled_launcher_runs_the_harness_step_compiled_with_the_same_losses(tmp_path):
    """minigrad_compiled: the harness's own Impl (here a small stand-in with its interface), its
    train_step replaced by one that compiles _loss + zero_grad + backward + clip; Adam eager."""
    (tmp_path / "common.py").write_text("CLIP = 0.5\n")
    (tmp_path / "minigrad_impl.py").write_text(
        "import numpy as np\nimport minigrad as mg\nfrom minigrad import nn, optim\n"
        "from models import LSTM\nimport common\n\n"
        "class Impl:\n"
        "    def __init__(self):\n"
        "        mg.manual_seed(0)\n"
        "        self.lstm, self.fc = LSTM(5, 4), nn.Linear(4, 5)\n"
        "        self.params = list(self.lstm.parameters()) + list(self.fc.parameters())\n"
        "        self.opt = optim.Adam(self.params, lr=0.01)\n"
        "        self.state = None\n\n"
        "    def _loss(self, x, y, state):\n"
        "        out, state = self.lstm(nn.functional.one_hot(np.ascontiguousarray(x.T), 5, dtype=mg.float32), state)\n"
        "        logits = self.fc(out.reshape(-1, 4))\n"
        "        return nn.functional.cross_entropy(logits, np.ascontiguousarray(y.T).reshape(-1)), state\n\n"
        "    def train_step(self, x, y):\n"
        "        loss, state = self._loss(x, y, self.state)\n"
        "        self.opt.zero_grad()\n"
        "        loss.backward()\n"
        "        nn.utils.clip_grad_norm_(self.params, common.CLIP)\n"
        "        self.opt.step()\n"
        "        self.state = tuple(s.detach() for s in state)\n"
        "        return float(loss.data)\n")
    run_py = tmp_path / "run.py"
    run_py.write_text(
        "import importlib, sys\nimport numpy as np\nImpl = importlib.import_module('minigrad_impl').Impl\n"
        "ids = np.random.default_rng(0).integers(0, 5, (6, 3, 9))\n"
        "impl = Impl()\n"
        "print(repr([impl.train_step(w[:, :-1], w[:, 1:]) for w in ids]))\n"
        "print(getattr(impl, 'compiled_step', None) is not None and impl.compiled_step.replays)\n")
    outputs = []
    for compiled in (None, True, False):  # eager, mg.compile(exact=True), mg.compile(exact=False)
        program = vs_peers.LAUNCHER.format(root=vs_peers.ROOT, run_py=str(run_py), compiled=compiled)
        done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout.split("\n"))
    assert outputs[1][0] == outputs[0][0]  # the same six losses, to the last digit
    inexact, eager = (ast.literal_eval(out[0]) for out in (outputs[2], outputs[0]))
    np.testing.assert_allclose(inexact, eager, rtol=1e-5)  # to rounding
    assert outputs[0][1] == "False" and outputs[1][1] == outputs[2][1] == "4"  # traced twice (state None, then given)


def test_missing_harness_is_a_clear_error(tmp_path):
    done = subprocess.run([sys.executable, os.path.join(vs_peers.ROOT, "benchmarks", "vs_peers.py"),
                           "--harness", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 2 and "no run.py in" in done.stderr and "Traceback" not in done.stderr
