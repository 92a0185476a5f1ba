"""Rendering through Graphviz's real `dot` (SVG, PNG, PDF), the DOT source without it, and the
error that says how to install it."""
import struct
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import minigrad as mg
from minigrad import viz
from minigrad.models import LSTM

from conftest import needs_dot


@pytest.fixture(scope="module")
def picture():
    mg.manual_seed(0)
    model = LSTM(3, 4)
    x = mg.tensor(np.random.default_rng(0).standard_normal((3, 2, 3)).astype(np.float32))
    with viz.record():
        output, _ = model(x)
        loss = output[-1].sum()
        loss.backward()
    return viz.draw_unrolled(loss, params=model, level="cell")


@needs_dot
def test_svg_is_valid_xml_with_the_step_labels(picture, tmp_path):
    path = viz.render(picture, tmp_path / "lstm.svg")
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    texts = [el.text for el in root.iter() if el.tag.endswith("text")]
    assert {"t = 0", "t = 1", "t = 2"} <= set(texts)
    assert "LSTM" in texts


@needs_dot
def test_png_has_a_plausible_size(picture, tmp_path):
    data = viz.render(picture, tmp_path / "lstm.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert 800 < width < 20000 and 200 < height < 5000
    assert len(data) > 20_000


@needs_dot
def test_pdf_and_a_viz_graph_render_too(picture, tmp_path):
    assert viz.render(picture, tmp_path / "lstm.pdf").read_bytes()[:5] == b"%PDF-"
    a = mg.tensor([1.0], requires_grad=True)
    path = viz.render(viz.trace_graph(a.tanh()), tmp_path / "plain.svg")
    assert ET.parse(path).getroot().tag.endswith("svg")


def test_dot_source_is_written_without_dot_and_rendering_says_how_to_install_it(
        picture, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    for suffix in (".dot", ".gv"):
        path = viz.render(picture, tmp_path / f"lstm{suffix}")
        assert path.read_text(encoding="utf-8") == picture.source
    with pytest.raises(viz.DotNotFoundError) as err:
        viz.render(picture, tmp_path / "lstm.svg")
    message = str(err.value)
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert ".dot" in message and not (tmp_path / "lstm.svg").exists()


def test_an_unknown_suffix_is_refused(picture, tmp_path):
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf, \.dot, \.gv"):
        viz.render(picture, tmp_path / "lstm.jpeg")


def test_the_digraph_shows_inline_in_jupyter(picture):
    assert hasattr(picture, "_repr_mimebundle_")
