"""Story 8, how a compiler makes autodiff free: the same LSTM training step run eagerly, through
mg.compile, and written out by hand in numpy.

Eager autodiff pays for its convenience at every step: each op builds a graph node, each
result is a new array, and Python walks the graph backward. But the numpy calls a step makes
are the same every time for the same shapes. mg.compile runs the step once eagerly, writes
down every numpy call the ops make (their own code, forward and backward), drops the rest,
and replays that list as a flat program into buffers allocated once: no nodes, no new arrays,
no graph walk, and the same numbers as eager, bit for bit, because it is the same numpy code.

    step:     one_hot(x) -> models.LSTM -> nn.Linear -> cross_entropy -> backward -> clip (5)
    after it: the optimizer's step (SGD), eagerly, outside the compiled function

The lesson prints the first lines of the compiled program, what an eager step does (graph
nodes, numpy calls, new arrays) against the plan (numpy calls, buffers made once), the time
per step of eager, compiled and a hand-written numpy forward and backward of the same model
(checked against minigrad's gradients first: float64 to 1e-10, float32 to 1e-5), median of
interleaved steps on one BLAS thread, and the losses of eager and compiled training side by
side, which must be equal bit for bit.

    python examples/compiler_lesson.py             # a few seconds
    python examples/compiler_lesson.py --hidden 256 --batch 64   # bigger: the matmuls dominate
"""
import re
import statistics
import sys
import time

import numpy as np

import minigrad as mg
from minigrad import nn, optim
from minigrad.models import LSTM
from minigrad.models.text import Vocab, stdlib_corpus
from minigrad.nn import functional as F
from minigrad.threads import blas_threads, use_one_blas_thread
from minigrad.viz import lecture_plots as lp

MAX_NORM = 5.0
LR = 1.0
COLOURS = {"eager": lp.OKABE_ITO["vermillion"], "compiled": lp.OKABE_ITO["blue"],
           "numpy by hand": lp.OKABE_ITO["green"]}


# ----------------------------------------------------------------------------- the data
def load_ids(max_chars=200_000):
    """(ids, vocabulary size) of the offline corpus, the Python standard library's source."""
    text, _ = stdlib_corpus(max_chars)
    vocab = Vocab.from_text(text)
    return vocab.encode(text), len(vocab)


def windows(ids, batch, seq, count, seed=0):
    """`count` random (x, y) windows, time-major int64 (seq, batch): y is x shifted by one."""
    starts = np.random.default_rng(seed).integers(0, len(ids) - seq - 1, (count, batch))
    out = []
    for s in starts:
        rows = s[:, None] + np.arange(seq + 1)
        out.append((np.ascontiguousarray(ids[rows[:, :-1]].T), np.ascontiguousarray(ids[rows[:, 1:]].T)))
    return out


