"""Where a char-RNN training step's time goes, op by op.

    python benchmarks/step_profile.py                          # small config, offline corpus
    python benchmarks/step_profile.py ../shared/data/anna.txt --config medium

Runs the training step of `examples/char_rnn.py` (minigrad.models.char_rnn's) on the small (1x128, B32, T64) or medium
(2x256, B64, T100) LSTM and times, per step: the forward pass, the backward pass, clipping
and Adam; inside them, every op's forward and backward (summed by op class) and the lazy
gradients' materialization. What is left of a phase after its ops is the engine's own
bookkeeping (building nodes, ordering, accumulating) plus the Python of the model code.

The timers wrap every call, which adds a fraction of a microsecond to each: the per-op
figures are the numpy work plus that, and the whole step runs a little slower than without
them. Times are wall-clock medians over the measured steps; the machine should be otherwise
idle, and only runs on one machine compare.
"""
import argparse
import collections
import statistics
import time

import minigrad as mg
from minigrad import nn
from minigrad.function import Function
from minigrad.nn import functional as F
from minigrad.models.batching import sequence_windows, detach_state
from minigrad.models.char_rnn import CharRNN
from minigrad.models.text import Vocab, read_text, stdlib_corpus
from minigrad.threads import blas_threads, use_one_blas_thread

CONFIGS = {"small": (1, 128, 32, 64), "medium": (2, 256, 64, 100)}  # layers, hidden, batch, seq
clock = time.perf_counter


class OpTimer:
    """Wraps forward/backward of every Function subclass so each
    call adds its CPU time to `spent[(op, stage)]`; `restore()` puts the originals back."""

    def __init__(self):
        self.spent = collections.Counter()
        self.calls = collections.Counter()
        self.originals = []
        for cls in _subclasses(Function):
            for stage in ("forward", "backward"):
                if stage in cls.__dict__:
                    self._wrap(cls, stage, stage)

    def _wrap(self, cls, name, stage):
        """Time cls.name; the key is (the class of the instance, e.g. Hadamard, stage)."""
        original = cls.__dict__[name]
        spent, calls = self.spent, self.calls

        def timed(obj, *args):
            start = clock()
            try:
                return original(obj, *args)
            finally:
                key = (type(obj).__name__, stage)
                spent[key] += clock() - start
                calls[key] += 1

        setattr(cls, name, timed)
        self.originals.append((cls, name, original))

    def reset(self):
        self.spent.clear()
        self.calls.clear()

    def restore(self):
        for cls, name, original in self.originals:
            setattr(cls, name, original)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def profile(ids, vocab_size, config, steps, warmup):
    layers, hidden, batch, seq_len = CONFIGS[config]
    mg.manual_seed(0)
    model = CharRNN(vocab_size, hidden, layers)
    optimizer = mg.optim.Adam(model.parameters(), lr=2e-3)
    windows = sequence_windows(ids, batch, seq_len)
    timer = OpTimer()
    phases = collections.defaultdict(list)
    per_step = []
    state = None
    try:
        for step in range(warmup + steps):
            x, y = next(windows)
            timer.reset()
            t0 = clock()
            logits, state = model(x.T, state)
            loss = F.cross_entropy(logits.reshape(seq_len * batch, vocab_size), y.T.reshape(-1))
            t1 = clock()
            optimizer.zero_grad()
            loss.backward()
            t2 = clock()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            t3 = clock()
            optimizer.step()
            state = detach_state(state)
            t4 = clock()
            if step >= warmup:
                for name, value in (("forward", t1 - t0), ("backward", t2 - t1), ("clip", t3 - t2),
                                    ("adam", t4 - t3), ("step", t4 - t0)):
                    phases[name].append(value)
                per_step.append((dict(timer.spent), dict(timer.calls)))
    finally:
        timer.restore()
    return phases, per_step


def report(phases, per_step):
    ms = 1e3
    median = {name: statistics.median(values) * ms for name, values in phases.items()}
    keys = sorted({key for spent, _ in per_step for key in spent})
    op_ms = {key: statistics.median(spent.get(key, 0.0) for spent, _ in per_step) * ms for key in keys}
    calls = {key: per_step[0][1].get(key, 0) for key in keys}
    print(f"one training step: {median['step']:.2f} ms  (forward {median['forward']:.2f}, "
          f"backward {median['backward']:.2f}, clip {median['clip']:.2f}, adam {median['adam']:.2f})")
    for stage in ("forward", "backward"):
        rows = sorted(((op_ms[k], k) for k in keys if k[1] == stage), reverse=True)
        total = sum(value for value, _ in rows)
        print(f"\n{stage}: {median[stage]:.2f} ms")
        print(f"  {'op':<24}{'calls':>7}{'ms/step':>9}{'us/call':>9}")
        for value, key in rows:
            if value >= 0.01:
                print(f"  {key[0]:<24}{calls[key]:>7}{value:>9.2f}{1e3 * value / max(calls[key], 1):>9.1f}")
        print(f"  {'engine and model code':<24}{'':>7}{median[stage] - total:>9.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("text", nargs="?", help="a UTF-8 text (default: the offline stdlib corpus)")
    parser.add_argument("--config", choices=sorted(CONFIGS), default="small")
    parser.add_argument("--steps", type=int, default=20, help="measured steps (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured steps first (default 3)")
    args = parser.parse_args()
    text = read_text(args.text) if args.text else stdlib_corpus()[0]
    vocab = Vocab.from_text(text)
    layers, hidden, batch, seq_len = CONFIGS[args.config]
    print(f"{args.config}: {layers} x LSTM {hidden}, batch {batch}, seq_len {seq_len}; "
          f"text {args.text or 'offline stdlib corpus'}, vocabulary {len(vocab)}; "
          f"BLAS threads {blas_threads() or 'default'}")
    report(*profile(vocab.encode(text), len(vocab), args.config, args.steps, args.warmup))


if __name__ == "__main__":
    use_one_blas_thread()
    main()
