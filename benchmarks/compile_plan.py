"""What mg.compile makes of the char-RNN training step: the plan's statistics, its program.

    python benchmarks/compile_plan.py                 # the harness's small config
    python benchmarks/compile_plan.py --lines 60      # and the first 60 lines of the program
    python benchmarks/compile_plan.py --hidden 256 --batch 64 --seq 100 --layers 2
    python benchmarks/compile_plan.py --inexact       # mg.compile(exact=False): W_hh's products summed

Traces the step of benchmarks/compile_speed.py (one-hot -> LSTM -> Linear -> cross_entropy,
zero_grad, backward, clip_grad_norm_) on a window with a given state (the signature every
window after the first has), and prints: numpy calls per replayed step, by kind; buffers and
bytes, with and without reuse; and the eager call it was traced from (ops, numpy calls, new
arrays). Counts, not times: they do not depend on the machine.
"""
import argparse
import collections

import numpy as np

import minigrad as mg
from minigrad.threads import use_one_blas_thread

from compile_speed import build, windows  # benchmarks/compile_speed.py, beside this script


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vocab", type=int, default=83)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--lines", type=int, default=0, help="also print this many lines of the program")
    parser.add_argument("--inexact", action="store_true", help="compile with exact=False")
    args = parser.parse_args()
    step, opt = build(args.vocab, args.hidden, args.layers)
    compiled = mg.compile(step, exact=not args.inexact)
    ids = np.random.default_rng(0).integers(0, args.vocab, 100_000)
    state = None
    for x, y in windows(ids, args.batch, args.seq, 3):  # state None, then given: traced; then replayed
        _, state = compiled(x, y, state)
        opt.step()
    plan = compiled.plan
    text = str(plan).split("\n")
    print("\n".join(text[:4]))
    kinds = collections.Counter()
    for instr in plan.program:
        how = {"out": "out= into its buffer", "call": "in place / into a given out=", "copy": "result copied in",
               "guard": "guard", "random": "random draw", "refill": "refill of a constant"}[instr.kind]
        kinds[f"{instr.label} ({how})"] += 1
    print(f"  numpy calls per step by function ({len(plan.program)} in all):")
    for name, n in kinds.most_common():
        print(f"    {n:6d}  {name}")
    print(f"  traces {compiled.traces}, replays {compiled.replays}")
    for line in text[4:]:
        if "summed:" in line:
            print("  rule of exact=False:" + line)
    if args.lines:
        print("\n".join(text[4:4 + args.lines]))


if __name__ == "__main__":
    use_one_blas_thread()
    main()
