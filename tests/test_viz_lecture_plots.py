"""minigrad.viz.lecture_plots, the lecture stories' shared flags and files: where a story writes."""
import os

from minigrad.viz import lecture_plots as lp


def test_a_story_writes_under_runs_in_the_current_folder_or_the_given_root(monkeypatch):
    monkeypatch.delenv("MINIGRAD_OUT", raising=False)
    assert lp.default_out("dinner") == os.path.join("runs", "dinner")
    assert lp.default_out("dinner", root="project") == os.path.join("project", "runs", "dinner")
    assert lp.parser("dinner", "doc").parse_args([]).out == os.path.join("runs", "dinner")
    monkeypatch.setenv("MINIGRAD_OUT", "elsewhere")
    assert lp.default_out("dinner", root="project") == os.path.join("elsewhere", "dinner")
