"""The animated backward walk, as a user meets it: the frames follow the engine's own visit order,
each frame colours what backward has reached by its gradient norm (the rest pale), and the GIF
and the HTML player open where they are meant to be shown."""
import html.parser
import io
import os
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import minigrad as mg
from minigrad import grad_mode, viz
from minigrad.viz.animate import NOW_LINE, PALE_EDGE, PALE_FILL
from minigrad.viz.cli import main
from minigrad.viz.demo import make_model, run
from minigrad.viz.player import split_svg
from minigrad.viz.scopes import parse_step

from conftest import needs_dot

Image = pytest.importorskip("PIL.Image")


def forward(cell, steps, **kw):
    model = make_model(cell, 3, 4, forget_bias=2.0 if cell == "lstm" else None)
    loss, _ = run(model, steps, backward=False)
    return model, loss


def backward_in_order(loss):
    """Backward as a user runs it for the pictures, with the engine's visit order recorded."""
    with viz.record(), mg.record_visits() as visits:
        loss.backward()
    return visits


@pytest.fixture(scope="module")
def rnn():
    """An RNN over 3 steps at cell level, and the order the engine visited its tensors in."""
    model, loss = forward("rnn", 3)
    visits = backward_in_order(loss)
    return viz.animate_backward(loss, params=model, visits=visits), loss, visits


@pytest.fixture(scope="module")
def lstm_ops():
    """An LSTM over 6 steps at op level."""
    model, loss = forward("lstm", 6)
    visits = backward_in_order(loss)
    return viz.animate_backward(loss, params=model, level="op", visits=visits), loss, visits


# ------------------------------------------------------------------ the engine's order

def test_record_visits_lists_every_tensor_once_in_the_engines_order():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    w = mg.tensor([0.5, -1.0], requires_grad=True)
    h = (x * w).tanh()
    loss = (h * h + h).sum()
    with mg.record_visits() as visits:
        loss.backward()
    assert grad_mode.visit_log is None                       # off again outside
    assert visits[0] is loss and len({id(t) for t in visits}) == len(visits)
    made = [t for t in visits if t.grad_fn is not None]
    assert [t.grad_fn.seq for t in made] == sorted((t.grad_fn.seq for t in made), reverse=True)
    assert {id(t) for t in visits[len(made):]} == {id(x), id(w)}      # the leaves come last
    assert any(t is h for t in made)                                 # h (used twice) visited once
    count = len(visits)
    (x * 3).sum().backward()                                         # outside: nothing recorded
    assert len(visits) == count


def _unbind(t):
    """Whether t is one of the steps x_proj.unbind(0) cut the input projection into."""
    return type(t.grad_fn).__name__ == "Unbind"


def test_the_frames_are_the_visits_in_the_engines_order(rnn):
    anim, loss, visits = rnn
    walked = [t for frame in anim.frames for t in frame.visits]
    assert len(walked) == len(visits) and all(a is b for a, b in zip(walked, visits))
    assert [f.first for f in anim.frames] == [sum(len(g.visits) for g in anim.frames[:k]) for k in range(len(anim))]
    # cell level: the loss, then each op after the last step, then one frame per step, last first
    assert anim.frames[0].visits == [loss]
    assert [f.step.t if f.step else None for f in anim.frames] == [None, None, None, 2, 1, 0]
    for frame in anim.frames:  # (the steps' inputs are one Unbind node's outputs: visited together, in one frame)
        steps = {parse_step(t.scope).t for t in frame.visits
                 if t.grad_fn is not None and parse_step(t.scope) is not None and not _unbind(t)}
        assert steps <= ({frame.step.t} if frame.step else set())
    assert anim.frames[3].caption.startswith("t = 2: ‖dL/dh_2‖ = ")


