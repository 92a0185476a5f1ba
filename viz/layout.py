"""layout: lay a picture out once with `dot`, then draw it many times at the same positions.

An animation shows one graph in many colourings; if each frame were laid out anew, a label that
changes (a gradient norm appearing) could move every node. So `dot` lays the full picture out
once (`-Tjson0`: the position and size of every node, the box of every cluster, the spline of
every edge, where the labels go), and each frame is a DOT source that gives all of them
explicitly, drawn by Graphviz's `nop2` engine (= `neato -n2`: "the positions are given, draw
them"). Node sizes are fixed (`fixedsize`), so a label may change without moving anything.
Each `dot` process gets a share of the frames and writes their pictures one after the other.
"""
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from minigrad.viz.render import DOT_TIMEOUT, EDGE_ATTRS, GRAPH_ATTRS, NODE_ATTRS, RenderError, cluster_attrs, \
    run_dot

CAPTION_ID = "__caption__"
CAPTION_HEIGHT = 40   # points, above the picture


@dataclass
class Layout:
    """Where dot put everything, in points (y up), as DOT attribute strings."""
    bb: str                                      # the whole picture, "x0,y0,x1,y1"
    label_pos: str | None                        # the legend (the graph's label)
    nodes: dict = field(default_factory=dict)    # id -> {"pos", "width", "height"}
    clusters: dict = field(default_factory=dict)  # cluster id -> {"bb", "lp"}
    edges: list = field(default_factory=list)    # spline "pos" of graph.edges[k] (None: invisible)

    @property
    def width(self):
        """The picture's width in points."""
        x0, _, x1, _ = (float(v) for v in self.bb.split(","))
        return x1 - x0


def lay_out(graph, digraph, timeout=DOT_TIMEOUT):
    """The Layout `dot` gives `digraph` (the `to_digraph` of the viz Graph `graph`)."""
    data = json.loads(run_dot(digraph, "json0", timeout, "the animation's layout"))
    objects = data.get("objects", [])
    layout = Layout(bb=data["bb"], label_pos=data.get("lp"))
    for obj in objects:
        name = obj["name"]
        if name.startswith("cluster_") and "bb" in obj:
            layout.clusters[name[len("cluster_"):]] = {k: obj[k] for k in ("bb", "lp") if k in obj}
        elif "pos" in obj:
            layout.nodes[name] = {k: obj[k] for k in ("pos", "width", "height")}
    splines = {}    # (tail, head, visible) -> the splines of such edges, in dot's order
    for laid in sorted(data.get("edges", []), key=lambda e: e["_gvid"]):
        key = (objects[laid["tail"]]["name"], objects[laid["head"]]["name"], laid.get("style") != "invis")
        splines.setdefault(key, []).append(laid.get("pos"))
    for edge in graph.edges:
        found = splines.get((edge.tail, edge.head, edge.visible))
        if not found:
            raise RenderError(f"layout: dot left out the edge {edge.tail} -> {edge.head}")
        pos = found.pop(0)
        layout.edges.append(pos if edge.visible else None)
    return layout


def positioned_source(graph, layout, node_attrs, edge_attrs, label, caption=None):
    """The DOT source of one frame: every node, cluster and edge of `graph` where `layout` put
    it, styled by `node_attrs(node)` and `edge_attrs(k)` for graph.edges[k] (dicts of attributes),
    `label` (the legend) below and `caption` (an HTML-like label) above. (Written directly, not
    through graphviz.Digraph, whose quoting takes most of the time of a frame.)"""
    lines = ["digraph minigrad {",
             "graph" + _attrs({**GRAPH_ATTRS, "label": label, "bb": layout.bb, "lp": layout.label_pos}),
             "node" + _attrs(NODE_ATTRS), "edge" + _attrs(EDGE_ATTRS)]
    for cid, cluster in graph.clusters.items():
        box = layout.clusters.get(cid)
        if box is not None:
            lines.append(f"subgraph {_quote('cluster_' + cid)} {{ graph{_attrs({**cluster_attrs(cluster), **box})} }}")
    for node in graph.nodes.values():
        lines.append(_quote(node.id) + _attrs({**node_attrs(node), **layout.nodes[node.id], "fixedsize": "true"}))
    for k, (edge, pos) in enumerate(zip(graph.edges, layout.edges)):
        if pos is not None:
            lines.append(f"{_quote(edge.tail)} -> {_quote(edge.head)}{_attrs({**edge_attrs(k), 'pos': pos})}")
    if caption is not None:
        x0, _, x1, y1 = (float(v) for v in layout.bb.split(","))
        lines.append(_quote(CAPTION_ID) + _attrs({
            "label": caption, "shape": "plaintext", "fixedsize": "true", "width": f"{(x1 - x0) / 72:.3f}",
            "height": f"{CAPTION_HEIGHT / 72:.3f}", "pos": f"{(x0 + x1) / 2:.2f},{y1 + CAPTION_HEIGHT / 2:.2f}"}))
    lines.append("}\n")
    return "\n".join(lines)


def _quote(value):
    """A DOT ID: an HTML-like label "<...>" as it is, anything else in double quotes (as the
    graphviz package quotes them for the still pictures: backslashes keep their meaning)."""
    value = str(value)
    if value.startswith("<") and value.endswith(">"):
        return value
    return '"' + value.replace('"', '\\"') + '"'


def _attrs(attrs):
    return " [" + ", ".join(f"{k}={_quote(v)}" for k, v in attrs.items() if v is not None) + "]"


def draw_frames(sources, fmt, timeout=DOT_TIMEOUT, dpi=None):
    """The pictures of the positioned `sources` (as from `positioned_source`): PNG bytes
    (fmt="png") or SVG text ("svg"). `dot -Knop2` draws them, each process a share of the
    frames, one process per CPU (at most 4), each within `timeout` seconds."""
    options = [f"-Gdpi={dpi:g}"] if dpi and fmt == "png" else []
    jobs = max(1, min(os.cpu_count() or 1, 4, len(sources) // 4))
    shares = [sources[k::jobs] for k in range(jobs)]   # every jobs-th frame: shares of equal work

    def draw(share):
        out = run_dot("".join(share), fmt, timeout, f"{len(sources)} frames", engine="nop2", options=options)
        pictures = _split_png(out) if fmt == "png" else _split_svg(out.decode("utf-8"))
        if len(pictures) != len(share):
            raise RenderError(f"layout: dot drew {len(pictures)} pictures for {len(share)} frames")
        return pictures

    with ThreadPoolExecutor(jobs) as pool:             # (each thread waits for its dot process)
        drawn = list(pool.map(draw, shares))
    return [drawn[k % jobs][k // jobs] for k in range(len(sources))]


def _split_png(data):
    """The PNG files written one after the other in `data`, cut at each file's IEND chunk."""
    pictures, start = [], 0
    while start < len(data):
        at = start + 8                          # after the signature: length, type, data, CRC
        while True:
            length = int.from_bytes(data[at:at + 4], "big")
            kind = data[at + 4:at + 8]
            at += 12 + length
            if kind == b"IEND" or at >= len(data):
                break
        pictures.append(data[start:at])
        start = at
    return pictures


def _split_svg(text):
    """The SVG documents written one after the other in `text`."""
    end = "</svg>"
    return [part.lstrip() + end for part in text.split(end) if part.strip()]
