"""animate: backpropagation through time, moving. The unrolled graph lights up in the order the
engine's backward walk reaches it.

    anim = viz.animate_backward(loss, params=model, level="cell")  # runs loss.backward() itself
    anim.save("bptt.gif")       # for slides (frame_ms=, last_ms= the pause on the last frame)
    anim.save("bptt.html")      # one self-contained page: play/pause button and a slider
    anim                        # in Jupyter: the same player, inline

Every frame is the picture of `viz.draw_unrolled` (same colour scale, same legend), laid out
once, so nothing moves from frame to frame (viz/layout.py). A value and the edges that carry
its gradient take their gradient-norm colour in the frame where backward reaches the tensor:
the engine visits a tensor when its gradient is complete, so the colour is final from then on.
An op lights up when backward runs through it (when its output is visited), a cell box with
the first tensor of its step. All the rest is pale grey; an orange border marks what the
current frame reached, and a caption says where the walk is ("t = 3: ‖dL/dh_3‖ = 2.1e-02").

The order is the engine's own, reported by `mg.record_visits()` (minigrad/autograd.py), not
re-sorted here: the loss first, then every tensor made by an op, the most recently created
first (so the steps from the last back to the first), the leaves last. Frames:
    level="cell"  one frame per time step (the whole cell at once), and one per node outside
                  the steps (the loss, the sum, the stack of outputs);
    level="op"    the visits of each step cut into groups, at most `max_frames` frames.
"""
import math
import warnings
from dataclasses import dataclass
from html import escape

import minigrad as mg
from minigrad.viz.draw import DEFAULT_MAX_NODES, trace_unrolled
from minigrad.viz.layout import draw_frames, lay_out, positioned_source
from minigrad.viz.output import check_output, write_output
from minigrad.viz.player import gif_bytes, html_player
from minigrad.viz.record import record
from minigrad.viz.render import DOT_TIMEOUT, colour_scale, edge_attrs, legend, node_attrs, to_digraph
from minigrad.viz.scopes import parse_step, pretty
from minigrad.viz.trace import tensors_in_order

PALE_FILL = "#f5f5f5"      # not reached yet
PALE_LINE = "#cfcfcf"
PALE_TEXT = "#b3b3b3"
PALE_EDGE = "#e0e0e0"
NOW_LINE = "#d55e00"       # Okabe-Ito vermilion: the border of what this frame reached
PENDING = "‖∇‖ = …"       # a value's norm line until backward reaches it
FORMATS = (".gif", ".html", ".htm")


@dataclass
class Frame:
    """One frame: what backward has reached once it has visited `visits` too."""
    visits: list          # the tensors the engine visited for this frame, in its order
    first: int            # the index of visits[0] in the whole walk
    nodes: frozenset      # ids of the nodes reached so far (drawn in colour)
    edges: frozenset      # indices into graph.edges of the edges reached so far
    new: frozenset        # ids of the nodes reached in this frame (orange border)
    step: object          # the scopes.Step of this frame's visits, None outside the steps
    caption: str


def animate_backward(loss, *, params=None, level="cell", visits=None, values="named", scale=None,
                     title=None, cell_title=None, max_frames=60, max_nodes=DEFAULT_MAX_NODES,
                     timeout=DOT_TIMEOUT):
    """The backward walk through the unrolled graph of `loss`, as an animation.

    Pass the loss before calling backward: animate_backward runs `loss.backward()` itself,
    inside `viz.record()` (every gradient kept) and `mg.record_visits()` (the engine's order).
    If backward has run already, pass the order it recorded:

        with viz.record(), mg.record_visits() as visits:
            loss.backward()
        anim = viz.animate_backward(loss, params=model, visits=visits)

    Args:
        loss: the loss (a one-element tensor computed from the sequence).
        params: a Module or {name: tensor} naming the parameters.
        level: "cell" (one box per step, one frame per step) or "op" (every op).
        visits: the engine's visit order from `mg.record_visits()` (default: run backward).
        values, cell_title: as for `viz.draw_unrolled`.
        scale: a `viz.LogScale` (default: this graph's range, as the static pictures).
        title: the first line of the legend.
        max_frames: at op level, group the visits into at most this many frames (the frames
            never mix two time steps, so a graph of many steps may get more).
        max_nodes: refuse (GraphTooLargeError) graphs of more nodes.
        timeout: seconds dot may take for the layout, and again for drawing all frames.

    Returns:
        An `Animation`: `.save("bptt.gif")` or `.save("bptt.html")`; `.frames` says what each
        frame shows.
    """
    if visits is None:
        with warnings.catch_warnings():   # a bad level or too large a graph: refused before backward
            warnings.simplefilter("ignore")
            trace_unrolled(loss, params=params, level=level, grads=False, values=values, max_nodes=max_nodes)
        visits = _run_backward(loss)
    elif not visits or visits[0] is not loss:
        raise ValueError("animate_backward: visits must be the list mg.record_visits() filled during "
                         "loss.backward(), which starts with the loss itself")
    graph = trace_unrolled(loss, params=params, level=level, values=values, max_nodes=max_nodes,
                           cell_title=cell_title)
    if not any(n.grad_norm is not None for n in graph.nodes.values() if n.kind == "value" and not n.leaf):
        raise ValueError("animate_backward: no gradients were kept on the intermediate values; run "
                         "loss.backward() inside `with viz.record():` too (or leave backward to animate_backward)")
    reached = _reach(graph, tensors_in_order(loss), visits)
    frames = _frames(graph, visits, reached, level, max_frames)
    scale = colour_scale(graph, True, scale)
    return Animation(graph, frames, scale, title, level, timeout)


