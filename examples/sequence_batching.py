"""Story 5, sequence batching: the notes' own example, 1..12 with batch size 2 and sequence length 3,
window by window, and why the hidden state is detached between windows (truncated BPTT).

    streams (batch_size 2)    [ 1  2  3 |  4  5  6]        row b of window k+1 continues row b
                              [ 7  8  9 | 10 11 12]        of window k where it stopped
    window 0: x = [[1 2 3], [7 8 9]]      y = [[2 3 4], [8 9 10]]       (y: the item after each x)
    window 1: x = [[4 5],   [10 11]]      y = [[5 6],   [11 12]]        (12 has no item after it)

A small RNN reads the windows in order, carrying its hidden state from one window to the next,
so it remembers across windows; but the state is *detached* first (models.detach_state), so that
backward stops at the window's start. Without detaching, window 1's loss reaches back into
window 0's graph: the second backward fails (that graph was freed by the first), and if the
graph is kept (retain_graph=True) it grows without end, window after window: every backward
goes through all the text read so far. The node count shows it.

    python examples/sequence_batching.py              # a couple of seconds
    python examples/sequence_batching.py --length 600 --batch-size 4 --seq-len 5
"""
import sys
import time

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F
from minigrad.models import RNNCell, batch_streams, detach_state, sequence_windows
from minigrad.threads import use_one_blas_thread
from minigrad.viz import lecture_plots as lp

WINDOW_COLOURS = [lp.OKABE_ITO[c] for c in ("sky", "orange", "green", "yellow", "purple", "blue")]


def lecture_windows(numbers=12, batch_size=2, seq_len=3):
    """The windows (x, y) of 1..numbers, including a last, shorter one."""
    data = np.arange(1, numbers + 1)
    return list(sequence_windows(data, batch_size, seq_len, drop_last=False))


class Reader(nn.Module):
    """An RNN cell run step by step over a window, each step in scope "t<global step>" (so the
    unrolled picture numbers steps across windows), and a read-out predicting the next number."""

    def __init__(self, vocab, hidden_size=4):
        super().__init__()
        self.vocab = vocab
        self.cell = RNNCell(vocab, hidden_size)
        self.head = nn.Linear(hidden_size, vocab)

    def forward(self, x, h=None, t0=0):
        """x (B, T) ints -> (logits (B*T, vocab) in time-major order, the last h)."""
        B, T = x.shape
        outputs = []
        for t in range(T):
            with mg.scope(f"t{t0 + t}"):
                h = self.cell(F.one_hot(x[:, t], self.vocab, dtype=mg.float32), h)
            outputs.append(h)
        return self.head(mg.stack(outputs).reshape(T * B, -1)), h


def window_loss(model, x, y, h, t0):
    logits, h = model(x, h, t0)
    return F.cross_entropy(logits, y.T.reshape(-1)), h


def graph_size(loss):
    """(nodes, time steps) of the graph behind `loss`: every tensor and op, and the distinct
    time steps it reaches back into."""
    from minigrad import viz

    graph = viz.trace(loss, grads=False)
    steps = {n.scope for n in graph.nodes.values() if n.scope}
    return len(graph), len(steps)


def read(model, windows, detach=True, retain_graph=False):
    """Read the windows in order, carrying the hidden state; backward on each window's loss.

    Returns a list of dicts per window: loss, graph nodes, time steps reached, backward time,
    and the error if backward failed (then reading stops)."""
    h, t0, log = None, 0, []
    for k, (x, y) in enumerate(windows):
        loss, h_last = window_loss(model, x, y, h, t0)
        nodes, steps = graph_size(loss)
        entry = {"window": k, "loss": loss.item(), "nodes": nodes, "steps": steps, "error": None}
        started = time.perf_counter()
        try:
            loss.backward(retain_graph=retain_graph)
        except RuntimeError as exc:
            entry["error"] = str(exc)
            log.append(entry)
            break
        entry["backward_ms"] = 1000 * (time.perf_counter() - started)
        log.append(entry)
        model.zero_grad()
        h = detach_state(h_last) if detach else h_last
        t0 += x.shape[1]
    return log


