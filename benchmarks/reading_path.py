"""How much code a student reads to follow forward and backward of tanh(x @ W + b).sum().

    python benchmarks/reading_path.py

Runs the expression and its backward under sys.settrace, collects every function of the
minigrad package that runs, and counts the non-blank source lines of those functions
(docstrings included: a reader reads them too), by file.
"""
import collections
import inspect
import os
import sys

import numpy as np

import minigrad as mg

PACKAGE = os.path.dirname(mg.__file__)


def functions_run(step):
    codes = set()

    def tracer(frame, event, arg):
        if event == "call" and frame.f_code.co_filename.startswith(PACKAGE):
            codes.add(frame.f_code)
        return None

    sys.settrace(tracer)
    try:
        step()
    finally:
        sys.settrace(None)
    return codes


def count(codes):
    """Non-blank lines per file of the functions that ran (each line once: a comprehension's
    lines are its function's)."""
    lines_of = collections.defaultdict(set)
    for code in codes:
        try:
            lines, first = inspect.getsourcelines(code)
        except OSError:
            continue
        lines_of[code.co_filename].update(first + k for k, line in enumerate(lines) if line.strip())
    return collections.Counter({os.path.relpath(f, os.path.dirname(PACKAGE)): len(n) for f, n in lines_of.items()})


def reading_path():
    """(lines per file, the functions that ran) for one forward + backward of the expression."""
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((4, 3)), dtype=mg.float32)
    W = mg.tensor(rng.standard_normal((3, 2)), dtype=mg.float32, requires_grad=True)
    b = mg.tensor(np.zeros(2), dtype=mg.float32, requires_grad=True)
    (x @ W + b).tanh().sum().backward()  # once to warm up (first-use paths)
    W.grad = b.grad = None

    def step():
        loss = mg.tanh(x @ W + b).sum()
        loss.backward()

    codes = functions_run(step)
    return count(codes), codes


def main():
    per_file, codes = reading_path()
    print("forward + backward of mg.tanh(x @ W + b).sum(): non-blank lines of the functions that run")
    for name, n in sorted(per_file.items(), key=lambda kv: -kv[1]):
        print(f"{n:5d}  {name}")
    print(f"{sum(per_file.values()):5d}  in {len(per_file)} files, {len(codes)} functions:")
    for code in sorted(codes, key=lambda c: (c.co_filename, c.co_firstlineno)):
        if not code.co_name.startswith("<"):
            print(f"       {os.path.relpath(code.co_filename, PACKAGE)}:{code.co_firstlineno} {code.co_name}")


if __name__ == "__main__":
    main()
