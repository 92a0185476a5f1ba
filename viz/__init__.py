"""viz: pictures of minigrad computations, for the lecture on backpropagation through time.

    from minigrad import viz
    with viz.record():                       # keep every intermediate gradient (or viz.watch(loss))
        output, (h_n, c_n) = model(x)        # the model's code is unchanged
        loss = output[-1].sum()
        loss.backward()
    viz.draw_graph(loss, params=model)                      # every op, every value
    g = viz.draw_unrolled(loss, params=model, level="cell") # one box per step, t = 0, 1, ...
    viz.render(g, "lstm.svg")                               # .svg .png .pdf (dot); .dot .gv
    norms = viz.gradient_norms(loss)                        # ‖dL/dh_t‖ for every t
    viz.plot_gradient_flow({"LSTM": norms}).savefig("flow.png")

Backpropagation through time, moving: pass the loss *before* backward, and the walk is drawn
frame by frame in the order the engine visits the tensors (it runs backward itself):

    anim = viz.animate_backward(loss, params=model, level="cell")   # or level="op"
    anim.save("bptt.gif")                                           # slides; .html: a player page

Legend of the graphs (printed under each picture too; details in viz/render.py):
    value node   rounded box: name, shape, ‖∇‖ = gradient norm; filled by that norm on a log
                 scale, viridis: dark purple = largest, pale yellow = smallest (vanishing);
                 white = no gradient kept; double border = parameter; thick border = state;
                 dashed = a leaf shared by every step, drawn in each (not coloured)
    op node      circle with the op's symbol (+ - * / @ tanh σ exp relu sum T [] ...);
                 ⊙ = Hadamard product
    cell node    grey box: one application of a cell (level="cell")
    edge         coloured like the value it carries; bold = recurrent path (h, and c for LSTM)
    cluster      one per time step, "t = 0", "t = 1", ... left to right; layers stacked

Gradient "through" an edge: an edge carries a tensor forward and that tensor's gradient
back, so it is coloured by ‖dL/d tensor‖ (the total over all the tensor's uses), kept by
backward inside `viz.record()` (= `mg.retain_grads()`).

Command line: `python -m minigrad.viz unrolled --cell lstm --steps 4 --level cell -o lstm.svg`
`python -m minigrad.viz flow --cells rnn lstm gru --steps 20 -o flow.png` and
`python -m minigrad.viz animate --cell rnn --steps 6 --level cell -o bptt.gif` (see viz/cli.py).
"""
from minigrad.viz.animate import Animation, animate_backward
from minigrad.viz.colour import LogScale
from minigrad.viz.draw import GraphTooLargeError, draw_graph, draw_unrolled, trace_graph, trace_unrolled
from minigrad.viz.flow import gradient_norms, plot_gradient_flow, states_by_scope
from minigrad.viz.record import record, watch
from minigrad.viz.output import OutputPathError
from minigrad.viz.render import DotNotFoundError, RenderError, RenderTimeoutError, render, to_digraph
from minigrad.viz.trace import trace

__all__ = ["draw_graph", "draw_unrolled", "animate_backward", "Animation", "render", "record", "watch",
           "gradient_norms", "plot_gradient_flow",
           "states_by_scope", "trace", "trace_graph", "trace_unrolled", "to_digraph", "LogScale",
           "DotNotFoundError", "GraphTooLargeError", "OutputPathError", "RenderError", "RenderTimeoutError"]
