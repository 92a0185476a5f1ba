"""render: a viz Graph as a `graphviz.Digraph`, and pictures written through Graphviz's `dot`.

Legend (also printed under each picture):
    value node   rounded box: name (parameters: their name in the model), shape, ‖∇‖ = norm;
                 filled by gradient norm (viridis, log scale: dark purple = largest,
                 pale yellow = smallest); white = no gradient kept; double border =
                 parameter; thick border = a state handed to the next step (h, c); dashed =
                 a leaf shared by all steps, drawn in each, not coloured (its gradient sums
                 over the steps); a constant shows its value ("1" in 1 - z, "0" for zeros)
    op node      circle with the op's symbol: + - * / @ tanh σ exp log relu sum T [] cat ...;
                 the Hadamard product is ⊙, apart from the scalar/broadcast product *
    cell node    grey box: one application of a recurrent cell (cell level), with its gates
    edge         coloured like the value it carries (grey: no gradient);
                 bold = the recurrent path (h_{t-1} -> h_t, c_{t-1} -> c_t)
    cluster      one per time step, "t = 0", "t = 1", ... left to right; with several
                 layers, one per layer holding its steps (a grid)

The colour scale runs from the largest norm of the graph's values (parameters aside: their
gradient sums every step's) down to the smallest, and at least 3 decades, so a gradient that
hardly changes keeps one colour; pass `scale=viz.LogScale(lo, hi)` to share one scale
between pictures.
"""
import shutil
import subprocess
import sys
from html import escape
from pathlib import Path

import graphviz

from minigrad.viz.colour import NO_GRADIENT_FILL, NO_GRADIENT_LINE, LogScale, text_colour
from minigrad.viz.legend import legend_label
from minigrad.viz.output import check_output, write_output

FONT = "Helvetica,Arial,sans-serif"
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}
INSTALL_HINT = ("Graphviz's `dot` program was not found on the PATH, so {what} cannot be drawn. "
                "Install Graphviz (the program, not only the Python package): "
                "Debian/Ubuntu `sudo apt-get install graphviz`, macOS `brew install graphviz`, "
                "conda `conda install -c conda-forge graphviz`, Windows `winget install graphviz`. "
                "The DOT source needs no `dot`: write it with viz.render(graph, 'graph.dot') "
                "(or .gv) and render it elsewhere.")


DOT_TIMEOUT = 60   # seconds; dot takes up to ~20 s under the command line's node limit (viz/draw.py)


class DotNotFoundError(RuntimeError):
    """Rendering needs Graphviz's `dot` executable, which is not installed."""


class RenderError(RuntimeError):
    """Graphviz's `dot` failed on the graph."""


class RenderTimeoutError(RenderError):
    """`dot` took longer than the time limit and was stopped; nothing was written."""


def value_label(node, grads=True):
    """The text of a value node: name (or a constant's value), shape, gradient norm."""
    if node.constant is not None and not node.name:
        return f"{node.constant:g}" if node.shape == () else f"{node.constant:g}\n{node.shape}"
    lines = [node.name] if node.name else []
    lines.append("scalar" if node.shape == () else str(node.shape))
    if grads and node.grad_norm is not None:
        lines.append(f"‖∇‖ = {node.grad_norm:.1e}")
    return "\n".join(lines)


def to_digraph(graph, grads=True, rankdir="LR", scale=None, title=None):
    """The `graphviz.Digraph` of a viz Graph.

    Args:
        graph: a `viz.graph.Graph` (from `trace`, `unroll` or `collapse_cells`).
        grads: colour by gradient norm and print norms.
        rankdir: "LR" (left to right, time runs rightwards) or "TB", "BT", "RL".
        scale: a `viz.colour.LogScale` to share one colour scale between pictures
            (default: from the smallest to the largest norm of this graph's values other
            than parameters, whose summed gradients take the colour of the nearer end).
        title: printed above the legend.
    """
    scale = colour_scale(graph, grads, scale)
    dot = graphviz.Digraph(name="minigrad", graph_attr={"rankdir": rankdir, **GRAPH_ATTRS},
                           node_attr=NODE_ATTRS, edge_attr=EDGE_ATTRS)
    dot.attr(label=legend(graph, grads, scale, title))

    bodies = {None: dot}
    for cid, cluster in graph.clusters.items():
        bodies[cid] = graphviz.Digraph(name="cluster_" + cid, graph_attr=cluster_attrs(cluster))
    for node in graph.nodes.values():
        bodies[node.cluster].node(node.id, **node_attrs(node, grads, scale))
    depth = {cid: _depth(graph.clusters, cid) for cid in graph.clusters}
    for cid in sorted(graph.clusters, key=lambda c: -depth[c]):   # innermost first
        children = [c for c, cl in graph.clusters.items() if cl.parent == cid]
        for child in children:
            bodies[cid].subgraph(bodies[child])
    for cid, cluster in graph.clusters.items():
        if cluster.parent is None:
            dot.subgraph(bodies[cid])
    for ids in graph.same_rank:
        dot.body.append("\t{rank=same; " + " ".join(graphviz.quoting.quote(i) for i in ids) + "}\n")
    for edge in graph.edges:
        dot.edge(edge.tail, edge.head, **edge_attrs(edge, grads, scale))
    return dot


