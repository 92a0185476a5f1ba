"""Story 7, backprop by hand: every local derivative written out, multiplied along the graph, and
checked against minigrad's .grad and against finite differences (mg.gradcheck).

Part 1, a tiny expression of scalars:

    a = w x        s = a + b        h = tanh(s)        L = h h

Going backward, each node multiplies the gradient arriving from above by its local derivative:

    dL/dh = h + h = 2h          (h is used twice: both uses send a gradient, they add up)
    dL/ds = dL/dh (1 - h^2)     (tanh' = 1 - tanh^2)
    dL/da = dL/ds 1,  dL/db = dL/ds 1
    dL/dw = dL/da x,  dL/dx = dL/da w

Part 2, one step of an RNN with a squared-error read-out (row vectors, as minigrad's nn does):

    a = x W_xh + h0 W_hh + b      h1 = tanh(a)      y = h1 W_hy + c      L = 1/2 |y - target|^2

    dL/dy = y - target
    dL/dW_hy = h1^T dL/dy                  dL/dc = dL/dy
    dL/dh1 = dL/dy W_hy^T
    dL/da = dL/dh1 ⊙ (1 - h1 ⊙ h1)
    dL/dW_xh = x^T dL/da     dL/dW_hh = h0^T dL/da     dL/db = dL/da
    dL/dx = dL/da W_xh^T     dL/dh0 = dL/da W_hh^T

With --steps T > 1 the same cell runs T steps and the loss is on the last y: backpropagation
through time. The hand-written loop carries dL/dh back one step at a time, and W_xh, W_hh, b
each collect one term per step, summed; the per-step terms are printed.

    python examples/backprop_by_hand.py              # a second
    python examples/backprop_by_hand.py --steps 3
"""
import sys

import numpy as np

import minigrad as mg
from minigrad.threads import use_one_blas_thread
from minigrad.viz import lecture_plots as lp

F64 = mg.float64   # float64 throughout, so the hand and engine numbers agree to ~1e-15


# ----------------------------------------------------------------------------- part 1: a tiny expression
TINY_VALUES = {"x": 1.5, "w": 0.8, "b": -0.4}


def tiny_forward(x, w, b):
    """a = w x, s = a + b, h = tanh(s), L = h h; returns the dict of every value (tensors)."""
    a = w * x
    s = a + b
    h = s.tanh()
    L = h * h
    for name, t in (("a", a), ("s", s), ("h", h), ("L", L)):
        t.name = name
    return {"x": x, "w": w, "b": b, "a": a, "s": s, "h": h, "L": L}


def tiny_leaves(values=TINY_VALUES):
    leaves = {k: mg.tensor(v, dtype=F64, requires_grad=True) for k, v in values.items()}
    for k, t in leaves.items():
        t.name = k
    return leaves


def tiny_by_engine(values=TINY_VALUES):
    """Forward and backward with minigrad, every intermediate gradient kept. Returns the values."""
    leaves = tiny_leaves(values)
    with mg.retain_grads():
        v = tiny_forward(**leaves)
        v["L"].backward()
    return v


def tiny_by_hand(values=TINY_VALUES):
    """The same forward pass in plain Python, then the backward pass written out.

    Returns (forward {name: value}, rows [(gradient, formula, local derivative, value)])."""
    x, w, b = values["x"], values["w"], values["b"]
    a = w * x
    s = a + b
    h = np.tanh(s)
    L = h * h
    fwd = {"x": x, "w": w, "b": b, "a": a, "s": s, "h": h, "L": L}
    g = {"L": 1.0}
    g["h"] = g["L"] * h + g["L"] * h         # L = h h: both factors are h
    g["s"] = g["h"] * (1 - h * h)            # tanh'(s) = 1 - tanh(s)^2
    g["a"] = g["s"] * 1.0
    g["b"] = g["s"] * 1.0
    g["w"] = g["a"] * x
    g["x"] = g["a"] * w
    rows = [
        ("dL/dL", "1 (the start)", 1.0, g["L"]),
        ("dL/dh", "dL/dL · h + dL/dL · h", 2 * h, g["h"]),
        ("dL/ds", "dL/dh · (1 - h²)", 1 - h * h, g["s"]),
        ("dL/da", "dL/ds · 1", 1.0, g["a"]),
        ("dL/db", "dL/ds · 1", 1.0, g["b"]),
        ("dL/dw", "dL/da · x", x, g["w"]),
        ("dL/dx", "dL/da · w", w, g["x"]),
    ]
    return fwd, rows


# ----------------------------------------------------------------------------- part 2: an RNN step
def rnn_parameters(seed=0, input_size=2, hidden_size=2, output_size=1):
    """Small seeded float64 arrays: x, h0, W_xh, W_hh, b, W_hy, c and a target."""
    rng = np.random.default_rng(seed)
    r = lambda *shape: np.round(rng.uniform(-1, 1, shape), 2)  # noqa: E731  (two decimals: easy to read)
    return {"x": r(1, input_size), "h0": r(1, hidden_size), "W_xh": r(input_size, hidden_size),
            "W_hh": r(hidden_size, hidden_size), "b": r(hidden_size), "W_hy": r(hidden_size, output_size),
            "c": r(output_size), "target": np.array([[0.5]])}