def draw_window(model, windows, k, detach):
    """The graph of window k's loss, unrolled at cell level and coloured by gradient norm."""
    from minigrad import viz

    h, t0 = None, 0
    for j, (x, y) in enumerate(windows[:k + 1]):
        with viz.record():
            loss, h_last = window_loss(model, x, y, h, t0)
            loss.name = f"L (window {j})"
            loss.backward(retain_graph=True)
        model.zero_grad()
        h = detach_state(h_last) if detach else h_last
        t0 += x.shape[1]
    title = (f"Window {k}'s loss with the state detached: backward stops at the window's start"
             if detach else f"Window {k}'s loss, state NOT detached: backward runs into window {k - 1} too")
    return viz.draw_unrolled(loss, params=model, level="cell", cell_title="RNN", title=title)


# ----------------------------------------------------------------------------- pictures
def plot_windows(numbers=12, batch_size=2, seq_len=3):
    """The streams as a grid, each window in its own colour, with the targets below."""
    from matplotlib.patches import FancyArrowPatch, Rectangle

    windows = lecture_windows(numbers, batch_size, seq_len)
    streams = batch_streams(np.arange(1, numbers + 1), batch_size)
    B, L = streams.shape
    fig, axes = lp.figure(2, 1, width=1.2 * L + 3, height=1.0 * 2 * B + 2.4)
    for ax, what in zip(axes, ("x (inputs)", "y (targets: the next number)")):
        col = 0
        for k, (x, y) in enumerate(windows):
            values = x if what.startswith("x") else y
            for b in range(B):
                for j in range(values.shape[1]):
                    ax.add_patch(Rectangle((col + j, B - 1 - b), 0.94, 0.9, facecolor=WINDOW_COLOURS[k % 6],
                                           edgecolor="white"))
                    ax.text(col + j + 0.47, B - 1 - b + 0.45, str(values[b, j]), ha="center", va="center",
                            fontsize=16, fontweight="bold")
            ax.text(col + values.shape[1] / 2 - 0.03, B + 0.15, f"window {k}", ha="center", fontsize=13)
            col += values.shape[1]
        if what.startswith("x"):
            for b in range(B):   # the hidden state carried from window 0 to window 1
                arrow = FancyArrowPatch((seq_len - 0.15, B - 1 - b + 0.75), (seq_len + 0.2, B - 1 - b + 0.75),
                                        connectionstyle="arc3,rad=-0.6", arrowstyle="-|>", mutation_scale=18,
                                        color="black", linewidth=1.8)
                ax.add_patch(arrow)
            ax.text(col + 0.2, B - 0.5, "h carried over,\ndetached", fontsize=12, va="center")
        ax.set_xlim(-0.1, col + 2.6)
        ax.set_ylim(-0.1, B + 0.6)
        ax.set_yticks([B - 1 - b + 0.45 for b in range(B)], labels=[f"stream {b}" for b in range(B)])
        ax.set_xticks([])
        ax.set_title(what, loc="left")
        for spine in ax.spines.values():
            spine.set_visible(False)
    fig.suptitle(f"1..{numbers}, batch size {batch_size}, sequence length {seq_len}")
    return fig


def plot_growth(logs):
    """Graph nodes and time steps reached, per window, with and without detaching."""
    fig, axes = lp.figure(1, 2, width=14, height=4.8)
    styles = {"detached": dict(color=lp.OKABE_ITO["blue"], marker="o", linestyle="-"),
              "not detached (retain_graph=True)": dict(color=lp.OKABE_ITO["vermillion"], marker="s", linestyle="--")}
    for label, log in logs.items():
        windows = [e["window"] for e in log]
        axes[0].plot(windows, [e["nodes"] for e in log], linewidth=2.2, markersize=7, label=label, **styles[label])
        axes[1].plot(windows, [e["steps"] for e in log], linewidth=2.2, markersize=7, label=label, **styles[label])
    axes[0].set_ylabel("nodes in the loss's graph")
    axes[1].set_ylabel("time steps backward goes through")
    axes[0].set_title("The graph behind each window's loss")
    axes[1].set_title("How far back the gradient flows")
    for ax in axes:
        ax.set_xlabel("window")
        ax.set_ylim(0, None)
        ax.grid(True, alpha=0.3)
        ax.legend()
    return fig