def _run_backward(loss):
    fn = getattr(loss, "grad_fn", None)
    if fn is None:
        raise ValueError("animate_backward: the loss has no graph (grad_fn is None): compute it from tensors "
                         "that require grad, outside mg.no_grad()")
    if fn.released or loss.grad is not None:
        raise ValueError("animate_backward: backward has run already, so its order was not recorded; pass the "
                         "loss before calling backward (animate_backward calls it), or run backward inside "
                         "`with viz.record(), mg.record_visits() as visits:` and pass visits=visits")
    with record(), mg.record_visits() as visits:
        loss.backward()
    return visits


def _reach(graph, order, visits):
    """{("node", id) or ("edge", k): the index of the visit that reaches it} for what backward reaches.

    A value is reached when its tensor is visited (its gradient is then complete), the op that
    made it at the same visit (its backward runs next), an edge with the tensor whose gradient
    it carries, a cell box at the first visit of a tensor made in its step, and a copy of a
    shared leaf (drawn in every step, not coloured) with what it feeds."""
    at = {}
    for k, tensor in enumerate(visits):
        at.setdefault(id(tensor), k)
    step_at = {}
    for k, tensor in enumerate(visits):
        step = parse_step(tensor.scope)
        if step is not None and tensor.grad_fn is not None:
            step_at.setdefault(f"cell/{step.cell}", k)

    def visit(nid):     # the visit of the tensor whose gradient flows back out of node nid
        node = graph.nodes[nid]
        if node.kind == "op" and nid.startswith("op"):   # op<i> made value v<i> (viz/trace.py)
            return at.get(id(order[int(nid[2:])]))
        return None if node.shared or node.tensor is None else at.get(id(node.tensor))

    reached = {}
    for nid, node in graph.nodes.items():
        k = step_at.get(nid) if node.kind == "cell" else visit(nid)
        if k is not None:
            reached[("node", nid)] = k
    for k, edge in enumerate(graph.edges):
        if not edge.visible:
            continue
        tail, head = graph.nodes[edge.tail], graph.nodes[edge.head]
        if tail.shared:
            when = reached.get(("node", edge.head))
        elif tail.kind == "cell":                  # box -> the state or output it made
            when = at.get(id(head.tensor)) if head.tensor is not None else None
        else:
            when = visit(edge.tail)
        if when is not None:
            reached[("edge", k)] = when
    for nid, node in graph.nodes.items():       # shared copies: with the first op or box they feed
        if node.shared:
            fed = [reached[("node", e.head)] for e in graph.edges
                   if e.tail == nid and e.visible and ("node", e.head) in reached]
            if fed:
                reached[("node", nid)] = min(fed)
    return reached


def _frames(graph, visits, reached, level, max_frames):
    """The frames: the root alone, then runs of visits of one step (cell level: one frame per
    step, one per visit outside the steps; op level: runs cut to fit `max_frames`). The outputs
    of one node with several (the Unbind that cuts the input projection into steps) are visited
    together, when the node runs, and share a frame."""
    lights = {}
    for item, k in reached.items():
        lights.setdefault(k, []).append(item)
    groups = []                                  # [step, [visit indices], visible count]
    for k, tensor in enumerate(visits):
        step = parse_step(tensor.scope) if tensor.grad_fn is not None else None
        sibling = k > 0 and tensor.grad_fn is not None and tensor.grad_fn is visits[k - 1].grad_fn
        if k > 0 and (k not in lights or sibling):  # nothing new to see, or another output of the
            groups[-1][1].append(k)                  # same node (Unbind's steps): the frame before
            groups[-1][2] += k in lights
            continue
        last = groups[-1] if groups else None
        if (last is not None and len(groups) > 1 and last[0] == step
                and (step is not None or level == "op")):
            last[1].append(k)
            last[2] += 1
        else:
            groups.append([step, [k], 1])
    if level == "op":
        groups = groups[:1] + _cut(groups[1:], lights, max_frames - 1)
    frames, nodes, edges = [], set(), set()
    for step, ks, _ in groups:
        new = {item for k in ks for item in lights.get(k, ())}
        new_nodes = {nid for kind, nid in new if kind == "node"}
        nodes |= new_nodes
        edges |= {k for kind, k in new if kind == "edge"}
        frames.append(Frame([visits[k] for k in ks], ks[0], frozenset(nodes), frozenset(edges),
                            frozenset(new_nodes), step, ""))
    rows = {step.row for step in (parse_step(n.scope) for n in graph.nodes.values()) if step is not None}
    for k, frame in enumerate(frames):
        frame.caption = _caption(graph, frame, k == 0, len(rows) > 1)
    return frames


