"""draw: the two pictures, a graph of any computation and the unrolled recurrent graph.

Each comes in two forms: `trace_*` returns the plain `viz.graph.Graph` (for tests and for
your own drawing), `draw_*` returns the `graphviz.Digraph` (shown inline in Jupyter; write
it with `viz.render(digraph, "graph.svg")`).
"""
import warnings

from minigrad.viz.cells import collapse_cells
from minigrad.viz.render import to_digraph
from minigrad.viz.scopes import scope_clusters
from minigrad.viz.trace import trace
from minigrad.viz.unroll import own_steps, unroll

LEVELS = ("op", "cell")

# The command line's limit (--max-nodes), from the time dot 2.43 took to lay out and write the
# command line's unrolled graphs as SVG (hidden 8, batch 2; a 2-core machine shared with other
# jobs, so +-2x), in seconds, with the number of nodes in brackets:
#
#   op level    5 steps     10          15          20          25          30          40
#     RNN       0.04 (50)   0.05 (85)   0.12 (120)  0.7 (155)   3.1 (190)   15 (225)    >150 (295)
#     LSTM      0.05 (136)  0.13 (256)  1.8 (376)   14 (496)    104 (616)   >150 (736)  >300 (976)
#     GRU       0.04 (153)  0.24 (293)  1.7 (433)   21 (573)    >150 (713)  >150 (853)
#   cell level  10 steps    30          40          60          100
#     RNN       0.03 (35)   0.05 (95)   0.10 (125)  0.6 (185)   2.1 (305)
#     LSTM      0.02 (45)   0.09 (125)  0.23 (165)  1.9 (245)   12.6 (405)
#     GRU       0.02 (45)   0.07 (125)  0.24 (165)  1.4 (245)   18 (405)
#
# PNG adds 1-8 s for the large ones (LSTM cell level, 98 steps: 22 s). The time grows with
# the steps far faster than with the nodes (mostly dot's network simplex placing the long
# edges from the input projection to every step), so no node count fits every cell: under
# 400 nodes (LSTM op level to 16 steps, 5 s; GRU cell level to 98 steps, 19 s) dot finishes
# in about 20 s, except the small RNN cell at op level past ~30 steps (35 steps, 260 nodes:
# 32 s), which the render timeout stops (DOT_TIMEOUT in viz/render.py, 60 s).
DEFAULT_MAX_NODES = 400


class GraphTooLargeError(ValueError):
    """The picture would have more nodes than `max_nodes` allows (`.nodes`, `.max_nodes`)."""

    def __init__(self, message, nodes=None, max_nodes=None):
        super().__init__(message)
        self.nodes, self.max_nodes = nodes, max_nodes


def trace_graph(root, params=None, grads=True, max_nodes=None):
    """The Graph that `draw_graph` draws (scoped nodes in clusters that follow their scope)."""
    graph = scope_clusters(trace(root, params, grads))
    _check_size(graph, max_nodes, "draw_graph", "")
    return graph


def draw_graph(root, *, params=None, grads=True, rankdir="LR", max_nodes=None, scale=None, title=None):
    """A `graphviz.Digraph` of everything `root` depends on.

    Value nodes show the name (parameters: their name in `params`), the shape and, once
    backward has run inside `viz.record()`, the gradient norm, and are filled by it; op
    nodes show the op's symbol (⊙ is the Hadamard product). See `viz.render` for the legend.

    Args:
        root: the tensor to draw (usually the loss).
        params: a Module or {name: tensor} naming the parameters.
        grads: colour by gradient norm (False: a plain graph).
        rankdir: "LR" (inputs left, root right) or "TB".
        max_nodes: refuse (GraphTooLargeError) to draw more nodes than this; None: no limit.
        scale: a `viz.LogScale` shared between pictures (default: this graph's range).
        title: a line printed above the legend.
    """
    graph = trace_graph(root, params, grads, max_nodes)
    return to_digraph(graph, grads, rankdir, scale, title)


def trace_unrolled(root, *, params=None, level="op", grads=True, values="named", max_nodes=None,
                   cell_title=None):
    """The Graph that `draw_unrolled` draws."""
    if level not in LEVELS:
        raise ValueError(f"draw_unrolled: level must be one of {LEVELS}, got {level!r}")
    graph = trace(root, params, grads)
    if not own_steps(graph):
        warnings.warn("draw_unrolled: no tensor was made inside a time-step scope (mg.scope('t0'), "
                      "as the models' layers do), so nothing is unrolled", stacklevel=3)
    if level == "cell":
        graph = collapse_cells(graph, cell_title)
    else:
        graph = unroll(graph, values)
    hint = "; draw level='cell' for one box per step" if level == "op" else ""
    _check_size(graph, max_nodes, "draw_unrolled", hint)
    return graph


def draw_unrolled(root, *, params=None, level="op", grads=True, rankdir="LR", values="named",
                  max_nodes=None, scale=None, title=None, cell_title=None):
    """The recurrent graph unrolled through time, coloured by gradient norm.

    Nodes made in the scope of a time step (the models' layers run step t of layer l in
    `mg.scope("layer{l}")`/`mg.scope("t{t}")`) are drawn in one cluster per step, "t = 0",
    "t = 1", ... left to right, several layers stacked in a grid. The recurrent path (h, and
    c for the LSTM) is bold. After `loss.backward()` inside `viz.record()` (or after
    `viz.watch(loss)`), values and edges are coloured by ‖dL/dx‖ on a log scale (legend
    under the picture), so a gradient vanishing back through time fades from dark to pale.

    Args:
        root: the loss (or any tensor computed from the sequence).
        params: a Module or {name: tensor} naming the parameters.
        level: "op": every op (each gate, each ⊙); "cell": one box per application of the
            cell, drawing only the states passed between steps, the inputs and the outputs.
        grads: colour by gradient norm.
        rankdir: "LR": time runs left to right.
        values: at op level, "named" draws only named values (gates, c, h), parameters and
            inputs, an op pointing straight at the ops using its unnamed output; "all" draws
            every value.
        max_nodes: refuse (GraphTooLargeError) to draw more nodes than this; None: no limit.
        scale: a `viz.LogScale` shared between pictures (e.g. an RNN and an LSTM side by side).
        title: a line printed above the legend.
        cell_title: the first line of each cell box (default: guessed, "LSTM", "GRU", "RNN").
    """
    graph = trace_unrolled(root, params=params, level=level, grads=grads, values=values,
                           max_nodes=max_nodes, cell_title=cell_title)
    return to_digraph(graph, grads, rankdir, scale, title)


def _check_size(graph, max_nodes, where, hint):
    if max_nodes is not None and len(graph) > max_nodes:
        raise GraphTooLargeError(
            f"{where}: the picture would have {len(graph)} nodes, more than max_nodes={max_nodes}, "
            f"too many to read; draw fewer time steps or a smaller batch of the computation{hint}, "
            f"or raise max_nodes", nodes=len(graph), max_nodes=max_nodes)
