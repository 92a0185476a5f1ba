"""Output paths are checked before any work: missing folders are created (like mkdir -p), a
directory or a folder that cannot be written is refused with an error naming the path."""
import importlib
import os
import re

import pytest

import minigrad as mg
from minigrad import viz

from conftest import assert_one_line_error, needs_dot, viz_cli

render_module = importlib.import_module("minigrad.viz.render")   # viz.render is the function
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_non_root = pytest.mark.skipif(AS_ROOT, reason="root may write into read-only folders")


@pytest.fixture
def tiny():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    return viz.trace_graph(x.tanh().sum())


@pytest.fixture
def read_only(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


def test_render_creates_missing_folders(tiny, tmp_path):
    path = viz.render(tiny, tmp_path / "a" / "b" / "tiny.dot")
    assert path.read_text(encoding="utf-8").startswith("digraph")


@needs_dot
def test_render_creates_missing_folders_for_pictures_too(tiny, tmp_path):
    assert viz.render(tiny, tmp_path / "new" / "tiny.svg").stat().st_size > 0


def test_render_refuses_a_directory_before_any_work(tiny, tmp_path, monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("the path should be checked before the graph is drawn")

    monkeypatch.setattr(render_module, "to_digraph", no_work)
    folder = tmp_path / "pics.svg"
    folder.mkdir()
    with pytest.raises(viz.OutputPathError, match="it is a directory") as err:
        viz.render(tiny, folder)
    assert str(folder) in str(err.value)
    assert isinstance(err.value, OSError)


def test_render_refuses_a_folder_that_is_a_file(tiny, tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    for target in (blocker / "g.dot", blocker / "deeper" / "g.svg"):
        with pytest.raises(viz.OutputPathError, match="is a file, not a folder") as err:
            viz.render(tiny, target)
        assert str(target) in str(err.value) and str(blocker) in str(err.value)


@needs_non_root
def test_render_refuses_a_read_only_folder(tiny, read_only):
    for target in (read_only / "g.dot", read_only / "sub" / "g.dot"):
        with pytest.raises(viz.OutputPathError, match="not writable") as err:
            viz.render(tiny, target)
        assert str(target) in str(err.value)
    assert list(read_only.iterdir()) == []


def test_render_refuses_a_folder_it_may_not_write_even_as_root(tiny, tmp_path, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    output = importlib.import_module("minigrad.viz.output")
    monkeypatch.setattr(output.os, "access", lambda p, mode: os.path.abspath(p) != str(folder))
    with pytest.raises(viz.OutputPathError, match=re.escape(f"the folder '{folder}' is not writable")):
        viz.render(tiny, folder / "g.dot")
    with pytest.raises(viz.OutputPathError, match=re.escape(f"'{folder}' is not writable")):
        viz.render(tiny, folder / "sub" / "g.dot")
    assert list(folder.iterdir()) == []


def test_cli_creates_the_missing_folders(tmp_path):
    out, plot = tmp_path / "new" / "rnn.dot", tmp_path / "plots" / "deep" / "flow.png"
    done = viz_cli("unrolled", "--cell", "rnn", "--steps", "2", "-o", str(out), "--flow", str(plot))
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").startswith("digraph")
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_refuses_a_directory_as_output(tmp_path):
    done = viz_cli("unrolled", "--cell", "rnn", "--steps", "2", "-o", str(tmp_path))
    assert_one_line_error(done, "-o", str(tmp_path), "it is a directory")


def test_cli_checks_the_flow_path_before_drawing_anything(tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    out, plot = tmp_path / "rnn.dot", blocker / "flow.png"
    done = viz_cli("unrolled", "--cell", "rnn", "--steps", "2", "-o", str(out), "--flow", str(plot))
    assert_one_line_error(done, "--flow", str(plot), "is a file, not a folder")
    assert not out.exists()                      # refused before the graph was drawn


def test_cli_flow_refuses_a_directory(tmp_path):
    done = viz_cli("flow", "--cells", "rnn", "--steps", "3", "-o", str(tmp_path))
    assert_one_line_error(done, "-o", str(tmp_path), "it is a directory")


@needs_non_root
def test_cli_refuses_a_read_only_folder(read_only):
    target = read_only / "rnn.svg"
    done = viz_cli("unrolled", "--cell", "rnn", "--steps", "2", "-o", str(target))
    assert_one_line_error(done, str(target), "not writable")