LEAVES = ("x", "h0", "W_xh", "W_hh", "b", "W_hy", "c")


def rnn_forward(x, h0, W_xh, W_hh, b, W_hy, c, target, steps=1):
    """The RNN with minigrad ops: h_t = tanh(x W_xh + h_{t-1} W_hh + b) for `steps` steps (the same
    x each step), y = h_T W_hy + c, L = 1/2 |y - target|^2. Returns (L, {name: tensor})."""
    h, named = h0, {}
    for t in range(1, steps + 1):
        with mg.scope(f"t{t - 1}"):
            a = x @ W_xh + h @ W_hh + b
            h = a.tanh()
        a.name, h.name = f"a{t}", f"h{t}"
        named[a.name], named[h.name] = a, h
    y = h @ W_hy + c
    diff = y - target
    L = 0.5 * (diff * diff).sum()
    y.name, L.name = "y", "L"
    named.update(y=y, L=L)
    return L, named


def rnn_by_engine(params, steps=1):
    """minigrad's forward and backward, all gradients kept. Returns ({leaf: tensor}, {name: tensor})."""
    leaves = {k: mg.tensor(params[k], dtype=F64, requires_grad=True) for k in LEAVES}
    for k, t in leaves.items():
        t.name = k
    with mg.retain_grads():
        L, named = rnn_forward(**leaves, target=mg.tensor(params["target"], dtype=F64), steps=steps)
        L.backward()
    return leaves, named


def rnn_by_hand(params, steps=1):
    """Forward in numpy, then backpropagation through time written out, one step at a time.

    Returns ({name: gradient}, {"W_xh": [term of each step], ...}, forward values)."""
    p = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    hs, As = [p["h0"]], []
    for _ in range(steps):
        As.append(p["x"] @ p["W_xh"] + hs[-1] @ p["W_hh"] + p["b"])
        hs.append(np.tanh(As[-1]))
    y = hs[-1] @ p["W_hy"] + p["c"]
    L = 0.5 * float(((y - p["target"]) ** 2).sum())

    g = {"y": y - p["target"]}                       # dL/dy
    g["W_hy"] = hs[-1].T @ g["y"]                     # y = h W_hy + c
    g["c"] = g["y"].sum(axis=0)
    dh = g["y"] @ p["W_hy"].T                         # dL/dh_T
    terms = {"W_xh": [], "W_hh": [], "b": [], "x": []}
    for t in range(steps, 0, -1):                     # back through time: t = T .. 1
        g[f"h{t}"] = dh
        da = dh * (1 - hs[t] * hs[t])                 # tanh' = 1 - h^2, elementwise
        g[f"a{t}"] = da
        terms["W_xh"].append(p["x"].T @ da)           # a_t = x W_xh + h_{t-1} W_hh + b
        terms["W_hh"].append(hs[t - 1].T @ da)
        terms["b"].append(da.sum(axis=0))
        terms["x"].append(da @ p["W_xh"].T)
        dh = da @ p["W_hh"].T                         # on to h_{t-1}
    for k in ("W_xh", "W_hh", "b", "x"):
        terms[k] = terms[k][::-1]                     # in time order t = 1 .. T
        g[k] = sum(terms[k])
    g["h0"] = dh
    return g, terms, {"h": hs, "a": As, "y": y, "L": L}


def compare(engine, hand, names):
    """[(name, max |engine - hand|)] for each name."""
    return [(k, float(np.abs(np.asarray(engine[k]) - np.asarray(hand[k])).max())) for k in names]


def rnn_gradcheck(params, steps=1):
    """mg.gradcheck of the RNN's loss with respect to every leaf (float64 finite differences)."""
    target = mg.tensor(params["target"], dtype=F64)

    def loss(*leaves):
        return rnn_forward(*leaves, target=target, steps=steps)[0]

    return mg.gradcheck(loss, [params[k] for k in LEAVES])


def tiny_gradcheck(values=TINY_VALUES):
    return mg.gradcheck(lambda x, w, b: tiny_forward(x, w, b)["L"],
                        [np.array(values[k], dtype=np.float64) for k in ("x", "w", "b")])


# ----------------------------------------------------------------------------- pictures
def draw_tiny():
    from minigrad import viz

    leaves = tiny_leaves()
    with viz.record():
        v = tiny_forward(**leaves)
        v["L"].backward()
    return viz.draw_graph(v["L"], title="L = tanh(w x + b)², every value with its gradient ‖∇‖ = |dL/dvalue|")


def draw_rnn(params, steps=1):
    from minigrad import viz

    _, named = rnn_by_engine(params, steps)   # backward under mg.retain_grads (= viz.record)
    L = named["L"]
    what = "one RNN step" if steps == 1 else f"{steps} RNN steps"
    return viz.draw_graph(L, title=f"{what}: a = x W_xh + h0 W_hh + b, h1 = tanh(a), y = h1 W_hy + c, "
                                   f"L = ½|y - target|²")


