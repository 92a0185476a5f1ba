"""minigrad installs as one package: a wheel built from this checkout, installed into a fresh
virtual environment, works from a student's folder that holds a `models.py` and a `viz.py`
of its own (the names most ML projects use), without hiding them or being hidden by them."""
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

from conftest import needs_dot

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["pyproject.toml", "README.md", "minigrad", "models", "viz"]

STUDENT_CODE = textwrap.dedent("""
    import sys
    import models, viz                      # the student's own files
    assert models.MINE and viz.MINE

    import minigrad as mg
    from minigrad import nn, optim
    from minigrad import viz as mgviz
    from minigrad.models import LSTMCell, FourGateLSTMCell
    for module in (mg, mgviz, sys.modules["minigrad.models"]):
        assert module.__file__.startswith(sys.prefix), module.__file__

    mg.manual_seed(0)
    cell, head = LSTMCell(3, 8), nn.Linear(8, 2)
    opt = optim.Adam(list(cell.parameters()) + list(head.parameters()), lr=0.05)
    x, y = mg.randn(16, 3), (mg.randn(16).data > 0).astype("int64")
    losses = []
    for _ in range(30):
        h, c = cell(x)
        loss = nn.functional.cross_entropy(head(h), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0], losses

    with mgviz.record():
        h, c = FourGateLSTMCell(3, 4)(x)
        loss = h.sum()
        loss.backward()
    mgviz.render(mgviz.draw_graph(loss), "cell.svg")
    print("trained", round(losses[0], 3), round(losses[-1], 3))
""")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """A wheel built from a copy of the sources (the checkout itself gets no build files)."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, src / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                         if (ROOT / name).is_dir() else {}))
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "--no-index", "-q", "-w", str(out), str(src)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = out.glob("minigrad-*.whl")
    return built


def test_the_wheel_holds_one_top_level_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"minigrad", next(t for t in tops if t.endswith(".dist-info"))}, tops
    for module in ["minigrad/models/lstm.py", "minigrad/viz/__main__.py", "minigrad/nn/functional.py",
                   "minigrad/threads.py", "minigrad/models/text.py", "minigrad/models/char_rnn_checkpoint.py",
                   "minigrad/viz/lecture_plots.py", "minigrad/viz/char_rnn_pictures.py"]:
        assert module in names
    # every package of the checkout is installed (pyproject.toml lists them by hand)
    for folder, installed in (("minigrad", "minigrad"), ("models", "minigrad/models"), ("viz", "minigrad/viz")):
        for init in (ROOT / folder).rglob("__init__.py"):
            package = f"{installed}/{init.relative_to(ROOT / folder).as_posix()}"
            assert package in names, f"{package} is missing from the wheel: add it to pyproject.toml's packages"


@needs_dot
def test_installed_wheel_works_beside_a_students_models_and_viz(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                           "--no-index", str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    # The dependencies (numpy, graphviz, matplotlib, tqdm) come from the test's own environment,
    # after the fresh one's site-packages, so minigrad itself can only come from the wheel.
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")

    student = tmp_path / "project"
    student.mkdir()
    (student / "models.py").write_text("MINE = True\n")
    (student / "viz.py").write_text("MINE = True\n")
    (student / "train.py").write_text(STUDENT_CODE)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["MPLBACKEND"] = "Agg"
    done = subprocess.run([str(python), "train.py"], cwd=student, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("trained")
    assert (student / "cell.svg").read_text().lstrip().startswith(("<?xml", "<svg"))

    done = subprocess.run([str(python), "-m", "minigrad.viz", "unrolled", "--cell", "lstm", "--steps", "3",
                           "--level", "cell", "-o", "lstm.png"], cwd=student, capture_output=True, text=True,
                          env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (student / "lstm.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
