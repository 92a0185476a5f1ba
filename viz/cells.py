"""cells: the cell level of the unrolled graph, one box per application of a cell.

Every op made inside a time-step scope ("layer0/t3") joins the box of that step. Of the
values made inside, only those used outside the step are drawn, next to their box: the
states handed to the next step (h, and c for the LSTM) and the outputs. Values from outside
(the inputs, the initial state; leaves made inside a step count as inputs) keep their nodes
and point at the box that uses them; what happens after the last step (the loss) stays at
op level, with unnamed intermediate values left out as at op level.

Left out as well:
    * parameters (the weights shared by every step would be an edge into every box), and
      the ops that only transform parameters (W.T made outside the steps);
    * an input computed for all steps at once: the layers compute every step's share of
      the gates in one matmul (x -> reshape -> @ -> + -> reshape, sliced [t] inside step t),
      and a second layer reads the first's outputs through a stack; such shared nodes are
      replaced by an edge into each step from their origin (the input x, or the lower
      layer's h at the same step).
"""
from dataclasses import replace

from minigrad.viz.graph import Edge, Graph, Node
from minigrad.viz.scopes import Step
from minigrad.viz.unroll import (adopt, copy_shared_leaves, hide_unnamed_values, mark_recurrent, own_steps,
                        time_clusters)

_FAMILIES = (  # (the names a cell's values use, in the order of its equations; title)
    (("learn", "forget", "remember", "use"), "four-gate LSTM"),
    (("i", "f", "g", "o", "c"), "LSTM"),
    (("r", "z", "n"), "GRU"),
    (("h",), "RNN"),
)
_STATES = {"h", "c", "remember", "use"}   # the states the models' cells hand on: not gates


def collapse_cells(graph, title=None):
    """The cell-level graph of an op-level trace (see the module docstring).

    Args:
        graph: an op-level trace from `viz.trace.trace` (not yet unrolled).
        title: the first line of every box (default: guessed from the names of the values
            inside a step, "LSTM", "GRU", "RNN", ...; else "cell").
    """
    own = {nid: step for nid, step in own_steps(graph).items() if not graph.nodes[nid].leaf}
    succ = graph.successors()
    out = Graph(root=graph.root, title=graph.title)
    box_of, inside = {}, {}
    for nid, node in graph.nodes.items():
        step = own.get(nid)          # (a leaf made in a step is an input, drawn outside its box)
        if step is None:
            out.add(replace(node))
            continue
        box_id = f"cell/{step.cell}"
        if box_id not in out.nodes:
            out.add(Node(box_id, "cell", None, scope=node.scope))
        box_of[nid] = box_id
        inside.setdefault(box_id, []).append(node)
        if node.kind == "value" and any(own.get(h) != step for h in succ[nid]):
            out.add(replace(node))  # used outside its step: an output or a state
    seen = set()
    for edge in graph.edges:
        a, b = edge.tail, edge.head
        if own.get(a) is not None and own.get(a) == own.get(b) and b not in out.nodes:
            continue                            # inside one step
        tail = a if a in out.nodes else box_of[a]
        head = b if b in out.nodes else box_of[b]
        if (tail, head) in seen or tail == head:
            continue
        seen.add((tail, head))
        out.connect(tail, head, edge.grad_norm)
    _drop_parameters(out)
    _bypass_shared_inputs(out)
    handed_on = {n.name for n in out.nodes.values() if n.kind == "value" and n.name and n.id in box_of}
    everywhere = {n.name for nodes in inside.values() for n in nodes if n.kind == "value" and n.name}
    for box_id, nodes in inside.items():
        out.nodes[box_id].name = _title(nodes, title, handed_on | _STATES, everywhere)
    place = adopt(out, own_steps(out))
    copy_shared_leaves(out, place)
    mark_recurrent(out, place)
    for edge in out.edges:    # bold: box -> h_t, and h_t -> the next box of its layer
        a, b = place.get(edge.tail), place.get(edge.head)
        if out.nodes[edge.head].state or (
                out.nodes[edge.tail].state and a is not None and b == Step(a.row, a.t + 1)):
            edge.recurrent = True
    hide_unnamed_values(out)
    return time_clusters(out, place)


