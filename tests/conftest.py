"""Shared test settings."""
import os
import shutil

import matplotlib
import pytest

matplotlib.use("Agg")  # no display: plots are written to files

# Graphviz's `dot` renders the graph pictures. Without it the rendering tests are skipped on a
# developer's machine, but in CI (CI=true) a missing `dot` is a set-up failure, never a skip.
HAVE_DOT = shutil.which("dot") is not None
if not HAVE_DOT and os.environ.get("CI"):
    raise pytest.UsageError("CI: Graphviz's `dot` is not installed (bash run.sh test installs it as root)")
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz `dot` not installed (apt-get install graphviz)")