GRAPH_ATTRS = {"newrank": "true", "fontname": FONT, "bgcolor": "white", "nodesep": "0.3",
               "ranksep": "0.4", "labelloc": "b", "fontsize": "18"}
NODE_ATTRS = {"fontname": FONT, "fontsize": "14"}
EDGE_ATTRS = {"fontname": FONT}


def colour_scale(graph, grads=True, scale=None):
    """The LogScale a picture of `graph` is coloured with (None with grads=False): `scale`, else
    from this graph's norms, parameters aside (see to_digraph)."""
    if not grads:
        return None
    return scale or (LogScale.from_values(graph.grad_norms())
                     or LogScale.from_values(graph.grad_norms(params=True)))


def legend(graph, grads, scale, title=None):
    """The legend under a picture of `graph` (an HTML-like label, see viz/legend.py)."""
    hint = None
    inner = [n for n in graph.nodes.values() if n.kind == "value" and not n.leaf]
    if grads and inner and all(n.grad_norm is None for n in inner):
        hint = ("no gradients kept on intermediate values: run loss.backward() inside "
                "`with viz.record():`, or call viz.watch(loss) before it")
    recurrent = any(e.recurrent for e in graph.edges)
    shared = any(n.shared for n in graph.nodes.values())
    return legend_label(scale, title or graph.title, recurrent, hint, shared)


def cluster_attrs(cluster):
    """The Graphviz attributes of a cluster: a time step, or a layer holding steps."""
    top = cluster.parent is None
    return {"label": cluster.label, "style": "rounded", "color": "#888888" if top else "#bbbbbb",
            "penwidth": "1.5", "fontsize": "22" if top else "16", "margin": "12", "labelloc": "t"}


def picture_format(path):
    """The Graphviz format named by the suffix of `path` ("svg", "png", "pdf" or "dot").

    Raises:
        ValueError: the suffix is not one of .svg .png .pdf .dot .gv.
    """
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ValueError(f"render: cannot tell the format of {str(path)!r} from its suffix; "
                         f"use one of {', '.join(FORMATS)}")
    return fmt


def render(graph, path, dpi=144, timeout=DOT_TIMEOUT):
    """Write `graph` (a Digraph or a viz Graph) to `path`, the format chosen by the suffix.

    .svg, .png and .pdf run Graphviz's `dot`; .dot and .gv write the DOT source (no `dot`
    needed). The path is checked before any work and missing folders are created (like
    `mkdir -p`). `dpi` sets the resolution of PNGs. Returns the Path written.

    Args:
        timeout: seconds `dot` may take before it is stopped (None: no limit).

    Raises:
        OutputPathError: `path` is a directory, or its folder cannot be created or written.
        ValueError: the suffix is not one of .svg .png .pdf .dot .gv.
        DotNotFoundError: `dot` is not installed (the message says how to install it).
        RenderTimeoutError: `dot` took longer than `timeout`; nothing was written.
        RenderError: `dot` failed (its message is included).
    """
    path = check_output(path)
    fmt = picture_format(path)
    if not isinstance(graph, graphviz.Digraph):
        graph = to_digraph(graph)
    if fmt == "dot":
        return write_output(path, graph.source)
    if fmt == "png" and dpi:
        graph = graph.copy()
        graph.attr(dpi=str(dpi))
    return write_output(path, run_dot(graph, fmt, timeout, path.name))