def _drop_parameters(graph):
    """Remove parameters and the outside ops that only transform them."""
    preds = graph.predecessors()
    dropped = set()
    for nid, node in graph.nodes.items():
        if node.kind == "cell":
            continue
        if (node.leaf and node.param) or (preds[nid] and all(p in dropped for p in preds[nid])):
            dropped.add(nid)
    graph.edges = [e for e in graph.edges if e.tail not in dropped and e.head not in dropped]
    for nid in dropped:
        del graph.nodes[nid]


def _bypass_shared_inputs(graph):
    """Draw an input computed for all steps at once as an edge into each step from its origin.

    The layers compute every step's share of the gates in one matmul (x -> reshape -> @ ->
    + -> reshape, then slice [t] inside step t), and a second layer reads the first's outputs
    through a stack. Those shared nodes are dropped, and each step gets an edge from their
    origins instead: the input leaf x, or the lower layer's h at the same time step.
    """
    steps = own_steps(graph)
    succ, preds = graph.successors(), graph.predecessors()
    fed = {}                                   # outside node feeding only steps -> those steps
    for nid in reversed(list(graph.nodes)):
        node = graph.nodes[nid]
        if nid in steps or node.leaf or nid == graph.root or not succ[nid]:
            continue
        targets = set()
        for h in succ[nid]:
            if graph.nodes[h].kind == "cell":
                targets.add(steps[h])
            elif h in fed:
                targets |= fed[h]
            else:
                break
        else:
            fed[nid] = targets
    shared = {nid for nid, targets in fed.items() if len(targets) >= 2}
    edges, seen = [], set()
    for edge in graph.edges:
        if edge.head in shared:
            continue
        if edge.tail not in shared:
            edges.append(edge)
            continue
        target = steps.get(edge.head) or next(iter(fed.get(edge.head, ())), None)
        found = _origins(edge.tail, shared, preds)
        stepped = [o for o in found if o in steps]
        aligned = [o for o in stepped if target is not None and steps[o].t == target.t]
        for origin in [o for o in found if o not in steps] + (aligned or stepped):
            if (origin, edge.head) not in seen:
                seen.add((origin, edge.head))
                edges.append(Edge(origin, edge.head, graph.nodes[origin].grad_norm))
    graph.edges = edges
    for nid in shared:
        del graph.nodes[nid]


def _origins(nid, shared, preds):
    """The nearest nodes upstream of `nid` that are not shared input nodes, in graph order."""
    found, stack, seen = [], [nid], {nid}
    while stack:
        for p in reversed(preds[stack.pop()]):
            if p in seen:
                continue
            seen.add(p)
            if p in shared:
                stack.append(p)
            else:
                found.append(p)
    return found


def _title(nodes, title, states, everywhere):
    """A box's label: the cell family and the gates computed inside ("LSTM\\ni f g o").

    The states (`states`: the names of values handed on from any step, h and c say) are not
    gates, also in the last step, which hands on only h. The family is guessed from the names
    inside the box, else from those of all boxes (the last step of a cell may compute fewer).
    """
    names = list(dict.fromkeys(n.name for n in nodes if n.kind == "value" and n.name))
    family = next((f for f, _ in _FAMILIES if set(f) <= set(names)), None)
    if family is None:
        family = next((f for f, _ in _FAMILIES if set(f) <= everywhere), ())
    if title is None:
        title = dict(_FAMILIES).get(family, "cell")
    names.sort(key=lambda n: family.index(n) if n in family else len(family))
    gates = [n for n in names if n not in states]
    return f"{title}\n{' '.join(gates)}" if gates else title
