"""Pictures of a trained char-RNN: its graph unrolled through time, and the gradient flow.

    from minigrad.viz.char_rnn_pictures import write_pictures
    write_pictures(model, val_ids, "runs/char_rnn")   # what `examples/char_rnn.py train` draws last

    unrolled_graph.svg   one box per cell application over a few characters, values and edges
                         coloured by the gradient norm of the loss at the last step
    gradient_flow.png    ‖dL/dh_t‖ back through a window, for the loss at its last step: the
                         trained model beside the same model at its initial weights
"""
import os

import numpy as np

import minigrad as mg
from minigrad.nn import functional as F
from minigrad.models.char_rnn import CharRNN


def write_pictures(model, ids, directory, seed=0, graph_steps=6, flow_steps=64, flow_streams=8):
    """Draw `model` on the text `ids` into `directory`; returns [(what, path)].

    The initial weights are those `mg.manual_seed(seed)` gives, as at the start of training.
    """
    from minigrad import viz  # graphviz and matplotlib are needed only here

    was_training = model.training
    model.eval()
    try:
        return _draw(viz, model, ids, directory, seed, graph_steps, flow_steps, flow_streams)
    finally:
        model.train(was_training)


def _draw(viz, model, ids, directory, seed, graph_steps, flow_steps, flow_streams):
    if len(ids) < 2:
        raise ValueError(f"write_pictures: the text must hold at least 2 characters, got {len(ids)}")
    c = model.config()
    name = f"{c['num_layers']} x {c['cell'].upper()} {c['hidden_size']}"
    graph_steps = min(graph_steps, len(ids) - 1)   # a short text: fewer steps, as many as it holds
    x = ids[:graph_steps + 1, None]                 # one stream, time-major (T+1, 1)
    with viz.record():
        logits, _ = model(x[:-1])
        loss = F.cross_entropy(logits[-1], x[-1])   # the prediction after the last step
        loss.backward()
    model.zero_grad()
    graph = viz.draw_unrolled(loss, params=model, level="cell",
                              title=f"{name}, trained, unrolled over {graph_steps} characters")
    written = [("unrolled graph", _render(viz, graph, os.path.join(directory, "unrolled_graph.svg")))]

    streams, T = flow_layout(len(ids), flow_steps, flow_streams)
    x = np.ascontiguousarray(ids[:streams * (T + 1)].reshape(streams, T + 1).T)
    mg.manual_seed(seed)
    untrained = CharRNN(**c).eval()
    norms = {}
    for label, m in ((f"{name}, trained", model), (f"{name}, initial weights", untrained)):
        logits, _ = m(x[:-1])
        norms[label] = viz.gradient_norms(F.cross_entropy(logits[-1], x[-1]))
    figure = viz.plot_gradient_flow(norms, title=f"Gradient flow through time: ‖dL/dh_t‖, loss at t = {T - 1}")
    path = os.path.join(directory, "gradient_flow.png")
    figure.savefig(path)
    written.append(("gradient flow", path))
    return written


def flow_layout(n, steps, streams):
    """(streams, T) for the gradient-flow windows on a text of n >= 2 characters: up to `streams`
    streams of T + 1 characters each (inputs and the target), T as long as the text allows up to
    `steps`; a short text gets fewer streams before it gets shorter windows than 1."""
    streams = max(1, min(streams, n // 2))
    return streams, max(1, min(steps, n // streams - 1))


def _render(viz, graph, path):
    """Render with Graphviz's dot; without it, write the DOT source instead and say so."""
    try:
        return str(viz.render(graph, path))
    except viz.DotNotFoundError:
        dot_path = os.path.splitext(path)[0] + ".dot"
        viz.render(graph, dot_path)
        return f"{dot_path} (Graphviz's dot is not installed: render it with dot -Tsvg)"