def run_dot(graph, fmt, timeout=DOT_TIMEOUT, what="the graph", engine=None, options=()):
    """The bytes of `graph` (a Digraph, or DOT source: several graphs give their pictures one
    after the other) drawn by `dot` in format `fmt`, within `timeout` seconds.

    On a timeout `dot` is killed and waited for (no process is left behind) and
    RenderTimeoutError is raised.
    """
    exe = shutil.which("dot")
    if exe is None:
        raise DotNotFoundError(INSTALL_HINT.format(what=what))
    source = graph if isinstance(graph, str) else graph.source
    command = [exe, f"-K{engine or getattr(graph, 'engine', 'dot')}", f"-T{fmt}", *options]
    try:   # run() kills dot and waits for it when the time is up
        done = subprocess.run(command, input=source.encode("utf-8"), capture_output=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RenderTimeoutError(
            f"render: dot did not finish drawing {what} within {timeout:g} s and was stopped "
            f"(nothing was written); draw fewer time steps or level='cell' (one box per step), "
            f"or allow more time with timeout= (None: no limit)") from None
    except FileNotFoundError:
        raise DotNotFoundError(INSTALL_HINT.format(what=what)) from None
    message = done.stderr.decode("utf-8", errors="replace").strip()
    if done.returncode != 0:
        raise RenderError(f"render: dot failed on {what} (exit status {done.returncode}): "
                          f"{' '.join(message.split()) or 'no message'}")
    if message:   # warnings, e.g. a picture scaled down to fit
        print(message, file=sys.stderr)
    return done.stdout


def node_attrs(node, grads, scale):
    """The Graphviz attributes of a node (see the legend in the module docstring)."""
    if node.kind == "op":
        wide = len(node.name) > 2
        return {"label": node.name, "shape": "ellipse" if wide else "circle",
                "style": "filled", "fillcolor": "#f0f0f0", "color": "#555555",
                "fontsize": "14" if wide else "18", "margin": "0.02", "width": "0.45",
                "height": "0.45", "fixedsize": "false"}
    if node.kind == "cell":
        return {"label": node.name or "cell", "shape": "box", "style": "rounded,filled",
                "fillcolor": "#e8e8e8", "color": "#333333", "penwidth": "2",
                "fontsize": "18", "margin": "0.25,0.15"}
    fill = (scale.colour(node.grad_norm) if scale is not None else None) or NO_GRADIENT_FILL
    attrs = {"label": value_label(node, grads), "shape": "box", "style": "rounded,filled",
             "fillcolor": fill, "fontcolor": text_colour(fill), "color": "#333333",
             "margin": "0.12,0.06"}
    if node.param:
        attrs["peripheries"] = "2"
    if node.shared:
        attrs["style"] = "rounded,filled,dashed"
    if node.state:
        attrs["penwidth"] = "2.5"
        attrs["fontsize"] = "16"
    if node.constant is not None and not node.name and node.shape == ():
        attrs.update(shape="plaintext", style="", fontcolor="#000000")
    elif node.name:
        attrs["label"] = _html_label(attrs["label"], attrs["fontcolor"])
    return attrs


def _html_label(text, colour):
    """The first line (the name) large and bold, the others as they are."""
    first, *rest = text.split("\n")
    lines = [f'<font point-size="18"><b>{escape(first)}</b></font>'] + [escape(r) for r in rest]
    return f'<<font color="{colour}">' + "<br/>".join(lines) + "</font>>"


def edge_attrs(edge, grads, scale):
    """The Graphviz attributes of an edge: coloured like the value it carries, bold if recurrent."""
    colour = (scale.colour(edge.grad_norm) if scale is not None else None)
    if colour is None:
        colour = NO_GRADIENT_LINE if grads else "#333333"
    attrs = {"color": colour, "penwidth": "5" if edge.recurrent else "1.8",
             "arrowsize": "0.7" if edge.recurrent else "0.8"}
    if not edge.constraint:
        attrs["constraint"] = "false"
    if edge.weight is not None:
        attrs["weight"] = str(edge.weight)
    if not edge.visible:
        attrs = {"style": "invis"}
    return attrs


def _depth(clusters, cid):
    depth = 0
    while clusters[cid].parent is not None:
        cid = clusters[cid].parent
        depth += 1
    return depth
