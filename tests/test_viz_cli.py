"""`python -m minigrad.viz`: the standard lecture pictures from the command line."""
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from minigrad.viz.cli import main

from conftest import needs_dot


@needs_dot
def test_unrolled_writes_the_graph_and_the_flow_plot(tmp_path, capsys):
    svg, png = tmp_path / "lstm.svg", tmp_path / "flow.png"
    assert main(["unrolled", "--cell", "lstm", "--steps", "3", "--level", "cell",
                 "-o", str(svg), "--flow", str(png)]) == 0
    texts = [el.text for el in ET.parse(svg).getroot().iter() if el.tag.endswith("text")]
    assert {"t = 0", "t = 1", "t = 2"} <= set(texts) and "t = 3" not in texts
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {svg}" in capsys.readouterr().out


@needs_dot
@pytest.mark.parametrize("cell", ["rnn", "gru", "peephole", "fourgate"])
def test_every_cell_draws_at_op_level(cell, tmp_path):
    out = tmp_path / f"{cell}.png"
    assert main(["unrolled", "--cell", cell, "--steps", "2", "--level", "op", "-o", str(out)]) == 0
    assert out.stat().st_size > 20_000


def test_flow_compares_cells(tmp_path):
    out = tmp_path / "flow.png"
    assert main(["flow", "--cells", "rnn", "lstm", "gru", "--steps", "8", "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_dot_the_source_is_written_and_the_error_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["unrolled", "--cell", "rnn", "--steps", "2", "-o", str(tmp_path / "rnn.svg")]) == 2
    err = capsys.readouterr().err
    assert "apt-get install graphviz" in err and "brew install graphviz" in err
    assert (tmp_path / "rnn.dot").read_text(encoding="utf-8").startswith("digraph")


def test_bad_requests_fail_with_a_message(tmp_path, capsys):
    assert main(["unrolled", "--steps", "2", "-o", str(tmp_path / "x.jpeg")]) == 2
    assert "suffix" in capsys.readouterr().err
    assert main(["unrolled", "--level", "op", "--steps", "3", "--max-nodes", "10",
                 "-o", str(tmp_path / "x.svg")]) == 2
    assert "more than --max-nodes 10" in capsys.readouterr().err
    assert main(["flow", "--cells", "gru", "--forget-bias", "2", "--steps", "3",
                 "-o", str(tmp_path / "f.png")]) == 0     # a GRU has no forget gate: ignored


def test_python_dash_m_viz_runs(tmp_path):
    out = tmp_path / "rnn.dot"
    done = subprocess.run([sys.executable, "-m", "minigrad.viz", "unrolled", "--cell", "rnn", "--steps", "2",
                           "-o", str(out)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert 'label="t = 1"' in out.read_text(encoding="utf-8")
