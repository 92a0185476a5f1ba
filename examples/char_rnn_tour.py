"""Story 6, the char-RNN: train a character-level LSTM on a text, sample it at several
temperatures, and look at what one hidden unit responds to.

A short tour on top of examples/char_rnn.py (its training step, its evaluation) and
models.CharRNN. The default text is offline: this Python's own standard-library source, so the
units to look for are about code: inside a string, inside brackets, how far into the line.

    python examples/char_rnn_tour.py                        # about 40 s of training
    python examples/char_rnn_tour.py --minutes 5            # a few minutes: better samples
    python examples/char_rnn_tour.py --text anna.txt --minutes 10
    python examples/char_rnn_tour.py --checkpoint runs/char_rnn/char_rnn.ckpt   # a model trained
                                                            # by char_rnn.py train: no training here

Temperature divides the logits before the softmax: below 1 the likeliest characters win more
often (safe, repetitive text), above 1 the distribution flattens (surprising, misspelt text).
For the hidden unit, every unit of the last layer is correlated with a few features of a
passage (inside a string, inside brackets, position in the line, ...) and the best-matching
pair is shown: the unit's activation under each character of the passage.
"""
import sys
import time

import numpy as np

import minigrad as mg
from minigrad.nn import functional as F
from minigrad.models import CharRNN, sequence_windows
from minigrad.models import char_rnn_checkpoint as checkpoints
from minigrad.models.char_rnn import default_prime, evaluate, generate, train_step
from minigrad.models.text import Vocab, read_text, split, stdlib_corpus
from minigrad.threads import use_one_blas_thread
from minigrad.viz import lecture_plots as lp

TEMPERATURES = (0.2, 0.5, 0.8, 1.0, 1.5)


def load_text(path=None, max_chars=400_000):
    """(text, description): a UTF-8 file, or the offline standard-library corpus."""
    if path:
        return read_text(path)[:max_chars], path
    return stdlib_corpus(max_chars)


def load_trained(path):
    """(model, vocab) from a checkpoint written by `examples/char_rnn.py train`."""
    return checkpoints.load_model(checkpoints.load(path), path)


def train(model, ids, steps=None, minutes=None, batch_size=32, seq_len=64, lr=3e-3, clip=5.0, log_every=100):
    """Truncated BPTT with the char-RNN's train_step (as examples/char_rnn.py), carrying the state across windows.

    Stops after `steps` steps, or after `minutes` (then the step count depends on the machine).
    Returns the list of training losses (nats per character)."""
    optimizer = mg.optim.Adam(model.parameters(), lr=lr)
    deadline = None if minutes is None else time.monotonic() + 60 * minutes
    losses, state, started = [], None, time.perf_counter()
    while True:
        for x, y in sequence_windows(ids, batch_size, seq_len):
            loss, state = train_step(model, optimizer, x, y, state, clip)
            losses.append(loss)
            if log_every and len(losses) % log_every == 0:
                print(f"  step {len(losses):5d}: loss {np.mean(losses[-log_every:]):.3f} nats/char "
                      f"({time.perf_counter() - started:.0f} s)", flush=True)
            if (steps is not None and len(losses) >= steps) or (deadline and time.monotonic() >= deadline):
                return losses
        state = None


def sample(model, vocab, prime, temperature, length=300, seed=0):
    """A sample of `length` characters after `prime` at this temperature."""
    ids = generate(model, vocab.encode(prime), length, temperature, rng=np.random.default_rng(seed))
    return vocab.decode(ids)


