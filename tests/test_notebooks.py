"""The lecture notebooks (examples/notebooks/*.ipynb), executed top to bottom as a lecturer would.

Each runs with nbclient in a kernel of this very interpreter (a kernel spec written to a temporary
JUPYTER_PATH, so no system-wide `python3` kernel is picked up), in its quick mode
(MINIGRAD_QUICK=1), writing its figures to a temporary directory. Every notebook asserts what its
story claims, so a notebook that runs but no longer shows its point fails here.
"""
import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the dev extra (nbformat, nbclient, ipykernel) is not installed")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from conftest import needs_dot  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parent.parent / "examples" / "notebooks"
KERNEL = "minigrad-examples"
ALL = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
STORIES = ["dinner", "childrens_book", "long_memory", "lstm_gates", "sequence_batching", "char_rnn_tour",
           "backprop_by_hand", "compiler_lesson"]


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
    """A Jupyter data dir holding one kernel spec: this interpreter running ipykernel."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "minigrad (tests)", "language": "python"}))
    return {"JUPYTER_PATH": str(root), "MINIGRAD_QUICK": "1", "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1", "JUPYTER_PLATFORM_DIRS": "1"}


def test_every_story_has_a_notebook():
    assert ALL == sorted(f"{s}.ipynb" for s in STORIES)


@pytest.mark.parametrize("name", ALL)
def test_notebook_is_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "a notebook with no code"
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, f"{name}: a cell was saved with its outputs"
    assert any("assert " in c.source for c in code), f"{name} asserts nothing about its story"


@needs_dot
@pytest.mark.parametrize("name", ALL)
def test_notebook_runs_and_shows_its_point(name, kernel_env, tmp_path, monkeypatch):
    for key, value in kernel_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MINIGRAD_OUT", str(tmp_path))
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name=KERNEL, timeout=240, allow_errors=False,
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"{name} failed:\n{exc}")
    story = name.removesuffix(".ipynb")
    pngs = list((tmp_path / story).glob("*.png"))
    assert pngs, f"{name} wrote no figure to {tmp_path / story}"
    shown = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
             if o.get("output_type") == "display_data" and "image/png" in o.get("data", {})]
    assert len(shown) >= len(pngs) - 1, f"{name} shows {len(shown)} of its {len(pngs)} figures inline"
    assert not (NOTEBOOKS / "runs").exists(), "a notebook wrote into examples/notebooks/"