def _cut(groups, lights, room):
    """Cut every run into pieces of at most `size` visible visits, `size` as small as lets all
    pieces fit into `room` frames (a run is never merged with another)."""
    size = 1
    while size < max((g[2] for g in groups), default=1) and sum(math.ceil(g[2] / size) for g in groups) > room:
        size += 1
    pieces = []
    for step, ks, visible in groups:
        parts = math.ceil(visible / size)
        cuts = {round(visible * j / parts) for j in range(1, parts)}   # pieces of equal size
        seen, piece = 0, [step, [], 0]
        for k in ks:
            if k in lights:
                if seen in cuts and piece[1]:
                    pieces.append(piece)
                    piece = [step, [], 0]
                seen += 1
                piece[2] += 1
            piece[1].append(k)
        pieces.append(piece)
    return pieces


def _caption(graph, frame, first, layers):
    """Where the walk is: "t = 3: ‖dL/dh_3‖ = 6.2e-01, ‖dL/dc_3‖ = 2.0e+00" (the named values
    this frame reached, states first), else the ops it went through ("t = 3: through tanh, +")."""
    new = [graph.nodes[nid] for nid in _in_order(graph, frame.new)]
    named = [n for n in new if n.kind == "value" and n.name and not n.shared and n.grad_norm is not None]
    named.sort(key=lambda n: (not n.state, n.name != "h"))   # h first, then c
    if named:
        parts = [f"‖dL/d{_subscripted(n)}‖ = {n.grad_norm:.1e}" for n in named[:3]]
        text = ", ".join(parts) + (", …" if len(named) > 3 else "")
    else:
        ops = list(dict.fromkeys(n.name for n in new if n.kind in ("op", "cell") and n.name))
        text = ("through " + ", ".join(o.split("\n")[0] for o in ops[:4]) + (", …" if len(ops) > 4 else "")
                if ops else "on to the leaves")
    if first:
        root = graph.nodes[graph.root]
        if root.grad_norm is not None:
            text = f"‖dL/d{root.name or 'L'}‖ = {root.grad_norm:.1e}"
        return f"backward starts at the loss: {text}"
    step = frame.step
    if step is None:
        return text
    where = f"t = {step.t}"
    if layers and step.row:           # several layers: "layer 1, t = 3"
        where = f"{pretty(step.row.split('/')[-1])}, {where}"
    return f"{where}: {text}"


def _in_order(graph, ids):
    return [nid for nid in graph.nodes if nid in ids]


def _subscripted(node):
    step = parse_step(node.scope)
    return f"{node.name}_{step.t}" if step is not None and node.kind == "value" else node.name


