"""How long rendering may take: dot is stopped at a time limit, and the command line refuses
pictures too large for dot before it starts."""
import subprocess
import time
from pathlib import Path

import pytest

import minigrad as mg
from minigrad import viz
from minigrad.viz.demo import make_model, run

from conftest import assert_one_line_error, needs_dot, viz_cli


@pytest.fixture(scope="module")
def slow_picture():
    """An op-level LSTM over 15 steps: dot takes a second or more to lay it out."""
    model = make_model("lstm", 4, 8, forget_bias=2.0)
    loss, _ = run(model, 15)
    return viz.draw_unrolled(loss, params=model, level="op")


@needs_dot
def test_dot_is_stopped_at_the_timeout_leaving_no_file_and_no_process(slow_picture, tmp_path, monkeypatch):
    started = []

    class Spy(subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(subprocess, "Popen", Spy)
    out = tmp_path / "lstm.svg"
    clock = time.monotonic()
    with pytest.raises(viz.RenderTimeoutError, match=r"within 0\.05 s.*level='cell'.*timeout="):
        viz.render(slow_picture, out, timeout=0.05)
    assert time.monotonic() - clock < 5
    assert not out.exists() and list(tmp_path.iterdir()) == []
    [dot] = started
    assert dot.returncode is not None                  # killed and waited for: no zombie
    if Path("/proc").is_dir():
        assert not Path(f"/proc/{dot.pid}").exists()


@needs_dot
def test_a_generous_timeout_lets_dot_finish(tmp_path):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    path = viz.render(viz.trace_graph(x.tanh().sum()), tmp_path / "tiny.svg", timeout=30)
    assert path.read_text(encoding="utf-8").lstrip().startswith("<?xml")


@needs_dot
def test_the_cli_timeout_flag_stops_dot_with_a_one_line_hint(tmp_path):
    out = tmp_path / "lstm.svg"
    done = viz_cli("unrolled", "--cell", "lstm", "--steps", "15", "--level", "op",
                   "--timeout", "0.05", "-o", str(out))
    assert_one_line_error(done, "within 0.05 s", "--level cell", "--steps", "--timeout", str(out))
    assert not out.exists()


def test_the_default_limit_refuses_the_40_step_op_graph_before_dot_runs(tmp_path):
    out = tmp_path / "lstm.svg"
    clock = time.monotonic()
    done = viz_cli("unrolled", "--steps", "40", "--level", "op", "-o", str(out))
    assert time.monotonic() - clock < 30    # dot would take minutes (killed after 5 in the issue)
    assert_one_line_error(done, "976 nodes", "--max-nodes", "--level cell", "fewer --steps")
    assert not out.exists()


def test_the_default_limit_allows_what_dot_draws_in_seconds():
    from minigrad.viz.draw import DEFAULT_MAX_NODES
    for cell, level, steps in [("lstm", "op", 16), ("gru", "op", 13), ("gru", "cell", 98)]:
        model = make_model(cell, 4, 8)
        loss, _ = run(model, steps)
        assert len(viz.trace_unrolled(loss, params=model, level=level)) <= DEFAULT_MAX_NODES, (cell, level)
