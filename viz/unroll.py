"""unroll: arrange a traced graph as the unrolled network of the lectures.

    * one cluster per time step ("t = 0", "t = 1", ...), left to right; with several
      layers, one cluster per layer holding its steps, stacked: a grid of layers and steps;
    * a node outside every step scope whose uses all lie in one step (the slice x[t] fed to
      step t, say) is drawn in that step; a leaf used by several steps (a weight shared
      through time) is drawn once in each step that uses it, dashed and not coloured (its
      gradient sums over the steps);
    * the recurrent path is marked (drawn bold): the state values handed from one step to
      the next of the same layer (h, and c for the LSTM), and inside each step the shortest
      path from the state that came in to the state that goes out (c_{t-1} ⊙ f + ... -> c_t;
      h_{t-1} @ W_hh ... -> h_t, matching states by name where they have one);
    * edges between layers do not push ranks, so the layers' steps line up in time, and
      invisible edges keep step t+1 to the right of step t.
"""
from collections import deque
from dataclasses import replace

from minigrad.viz.graph import Cluster
from minigrad.viz.scopes import Step, parse_step, pretty


def own_steps(graph):
    """{node id: Step} for the nodes made inside a time-step scope."""
    steps = {}
    for node in graph.nodes.values():
        step = parse_step(node.scope)
        if step is not None:
            steps[node.id] = step
    return steps


def adopt(graph, steps):
    """Steps for the unscoped nodes whose uses all lie in one step (updates a copy of `steps`).

    Walks from the root backwards, so a chain of unscoped nodes (x -> [] -> x_t) is adopted
    by the step at its end. Leaves used by several steps stay unplaced (see `copy_shared_leaves`).
    """
    place = dict(steps)
    succ = graph.successors()
    for nid in reversed(list(graph.nodes)):
        if nid in place or not succ[nid]:
            continue
        targets = {place.get(h) for h in succ[nid]}
        if len(targets) == 1 and None not in targets:
            place[nid] = targets.pop()
    return place


def copy_shared_leaves(graph, place):
    """Draw a leaf used by several steps once in each of them (and once outside if used there).

    The copies are not coloured: the leaf's gradient is the sum over the steps, not what
    flows in any one of them (that shows on the edges after the copy: W.T -> @ at step t)."""
    succ = graph.successors()
    nodes = {}
    for nid, node in graph.nodes.items():
        targets = list(dict.fromkeys(place.get(h) for h in succ[nid]))
        if not node.leaf or nid in place or len(targets) < 2:
            nodes[nid] = node
            continue
        copies = {}
        for step in targets:
            if step is None:
                copies[None] = nodes[nid] = node
                continue
            copy = nodes[f"{nid}@{step.cell}"] = replace(node, id=f"{nid}@{step.cell}",
                                                         shared=True, grad_norm=None)
            place[copy.id] = step
            copies[step] = copy
        for edge in graph.edges:
            if edge.tail == nid:
                edge.tail = copies[place.get(edge.head)].id
                edge.grad_norm = copies[place.get(edge.head)].grad_norm
    graph.nodes = nodes
    return place


def state_values(graph, place):
    """{Step: [value ids]}: the values each step hands to the next step of its layer.

    The last step of a layer hands on nothing, so its states are the values named like the
    states of the other steps (h and c).
    """
    succ = graph.successors()
    states, names = {}, {}
    for nid, step in place.items():
        node = graph.nodes[nid]
        if node.kind != "value" or node.leaf or parse_step(node.scope) != step:
            continue
        later = Step(step.row, step.t + 1)
        if any(place.get(h) == later for h in succ[nid]):
            states.setdefault(step, []).append(nid)
            if node.name:
                names.setdefault(step.row, set()).add(node.name)
    last = {}
    for nid, step in place.items():
        node = graph.nodes[nid]
        if (step not in states and node.kind == "value" and parse_step(node.scope) == step
                and node.name in names.get(step.row, ())):
            last.setdefault(step, {})[node.name] = nid  # the latest value of each name
    for step, by_name in last.items():
        states[step] = list(by_name.values())
    return states


def mark_recurrent(graph, place):
    """Mark state values (`node.state`) and the edges of the recurrent path (`edge.recurrent`)."""
    states = state_values(graph, place)
    out_edges = {}
    for k, edge in enumerate(graph.edges):
        out_edges.setdefault(edge.tail, []).append(k)
    for step, outgoing in states.items():
        for nid in outgoing:
            graph.nodes[nid].state = True
        incoming = states.get(Step(step.row, step.t - 1), [])
        for target in outgoing:
            name = graph.nodes[target].name
            sources = [s for s in incoming if name and graph.nodes[s].name == name] or incoming
            for k in _shortest_path(graph, sources, target, out_edges, place, step):
                graph.edges[k].recurrent = True


