"""Story 4, the LSTM's gates, four ways: the lecture's four-gate cell, the standard equations,
the mapping between them, and the classic question answered by running the cells.

The lecture's cell (models.FourGateLSTMCell) has a long-term memory LTM, a short-term memory
STM and an event E, and four gates: learn, forget, remember, use. The standard LSTM
(models.LSTMCell, exactly torch.nn.LSTMCell) has a cell state c, a hidden state h, an input x and
gates i, f, g, o. Line by line (h = STM, c = LTM, x = E):

    learn     N = tanh(W_n [STM, E] + b_n), i = σ(...)   learn = N ⊙ i     is  i ⊙ g
    forget    f = σ(W_f [STM, E] + b_f)                  forget = LTM ⊙ f  is  f ⊙ c
    remember  LTM' = forget + learn                                        is  c' = f ⊙ c + i ⊙ g
    use       U = tanh(W_u forget + b_u), V = σ(...)     STM' = U ⊙ V      vs  h' = o ⊙ tanh(c')
              (V is o; the use gate reads only what was kept of the old memory, through a layer
              of its own, where the LSTM shows the new memory squashed, with no weights)

The question: with the input gate near 0, the forget gate near 1 and the output gate near 0,
what does the cell do? It keeps its memory, untouched, for as long as the gates stay so, taking
no input and showing nothing. Run it: the gates are set through their biases (±12, so
σ = 1 - 6e-6), the weights stay random, the input is random noise for 50 steps, and the cell
state after 50 steps is the one it started with, while h stays at 0. The same cell at its
initial biases (gates near 0.5) forgets within a few steps.

    python examples/lstm_gates.py            # a second or two
    python examples/lstm_gates.py --steps 500 --bias 15
"""
import sys

import numpy as np

import minigrad as mg
from minigrad.models import FourGateLSTMCell, LSTMCell
from minigrad.threads import use_one_blas_thread
from minigrad.viz import lecture_plots as lp

# (lecture gate, its lines, the standard LSTM's lines, how they relate)
MAPPING = [
    ("learn", "N = tanh(W_n [STM, E] + b_n);  i = σ(W_i [STM, E] + b_i);  learn = N ⊙ i",
     "g = tanh(W_ig x + W_hg h + b_g);  i = σ(W_ii x + W_hi h + b_i);  i ⊙ g", "the same: N is g"),
    ("forget", "f = σ(W_f [STM, E] + b_f);  forget = LTM ⊙ f",
     "f = σ(W_if x + W_hf h + b_f);  f ⊙ c", "the same"),
    ("remember", "LTM' = forget + learn", "c' = f ⊙ c + i ⊙ g", "the same line"),
    ("use", "U = tanh(W_u forget + b_u);  V = σ(W_v [STM, E] + b_v);  STM' = U ⊙ V",
     "o = σ(W_io x + W_ho h + b_o);  h' = o ⊙ tanh(c')",
     "V is o; U reads the kept old memory through its own layer, tanh(c') the new one, no weights"),
]

# which rows of each cell's bias hold which gate: name -> (row block, the bias parameter)
GATE_ROWS = {
    "lstm": {"i": 0, "f": 1, "g": 2, "o": 3},              # LSTMCell: rows i, f, g, o
    "fourgate": {"N": 0, "i": 1, "f": 2, "V": 3},          # FourGateLSTMCell: rows n, i, f, v
}
HOLD = {"lstm": {"i": -1, "f": +1, "o": -1}, "fourgate": {"i": -1, "f": +1, "V": -1}}


def make_cell(kind, input_size=3, hidden_size=4, seed=0):
    """A seeded cell with PyTorch's initialisation: kind "lstm" (LSTMCell) or "fourgate"."""
    mg.manual_seed(seed)
    return (LSTMCell if kind == "lstm" else FourGateLSTMCell)(input_size, hidden_size)


def hold_gates(cell, kind, bias=12.0):
    """Set the gates through the biases: input gate near 0, forget gate near 1, output (use) gate
    near 0. The weights are left as they are. Returns the cell."""
    H = cell.hidden_size
    b = cell.bias_ih.data if kind == "lstm" else cell.bias.data
    for gate, sign in HOLD[kind].items():
        k = GATE_ROWS[kind][gate]
        b[k * H:(k + 1) * H] = sign * bias
        if kind == "lstm":
            cell.bias_hh.data[k * H:(k + 1) * H] = 0.0   # the cell adds bias_ih + bias_hh
    return cell


def initial_state(hidden_size=4):
    """A memory to keep: c0 (or LTM0) with recognisable values, h0 = 0."""
    c0 = np.linspace(0.9, -0.9, hidden_size).astype(np.float32)[None, :]
    return np.zeros_like(c0), c0


