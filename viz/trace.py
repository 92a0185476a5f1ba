"""trace: the graph of everything a tensor depends on, as plain nodes and edges.

Every tensor becomes a value node `v<i>` and every op an op node `op<i>` (the op that made
`v<i>`), numbered in topological order: inputs first, the root last. The walk is iterative
(no recursion limit on long unrolled sequences) and follows each op's ordered inputs, so
the numbering, and the picture, are the same on every run.

Gradient norms: a value node gets ‖t.grad‖ (the Frobenius norm) when the tensor kept its
gradient; intermediate tensors keep it when backward ran inside `viz.record()` (which is
`mg.retain_grads()`). An edge carries a tensor forward and that tensor's gradient back, so
both edges touching a value node, into and out of it, get its norm. Where a tensor feeds
several ops this is its total gradient (the sum over its uses), the number that backward
passes on to the op that made it.
"""
import numpy as np

from minigrad.autograd import topological_order
from minigrad.nn import Parameter
from minigrad.viz.graph import Graph, Node


def tensors_in_order(root):
    """Every tensor `root` depends on (also those without grad), each after its inputs."""
    return topological_order(root, include_constants=True)


def param_names(params):
    """{id(tensor): name} from a Module (its dotted parameter names) or a {name: tensor} dict."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        items = params.named_parameters()
    elif isinstance(params, dict):
        items = params.items()
    else:
        raise TypeError(f"params: expected a Module or a dict of name -> tensor, "
                        f"got {type(params).__name__}")
    return {id(t): name for name, t in items}


def grad_norm(tensor):
    """‖tensor.grad‖ (computed in float64), or None where no gradient was kept."""
    grad = getattr(tensor, "grad", None)
    if grad is None:
        return None
    grad = np.asarray(grad, dtype=np.float64)
    return float(np.sqrt(np.sum(grad * grad)))


def trace(root, params=None, grads=True):
    """The op-level graph of `root`: value nodes, op nodes and the edges between them.

    Args:
        root: the tensor to draw (usually the loss).
        params: a Module or {name: tensor}; parameters are named after it.
        grads: record gradient norms (False: draw the graph without gradients).

    Returns:
        A `viz.graph.Graph` (no clusters yet; see `viz.scopes` and `viz.unroll`).
    """
    names = param_names(params)
    graph = Graph()
    node_of = {}
    for i, t in enumerate(tensors_in_order(root)):
        fn = t.grad_fn
        norm = grad_norm(t) if grads else None
        if fn is not None:
            op = graph.add(Node(f"op{i}", "op", _symbol(fn), scope=t.scope))
            for parent in fn.inputs:
                graph.connect(node_of[id(parent)], op.id, graph.nodes[node_of[id(parent)]].grad_norm)
        value = graph.add(Node(
            f"v{i}", "value", names.get(id(t), t.name), shape=tuple(t.shape), grad_norm=norm,
            scope=t.scope, param=id(t) in names or isinstance(t, Parameter),
            leaf=fn is None, constant=_constant(t), tensor=t))
        if fn is not None:
            graph.connect(op.id, value.id, norm)
        node_of[id(t)] = value.id
    graph.root = node_of[id(root)]
    return graph


def _symbol(fn):
    symbol = getattr(fn, "symbol", None)
    return symbol if isinstance(symbol, str) and symbol != "?" else type(fn).__name__


def _constant(t):
    """The value shown for a constant leaf: a one-element one's value (the 1 in 1 - z), 0 for
    an array of zeros (an initial state), else None."""
    if t.grad_fn is not None or t.requires_grad or t.data.dtype.kind not in "biuf":
        return None
    if t.data.size == 1:
        return t.data.item()
    if t.data.size and not t.data.any():
        return 0
    return None