def _shortest_path(graph, sources, target, out_edges, place, step):
    """Edge indices of a shortest path from any source to target through the step's nodes."""
    came_by = {s: None for s in sources}
    queue = deque(sources)
    while queue:
        nid = queue.popleft()
        if nid == target:
            path = []
            while came_by[nid] is not None:
                path.append(came_by[nid])
                nid = graph.edges[came_by[nid]].tail
            return path
        for k in out_edges.get(nid, ()):
            head = graph.edges[k].head
            if head not in came_by and place.get(head) == step:
                came_by[head] = k
                queue.append(head)
    return []


def hide_unnamed_values(graph):
    """Drop intermediate value nodes without a name: the op that made one points straight at
    the ops that use it, the edge keeping the value's gradient norm. Named values (gates, h, c),
    states, leaves and the root stay."""
    preds = graph.predecessors()
    hidden = {nid for nid, n in graph.nodes.items()
              if n.kind == "value" and not n.name and not n.leaf and not n.state
              and nid != graph.root and len(preds[nid]) == 1}
    maker = {e.head: e for e in graph.edges if e.head in hidden}
    edges = []
    for edge in graph.edges:
        if edge.head in hidden:
            continue
        if edge.tail in hidden:
            made_by = maker[edge.tail]
            edge.recurrent = edge.recurrent and made_by.recurrent
            edge.tail = made_by.tail
        edges.append(edge)
    graph.edges = edges
    for nid in hidden:
        del graph.nodes[nid]
    return graph


def time_clusters(graph, place):
    """One cluster per time step, "t = 0", "t = 1", ... With several layers (rows), one
    cluster per layer holding its steps, the top layer drawn first (on top), so the picture
    is a grid: time left to right, layers stacked. Edges from one layer to another do not
    push ranks, so every layer's step t lines up; steps are kept in order (`order_steps`)."""
    rows = sorted({s.row for s in place.values()}, key=lambda r: (Step(r, 0).layer or 0, r))
    times = sorted({s.t for s in place.values()})
    steps = set(place.values())
    if len(rows) > 1:
        for row in reversed(rows):
            graph.clusters[row] = Cluster(row, pretty(row.split("/")[-1]))
    for row in reversed(rows):
        for t in times:
            if Step(row, t) in steps:
                cid = Step(row, t).cell if len(rows) > 1 else f"t{t}"
                graph.clusters[cid] = Cluster(cid, f"t = {t}", row if len(rows) > 1 else None)
    for nid, step in place.items():
        if nid in graph.nodes:
            graph.nodes[nid].cluster = step.cell if len(rows) > 1 else f"t{step.t}"
    if len(rows) > 1:
        _line_up_layers(graph, place)
    above = _rows_upstream(graph, place)
    for edge in graph.edges:
        a, b = place.get(edge.tail), place.get(edge.head)
        if b is not None and ({a.row} if a is not None else above.get(edge.tail, set())) - {b.row}:
            edge.constraint = False
        if a is not None and b is None:
            edge.weight = 0      # outputs gathered after the steps: keeps the steps in a line
    return order_steps(graph, place)


def _line_up_layers(graph, place):
    """Put step t of every layer in one column: its boxes (cell level) and its states of one
    name (h_t of layer 0 beside h_t of layer 1)."""
    columns = {}
    for nid, step in place.items():
        node = graph.nodes.get(nid)
        if node is not None and (node.kind == "cell" or (node.state and node.name)):
            columns.setdefault((step.t, node.kind, node.name if node.kind == "value" else None),
                               []).append(nid)
    graph.same_rank = [ids for ids in columns.values() if len(ids) > 1]


def _rows_upstream(graph, place):
    """{unplaced node: the rows of the steps it is computed from} (a layer's input from the
    layer below, say, computed for all steps at once outside them)."""
    preds = graph.predecessors()
    above = {}
    for nid in graph.nodes:
        if nid in place:
            continue
        rows = set()
        for p in preds[nid]:
            rows |= {place[p].row} if p in place else above.get(p, set())
        above[nid] = rows
    return above


def order_steps(graph, place):
    """Add invisible edges from each step's states to the first nodes of the next step, so
    that step t+1 starts right of step t (else a weight drawn in step t+1 would share a rank
    with the start of step t, and the clusters would be stacked instead of side by side)."""
    place = {nid: step for nid, step in place.items() if nid in graph.nodes}
    preds = graph.predecessors()
    states = {}
    for nid, step in place.items():
        if graph.nodes[nid].state:
            states.setdefault(step, []).append(nid)
    for nid, step in place.items():
        if any(place.get(p) == step for p in preds[nid]):
            continue
        for state in states.get(Step(step.row, step.t - 1), ()):
            graph.connect(state, nid, visible=False)
    return graph


def unroll(graph, values="named"):
    """Arrange an op-level trace as the unrolled network (see the module docstring).

    Args:
        values: "named" hides unnamed intermediate values (op points to op); "all" keeps them.
    """
    if values not in ("named", "all"):
        raise ValueError(f"unroll: values must be 'named' or 'all', got {values!r}")
    place = adopt(graph, own_steps(graph))
    copy_shared_leaves(graph, place)
    mark_recurrent(graph, place)
    if values == "named":
        hide_unnamed_values(graph)
    return time_clusters(graph, place)
