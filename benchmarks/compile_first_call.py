"""What mg.compile's first calls cost, in eager training steps of the char-RNN.

    python benchmarks/compile_first_call.py                   # small: 1x128, batch 32, seq 64
    python benchmarks/compile_first_call.py --config medium   # 2x256, batch 64, seq 100

The step is forward, cross-entropy, backward and clip_grad_norm_ (the compiled part of the
char-RNN's training step). Prints the median eager step, then for fresh compiled functions the
tracing call (the first: it runs eagerly and records) and the first replay (it makes the plan's
buffers and binds its calls), each as a multiple of the eager step; then, untimed, the peak of
memory each of them allocates (tracemalloc: numpy's arrays and Python's objects). One BLAS
thread unless OPENBLAS_NUM_THREADS (or OMP_NUM_THREADS, MKL_NUM_THREADS) is set.
"""
import argparse
import gc
import statistics
import time
import tracemalloc

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.models import LSTM
from minigrad.nn import functional as F
from minigrad.threads import use_one_blas_thread

CONFIGS = {"small": (1, 128, 32, 64), "medium": (2, 256, 64, 100)}  # layers, hidden, batch, seq
VOCAB = 83


def make_step(layers, hidden):
    """A fresh model (the same weights each time) and its training step."""
    mg.manual_seed(0)
    lstm, head = LSTM(VOCAB, hidden, layers), nn.Linear(hidden, VOCAB)
    params = list(lstm.parameters()) + list(head.parameters())

    def step(x, y):
        for p in params:
            p.grad = None
        out, _ = lstm(F.one_hot(x, VOCAB, dtype=mg.float32))
        loss = F.cross_entropy(head(out).reshape(-1, VOCAB), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(params, 5.0)
        return loss
    return step


def seconds(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def peak_mb(fn, *args):
    """The most memory fn(*args) had allocated at once, above what was allocated before, in MB."""
    gc.collect()
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", choices=sorted(CONFIGS), default="small")
    parser.add_argument("--repeat", type=int, default=3, help="fresh compiled functions timed (default 3)")
    args = parser.parse_args()
    use_one_blas_thread()
    layers, hidden, batch, seq = CONFIGS[args.config]
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, VOCAB, (seq, batch)), rng.integers(0, VOCAB, (seq, batch))

    eager = make_step(layers, hidden)
    eager(x, y)
    step = statistics.median(seconds(eager, x, y) for _ in range(7))
    traces, firsts = [], []
    for _ in range(args.repeat):
        compiled = mg.compile(make_step(layers, hidden))
        traces.append(seconds(compiled, x, y))
        firsts.append(seconds(compiled, x, y))
        assert compiled.traces == 1, "the second call traced again"
    replay = statistics.median(seconds(compiled, x, y) for _ in range(7))
    trace, first = statistics.median(traces), statistics.median(firsts)
    print(f"{args.config}: {layers} x LSTM {hidden}, batch {batch}, seq {seq}; medians")
    print(f"  eager step     {step * 1e3:8.1f} ms")
    print(f"  tracing call   {trace * 1e3:8.1f} ms = {trace / step:.2f} eager steps")
    print(f"  first replay   {first * 1e3:8.1f} ms = {first / step:.2f} eager steps (buffers made, calls bound)")
    print(f"  replay         {replay * 1e3:8.1f} ms = {replay / step:.2f} eager steps")
    compiled = mg.compile(make_step(layers, hidden))
    eager_peak, trace_peak = peak_mb(eager, x, y), peak_mb(compiled, x, y)
    first_peak, replay_peak = peak_mb(compiled, x, y), peak_mb(compiled, x, y)
    print(f"  peak memory allocated (tracemalloc): eager step {eager_peak:.1f} MB, tracing call "
          f"{trace_peak:.1f} MB, first replay {first_peak:.1f} MB, replay {replay_peak:.1f} MB")


if __name__ == "__main__":
    main()
