"""Shared test settings, and helpers several test files use: loading the example scripts they
test (`load_example`), editing and comparing checkpoints, running `python -m minigrad.viz`."""
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")  # no display: plots are written to files

# Graphviz's `dot` renders the graph pictures. Without it the rendering tests are skipped on a
# developer's machine, but in CI (CI=true) a missing `dot` is a set-up failure, never a skip.
HAVE_DOT = shutil.which("dot") is not None
if not HAVE_DOT and os.environ.get("CI"):
    raise pytest.UsageError("CI: Graphviz's `dot` is not installed (bash run.sh test installs it as root)")
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz `dot` not installed (apt-get install graphviz)")


# ----------------------------------------------------------------------------- the scripts under test
ROOT = Path(__file__).resolve().parent.parent


def load_script(path):
    """The script at `path` imported as a module named after its file, as `import` would but by
    path: its code runs, `if __name__ == "__main__":` does not. Loaded once per session, so the
    tests that load a script share it (and monkeypatch the one a test's calls go through)."""
    path = Path(path).resolve()
    name = path.stem
    module = sys.modules.get(name)
    if module is not None and Path(getattr(module, "__file__", "")).resolve() == path:
        return module
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def load_example(name):
    """examples/<name>.py as a module, e.g. load_example("char_rnn") for the char-RNN CLI's functions."""
    return load_script(ROOT / "examples" / f"{name}.py")


# ----------------------------------------------------------------------------- checkpoints
DELETE = object()  # set_field's value that deletes the field


def _parent(checkpoint, field):
    """(the dict or list holding the field "a/b/0/c", its last key) (slashes: weight names hold dots)."""
    *parents, last = field.split("/")
    d = checkpoint
    for k in parents:
        d = d[int(k)] if isinstance(d, list) else d[k]
    return d, (int(last) if isinstance(d, list) else last)


def set_field(field, value):
    """A change of a loaded checkpoint: set the field "a/b/0/c" (or delete it, with DELETE)."""
    def change(checkpoint):
        d, last = _parent(checkpoint, field)
        if value is DELETE:
            del d[last]
        else:
            d[last] = value
    return change


def rename_field(field, new_name):
    """A change of a loaded checkpoint: the field "a/b/c" renamed to "a/b/<new_name>"."""
    def change(checkpoint):
        d, last = _parent(checkpoint, field)
        d[new_name] = d.pop(last)
    return change


def assert_same_training_state(a, b):
    """Two loaded checkpoints hold the same weights, optimizer and schedule state, bit for bit."""
    assert a["weights"].keys() == b["weights"].keys()
    for name, value in a["weights"].items():
        assert np.array_equal(b["weights"][name], value), name
    assert a["optimizer"]["param_groups"] == b["optimizer"]["param_groups"]
    for key, state in a["optimizer"]["state"].items():
        for k, v in state.items():
            assert np.array_equal(b["optimizer"]["state"][key][k], v), (key, k)
    assert a["scheduler"] == b["scheduler"]


# ----------------------------------------------------------------------------- the viz command line
def viz_cli(*args, cwd=None):
    """Run `python -m minigrad.viz` as a user would; its CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "minigrad.viz", *args], capture_output=True,
                          text=True, timeout=60, cwd=cwd)


def assert_one_line_error(done, *words):
    """The command failed with exit code 2 and one line "viz: ..." holding every word, no traceback."""
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("viz: "), done.stderr
    for word in words:
        assert word in lines[0], lines[0]