def test_op_level_groups_the_visits_into_at_most_60_frames_never_mixing_steps(lstm_ops):
    anim, loss, visits = lstm_ops
    assert 30 <= len(anim) <= 60
    walked = [t for frame in anim.frames for t in frame.visits]
    assert all(a is b for a, b in zip(walked, visits, strict=True))
    seen_steps = []
    for frame in anim.frames:
        steps = {parse_step(t.scope) for t in frame.visits if t.grad_fn is not None and not _unbind(t)} - {None}
        assert len(steps) <= 1
        if frame.step is not None and frame.step not in seen_steps:
            seen_steps.append(frame.step)
    assert [s.t for s in seen_steps] == [5, 4, 3, 2, 1, 0]


# ------------------------------------------------------------------ what every frame shows

def node_fills(svg):
    """{node id: fill colour} of an SVG frame (the fill of the node's outline)."""
    fills = {}
    for group in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}g"):
        title = group.find("{http://www.w3.org/2000/svg}title")
        if group.get("class") == "node" and title is not None:
            shape = next((el for el in group if el.tag.split("}")[1] in ("path", "polygon", "ellipse")), None)
            if shape is not None:
                fills[title.text] = shape.get("fill")
    return fills


def edge_strokes(svg):
    """{(tail, head): {stroke colours}} of the visible edges of an SVG frame."""
    strokes = {}
    for group in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}g"):
        if group.get("class") == "edge":
            tail, head = group.find("{http://www.w3.org/2000/svg}title").text.split("->")
            path = group.find("{http://www.w3.org/2000/svg}path")
            strokes.setdefault((tail, head), set()).add(path.get("stroke"))
    return strokes


@needs_dot
def test_the_first_frame_colours_only_the_loss(rnn):
    anim, loss, _ = rnn
    fills = node_fills(anim.svg_frames()[0])
    coloured = {nid for nid, fill in fills.items()
                if nid in anim.graph.nodes and anim.graph.nodes[nid].kind == "value" and fill != PALE_FILL}
    assert coloured == {anim.graph.root}
    assert fills[anim.graph.root] == anim.scale.colour(1.0)          # dL/dL = 1
    lit = {pair for pair, colours in edge_strokes(anim.svg_frames()[0]).items() if colours != {PALE_EDGE}}
    assert lit and all(head == anim.graph.root for _, head in lit)
    assert anim.frames[0].caption == "backward starts at the loss: ‖dL/dL‖ = 1.0e+00"


@needs_dot
def test_every_frame_colours_what_backward_reached_by_its_norm_and_the_rest_pale(lstm_ops):
    anim, loss, visits = lstm_ops
    svgs = anim.svg_frames()
    position = {id(t): k for k, t in enumerate(visits)}
    values = [n for n in anim.graph.nodes.values() if n.kind == "value" and not n.shared]
    for frame, svg in zip(anim.frames, svgs, strict=True):
        fills, done = node_fills(svg), frame.first + len(frame.visits)
        for node in values:
            reached = position.get(id(node.tensor), len(visits)) < done
            want = (anim.scale.colour(node.grad_norm) if node.grad_norm is not None else "#ffffff") \
                if reached else PALE_FILL
            assert fills[node.id] == want, (frame.caption, node.name)
        strokes = edge_strokes(svg)
        for edge in anim.graph.visible_edges():   # an op -> its value: coloured with the value
            head = anim.graph.nodes[edge.head]
            if anim.graph.nodes[edge.tail].kind == "op" and head.kind == "value" and head.grad_norm:
                reached = position[id(head.tensor)] < done
                assert strokes[(edge.tail, edge.head)] == {anim.scale.colour(head.grad_norm) if reached
                                                           else PALE_EDGE}
    last = node_fills(svgs[-1])
    assert all(last[n.id] == anim.scale.colour(n.grad_norm) for n in values if n.grad_norm is not None)
    assert sum(fill == PALE_FILL for fill in last.values()) == sum(n.grad_norm is None for n in values)