def plot_table(rows, title):
    """A table for a slide: gradient, how it is computed, the local derivative, the value."""
    fig, ax = lp.figure(width=13, height=0.5 + 0.45 * (len(rows) + 1))
    ax.set_axis_off()
    cells = [[r[0], r[1], f"{r[2]:.6f}", f"{r[3]:.6f}", f"{r[4]:.6f}", f"{r[5]:.1e}"] for r in rows]
    table = ax.table(cellText=cells, colLabels=["gradient", "by the chain rule", "local derivative", "by hand",
                                                "minigrad .grad", "difference"],
                     loc="center", cellLoc="center", colWidths=[0.1, 0.3, 0.15, 0.13, 0.16, 0.12])
    table.auto_set_font_size(False)
    table.set_fontsize(13)
    table.scale(1, 1.7)
    for (r, _), cell in table.get_celld().items():
        if r == 0:
            cell.set_facecolor("#dddddd")
            cell.set_text_props(fontweight="bold")
    ax.set_title(title)
    return fig


# ----------------------------------------------------------------------------- the story
def main(argv=None):
    p = lp.parser("backprop_by_hand", __doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=1, help="RNN time steps (default %(default)s: one step)")
    args = p.parse_args(argv)
    results = {}

    print("Part 1: L = tanh(w x + b)², with x = 1.5, w = 0.8, b = -0.4")
    fwd, rows = tiny_by_hand()
    print("  forward: " + ", ".join(f"{k} = {v:.6f}" for k, v in fwd.items()))
    engine = tiny_by_engine()
    table = []
    print(f"  {'gradient':8s} {'by the chain rule':24s} {'local':>10s} {'by hand':>10s} {'.grad':>10s}")
    for name, formula, local, value in rows:
        node = name.split("/d")[1]
        grad = float(engine[node].grad)
        table.append((name, formula, local, value, grad, abs(grad - value)))
        print(f"  {name:8s} {formula:24s} {local:10.6f} {value:10.6f} {grad:10.6f}")
    results["tiny"] = {"forward": fwd, "rows": table, "gradcheck": tiny_gradcheck()}
    print(f"  every hand-derived gradient equals .grad (largest difference {max(r[5] for r in table):.1e}); "
          f"gradcheck: {'passed' if results['tiny']['gradcheck'] else 'FAILED'}")

    params = rnn_parameters(args.seed)
    steps = args.steps
    print(f"\nPart 2: {'one RNN step' if steps == 1 else f'{steps} RNN steps'}, "
          "a = x W_xh + h W_hh + b, h = tanh(a), y = h W_hy + c, L = ½|y - target|²")
    for k in LEAVES + ("target",):
        shown = np.array2string(np.asarray(params[k]), separator=", ").replace("\n", "\n" + " " * 11)
        print(f"  {k:6s} = {shown}")
    hand, terms, fwd = rnn_by_hand(params, steps)
    leaves, named = rnn_by_engine(params, steps)
    print(f"  forward: h{steps} = {np.array2string(fwd['h'][-1], precision=6)}, "
          f"y = {np.array2string(fwd['y'], precision=6)}, L = {fwd['L']:.6f}")
    grads = {k: t.grad for k, t in {**leaves, **named}.items() if t.grad is not None}
    order = ["y"] + [f"{k}{t}" for t in range(steps, 0, -1) for k in ("h", "a")] + list(LEAVES)
    diffs = compare(grads, hand, order)
    for k, diff in diffs:
        print(f"  dL/d{k:5s} by hand {np.array2string(np.asarray(hand[k]).ravel(), precision=6):32s} "
              f".grad {np.array2string(np.asarray(grads[k]).ravel(), precision=6):32s} |diff| {diff:.1e}")
    if steps > 1:
        print("  through time, each shared weight sums one term per step:")
        for k in ("W_hh", "W_xh"):
            parts = " + ".join(np.array2string(term.ravel(), precision=4) for term in terms[k])
            print(f"    dL/d{k} = {parts}")
    ok = rnn_gradcheck(params, steps)
    print(f"  gradcheck (central differences, float64) of L with respect to every leaf: "
          f"{'passed' if ok else 'FAILED'}")
    results["rnn"] = {"steps": steps, "params": params, "by_hand": hand, "engine": grads,
                      "max_difference": max(d for _, d in diffs), "gradcheck": ok, "L": fwd["L"]}

    print(f"\nFigures in {args.out}:")
    lp.save(plot_table(table, "Backprop by hand: L = tanh(w x + b)², x = 1.5, w = 0.8, b = -0.4"),
            args.out, "tiny_table.png")
    lp.save_graph(draw_tiny(), args.out, "tiny_graph")
    lp.save_graph(draw_rnn(params, steps), args.out, "rnn_step_graph")
    lp.write_results(args.out, results)
    return 0


if __name__ == "__main__":
    use_one_blas_thread()  # small matrices: one BLAS thread is fastest (OPENBLAS_NUM_THREADS=N overrides it)
    sys.exit(main())