# ----------------------------------------------------------------------------- the story
def main(argv=None):
    p = lp.parser("sequence_batching", __doc__.split("\n\n")[0])
    p.add_argument("--length", type=int, help="the long run reads 1..LENGTH (numbers mod 12; default 240, "
                                              "--quick: 120)")
    p.add_argument("--batch-size", type=int, default=2, help="streams (default %(default)s)")
    p.add_argument("--seq-len", type=int, default=3, help="window length (default %(default)s)")
    args = p.parse_args(argv)
    B, T = args.batch_size, args.seq_len
    length = args.length or (120 if args.quick else 240)

    print(f"The sequence 1..12 cut into {B} streams:")
    print("  " + str(batch_streams(np.arange(1, 13), B)).replace("\n", "\n  "))
    windows = lecture_windows(12, B, T)
    for k, (x, y) in enumerate(windows):
        print(f"window {k}:\n  x = {x.tolist()}\n  y = {y.tolist()}")
    results = {"streams": batch_streams(np.arange(1, 13), B), "windows": [[x, y] for x, y in windows]}

    mg.manual_seed(args.seed)
    model = Reader(13)
    print("\nAn RNN reads the windows, the hidden state carried over:")
    log = read(model, windows, detach=True)
    for e in log:
        print(f"  detached:     window {e['window']}: {e['nodes']} nodes, backward through {e['steps']} steps: fine")
    log = read(model, windows, detach=False)
    for e in log:
        outcome = f"backward failed: {e['error']}" if e["error"] else "fine"
        print(f"  not detached: window {e['window']}: {e['nodes']} nodes, backward through {e['steps']} steps: "
              f"{outcome}")
    results["lecture"] = {"not_detached_error": log[-1]["error"]}

    long = np.arange(length) % 12 + 1       # 1..12 over and over: the next number is predictable
    windows_long = list(sequence_windows(long, B, T))
    print(f"\nReading 1..12 repeated ({length} numbers, {len(windows_long)} windows), keeping the graph "
          f"when not detaching (retain_graph=True):")
    logs = {"detached": read(model, windows_long, detach=True),
            "not detached (retain_graph=True)": read(model, windows_long, detach=False, retain_graph=True)}
    for label, log in logs.items():
        first, last = log[0], log[-1]
        print(f"  {label:33s} window 0: {first['nodes']:5d} nodes, {first['backward_ms']:6.2f} ms backward;  "
              f"window {last['window']}: {last['nodes']:5d} nodes, {last['backward_ms']:6.2f} ms backward")
        results[label] = {k: [e[k] for e in log] for k in ("nodes", "steps", "backward_ms")}
    print("Detached, every window's graph is the same size; not detached, it grows with every window.")
    print("(Not detaching while an optimizer updates the weights in place is worse still: the old part of "
          "the graph saw the old weights, so backward refuses it with an error, as PyTorch does.)")

    print(f"\nFigures in {args.out}:")
    lp.save(plot_windows(12, B, T), args.out, "windows.png")
    lp.save(plot_growth(logs), args.out, "graph_growth.png")
    mg.manual_seed(args.seed)
    model = Reader(13)
    for detach in (True, False):
        graph = draw_window(model, windows, 1, detach)
        lp.save_graph(graph, args.out, f"window1_{'detached' if detach else 'not_detached'}")
    lp.write_results(args.out, results)
    return 0


if __name__ == "__main__":
    use_one_blas_thread()  # small matrices: one BLAS thread is fastest (OPENBLAS_NUM_THREADS=N overrides it)
    sys.exit(main())