@needs_dot
def test_the_png_frames_show_those_colours_at_the_same_place(rnn):
    anim, _, _ = rnn
    pngs = anim.png_frames(dpi=72)        # 1 px = 1 pt, as in the SVG
    sizes = {Image.open(io.BytesIO(p)).size for p in pngs}
    assert len(sizes) == 1                # one layout: every frame the same size
    svg = anim.svg_frames()[-1]
    shift = [float(v) for v in re.search(r'translate\(([\d.]+) ([\d.]+)\)', svg).groups()]
    last, first = (Image.open(io.BytesIO(pngs[k])).convert("RGB") for k in (-1, 0))
    for h in anim.graph.find("value", "h"):
        d = re.search(rf"<title>{h.id}</title>\s*<path [^>]* d=\"([^\"]+)\"", svg).group(1)
        xs, ys = zip(*((float(a), float(b)) for a, b in re.findall(r"(-?[\d.]+),(-?[\d.]+)", d)))
        pixel = (round(min(xs) + 6 + shift[0]), round((min(ys) + max(ys)) / 2 + shift[1]))
        assert np.abs(np.subtract(last.getpixel(pixel), _rgb(anim.scale.colour(h.grad_norm)))).max() <= 3
        assert np.abs(np.subtract(first.getpixel(pixel), _rgb(PALE_FILL))).max() <= 3


def _rgb(colour):
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


@needs_dot
def test_the_current_frame_outlines_what_it_reached(rnn):
    anim, _, _ = rnn
    svg = anim.svg_frames()[3]                                      # t = 2
    outlined = set(re.findall(rf'<title>([^<]+)</title>\s*<path [^>]*stroke="{NOW_LINE}"', svg))
    assert "cell/layer0/t2" in outlined and outlined <= anim.frames[3].new


# ------------------------------------------------------------------ the GIF and the HTML page

@needs_dot
def test_the_gif_opens_with_every_frame_its_size_and_times(rnn, tmp_path):
    anim, _, _ = rnn
    path = anim.save(tmp_path / "slides" / "bptt.gif", frame_ms=300, last_ms=2000)
    gif = Image.open(path)
    assert gif.n_frames == len(anim)
    assert gif.size == Image.open(io.BytesIO(anim.png_frames()[0])).size and gif.size[0] <= 1920
    times = []
    for k in range(gif.n_frames):
        gif.seek(k)
        times.append(gif.info["duration"])
    assert times == [300] * (len(anim) - 1) + [2000]
    assert gif.info.get("loop") == 0
    gif.seek(len(anim) - 1)               # the palette keeps white white and the fills exact
    assert gif.convert("RGB").getpixel((2, 2)) == (255, 255, 255)


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.scripts, self._in_script = [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs).get("type", "")
            self.scripts.append([self._in_script, ""])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        if self._in_script is not None:
            self.scripts[-1][1] += data


@needs_dot
def test_the_html_page_holds_the_frames_a_button_and_a_slider_and_fetches_nothing(rnn, tmp_path):
    anim, _, _ = rnn
    text = anim.save(tmp_path / "bptt.html").read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    tags = [t for t, _ in page.tags]
    assert tags[:1] == ["html"] and "svg" in tags
    [button] = [a for t, a in page.tags if t == "button"]
    assert "mg-play" in button["class"]
    [slider] = [a for t, a in page.tags if t == "input" and a.get("type") == "range"]
    assert slider["min"] == "0" and slider["max"] == str(len(anim) - 1)
    [data] = [json.loads(body) for kind, body in page.scripts if kind == "application/json"]
    assert data["frames"] == len(anim) and data["captions"] == [f.caption for f in anim.frames]
    for k, svg in enumerate(anim.svg_frames()):       # every frame can be put back together
        parts = [next(text for f, text in reversed(versions) if f <= k) for versions in data["parts"]]
        assert "".join(parts) == "".join(split_svg(svg))
    assert not re.search(r"(https?:)?//[a-z]", text, re.I)       # no URL of any kind
    assert not any("src" in a or "href" in a for _, a in page.tags)
    fragment = anim._repr_html_()
    assert "<html" not in fragment and "mg-play" in fragment
    assert re.search(r'id="(mg-anim-\d+)"', fragment).group(1) != re.search(r'id="(mg-anim-\d+)"', text).group(1)


