"""The char-RNN against its peers: the team harness's runs, interleaved, summed up in one table.

    python benchmarks/vs_peers.py                                # 5 rounds, small and medium
    python benchmarks/vs_peers.py --rounds 3 --configs small --impls numpy_manual minigrad minigrad_compiled
    python benchmarks/vs_peers.py --time-budget 120 --rounds 1   # validation loss after 120 s

Runs `run.py` of the harness (default `../shared/bench`, beside the project root) once per
round, config and implementation, in turn, never two at once, and prints medians and ranges
of characters per second, peak RSS, and the ratios of minigrad to the others. Run it with a
Python that has torch (the harness's PyTorch peers need it) and this project importable.

Implementations: the harness's `torch_fused`, `torch_cells`, `numpy_manual` and `minigrad`
(the composed `models.LSTM`), and `minigrad_compiled`: the same harness code with its
training step's forward, loss, zero_grad, backward and clip in one `mg.compile`d function
(Adam steps eagerly after it); and `minigrad_compiled_inexact`, the same with
`mg.compile(exact=False)` (a recurrent weight's gradient summed as one product: its losses
agree with the others' up to rounding, not to the last digit). Every run's JSON line is also appended to
--log; a config whose runs disagree on loss_first/loss_last is flagged, since the same
weights and batches must give the same losses.

The project's modules are byte-compiled first (into their __pycache__ folders, as Python or
`pip install` does), as numpy's and torch's installed modules are: where PYTHONDONTWRITEBYTECODE
is set, each run would otherwise compile minigrad from source, about 2.5 MB of a small run's
peak resident size that no user's second run has.
"""
import argparse
import collections
import compileall
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMPLS = ["torch_fused", "torch_cells", "numpy_manual", "minigrad", "minigrad_compiled", "minigrad_compiled_inexact"]
INEXACT = "minigrad_compiled_inexact"  # mg.compile(exact=False): its losses agree to rounding only
STEPS = {"small": ["--steps", "40", "--warmup", "5"], "medium": ["--steps", "10", "--warmup", "2"]}

# `python -c` program for the minigrad implementations. The harness imports `models` as a
# top-level package; the project installs it as `minigrad.models`, so the launcher hands the
# harness that package, then runs the harness as usual. For
# minigrad_compiled(_inexact) it also gives the harness's Impl a train_step that runs the harness's own
# forward to clip (Impl._loss, zero_grad, backward, clip_grad_norm_) as one mg.compile'd
# function, then Adam eagerly, as the harness's train_step does (the harness is not changed).
LAUNCHER = """
import os, runpy, sys
from minigrad import models

sys.modules["models"] = models
if {compiled!r} is not None:
    sys.path.insert(0, os.path.dirname({run_py!r}))
    import common, minigrad_impl
    import minigrad as mg

    def _forward_to_clip(impl, x, y, state):
        loss, state = impl._loss(x, y, state)
        impl.opt.zero_grad()
        loss.backward()
        mg.nn.utils.clip_grad_norm_(impl.params, common.CLIP)
        return loss, tuple(s.detach() for s in state)

    def train_step(self, x, y):
        if not hasattr(self, "compiled_step"):
            self.compiled_step = mg.compile(_forward_to_clip, exact={compiled!r})
        loss, self.state = self.compiled_step(self, x, y, self.state)
        self.opt.step()
        return float(loss.data)

    minigrad_impl.Impl.train_step = train_step
sys.argv = [{run_py!r}] + sys.argv[1:]
runpy.run_path({run_py!r}, run_name="__main__")
"""


def run_once(harness, impl, config, extra):
    """One harness run; returns its JSON result (a dict), or raises with the harness's output."""
    run_py = os.path.join(harness, "run.py")
    args = ["--impl", "minigrad" if impl.startswith("minigrad") else impl, "--minigrad-root", ROOT,
            "--config", config, *extra]
    if impl.startswith("minigrad"):
        compiled = {"minigrad_compiled": True, INEXACT: False}.get(impl)  # exact=, or None: eager
        launcher = LAUNCHER.format(root=ROOT, run_py=run_py, compiled=compiled)
        command = [sys.executable, "-c", launcher, *args]
    else:
        command = [sys.executable, run_py, *args]
    done = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"vs_peers: {impl} on {config} failed (exit {done.returncode}):\n"
                           f"{done.stdout}{done.stderr}")
    return json.loads(lines[-1])


