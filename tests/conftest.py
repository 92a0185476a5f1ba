"""Shared test settings, and loading the example scripts the tests test (`load_example`)."""
import importlib.util
import os
import shutil
import sys
from pathlib import Path

import matplotlib
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