def run(cell, kind, inputs, state):
    """Step the cell over inputs (T, 1, D) from state (h0, c0). Returns {name: (T+1, H) array}
    of h and c over time (row 0 is the initial state) and the gates (T, H) at each step."""
    h, c = (mg.tensor(s) for s in state)
    trace = {"h": [h.data[0]], "c": [c.data[0]]}
    with mg.no_grad():
        for x in inputs:
            x_proj = cell.project_input(mg.tensor(x))
            gates = gate_values(cell, kind, x_proj, h)
            for name, value in gates.items():
                trace.setdefault(name, []).append(value)
            h, c = cell.step(x_proj, (h, c))
            trace["h"].append(h.data[0])
            trace["c"].append(c.data[0])
    return {k: np.array(v) for k, v in trace.items()}


def gate_values(cell, kind, x_proj, h):
    """The sigmoid gates of one step, computed as the cell does: {"i", "f", "o"} (the four-gate
    cell's V reported as "o")."""
    H = cell.hidden_size
    pre = (x_proj + h @ cell.weight_hh.T).data[0]
    rows = GATE_ROWS[kind]
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    block = lambda g: pre[rows[g] * H:(rows[g] + 1) * H]  # noqa: E731
    return {"i": sig(block("i")), "f": sig(block("f")), "o": sig(block("o" if kind == "lstm" else "V"))}


def experiment(steps=50, bias=12.0, seed=0, input_size=3, hidden_size=4):
    """The three runs on one random input sequence: {label: trace}."""
    inputs = np.random.default_rng(seed).standard_normal((steps, 1, input_size)).astype(np.float32)
    state = initial_state(hidden_size)
    runs = {}
    for label, kind, held in (("LSTM, gates held", "lstm", True),
                              ("four-gate cell, gates held", "fourgate", True),
                              ("LSTM, initial gates", "lstm", False)):
        cell = make_cell(kind, input_size, hidden_size, seed)
        if held:
            hold_gates(cell, kind, bias)
        runs[label] = run(cell, kind, inputs, state)
    return inputs, runs


def summary(trace):
    """How far the memory moved and how large the output got over the run."""
    return {"c_drift": float(np.abs(trace["c"][-1] - trace["c"][0]).max()),
            "h_max": float(np.abs(trace["h"]).max()),
            "i_max": float(trace["i"].max()), "f_min": float(trace["f"].min()), "o_max": float(trace["o"].max())}


# ----------------------------------------------------------------------------- pictures
def plot_memory(inputs, runs):
    """Rows: the input, the cell state, the hidden state; one column per run."""
    fig, axes = lp.figure(3, len(runs), width=16, height=9, sharex=True, sharey="row")
    t_in = np.arange(1, len(inputs) + 1)
    colours = [lp.OKABE_ITO[c] for c in ("blue", "vermillion", "green", "purple", "orange", "sky")]
    for col, (label, trace) in enumerate(runs.items()):
        axes[0, col].set_title(label)
        for d in range(inputs.shape[2]):
            axes[0, col].plot(t_in, inputs[:, 0, d], color="#999999", linewidth=1, alpha=0.8)
        t = np.arange(len(trace["c"]))
        for k in range(trace["c"].shape[1]):
            style = dict(color=colours[k % len(colours)], linewidth=2.2)
            axes[1, col].plot(t, trace["c"][:, k], label=f"unit {k}", **style)
            axes[2, col].plot(t, trace["h"][:, k], **style)
        g = {name: trace[name].mean(axis=1) for name in ("i", "f", "o")}
        axes[2, col].text(0.02, 0.04,
                          f"mean gates: i {g['i'].mean():.2g}, f {g['f'].mean():.6f}, o {g['o'].mean():.2g}",
                          transform=axes[2, col].transAxes, fontsize=11)
        axes[2, col].set_xlabel("time step t")
    axes[0, 0].set_ylabel("input x_t\n(random noise)")
    axes[1, 0].set_ylabel("cell state c_t\n(long-term memory)")
    axes[2, 0].set_ylabel("hidden state h_t\n(output)")
    axes[1, 0].legend(loc="upper right", ncols=2, fontsize=10)
    for ax in axes.flat:
        ax.grid(True, alpha=0.3)
    fig.suptitle("Input gate ≈ 0, forget gate ≈ 1, output gate ≈ 0: the memory is kept, nothing goes in or out")
    return fig