# ----------------------------------------------------------------------------- the minigrad step
def build(vocab, hidden, seed=0, dtype=mg.float32):
    """(step, params, optimizer): the training step up to the clip, as a function of (x, y)
    with time-major windows; SGD to step after it. The same seed gives the same weights."""
    mg.manual_seed(seed)
    lstm = LSTM(vocab, hidden, dtype=dtype)
    head = nn.Linear(hidden, vocab, dtype=dtype)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = optim.SGD(params, lr=LR)

    def step(x, y):
        out, _ = lstm(F.one_hot(x, vocab, dtype=dtype))
        loss = F.cross_entropy(head(out.reshape(-1, hidden)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, MAX_NORM)
        return loss

    return step, params, opt


NAMES = ("W_ih", "W_hh", "b_ih", "b_hh", "W_out", "b_out")   # the order of build's params


def numpy_params(params):
    """The minigrad parameters' values as a dict of numpy arrays (copies), for numpy_step."""
    return {name: p.data.copy() for name, p in zip(NAMES, params)}


# ----------------------------------------------------------------------------- the same step by hand
def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def numpy_step(P, x, y, max_norm=MAX_NORM):
    """The step written out by hand: forward, backward and clip in plain numpy.

    P holds W_ih (4H, V), W_hh (4H, H), b_ih, b_hh (4H,), W_out (V, H), b_out (V,); x, y are
    int windows (T, B). Returns (mean cross-entropy, {name: clipped gradient}).
    """
    T, B = x.shape
    H = P["W_hh"].shape[1]
    # forward: one_hot(x) @ W_ih.T is a row gather; the biases are added once
    x_proj = P["W_ih"].T[x] + (P["b_ih"] + P["b_hh"])          # (T, B, 4H), gates in rows i, f, g, o
    h = np.zeros((B, H), x_proj.dtype)
    c = np.zeros_like(h)
    hs, cs, saved = [h], [c], []
    for t in range(T):
        a = x_proj[t] + h @ P["W_hh"].T
        i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
        g, o = np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
        c = f * c + i * g
        tanh_c = np.tanh(c)
        h = o * tanh_c
        hs.append(h)
        cs.append(c)
        saved.append((i, f, g, o, tanh_c))
    h_all = np.stack(hs[1:]).reshape(T * B, H)
    logits = h_all @ P["W_out"].T + P["b_out"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    p /= p.sum(axis=1, keepdims=True)
    rows, target = np.arange(T * B), y.reshape(-1)
    loss = -np.log(p[rows, target]).mean()

    # backward: d loss / d logits = (softmax - one_hot) / N, then back through the steps
    d_logits = p
    d_logits[rows, target] -= 1
    d_logits /= T * B
    G = {"W_out": d_logits.T @ h_all, "b_out": d_logits.sum(axis=0)}
    dh_out = (d_logits @ P["W_out"]).reshape(T, B, H)
    d_proj = np.empty_like(x_proj)
    dW_hh = np.zeros_like(P["W_hh"])
    dh_next, dc_next = np.zeros_like(h), np.zeros_like(c)
    for t in reversed(range(T)):
        i, f, g, o, tanh_c = saved[t]
        dh = dh_out[t] + dh_next
        dc = dc_next + dh * o * (1 - tanh_c ** 2)              # tanh: 1 - y^2
        da = np.concatenate([dc * g * i * (1 - i),             # sigmoid: y (1 - y)
                             dc * cs[t] * f * (1 - f),
                             dc * i * (1 - g ** 2),
                             dh * tanh_c * o * (1 - o)], axis=1)
        d_proj[t] = da
        dW_hh += da.T @ hs[t]
        dh_next = da @ P["W_hh"]
        dc_next = dc * f
    G["W_hh"] = dW_hh
    G["b_ih"] = d_proj.sum(axis=(0, 1))
    G["b_hh"] = G["b_ih"].copy()
    one_hot = np.zeros((T * B, P["W_ih"].shape[1]), x_proj.dtype)
    one_hot[rows, x.reshape(-1)] = 1
    G["W_ih"] = d_proj.reshape(T * B, 4 * H).T @ one_hot      # the gather's gradient: one_hot^T d_proj

    # clip: scale all gradients together so their joint norm is at most max_norm
    total = np.sqrt(sum(np.dot(g.ravel().astype(np.float64), g.ravel()) for g in G.values()))
    coef = min(max_norm / (total + 1e-6), 1.0)
    return loss, {name: g * g.dtype.type(coef) for name, g in G.items()}


def check_by_hand(vocab, hidden, x, y, dtype, seed=0):
    """The largest difference, relative to the gradient's largest entry, between numpy_step's
    gradients (and loss) and minigrad's, over every parameter."""
    step, params, _ = build(vocab, hidden, seed, dtype)
    loss = step(x, y)
    mine, grads = numpy_step(numpy_params(params), x, y)
    worst = abs(float(mine) - loss.item()) / abs(loss.item())
    for name, p in zip(NAMES, params):
        worst = max(worst, float(np.abs(grads[name] - p.grad.data).max() / np.abs(p.grad.data).max()))
    return worst


# ----------------------------------------------------------------------------- the plan's numbers
# what str(plan) prints in its first lines, and the plan.stats key each number also has
PLAN_NUMBERS = {
    "calls": (r"per call: (\d+) numpy calls", "steps"),
    "buffers": (r"buffers: (\d+)", "buffers"),
    "buffer_size": (r"buffers: \d+ \(([\d.]+ [KMG]?B)\)", None),
    "eager_ops": (r"(\d+) ops", "ops"),
    "eager_calls": (r"ops[^,]*, (\d+) numpy calls", "calls"),
    "eager_arrays": (r"(\d+) new arrays", "allocations"),
}


def plan_numbers(plan):
    """{name: number} read from the plan's printed header (and plan.stats where a line has
    changed): numpy calls per step, buffers, and the eager call's ops, numpy calls, new arrays.
    A number found in neither is None."""
    lines = str(plan).split("\n")
    program = next((k for k, line in enumerate(lines) if re.match(r"\s*\d+  ", line)), len(lines))
    header = "\n".join(lines[:program])   # the lines before the program's first numbered line
    stats = getattr(plan, "stats", None) or {}
    numbers = {}
    for name, (pattern, key) in PLAN_NUMBERS.items():
        found = re.search(pattern, header)
        if found:
            numbers[name] = found.group(1) if name == "buffer_size" else int(found.group(1))
        else:
            numbers[name] = stats.get(key) if key else None
    if numbers["calls"] is None and hasattr(plan, "program"):
        numbers["calls"] = len(plan.program)
    return numbers


# ----------------------------------------------------------------------------- the experiment
def experiment(vocab, hidden, batch, seq, steps, ids, seed=0, warmup=2):
    """Train three copies of the model from the same weights on the same windows, interleaved:
    eager, compiled, and numpy by hand. Each step's call (forward, backward, clip) is timed;
    the optimizer steps after it, untimed. Returns (losses {name: [...]}, times {name: [seconds]}
    after the warm-up, the compiled function)."""
    eager, eager_params, eager_opt = build(vocab, hidden, seed)
    plain, _, compiled_opt = build(vocab, hidden, seed)
    compiled = mg.compile(plain)
    P = numpy_params(eager_params)

    def by_hand(x, y):
        loss, grads = numpy_step(P, x, y)
        by_hand.grads = grads
        return loss

    def sgd_by_hand():
        for name, g in by_hand.grads.items():
            P[name] -= np.float32(LR) * g

    runs = (("eager", eager, eager_opt.step), ("compiled", compiled, compiled_opt.step),
            ("numpy by hand", by_hand, sgd_by_hand))
    losses = {name: [] for name, _, _ in runs}
    times = {name: [] for name, _, _ in runs}
    for k, (x, y) in enumerate(windows(ids, batch, seq, warmup + steps, seed)):
        for name, fn, update in runs:
            start = time.perf_counter()
            loss = fn(x, y)
            elapsed = time.perf_counter() - start
            update()
            if k >= warmup:
                losses[name].append(np.float32(loss.item() if hasattr(loss, "item") else loss))
                times[name].append(elapsed)
    return losses, times, compiled


def medians_ms(times):
    return {name: 1e3 * statistics.median(t) for name, t in times.items()}


# ----------------------------------------------------------------------------- the picture
def plot_step_time(ms, numbers, config):
    """Left: milliseconds per training step; right: what one step does, eager against compiled."""
    fig, (left, right) = lp.figure(1, 2, width=13, height=4.6, gridspec_kw={"width_ratios": [1, 1.25]})
    names = list(ms)
    bars = left.bar(names, [ms[n] for n in names], color=[COLOURS[n] for n in names], width=0.6)
    for bar, name in zip(bars, names):
        label = f"{ms[name]:.2f} ms" + ("" if name == "eager" else f"\n({ms['eager'] / ms[name]:.2f}x faster)")
        left.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), label, ha="center", va="bottom", fontsize=13)
    left.set_ylabel("milliseconds per step (median)")
    left.set_title("Time per training step")
    left.set_ylim(0, max(ms.values()) * 1.2)

    kinds = ["graph nodes", "numpy calls", "new arrays"]
    eager = [numbers["eager_ops"], numbers["eager_calls"], numbers["eager_arrays"]]
    planned = [0, numbers["calls"], 0]
    at = np.arange(len(kinds))
    for offset, values, name in ((-0.2, eager, "eager"), (0.2, planned, "compiled")):
        drawn = right.bar(at + offset, [v or 0 for v in values], width=0.4, color=COLOURS[name], label=name)
        for bar, v in zip(drawn, values):
            right.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), "n/a" if v is None else f"{v:,}",
                       ha="center", va="bottom", fontsize=12)
    right.set_xticks(at, labels=kinds)
    right.set_title("What one step does")
    right.set_ylabel("per step")
    right.set_ylim(0, max(v or 0 for v in eager + planned) * 1.18)
    right.text(2.2, max(v or 0 for v in eager) * 0.06, f"({numbers['buffers']}\nbuffers,\nmade\nonce)",
               ha="center", va="bottom", fontsize=11, color=COLOURS["compiled"])
    right.legend(loc="upper left")
    for ax in (left, right):
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle(f"One char-LSTM training step, forward, backward and clip ({config}):\n"
                 f"the compiled replay does the eager step's numpy work, without the graph")
    return fig