def summary(results, configs, budget):
    """Markdown table and ratio lines from {(config, impl): [result, ...]}."""
    impls = [i for i in IMPLS if any((c, i) in results for c in configs)]
    key = "val_loss" if budget else "chars_per_s"
    what = "validation loss" if budget else "chars/s"
    lines = ["| impl | " + " | ".join(f"{c} {what}" for c in configs) + " | "
             + " | ".join(f"peak RSS {c}" for c in configs) + " |",
             "|---" * (2 * len(configs) + 1) + "|"]
    medians, rss_medians = {}, {}
    for impl in impls:
        cells = []
        for config in configs:
            runs = results.get((config, impl), [])
            if not runs:
                cells.append("-")
                continue
            values = [r[key] for r in runs]
            medians[config, impl] = statistics.median(values)
            cell = f"{medians[config, impl]:,.{3 if budget else 0}f} ({min(values):,.{3 if budget else 0}f}-" \
                   f"{max(values):,.{3 if budget else 0}f})"
            if budget:
                cell += f", {statistics.median(r['steps'] for r in runs):,.0f} steps"
            cells.append(cell)
        for config in configs:
            rss = [r["peak_rss_mb"] for r in results.get((config, impl), [])]
            if rss:
                rss_medians[config, impl] = statistics.median(rss)
            cells.append(f"{rss_medians[config, impl]:.0f} MB" if rss else "-")
        lines.append(f"| {impl} | " + " | ".join(cells) + " |")
    if not budget:
        lines.append("")
        lines += _ratios(medians, configs, rss_medians)
        fastest = {k: statistics.median(_fastest(r) for r in runs) for k, runs in results.items()
                   if runs and all("sec_per_step_min" in r for r in runs)}
        if fastest:
            lines.append("fastest steps (the median over runs of each run's fastest step: steadier when "
                         "the machine is busy):")
            lines += _ratios(fastest, configs)
    checked = ("loss_first",) if budget else ("loss_first", "loss_last")  # a budget's runs differ in length
    for config in configs:
        losses = {tuple(r[k] for k in checked) for i in impls if i != INEXACT for r in results.get((config, i), [])}
        if len(losses) > 1:
            lines.append(f"WARNING: {config} runs disagree on {', '.join(checked)}: {sorted(losses)}")
        elif losses:
            lines.append(f"{config}: every run gave {', '.join(checked)} = {losses.pop()}")
        inexact = sorted({tuple(r[k] for k in checked) for r in results.get((config, INEXACT), [])})
        if inexact:
            lines.append(f"{config}: {INEXACT} gave {', '.join(checked)} = {', '.join(map(str, inexact))} "
                         f"(sums in another order: equal to the others up to rounding)")
    return "\n".join(lines)


def _ratios(speeds, configs, rss=None):
    """One line per minigrad impl and config: its speed against the peers' (and its peak RSS
    against numpy's, given `rss`); with the speed itself when `rss` is None."""
    lines = []
    for mine in ("minigrad", "minigrad_compiled", INEXACT):
        for config in configs:
            if (config, mine) not in speeds:
                continue
            ratios = [f"{speeds[config, mine] / speeds[config, other]:.2f}x {other}"
                      for other in ("numpy_manual", "torch_cells", "torch_fused") if (config, other) in speeds]
            if rss is None:
                ratios.insert(0, f"{speeds[config, mine]:,.0f} chars/s")
            elif (config, mine) in rss and (config, "numpy_manual") in rss:
                ratios.append(f"peak RSS {rss[config, mine] / rss[config, 'numpy_manual']:.2f}x numpy_manual's")
            if len(ratios) > (rss is None):
                lines.append(f"{'  ' if rss is None else ''}{mine} on {config}: " + ", ".join(ratios))
    return lines


def _fastest(result):
    """chars/s of a run's fastest timed step."""
    return result["chars_per_s"] * result["sec_per_step_median"] / result["sec_per_step_min"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--harness", default=os.path.join(os.path.dirname(ROOT), "shared", "bench"),
                        help="the harness folder, with run.py (default: ../shared/bench)")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each impl and config (default 5)")
    parser.add_argument("--configs", nargs="+", choices=sorted(STEPS), default=["small", "medium"])
    parser.add_argument("--impls", nargs="+", choices=IMPLS, default=IMPLS)
    parser.add_argument("--time-budget", type=float, metavar="S",
                        help="train each for S seconds and compare validation losses instead")
    parser.add_argument("--log", default="vs_peers.jsonl", help="append every run's JSON line here")
    args = parser.parse_args()
    if not os.path.isfile(os.path.join(args.harness, "run.py")):
        parser.error(f"no run.py in {args.harness}: pass --harness, the folder of the team's harness")
    compileall.compile_dir(os.path.join(ROOT, "minigrad"), quiet=1)
    results = collections.defaultdict(list)
    with open(args.log, "a") as log:
        for round_number in range(1, args.rounds + 1):
            for config in args.configs:
                extra = ["--time-budget", str(args.time_budget)] if args.time_budget else STEPS[config]
                for impl in args.impls:
                    result = run_once(args.harness, impl, config, extra)
                    result["vs_peers_impl"], result["round"] = impl, round_number
                    log.write(json.dumps(result) + "\n")
                    log.flush()
                    results[config, impl].append(result)
                    shown = f"val {result['val_loss']:.3f}" if args.time_budget else \
                        f"{result['chars_per_s']:,.0f} chars/s"
                    print(f"round {round_number} {config:6s} {impl:25s} {shown}", flush=True)
    print()
    print(summary(results, args.configs, args.time_budget is not None))


if __name__ == "__main__":
    main()