def plot_equations():
    """The two sets of equations side by side, each gate in its own colour."""
    fig, ax = lp.figure(width=16, height=5.2)
    ax.set_axis_off()
    colours = {"learn": lp.OKABE_ITO["blue"], "forget": lp.OKABE_ITO["vermillion"],
               "remember": lp.OKABE_ITO["green"], "use": lp.OKABE_ITO["purple"]}
    lecture = {
        "learn": [r"$N = \tanh(W_n\,[STM, E] + b_n)$", r"$i = \sigma(W_i\,[STM, E] + b_i)$",
                  r"$learn = N \odot i$"],
        "forget": [r"$f = \sigma(W_f\,[STM, E] + b_f)$", r"$forget = LTM \odot f$"],
        "remember": [r"$LTM' = forget + learn$"],
        "use": [r"$U = \tanh(W_u\, forget + b_u)$", r"$V = \sigma(W_v\,[STM, E] + b_v)$",
                r"$STM' = U \odot V$"],
    }
    standard = {
        "learn": [r"$g = \tanh(W_{ig}\,x + W_{hg}\,h + b_g)$", r"$i = \sigma(W_{ii}\,x + W_{hi}\,h + b_i)$",
                  r"$i \odot g$"],
        "forget": [r"$f = \sigma(W_{if}\,x + W_{hf}\,h + b_f)$", r"$f \odot c$"],
        "remember": [r"$c' = f \odot c + i \odot g$"],
        "use": [r"$o = \sigma(W_{io}\,x + W_{ho}\,h + b_o)$", r"$h' = o \odot \tanh(c')$"],
    }
    notes = {"learn": "N is g", "forget": "the same", "remember": "the same line",
             "use": "V is o; U reads the kept old memory\nthrough its own layer W_u"}
    ax.text(0.01, 0.97, "The lecture's four gates\n(STM = h, LTM = c, E = x)", fontsize=15, fontweight="bold",
            va="top")
    ax.text(0.45, 0.97, "The standard LSTM\n(torch.nn.LSTMCell)", fontsize=15, fontweight="bold", va="top")
    ax.text(0.76, 0.97, "How they relate", fontsize=15, fontweight="bold", va="top")
    y = 0.80
    for gate in ("learn", "forget", "remember", "use"):
        colour = colours[gate]
        ax.text(0.01, y, gate, fontsize=15, fontweight="bold", color=colour, va="top")
        lines = max(len(lecture[gate]), len(standard[gate]))
        for k, line in enumerate(lecture[gate]):
            ax.text(0.11, y - 0.066 * k, line, fontsize=14, color=colour, va="top")
        for k, line in enumerate(standard[gate]):
            ax.text(0.45, y - 0.066 * k, line, fontsize=14, color=colour, va="top")
        ax.text(0.76, y, notes[gate], fontsize=13, color="#333333", va="top")
        y -= 0.066 * lines + 0.05
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    return fig


def draw_cells():
    """One step of each cell as a graph (op level, every gate named), for beside the equations."""
    from minigrad import viz

    graphs = {}
    for kind, title in (("fourgate", "The lecture's four-gate cell: one step"),
                        ("lstm", "The standard LSTM cell: one step")):
        cell = make_cell(kind, 2, 2)
        x = mg.tensor(np.ones((1, 2), np.float32))
        x.name = "E" if kind == "fourgate" else "x"
        h, c = (mg.tensor(s, requires_grad=True) for s in initial_state(2))
        h.name, c.name = ("STM", "LTM") if kind == "fourgate" else ("h", "c")
        h_next, c_next = cell(x, (h, c))
        out = h_next + c_next
        out.name = "STM' + LTM'" if kind == "fourgate" else "h' + c'"
        graphs[kind] = viz.draw_graph(out, params=cell, grads=False, title=title)
    return graphs


# ----------------------------------------------------------------------------- the story
def fmt(values):
    return "[" + ", ".join(f"{v:+.4f}" for v in np.asarray(values).ravel()) + "]"



def main(argv=None):
    p = lp.parser("lstm_gates", __doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, help="time steps to run (default 50; --quick: 50 as well)")
    p.add_argument("--bias", type=float, default=12.0,
                   help="the gate biases are set to ± this (default %(default)s: σ = 1 - 6e-6)")
    args = p.parse_args(argv)
    steps = args.steps or 50
    print("The lecture's four gates against the standard LSTM's lines:")
    for gate, lecture, standard, relation in MAPPING:
        print(f"  {gate:9s} {lecture}\n  {'':9s} LSTM: {standard}\n  {'':9s} -> {relation}")
    inputs, runs = experiment(steps, args.bias, args.seed)
    results = {"steps": steps, "bias": args.bias, "c0": runs["LSTM, gates held"]["c"][0]}
    print(f"\nGates set through the biases (±{args.bias:g}), random input for {steps} steps, "
          f"c0 = {fmt(results['c0'])}:")
    for label, trace in runs.items():
        s = summary(trace)
        results[label] = {**s, "c_final": trace["c"][-1], "h_final": trace["h"][-1]}
        print(f"  {label:28s} c_{steps} = {fmt(trace['c'][-1])}  "
              f"max |c_{steps} - c_0| = {s['c_drift']:.1e}, max |h_t| = {s['h_max']:.1e}  "
              f"(i <= {s['i_max']:.1e}, f >= {s['f_min']:.6f}, o <= {s['o_max']:.1e})")
    print("With the gates held, the memory is the same after all the steps and nothing is shown; "
          "at the initial gates it is gone.")

    print(f"\nFigures in {args.out}:")
    lp.save(plot_memory(inputs, runs), args.out, "memory_kept.png")
    lp.save(plot_equations(), args.out, "equations.png")
    for kind, graph in draw_cells().items():
        lp.save_graph(graph, args.out, f"{kind}_cell")
    lp.write_results(args.out, results)
    return 0


if __name__ == "__main__":
    use_one_blas_thread()  # small matrices: one BLAS thread is fastest (OPENBLAS_NUM_THREADS=N overrides it)
    sys.exit(main())
