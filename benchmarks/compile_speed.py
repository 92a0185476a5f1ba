"""Training step time of the char-RNN, eager against mg.compile, interleaved.

    python benchmarks/compile_speed.py                      # the harness's small config
    python benchmarks/compile_speed.py --hidden 256 --batch 64 --seq 100 --layers 2   # medium
    python benchmarks/compile_speed.py --text ../shared/data/anna.txt

The step is the team harness's (../shared/bench/minigrad_impl.py): one-hot -> models.LSTM ->
nn.Linear -> cross_entropy, zero_grad, backward, clip_grad_norm_(5); Adam steps outside the
compiled function, eagerly. Two copies of the model start from the same weights and see the
same windows; each step runs the eager copy, then the compiled one, and both are timed (the
machine's noise hits both alike). Prints the median milliseconds per step of each (after the
warm-up, which includes the compiled copy's traces), the ratio, and whether the two copies'
losses stayed bit-for-bit equal, as they must. One BLAS thread unless OPENBLAS_NUM_THREADS
(or OMP_NUM_THREADS) is set.
"""
import argparse
import statistics
import time

import numpy as np

import minigrad as mg
from minigrad import nn, optim
from minigrad.models import LSTM
from minigrad.nn import functional as F
from minigrad.threads import blas_threads, use_one_blas_thread


def build(vocab, hidden, layers, seed=0):
    """(step, optimizer): the harness's training step up to the clip, as one function of
    (x, y, state) with time-major int64 windows x, y (T, B); Adam to step after it."""
    mg.manual_seed(seed)
    lstm, head = LSTM(vocab, hidden, layers), nn.Linear(hidden, vocab)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = optim.Adam(params, lr=2e-3)

    def step(x, y, state):
        out, state = lstm(F.one_hot(x, vocab, dtype=mg.float32), state)
        logits = head(out.reshape(-1, hidden))
        loss = F.cross_entropy(logits, y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 5.0)
        return loss, tuple(s.detach() for s in state)

    return step, opt


def windows(ids, batch, seq, count):
    """`count` consecutive (x, y) windows (T, B) of `batch` streams of `ids`, as the harness cuts them."""
    per_stream = (len(ids) - 1) // batch
    xs = ids[:batch * per_stream].reshape(batch, per_stream)
    ys = ids[1:batch * per_stream + 1].reshape(batch, per_stream)
    out = []
    for k in range(count):
        t = (k * seq) % (per_stream - seq)
        out.append((np.ascontiguousarray(xs[:, t:t + seq].T), np.ascontiguousarray(ys[:, t:t + seq].T)))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--text", help="a UTF-8 text to cut windows from (default: random characters)")
    parser.add_argument("--vocab", type=int, default=83, help="vocabulary without --text (default 83, anna.txt's)")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--steps", type=int, default=40, help="timed steps (default 40)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5)")
    args = parser.parse_args()
    if args.text:
        with open(args.text, encoding="utf-8") as f:
            text = f.read()
        chars = sorted(set(text))
        index = {c: i for i, c in enumerate(chars)}
        ids, vocab = np.array([index[c] for c in text], dtype=np.int64), len(chars)
    else:
        vocab = args.vocab
        ids = np.random.default_rng(0).integers(0, vocab, 200_000)
    eager, eager_opt = build(vocab, args.hidden, args.layers)
    plain, compiled_opt = build(vocab, args.hidden, args.layers)
    compiled = mg.compile(plain)
    states = {"eager": None, "compiled": None}
    times = {"eager": [], "compiled": []}
    same = True
    for k, (x, y) in enumerate(windows(ids, args.batch, args.seq, args.warmup + args.steps)):
        losses = {}
        for name, fn, opt in (("eager", eager, eager_opt), ("compiled", compiled, compiled_opt)):
            start = time.perf_counter()
            loss, states[name] = fn(x, y, states[name])
            opt.step()
            elapsed = time.perf_counter() - start
            losses[name] = loss.data.copy()
            if k >= args.warmup:
                times[name].append(elapsed)
        same = same and np.array_equal(losses["eager"], losses["compiled"])
    threads = blas_threads() or "default"
    print(f"char-RNN step: {args.layers} layer(s) x {args.hidden}, batch {args.batch}, seq {args.seq}, "
          f"vocab {vocab}, float32, BLAS threads {threads}; median of {args.steps} interleaved steps")
    med = {name: statistics.median(t) * 1e3 for name, t in times.items()}
    for name in ("eager", "compiled"):
        t = times[name]
        print(f"  {name:9s} {med[name]:7.2f} ms/step  ({min(t) * 1e3:.2f}-{max(t) * 1e3:.2f}), "
              f"{args.batch * args.seq / statistics.median(t):,.0f} chars/s")
    print(f"  compiled / eager: {med['compiled'] / med['eager']:.2f} (speed-up {med['eager'] / med['compiled']:.2f}x); "
          f"traces {compiled.traces}, replays {compiled.replays}; losses bit-for-bit equal: {same}")


if __name__ == "__main__":
    use_one_blas_thread()
    main()
