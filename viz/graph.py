"""The plain graph viz draws: nodes, edges and clusters, with no Graphviz in sight.

`trace` builds one from a tensor, `unroll` and `collapse_cells` rearrange it, `render`
turns it into a `graphviz.Digraph`. Tests assert on this structure directly.

Node kinds:
    "value"  a tensor: `name` (a parameter's or tensor's name, or None), `shape`, `grad_norm`.
    "op"     a primitive op: `name` is its symbol (+, @, tanh, σ, ⊙ for the Hadamard product...).
    "cell"   one application of a recurrent cell (cell level only): `name` is its title.

An edge carries a tensor forward and its gradient backward; `grad_norm` is ‖dL/d tensor‖
of the value node it touches (see `viz.trace`).
"""
from dataclasses import dataclass, field


@dataclass
class Node:
    id: str
    kind: str                       # "value", "op" or "cell"
    name: str | None = None         # value: name or None; op: symbol; cell: title
    shape: tuple | None = None
    grad_norm: float | None = None
    scope: str | None = None        # the tensor's scope, e.g. "layer0/t3"
    cluster: str | None = None      # id of the innermost cluster drawn around the node
    param: bool = False             # a parameter (named from `params=`)
    leaf: bool = False              # a tensor no recorded op produced
    state: bool = False             # a recurrent state (h, c) passed from one step to the next
    shared: bool = False            # a copy of a leaf used by several steps (drawn in each)
    constant: object = None         # the value of a one-element constant, shown as its label
    tensor: object = field(default=None, repr=False, compare=False)


@dataclass
class Edge:
    tail: str
    head: str
    grad_norm: float | None = None
    recurrent: bool = False         # on the recurrent path: drawn bold
    constraint: bool = True         # False: the edge does not push its head to a later rank
    visible: bool = True            # False: only keeps time steps in order (not drawn)
    weight: int | None = None       # 0: the layout need not keep the edge short


@dataclass
class Cluster:
    id: str
    label: str
    parent: str | None = None


@dataclass
class Graph:
    """Nodes in topological order (inputs before the ops that use them), edges in the order
    the ops list their inputs, clusters outermost first: the same picture on every run."""
    nodes: dict = field(default_factory=dict)      # id -> Node
    edges: list = field(default_factory=list)
    clusters: dict = field(default_factory=dict)   # id -> Cluster
    same_rank: list = field(default_factory=list)  # lists of node ids lined up across layers
    root: str | None = None
    title: str | None = None

    def add(self, node):
        self.nodes[node.id] = node
        return node

    def connect(self, tail, head, grad_norm=None, **kw):
        edge = Edge(tail, head, grad_norm, **kw)
        self.edges.append(edge)
        return edge

    def find(self, kind=None, name=None, **attrs):
        """Nodes matching every given attribute, in graph order."""
        return [n for n in self.nodes.values()
                if (kind is None or n.kind == kind) and (name is None or n.name == name)
                and all(getattr(n, k) == v for k, v in attrs.items())]

    def visible_edges(self):
        return [e for e in self.edges if e.visible]

    def inputs(self, node_id):
        return [e.tail for e in self.edges if e.head == node_id]

    def outputs(self, node_id):
        return [e.head for e in self.edges if e.tail == node_id]

    def successors(self):
        """{node id: [head ids]} for every node, in edge order."""
        out = {nid: [] for nid in self.nodes}
        for e in self.edges:
            out[e.tail].append(e.head)
        return out

    def predecessors(self):
        """{node id: [tail ids]} for every node, in edge order."""
        out = {nid: [] for nid in self.nodes}
        for e in self.edges:
            out[e.head].append(e.tail)
        return out

    def grad_norms(self, params=False):
        """Every gradient norm on a node or an edge, for the colour scale. Parameters are left
        out unless asked for: their gradient sums every step's, and would stretch the scale."""
        values = [n.grad_norm for n in self.nodes.values() if params or not n.param]
        values += [e.grad_norm for e in self.edges if params or not self.nodes[e.tail].param]
        return [v for v in values if v is not None]

    def __len__(self):
        return len(self.nodes)
