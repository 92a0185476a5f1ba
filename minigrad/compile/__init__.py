"""mg.compile: the eager engine's own numpy code, traced once and replayed as a planned program.

    trace.py   the traced array and the recorder: one eager call, every numpy call written down
    plan.py    the program: live calls, refills, buffers (reused by liveness), bound steps
    rules.py   planner rules with eager's numbers: one-hot products as gathers, C-ordered
               copies of shared transposed operands, joins made in place
    sums.py    exact=False's rule: a recurrent weight's per-step gradients as one product
    listing.py the printed plan
    api.py     mg.compile: signatures, the cache of plans, tracing and replaying

Start with api.py's docstring for what a compiled step does, then trace.py for how.

`mg.compile` is the function (as torch.compile), so `import minigrad.compile.plan as plan`
finds the function where it looks for the package; import the parts with
`from minigrad.compile import plan, trace`.
"""
from minigrad.compile.trace import CompileError
from minigrad.compile.api import compile, Compiled

__all__ = ["compile", "Compiled", "CompileError"]