# ----------------------------------------------------------------------------- the story
def main(argv=None):
    p = lp.parser("compiler_lesson", __doc__.split("\n\n")[0])
    p.add_argument("--hidden", type=int, help="LSTM hidden size (default 64; --quick: 32)")
    p.add_argument("--batch", type=int, help="windows per batch (default 16; --quick: 8)")
    p.add_argument("--seq", type=int, help="window length (default 32; --quick: 16)")
    p.add_argument("--steps", type=int, help="training steps timed and compared (default 60; --quick: 12)")
    p.add_argument("--lines", type=int, default=12, help="lines of the compiled program to print "
                                                         "(default %(default)s)")
    args = p.parse_args(argv)
    hidden = args.hidden or (32 if args.quick else 64)
    batch = args.batch or (8 if args.quick else 16)
    seq = args.seq or (16 if args.quick else 32)
    steps = args.steps or (12 if args.quick else 60)
    ids, vocab = load_ids(50_000 if args.quick else 200_000)
    config = f"vocab {vocab}, hidden {hidden}, batch {batch}, seq {seq}, float32"
    print(f"A char-LSTM on the Python standard library's source: {config}.")

    x, y = windows(ids, batch, seq, 1, seed=args.seed + 1)[0]
    errors = {"float64": check_by_hand(vocab, hidden, x, y, mg.float64, args.seed),
              "float32": check_by_hand(vocab, hidden, x, y, mg.float32, args.seed)}
    print(f"\nThe step by hand in numpy against minigrad's loss and gradients (largest difference, "
          f"relative): float64 {errors['float64']:.1e}, float32 {errors['float32']:.1e}")
    assert errors["float64"] < 1e-10 and errors["float32"] < 1e-5, errors

    losses, times, compiled = experiment(vocab, hidden, batch, seq, steps, ids, args.seed)
    plan = compiled.plan
    numbers = plan_numbers(plan)
    print(f"\nThe compiled step's program (the first {args.lines} of its {numbers['calls']} lines):")
    print("\n".join(str(plan).split("\n")[:4 + args.lines]))
    print(f"\nOne step, eager: {numbers['eager_ops']} graph nodes (ops), {numbers['eager_calls']} numpy calls, "
          f"{numbers['eager_arrays']} new arrays.")
    size = f" ({numbers['buffer_size']})" if numbers["buffer_size"] else ""
    print(f"One step, compiled: {numbers['calls']} numpy calls into {numbers['buffers']} buffers{size} "
          f"made once; no nodes, no new arrays. "
          f"Traced {compiled.traces}x in the untimed warm-up, then replayed {compiled.replays}x.")
    for reason in dict(getattr(compiled, "reasons", {})).values():
        print(f"  (traced again because {reason})")

    ms = medians_ms(times)
    print(f"\nTime per step (forward, backward, clip; median of {steps} interleaved steps, "
          f"{blas_threads() or 'default'} "
          f"BLAS thread(s)):")
    for name, value in ms.items():
        faster = "" if name == "eager" else f"  ({ms['eager'] / value:.2f}x as fast as eager)"
        print(f"  {name:14s} {value:7.2f} ms/step{faster}")

    same = np.array_equal(losses["eager"], losses["compiled"])
    hand = float(np.max(np.abs(np.subtract(losses["numpy by hand"], losses["eager"]))))
    print(f"\nThe losses of {steps} training steps (SGD after each call):")
    print(f"  {'step':>4s}  {'eager':>11s}  {'compiled':>11s}  {'by hand':>11s}")
    shown = list(range(steps)) if steps <= 10 else [*range(5), None, *range(steps - 5, steps)]
    for k in shown:
        if k is None:
            print(f"  {'...':>4s}")
            continue
        print(f"  {k:4d}  {losses['eager'][k]:11.9f}  {losses['compiled'][k]:11.9f}  "
              f"{losses['numpy by hand'][k]:11.9f}")
    print(f"Eager and compiled losses equal bit for bit over all {steps} steps: {same}; "
          f"by hand they differ by at most {hand:.1e} (other numpy calls, rounded differently).")
    assert same, "mg.compile must give eager's numbers exactly"

    print(f"\nFigures in {args.out}:")
    lp.save(plot_step_time(ms, numbers, config), args.out, "step_time.png", dpi=100)
    lp.write_results(args.out, {
        "config": {"vocab": vocab, "hidden": hidden, "batch": batch, "seq": seq, "steps": steps},
        "by_hand_error": errors, "plan": numbers, "ms_per_step": ms, "losses": losses,
        "bit_for_bit": bool(same), "by_hand_loss_difference": hand,
        "traces": compiled.traces, "replays": compiled.replays})
    return 0


if __name__ == "__main__":
    use_one_blas_thread()  # small matrices: one BLAS thread is fastest (OPENBLAS_NUM_THREADS=N overrides it)
    sys.exit(main())
