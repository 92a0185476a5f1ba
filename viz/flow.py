"""flow: the norm of dL/dh_t for every time step, and the lecture's plot of it.

    norms = viz.gradient_norms(loss, hs)          # hs: your list of per-step hidden states
    norms = viz.gradient_norms(loss)              # or: the h of each step, found by scope
    fig = viz.plot_gradient_flow({"RNN": rnn_norms, "LSTM": lstm_norms})
    fig.savefig("flow.png")

dL/dh_t is the total gradient of the loss with respect to the state h_t: through the
output at step t if the loss uses it, and back through every later step. With the loss on
the last step only, it is the gradient carried back through time, which an RNN loses
geometrically and an LSTM's cell state keeps.
"""
import numpy as np

from minigrad.viz.scopes import Step, parse_step
from minigrad.viz.trace import tensors_in_order

# Okabe-Ito colours (colour-blind safe), each line also has its own marker and dash
_STYLES = [("#0072B2", "o", "-"), ("#D55E00", "s", "--"), ("#009E73", "^", "-."),
           ("#CC79A7", "D", ":"), ("#E69F00", "v", "-"), ("#56B4E9", "P", "--"), ("#000000", "X", "-.")]


HIDDEN_NAMES = ("h", "use")   # the hidden state's name in the models' cells ("use": four-gate STM)


def states_by_scope(root, name=None, layer=-1):
    """The tensors named `name` made in each time step of one layer, ordered by t.

    Args:
        root: the loss (any tensor the steps feed).
        name: the name the cell gives its hidden state; None: "h", or "use" (the four-gate
            cell's short-term memory) when no step has an "h".
        layer: which row of steps: an index into the layers in order (-1: the last, top
            layer), or a row string such as "layer0".
    """
    stepped = [(t, step) for t in tensors_in_order(root)
               if (step := parse_step(t.scope)) is not None and t.grad_fn is not None]
    names = {t.name for t, _ in stepped}
    if name is None:
        name = next((n for n in HIDDEN_NAMES if n in names), HIDDEN_NAMES[0])
    found = {}
    for t, step in stepped:
        if t.name == name:
            found.setdefault(step.row, {})[step.t] = t   # the latest of that name wins
    if not found:
        known = ", ".join(sorted(repr(n) for n in names if n)) or "none"
        raise ValueError(f"states_by_scope: no tensor named {name!r} was made in a time-step scope; "
                         f"names found in steps: {known}")
    rows = sorted(found, key=lambda r: (Step(r, 0).layer or 0, r))
    row = layer if isinstance(layer, str) else rows[layer]
    if row not in found:
        raise ValueError(f"states_by_scope: no row {row!r}; rows are {rows}")
    steps = found[row]
    missing = [t for t in range(max(steps) + 1) if t not in steps]
    if missing:
        raise ValueError(f"states_by_scope: no {name!r} in steps {missing} of {row!r}")
    return [steps[t] for t in range(len(steps))]


def gradient_norms(loss, states=None, name=None, layer=-1):
    """‖dL/dh_t‖ for every t, as a float64 numpy array.

    If the states kept their gradients (backward ran inside `viz.record()`), those are used.
    Otherwise they are computed here by a backward pass that leaves every `.grad` as it was
    (so call this before `loss.backward()`, or run that inside `viz.record()`).

    Args:
        loss: a one-element tensor.
        states: the hidden states h_0 .. h_{T-1} (tensors the loss depends on); default:
            `states_by_scope(loss, name, layer)`.
        name, layer: which states to find by scope when `states` is not given.
    """
    if states is None:
        states = states_by_scope(loss, name, layer)
    states = list(states)
    if any(s.grad is None for s in states):
        grads = _grads_of(loss, states)
    else:
        grads = [s.grad for s in states]
    return np.asarray([_norm(g) for g in grads], dtype=np.float64)


def _grads_of(loss, states):
    """dL/dstate for each state, by a backward pass with hooks; every .grad is restored after."""
    order = tensors_in_order(loss)
    member = {id(t) for t in order}
    for k, s in enumerate(states):
        if id(s) not in member:
            raise ValueError(f"gradient_norms: state {k} (shape {s.shape}) is not part of the loss's "
                             f"graph; pass the tensors the computation used (not copies or slices "
                             f"taken afterwards)")
        if not s.requires_grad:
            raise ValueError(f"gradient_norms: state {k} does not require grad")
    saved = [(t, t.grad) for t in order]
    caught = {}
    handles = [s.register_hook(_catcher(caught, k)) for k, s in enumerate(states)]
    try:
        loss.backward(retain_graph=True)
    except RuntimeError as exc:
        raise RuntimeError(f"gradient_norms: the states kept no gradient and backward cannot run "
                           f"again ({exc}); run loss.backward() inside `with viz.record():`, "
                           f"or call gradient_norms before loss.backward()") from None
    finally:
        for h in handles:
            h.remove()
        for t, g in saved:
            t.grad = g
    return [caught.get(k) for k in range(len(states))]


def _catcher(caught, key):
    def hook(grad):
        caught[key] = np.array(grad)   # a copy: the engine may add into its buffer later
    return hook


def _norm(grad):
    if grad is None:
        return 0.0
    grad = np.asarray(grad, dtype=np.float64)
    return float(np.sqrt(np.sum(grad * grad)))


def plot_gradient_flow(norms_by_label, title="Gradient flow through time", ax=None):
    """A log-scale plot of ‖dL/dh_t‖ against t, one line per label (RNN vs LSTM vs GRU).

    Args:
        norms_by_label: {label: sequence of norms, one per time step}.
        title: the axes title.
        ax: draw into these matplotlib axes (default: a new figure).

    Returns:
        The matplotlib Figure (Agg canvas; no display needed): `fig.savefig("flow.png")`.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=(8, 4.8), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
    fig = ax.figure
    longest = 0
    for k, (label, norms) in enumerate(norms_by_label.items()):
        norms = np.asarray(norms, dtype=np.float64)
        colour, marker, dash = _STYLES[k % len(_STYLES)]
        shown = np.where(norms > 0, norms, np.nan)   # zero has no place on a log axis
        ax.plot(np.arange(len(norms)), shown, color=colour, marker=marker, linestyle=dash,
                linewidth=2.2, markersize=7, label=label)
        longest = max(longest, len(norms))
    ax.set_yscale("log")
    ax.set_xlabel("time step t  (loss at the last step)", fontsize=13)
    ax.set_ylabel("‖dL/dh_t‖  (log scale)", fontsize=13)
    ax.set_title(title, fontsize=15)
    if longest:
        ax.set_xlim(-0.5, longest - 0.5)
    ax.grid(True, which="both", alpha=0.3)
    ax.tick_params(labelsize=12)
    if norms_by_label:
        ax.legend(fontsize=12)
    return fig