def _chromium():
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return found or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


@needs_dot
@pytest.mark.skipif(_chromium() is None, reason="no headless Chromium (apt-get install chromium) to play the page in")
def test_pressing_play_in_a_browser_moves_the_picture(rnn, tmp_path):
    anim, _, _ = rnn
    page = anim.to_html(frame_ms=200)
    clicked = page.replace("</body>", '<script>window.addEventListener("load", function () '
                                      '{ document.querySelector(".mg-play").click(); });</script>\n</body>')
    shots = []
    for name, text in (("still", page), ("played", clicked)):
        (tmp_path / f"{name}.html").write_text(text, encoding="utf-8")
        shot = tmp_path / f"{name}.png"
        subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run",
                        f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,500",
                        "--virtual-time-budget=700", f"--screenshot={shot}", (tmp_path / f"{name}.html").as_uri()],
                       capture_output=True, timeout=60, check=False)
        assert shot.exists(), f"chromium wrote no screenshot of the {name} page"
        shots.append(np.asarray(Image.open(shot).convert("RGB")).astype(int))
    still, played = shots
    assert still.shape == played.shape
    assert (np.abs(still - played).max(axis=2) > 30).mean() > 0.002     # the colours moved on


# ------------------------------------------------------------------ from Python and the command line

def test_it_runs_backward_itself_and_refuses_a_walk_it_did_not_see():
    model, loss = forward("gru", 2)
    anim = viz.animate_backward(loss, params=model)
    assert len(anim) == 5 and anim.frames[0].visits == [loss]     # L, [], stack, t = 1, t = 0
    with pytest.raises(ValueError, match="backward has run already"):
        viz.animate_backward(loss, params=model)
    model, loss = forward("gru", 2)
    with pytest.raises(ValueError, match="starts with the loss"):
        viz.animate_backward(loss, visits=[])
    with mg.record_visits() as visits:         # outside viz.record(): no intermediate gradients
        loss.backward()
    with pytest.raises(ValueError, match=r"inside `with viz.record\(\):`"):
        viz.animate_backward(loss, visits=visits)


@needs_dot
def test_the_dot_time_limit_applies(tmp_path):
    model, loss = forward("lstm", 4)
    with pytest.raises(viz.RenderTimeoutError, match="within"):
        viz.animate_backward(loss, params=model, level="op", timeout=1e-4)


@needs_dot
def test_the_command_line_writes_a_gif_and_an_html_page(tmp_path, capsys):
    gif, page = tmp_path / "out" / "rnn.gif", tmp_path / "rnn.html"
    assert main(["animate", "--cell", "rnn", "--steps", "3", "--frame-ms", "250", "-o", str(gif)]) == 0
    assert main(["animate", "--cell", "lstm", "--steps", "2", "--level", "op", "-o", str(page)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert Image.open(gif).n_frames == 6 and "mg-slider" in page.read_text(encoding="utf-8")


def test_the_command_line_checks_the_output_before_any_work(tmp_path, capsys):
    assert main(["animate", "--steps", "2", "-o", str(tmp_path / "bptt.png")]) == 2
    assert "use one of .gif, .html, .htm" in capsys.readouterr().err
    assert main(["animate", "--steps", "2", "-o", str(tmp_path)]) == 2
    assert "directory" in capsys.readouterr().err
    assert main(["animate", "--level", "op", "--steps", "3", "--max-nodes", "10", "-o", str(tmp_path / "a.gif")]) == 2
    assert "more than --max-nodes 10" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
