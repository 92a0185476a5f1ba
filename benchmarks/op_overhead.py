"""Per-op overhead of the engine: forward + backward of one small op through minigrad,
next to the same numpy work done by hand (no graph, no autodiff).

    python benchmarks/op_overhead.py            # tanh on (32, 128), and a few other ops
    python benchmarks/op_overhead.py --shape 64 256 --repeat 9

Prints microseconds per forward+backward for each and the ratio minigrad / numpy; the
ratio is what to compare between machines (single runs move by 10-20%: medians of
--repeat runs are shown).
"""
import argparse
import statistics
import time

import numpy as np

import minigrad as mg


def _time(fn, number):
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def cases(shape, dtype):
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(shape).astype(dtype)
    w_np = rng.standard_normal((shape[1], shape[1])).astype(dtype)
    g_np = np.ones(shape, dtype=dtype)
    x = mg.tensor(x_np, requires_grad=True)
    w = mg.tensor(w_np, requires_grad=True)

    def mg_tanh():
        y = x.tanh()
        y.backward(g_np)

    def np_tanh():
        y = np.tanh(x_np)
        return g_np * (1 - y * y)

    def mg_sigmoid():
        y = x.sigmoid()
        y.backward(g_np)

    def np_sigmoid():
        y = 1 / (1 + np.exp(-x_np))
        return g_np * y * (1 - y)

    def mg_mul():
        y = x * x
        y.backward(g_np)

    def np_mul():
        return g_np * x_np + g_np * x_np

    def mg_matmul():
        y = x @ w
        y.backward(g_np)

    def np_matmul():
        x_np @ w_np
        return g_np @ w_np.T, x_np.T @ g_np

    return [("tanh", mg_tanh, np_tanh), ("sigmoid", mg_sigmoid, np_sigmoid),
            ("mul (x*x)", mg_mul, np_mul), ("matmul", mg_matmul, np_matmul)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", type=int, nargs=2, default=(32, 128))
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per op (median shown)")
    parser.add_argument("--number", type=int, default=2000, help="calls per timed run")
    parser.add_argument("--dtype", default="float32")
    args = parser.parse_args()
    print(f"forward + backward, shape {tuple(args.shape)}, {args.dtype}, median of {args.repeat} x {args.number} calls")
    print(f"{'op':<12}{'minigrad us':>13}{'numpy us':>11}{'ratio':>8}")
    for name, mg_fn, np_fn in cases(tuple(args.shape), np.dtype(args.dtype)):
        mg_fn(), np_fn()  # warm up
        t_mg, t_np = [], []
        for _ in range(args.repeat):  # interleaved, so drift hits both alike
            t_mg.append(_time(mg_fn, args.number))
            t_np.append(_time(np_fn, args.number))
        m, n = statistics.median(t_mg) * 1e6, statistics.median(t_np) * 1e6
        print(f"{name:<12}{m:>13.2f}{n:>11.2f}{m / n:>8.2f}")


if __name__ == "__main__":
    main()