class Animation:
    """The frames of a backward walk (from `animate_backward`), drawn at one fixed layout.

    `frames` (a list of `Frame`) says what each frame reached; `svg_frames()` and
    `png_frames()` draw them; `save(path)` writes a GIF or an HTML page; in Jupyter the
    animation shows as the HTML player.
    """

    def __init__(self, graph, frames, scale, title, level, timeout=DOT_TIMEOUT):
        self.graph, self.frames, self.scale, self.level = graph, frames, scale, level
        self.timeout = timeout
        self._legend = legend(graph, True, scale, title)
        self.layout = lay_out(graph, to_digraph(graph, True, "LR", scale, title), timeout)
        self._sources, self._svg, self._png = None, None, {}

    def __len__(self):
        return len(self.frames)

    def __repr__(self):
        return f"<Animation: {len(self)} frames of the {self.level}-level backward walk, {len(self.graph)} nodes>"

    def source(self, k):
        """The DOT source of frame k (every position given: `dot -Knop2` draws it)."""
        frame = self.frames[k]
        return positioned_source(self.graph, self.layout, lambda node: self._node_attrs(node, frame),
                                 lambda j: self._edge_attrs(j, frame), self._legend,
                                 _caption_label(frame, k, len(self), self._walk_length()))

    def sources(self):
        """The DOT sources of all frames (made once and kept)."""
        if self._sources is None:
            self._sources = [self.source(k) for k in range(len(self))]
        return self._sources

    def svg_frames(self):
        """Every frame as an SVG document (text), drawn once and kept."""
        if self._svg is None:
            self._svg = draw_frames(self.sources(), "svg", self.timeout)
        return self._svg

    def png_frames(self, dpi=None, max_width=1920):
        """Every frame as PNG bytes, `dpi` dots per inch (default: at most 96, and at most
        `max_width` pixels wide), drawn once per resolution and kept."""
        if dpi is None:
            dpi = min(96.0, 72 * max_width / (self.layout.width + 24))   # (+ the margins)
        dpi = math.floor(dpi * 10) / 10
        if dpi not in self._png:
            self._png[dpi] = draw_frames(self.sources(), "png", self.timeout, dpi)
        return self._png[dpi]

    def frame_times(self, frame_ms=None, last_ms=2500):
        """Milliseconds each frame shows: `frame_ms` (default: the walk takes about 8 s,
        150 to 900 ms a frame) and `last_ms` for the last frame."""
        if frame_ms is None:
            frame_ms = min(900, max(150, 8000 // max(len(self), 1)))
        return [int(frame_ms)] * (len(self) - 1) + [int(max(last_ms, frame_ms))]

    def to_gif(self, frame_ms=None, last_ms=2500, loop=True, dpi=None, max_width=1920):
        """The animated GIF (bytes): one global palette, frames `frame_ms` apart, a pause of
        `last_ms` on the last; loop=False plays it once."""
        return gif_bytes(self.png_frames(dpi, max_width), self.frame_times(frame_ms, last_ms), loop)

    def to_html(self, frame_ms=None, last_ms=2500, loop=True, page=True):
        """The HTML player: the frames as SVG (each drawn part stored once, in the frames where it
        changes), a play/pause button and a slider; no server, nothing fetched. page=False gives
        the fragment Jupyter shows (`_repr_html_`)."""
        return html_player(self.svg_frames(), [f.caption for f in self.frames],
                           self.frame_times(frame_ms, last_ms), loop, page)

    def _repr_html_(self):
        return self.to_html(page=False)

    def save(self, path, frame_ms=None, last_ms=2500, loop=True, dpi=None, max_width=1920):
        """Write the animation to `path`: .gif (for slides) or .html/.htm (the player page).
        The path is checked before any drawing; missing folders are created. Returns the Path."""
        path = check_output(path, "animation")
        suffix = path.suffix.lower()
        if suffix not in FORMATS:
            raise ValueError(f"animation: cannot tell the format of {str(path)!r} from its suffix; "
                             f"use one of {', '.join(FORMATS)}")
        if suffix == ".gif":
            return write_output(path, self.to_gif(frame_ms, last_ms, loop, dpi, max_width), "animation")
        return write_output(path, self.to_html(frame_ms, last_ms, loop), "animation")

    def _walk_length(self):
        last = self.frames[-1]
        return last.first + len(last.visits)

    def _node_attrs(self, node, frame):
        attrs = node_attrs(node, True, self.scale)
        if node.id not in frame.nodes:
            _pale(node, attrs)
        elif node.id in frame.new:
            attrs["color"] = NOW_LINE
            attrs["penwidth"] = "3.5"
        return attrs

    def _edge_attrs(self, k, frame):
        edge = self.graph.edges[k]
        attrs = edge_attrs(edge, True, self.scale)
        if k not in frame.edges:
            attrs["color"] = PALE_EDGE
        return attrs


def _pale(node, attrs):
    """Restyle a node's attributes (from render.node_attrs) as not reached yet: pale grey, its
    norm not shown. The label keeps its lines, so its text does not move when it is reached."""
    attrs.update(fillcolor=PALE_FILL, color=PALE_LINE, fontcolor=PALE_TEXT)
    label = attrs["label"]
    if node.kind == "value" and node.grad_norm is not None:
        label = label.replace(f"‖∇‖ = {node.grad_norm:.1e}", PENDING)
    head = '<<font color="'
    if label.startswith(head):       # an HTML-like label names its text colour (render._html_label)
        label = head + PALE_TEXT + label[label.index('"', len(head)):]
    attrs["label"] = label
    if attrs.get("shape") == "plaintext":
        attrs.pop("fillcolor")


def _caption_label(frame, k, n, walk):
    """The caption above frame k of n, as an HTML-like label: the caption, then where the frame
    is in the walk of `walk` visits."""
    last = frame.first + len(frame.visits)
    visits = f"visit {last}" if len(frame.visits) == 1 else f"visits {frame.first + 1}–{last}"
    return (f'<<font point-size="24"><b>{escape(frame.caption)}</b></font>'
            f'<font point-size="15" color="#666666">      frame {k + 1} of {n} · {visits} of {walk}</font>>')
