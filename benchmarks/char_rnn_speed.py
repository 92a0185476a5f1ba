"""Training speed of the char-RNN example, in characters per second, for two fixed configurations.

    python benchmarks/char_rnn_speed.py                          # the offline corpus
    python benchmarks/char_rnn_speed.py ../shared/data/anna.txt  # or any UTF-8 text

small:  1-layer LSTM, hidden 128, batch 32, seq_len 64
medium: 2-layer LSTM, hidden 256, batch 64, seq_len 100

Each step is exactly one training step of `examples/char_rnn.py train` (one-hot input, forward,
cross-entropy, backward, gradient clipping at 5, Adam), on consecutive windows of the text.
The machine is shared: run it more than once and compare medians, not single runs.
Like the example, it uses one BLAS thread unless OPENBLAS_NUM_THREADS (or OMP_NUM_THREADS) is set.
"""
import argparse
import statistics
import time

import minigrad as mg
from minigrad.models.batching import sequence_windows
from minigrad.models.char_rnn import CharRNN, train_step
from minigrad.models.text import Vocab, read_text, stdlib_corpus
from minigrad.threads import blas_threads, use_one_blas_thread

CONFIGS = {  # name: (num_layers, hidden_size, batch_size, seq_len)
    "small": (1, 128, 32, 64),
    "medium": (2, 256, 64, 100),
}


def measure(ids, vocab_size, num_layers, hidden, batch, seq_len, steps, warmup, repeats):
    """chars/s of each of `repeats` timings of `steps` training steps, after `warmup` steps."""
    mg.manual_seed(0)
    model = CharRNN(vocab_size, hidden, num_layers)
    optimizer = mg.optim.Adam(model.parameters(), lr=2e-3)
    windows = sequence_windows(ids, batch, seq_len)
    state, rates = None, []
    for _ in range(warmup):
        _, state = train_step(model, optimizer, *next(windows), state, 5.0)
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            _, state = train_step(model, optimizer, *next(windows), state, 5.0)
        rates.append(steps * batch * seq_len / (time.perf_counter() - start))
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("text", nargs="?", help="a UTF-8 text (default: the offline stdlib corpus)")
    parser.add_argument("--configs", nargs="+", choices=sorted(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--steps", type=int, default=10, help="steps per timing (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="timings per config; the median is "
                                                                "reported (default 3)")
    args = parser.parse_args()
    text = read_text(args.text) if args.text else stdlib_corpus()[0]
    vocab = Vocab.from_text(text)
    ids = vocab.encode(text)
    threads = blas_threads() or "default"
    print(f"text: {args.text or 'offline stdlib corpus'}, {len(text):,} characters, vocabulary {len(vocab)}; "
          f"BLAS threads: {threads}")
    for name in args.configs:
        layers, hidden, batch, seq_len = CONFIGS[name]
        rates = []
        for _ in range(args.repeats):  # each timing: a fresh model, warmed up
            rates += measure(ids, len(vocab), layers, hidden, batch, seq_len, args.steps, args.warmup, 1)
        print(f"{name:6s} {layers} x LSTM {hidden:3d}, batch {batch}, seq_len {seq_len:3d}: "
              f"{statistics.median(rates):9,.0f} chars/s  (median of {args.repeats} x {args.steps} steps; "
              f"all: {', '.join(f'{r:,.0f}' for r in rates)})", flush=True)


if __name__ == "__main__":
    use_one_blas_thread()
    main()