def surprise(model, vocab, prime, text):
    """Mean -log p(character) of `text` after `prime` under the model at temperature 1 (nats):
    how unlikely the model itself finds a sample."""
    ids = vocab.encode(prime + text)
    with mg.no_grad():
        logits, _ = model(ids[:-1, None])
    logp = logits.data[:, 0, :].astype(np.float64)
    logp = logp - logp.max(axis=1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
    picked = logp[np.arange(len(ids) - 1), ids[1:]]
    return float(-picked[len(prime) - 1:].mean())


def hidden_states(model, vocab, passage):
    """The last layer's hidden state h_t after each character of the passage, (len, H)."""
    ids = vocab.encode(passage)[:, None]
    with mg.no_grad():
        x = F.one_hot(ids, model.vocab_size, dtype=mg.float32) if model.embedding is None else model.embedding(ids)
        out, _ = model.rnn(x)
    return out.data[:, 0, :]


def features(passage):
    """Simple properties of each character of a passage: {name: float array}."""
    n = len(passage)
    in_string = np.zeros(n)
    depth = np.zeros(n)
    column = np.zeros(n)
    in_comment = np.zeros(n)
    indent = np.zeros(n)
    quote, level, col, comment, leading = None, 0, 0, False, True
    for k, ch in enumerate(passage):
        leading = leading and ch == " "
        indent[k] = leading
        if ch == "\n":
            col, comment, leading = 0, False, True
            if quote in ("'", '"'):
                quote = None
        else:
            col += 1
        if quote is None and not comment and ch == "#":
            comment = True
        elif quote is None and not comment and ch in "'\"":
            quote = ch
        elif quote is not None and ch == quote:
            quote = None
            in_string[k] = 1
        if quote is None and not comment:
            if ch in "([{":
                level += 1
            elif ch in ")]}":
                level = max(level - 1, 0)
        in_string[k] = max(in_string[k], quote is not None)
        depth[k] = level > 0
        column[k] = col
        in_comment[k] = comment
    return {"inside a string": in_string, "inside brackets": depth, "position in the line": column,
            "indentation": indent, "inside a comment": in_comment}


def pick_unit(states, feats):
    """The (unit, feature, correlation) with the largest |correlation| over the passage."""
    best = (0, None, 0.0)
    for name, f in feats.items():
        if f.std() == 0:
            continue
        fz = (f - f.mean()) / f.std()
        sz = (states - states.mean(axis=0)) / (states.std(axis=0) + 1e-9)
        r = (sz * fz[:, None]).mean(axis=0)
        k = int(np.argmax(np.abs(r)))
        if abs(r[k]) > abs(best[2]):
            best = (k, name, float(r[k]))
    return best


def pick_passage(text, length=600, start=None):
    """A passage of the text, from the start of the validation part (its last tenth) by default,
    moved to the next line start when there is one nearby."""
    start = len(text) - len(text) // 10 if start is None else start
    start = max(0, min(start, len(text) - length))
    newline = text.find("\n", start, start + length // 2)
    if newline >= 0:
        start = newline + 1
    return text[start:start + length]


# ----------------------------------------------------------------------------- pictures
def plot_training(losses, val_before, val_after):
    fig, ax = lp.figure(width=8, height=4.5)
    losses = np.asarray(losses)
    window = max(1, min(50, len(losses) // 10))
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    ax.plot(np.arange(len(smooth)) + window, smooth / np.log(2), color=lp.OKABE_ITO["blue"], linewidth=2,
            label=f"training (mean of {window} steps)")
    ax.axhline(val_before / np.log(2), color=lp.OKABE_ITO["vermillion"], linestyle=":", linewidth=2,
               label=f"validation before training: {val_before / np.log(2):.2f}")
    ax.axhline(val_after / np.log(2), color=lp.OKABE_ITO["green"], linestyle="--", linewidth=2,
               label=f"validation after: {val_after / np.log(2):.2f}")
    ax.set_xlabel("training step")
    ax.set_ylabel("bits per character")
    ax.set_title("Training the char-RNN")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig


def plot_unit(passage, states, unit, feature, feats, r, lines=14, width=64):
    """The unit's activation under each character (text coloured like Karpathy's pictures), and
    the activation beside the feature it matches."""
    from matplotlib.colors import Normalize
    from matplotlib.patches import Rectangle

    act = states[:, unit]
    rows, k = [], 0                       # (index of the row's first character, its text), lines wrapped
    for line in passage.split("\n"):
        for j in range(0, max(len(line), 1), width):
            rows.append((k + j, line[j:j + width]))
        k += len(line) + 1
    rows = rows[:lines]
    width = min(width, max(len(text) for _, text in rows) + 1)
    fig, axes = lp.figure(2, 1, width=max(9.0, 0.2 * width + 3), height=0.36 * len(rows) + 4.6,
                          gridspec_kw={"height_ratios": [len(rows), 7]})
    ax = axes[0]
    norm = Normalize(-1, 1)
    cmap = __import__("matplotlib").colormaps[lp.DIVERGING]
    for row, (first, text) in enumerate(rows):
        for col, ch in enumerate(text):
            ax.add_patch(Rectangle((col, -row - 1), 1, 1, facecolor=cmap(norm(act[first + col])), edgecolor="none"))
            ax.text(col + 0.5, -row - 0.5, ch, ha="center", va="center", family="monospace", fontsize=11)
    ax.set_xlim(0, width)
    ax.set_ylim(-len(rows), 0)
    ax.set_axis_off()
    ax.set_title(f"Hidden unit {unit} under each character (orange: -1, white: 0, purple: +1)")
    fig.colorbar(__import__("matplotlib").cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.8,
                 label=f"h[{unit}]")
    ax = axes[1]
    n = min(len(act), 300)
    ax.plot(np.arange(n), act[:n], color=lp.OKABE_ITO["blue"], linewidth=1.8, label=f"unit {unit} activation")
    f = feats[feature][:n]
    if set(np.unique(f)) <= {0.0, 1.0}:      # a yes/no feature: shade where it holds
        ax.fill_between(np.arange(n), -1, 1, where=f > 0, color=lp.OKABE_ITO["orange"], alpha=0.25, step="mid",
                        label=feature)
    else:                                     # a number: drawn scaled to [-1, 1]
        ax.plot(np.arange(n), (f - f.min()) / (f.max() - f.min() + 1e-9) * 2 - 1, color=lp.OKABE_ITO["orange"],
                linewidth=1.5, linestyle="--", label=f"{feature} (scaled)")
    ax.set_xlim(0, n)
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("character of the passage")
    ax.set_ylabel(f"h[{unit}]")
    ax.set_title(f"Unit {unit} against '{feature}' (correlation {r:+.2f} over {len(act)} characters)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return fig


# ----------------------------------------------------------------------------- the story
def main(argv=None):
    p = lp.parser("char_rnn_tour", __doc__.split("\n\n")[0])
    p.add_argument("--text", metavar="PATH", help="a UTF-8 text (default: the offline standard-library corpus)")
    p.add_argument("--checkpoint", metavar="PATH", help="use a model trained by examples/char_rnn.py (no training)")
    p.add_argument("--hidden", type=int, help="LSTM units (default 128; --quick: 48)")
    p.add_argument("--steps", type=int, help="training steps (default 700, about 40 s; --quick: 150)")
    p.add_argument("--minutes", type=float, help="train for this long instead of a number of steps")
    p.add_argument("--lr", type=float, help="Adam learning rate (default 3e-3 as char_rnn.py; --quick: 1e-2)")
    p.add_argument("--temperatures", type=float, nargs="+", default=list(TEMPERATURES),
                   help="sampling temperatures (default %(default)s)")
    p.add_argument("--length", type=int, default=300, help="characters per sample (default %(default)s)")
    p.add_argument("--prime", help="text the samples start from (default: 'def ' for the standard-library "
                                   "corpus, a newline for --text)")
    args = p.parse_args(argv)
    quick = args.quick
    hidden = args.hidden or (48 if quick else 128)
    steps = None if args.minutes else (args.steps or (150 if quick else 700))
    batch, seq_len = (16, 48) if quick else (32, 64)

    text, source = load_text(args.text, 150_000 if quick else 600_000)
    results = {"source": source}
    if args.checkpoint:
        model, vocab = load_trained(args.checkpoint)
        text = "".join(ch for ch in text if ch in set(vocab.chars))
        ids = vocab.encode(text)
        _, val_ids = split(ids, 0.1)
        print(f"model: {args.checkpoint} ({model.cell.upper()} {model.hidden_size}), text: {source}")
        val_before = val_after = evaluate(model, val_ids[:20_001], 32, 64)[0]
        losses = []
    else:
        vocab = Vocab.from_text(text)
        ids = vocab.encode(text)
        train_ids, val_ids = split(ids, 0.1)
        mg.manual_seed(args.seed)
        model = CharRNN(len(vocab), hidden_size=hidden, num_layers=1, cell="lstm")
        val_ids = val_ids[:20_001]
        val_before = evaluate(model, val_ids, batch, seq_len)[0]
        budget = f"{args.minutes} minutes" if args.minutes else f"{steps} steps"
        print(f"text: {source}: {len(text):,} characters, {len(vocab)} distinct")
        print(f"Training an LSTM with {hidden} units for {budget} (batch {batch} x {seq_len} characters) ...")
        lr = args.lr or (1e-2 if quick else 3e-3)
        losses = train(model, train_ids, steps, args.minutes, batch, seq_len, lr=lr, log_every=50 if quick else 100)
        val_after = evaluate(model, val_ids, batch, seq_len)[0]
    ln2 = np.log(2)
    print(f"validation: {val_before / ln2:.3f} bits/char before training, {val_after / ln2:.3f} after "
          f"(uniform guessing: {np.log(len(vocab)) / ln2:.3f})")
    results.update(val_before=val_before, val_after=val_after, uniform=float(np.log(len(vocab))), steps=len(losses))

    prime = args.prime or ("\n" if args.text else "def ")
    if any(ch not in vocab.chars for ch in prime):
        prime = default_prime(vocab)
    results["samples"] = {}
    print(f"\nSamples after {prime!r}, one per temperature:")
    for temperature in args.temperatures:
        s = sample(model, vocab, prime, temperature, args.length, args.seed)
        nats = surprise(model, vocab, prime, s)
        results["samples"][str(temperature)] = {"text": s, "surprise": nats}
        print(f"--- temperature {temperature} (the model's own surprise at it: {nats / ln2:.2f} bits/char)\n"
              f"{prime}{s}")
    again = sample(model, vocab, prime, 0.0, 80, args.seed + 1) == sample(model, vocab, prime, 0.0, 80, args.seed + 2)
    results["greedy_is_deterministic"] = again

    passage = "".join(ch for ch in pick_passage(text) if ch in set(vocab.chars))
    states = hidden_states(model, vocab, passage)
    feats = features(passage)
    unit, feature, r = pick_unit(states, feats)
    results["unit"] = {"unit": unit, "feature": feature, "correlation": r}
    print(f"\nThe hidden unit that best follows a feature of a {len(passage)}-character passage: unit {unit}, "
          f"'{feature}' (correlation {r:+.2f})")

    print(f"\nFigures in {args.out}:")
    if losses:
        lp.save(plot_training(losses, val_before, val_after), args.out, "training.png")
    lp.save(plot_unit(passage, states, unit, feature, feats, r), args.out, "hidden_unit.png")
    lp.write_results(args.out, results)
    return 0


if __name__ == "__main__":
    use_one_blas_thread()  # small matrices: one BLAS thread is fastest (OPENBLAS_NUM_THREADS=N overrides it)
    sys.exit(main())
