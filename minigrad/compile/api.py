"""mg.compile: trace a training step once, replay it as a planned numpy program afterwards.

    step = mg.compile(train_step)          # or @mg.compile on the definition
    loss = step(x, y)                      # first call of this signature: eager, and traced
    loss = step(x2, y2)                    # same shapes and dtypes: replayed

A call's signature is, for each argument (in tuples, lists and dicts too), its shape and dtype
(and requires_grad) for a tensor or numpy array, or the value itself for anything else, and
whether grad mode is on. A new signature traces again; the last `cache_size` plans are kept
(as jax.jit does). The plan is checked before each replay: the parameters it reads must still
have the same arrays (after model.double() or a load that replaces them it traces again), and
their .grad the state it had (None, or the same tensor to accumulate into).

What a replay does and does not do (as tinygrad's TinyJit and jax.jit):

  * The numpy calls of the traced call run again on the new inputs, in the same order, with
    the same numbers as eager would give, bit for bit. The parameters are read where they
    are, so an optimizer step between calls (outside the compiled function) is seen. With
    exact=False the planner may also add in another order (a recurrent weight's per-step
    gradient products as one product): then the numbers equal eager's up to rounding.
  * Python in the step runs only while tracing. Python state it reads is baked in: a model's
    `training` flag (switching model.train()/eval() needs an argument that says so, e.g.
    step(x, y, model.training), or a second compiled function), hyperparameters, lists. Python
    values computed from tensors are refused in the step's own code (CompileError: read them
    after the call) and guarded inside minigrad (a changed answer traces again).
  * Returned tensors are new tensors holding copies of the values, without a graph (the
    tracing call's too, so every call returns the same kind of result). After
    the call, parameters' .grad are tensors on the plan's gradient buffers (the next call
    writes into the same buffers). So backward() belongs inside the step: torch.compile(model)
    keeps autograd through the compiled module, mg.compile does not, and a step that returns
    a tensor requiring grad without running backward() is warned about when it is traced
    (mg.compile(model) then loss.backward() after the call; under mg.no_grad() it is quiet).
  * Random numbers come from minigrad's generator, drawn again at each replay in eager's
    order (dropout, mg.rand, mg.randn); other generators' draws are baked in as constants.
  * Not supported yet (CompileError): register_hook, retain_grad, mg.retain_grads(),
    mg.detect_anomaly() inside the compiled function; mg.manual_seed inside it; changing a
    parameter in place inside it (optimizer.step(): call it after the compiled function).
  * Numpy code in the step is recorded when it computes on arrays it got from tensors, from
    its arguments, or made itself; a plain array computed from a tensor behind numpy's back
    (a[traced_index] for a plain `a`) is not. Arguments are copied into buffers of the plan:
    writing into them inside the step does not write into the caller's arrays. The first
    trace meets the parameters at their first use: a zero_grad(set_to_none=False) before
    that is not recorded (set_to_none, the default, is fine).

`compiled.plan` is the plan of the last call, printable: one line per numpy call, and the
counts (numpy calls per call, buffers and bytes, and those of the eager call it came from).
"""
import collections
import functools
import warnings

import numpy as np

from minigrad import grad_mode
from minigrad.compile import trace
from minigrad.compile.plan import BufferPool, Plan, give_back_memory
from minigrad.compile.trace import CompileError, GuardFailed, Recorder, Traced
from minigrad.tensor import Tensor


def compile(fn=None, *, cache_size=8, reuse_buffers=True, exact=True):  # noqa: A001  (torch.compile's name)
    """A version of `fn` that traces its first call of each signature and replays the
    recorded numpy calls on later ones (see the module docstring).

    Args:
        fn: the step, e.g. forward, loss, backward and clip_grad_norm_ of one batch.
        cache_size: how many signatures' plans are kept.
        reuse_buffers: let values whose lifetimes do not overlap share buffers.
        exact: True (the default) replays eager's numbers bit for bit. False also lets the
            planner add in another order where that is faster: a weight used at every step of
            a recurrent layer gets its gradient as one product instead of one per step (10-15%
            faster on the small char-RNN with two BLAS threads, the same with one: the tall
            product wins by using both cores); results then equal eager's only up to float
            rounding (last bits).
    Returns:
        A callable `Compiled`; `.plan` is the plan of its last call. Used as `@mg.compile` or
        `@mg.compile(cache_size=...)`.
    """
    if fn is None:
        return functools.partial(compile, cache_size=cache_size, reuse_buffers=reuse_buffers, exact=exact)
    return Compiled(fn, cache_size, reuse_buffers, exact)


class Compiled:
    """`fn` compiled: call it as `fn`. Attributes: `plan` (of the last call), `plans`
    (signature -> Plan), `traces` and `replays` (how many calls did which)."""

    def __init__(self, fn, cache_size=8, reuse_buffers=True, exact=True):
        if not callable(fn):
            raise TypeError(f"mg.compile: expected a function, got {type(fn).__name__}")
        functools.update_wrapper(self, fn)
        self.fn, self.cache_size, self.reuse_buffers, self.exact = fn, cache_size, reuse_buffers, bool(exact)
        self._name = getattr(fn, "__qualname__", None) or type(fn).__name__  # (a module has no __name__)
        self.plans = collections.OrderedDict()
        self.pool = BufferPool()  # the buffers the plans' temps share (one plan runs at a time)
        self.plan = None
        self.traces = self.replays = 0
        self.retraced = collections.Counter()  # signature -> traces after the first, and why (last)
        self.reasons = {}

    def __get__(self, obj, objtype=None):  # @mg.compile on a method: bind self as an argument
        return self if obj is None else functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        if trace.active() is not None:  # called inside another compiled function: part of its trace
            return self.fn(*args, **kwargs)
        key, leaves, spec = signature(args, kwargs)
        plan = self.plans.get(key)
        if plan is not None:
            reason = plan.check(leaves)
            if reason is None:
                try:
                    result = plan.run(leaves)
                except GuardFailed as failed:
                    reason = f"the guard at {failed.where} came out differently"
                else:
                    self.plans.move_to_end(key)
                    self.plan = plan
                    self.replays += 1
                    return result
            self._retrace(key, reason)
        return self._trace(key, args, kwargs, leaves, spec)

    def _retrace(self, key, reason):
        self.retraced[key] += 1
        self.reasons[key] = reason
        if self.retraced[key] == 8:
            warnings.warn(f"mg.compile: {self._name} was traced again 8 times for one signature; the "
                          f"last time because {reason}. Each trace runs eagerly, so this is no faster "
                          f"than not compiling", RuntimeWarning, stacklevel=3)

    def _known_params(self):
        """The parameters of the plans kept (their .grad at the start of a new trace matters)."""
        known = {}
        for plan in self.plans.values():
            for t, *_ in plan.checks:
                known[id(t)] = t
        return list(known.values())

    def _trace(self, key, args, kwargs, leaves, spec):
        """Run fn eagerly with the recorder on; make the plan; return fn's (eager) result."""
        give_back_memory()  # (what the last call freed: the trace's peak starts from what is in use)
        with trace.cyclic_gc_paused():
            return self._traced_call(key, args, kwargs, leaves, spec)

    def _traced_call(self, key, args, kwargs, leaves, spec):
        rec = Recorder()
        with trace.recording(rec):
            for t in self._known_params():
                rec.instrument(t)
            traced = []
            for leaf in leaves:
                array = leaf.data if isinstance(leaf, Tensor) else leaf
                if isinstance(array, Traced):  # kept from an earlier trace
                    array = np.ndarray.view(array, np.ndarray)
                buf = np.empty_like(array)
                np.copyto(buf, array)
                v = rec.fresh(buf, "input")
                rec.inputs.append(v)
                if isinstance(leaf, Tensor):
                    rec._swap(leaf, "data", leaf.data, rec.wrap(buf, v))
                    traced.append(leaf)
                else:
                    traced.append(rec.wrap(buf, v))
            targs, tkwargs = _unflatten(spec, traced)
            result = self.fn(*targs, **tkwargs)
            outputs = _outputs(rec, result)
            if not rec.backward_ran:
                _warn_if_graph_returned(self._name, result)
            grads, clears, checks, fresh_grads = _grads(rec, leaves)
            if rec.restore():
                raise CompileError("mg.compile: the step replaced a tensor's .data array; a replay would "
                                   "not. Change values in place (p.data[...] = v, p.copy_(v)) instead")
        for t in fresh_grads:  # the eager results of this call: plain arrays again
            t.data = np.ndarray.view(t.data, np.ndarray)
        result = _plain_result(result)
        title = f"mg.compile plan of {self._name} for {_describe_key(key)}"
        plan = Plan(rec, outputs, grads, clears, checks, [isinstance(leaf, Tensor) for leaf in leaves], title,
                    reuse=self.reuse_buffers, pool=self.pool, exact=self.exact)
        self.plans[key] = plan
        self.plans.move_to_end(key)
        while len(self.plans) > self.cache_size:
            self.plans.popitem(last=False)
        self.plan = plan
        self.traces += 1
        return result


# ------------------------------------------------------------------ signatures
def signature(args, kwargs):
    """(key, leaves, spec): the call's signature (hashable), its tensors and arrays in order,
    and the structure to rebuild the arguments from new leaves."""
    leaves, key, seen = [], [], {}
    spec = (_flatten(args, leaves, key, seen), _flatten(kwargs, leaves, key, seen))
    return (tuple(key), grad_mode.enabled), leaves, spec


def _layout(a):
    return "C" if a.flags.c_contiguous else a.strides


def _flatten(obj, leaves, key, seen):
    """The spec of obj; tensors and arrays appended to leaves, their signature to key."""
    if isinstance(obj, (Tensor, np.ndarray)):
        k = seen.get(id(obj))
        if k is not None:  # the same tensor passed twice: one input
            key.append(("same", k))
            return ("leaf", k)
        seen[id(obj)] = k = len(leaves)
        leaves.append(obj)
        if isinstance(obj, Tensor):
            a = obj.data
            if obj.requires_grad and obj._grad is not None:
                raise CompileError("mg.compile: an argument tensor that requires grad already has a .grad; "
                                   "clear it (t.grad = None) before the call, or pass a new tensor")
            key.append(("tensor", a.shape, a.dtype.str, _layout(a), obj.requires_grad, type(obj)))
        else:
            key.append(("array", obj.shape, obj.dtype.str, _layout(obj)))
        return ("leaf", k)
    t = type(obj)
    if t is tuple or t is list:
        key.append((t, len(obj)))
        return (t, [_flatten(o, leaves, key, seen) for o in obj])
    if t is dict:
        names = sorted(obj, key=repr)
        key.append((dict, tuple(names)))
        return (dict, names, [_flatten(obj[n], leaves, key, seen) for n in names])
    try:
        hash(obj)
        key.append((t, obj))
    except TypeError:
        key.append((t, repr(obj)))
    return ("value", obj)


def _unflatten(spec, leaves):
    def build(s):
        kind = s[0]
        if kind == "leaf":
            return leaves[s[1]]
        if kind in (tuple, list):
            return kind(build(o) for o in s[1])
        if kind is dict:
            return dict(zip(s[1], (build(o) for o in s[2])))
        return s[1]
    args, kwargs = spec
    return build(args), build(kwargs)


def _describe_key(key):
    parts, grad_on = key
    shown = []
    for part in parts:
        if part[0] == "tensor":
            shown.append(f"tensor {np.dtype(part[2]).name}{list(part[1])}" + (" requires_grad" if part[4] else ""))
        elif part[0] == "array":
            shown.append(f"array {np.dtype(part[2]).name}{list(part[1])}")
        elif part[0] not in (tuple, list, dict, "same"):
            shown.append(repr(part[1])[:30])
    return "(" + ", ".join(shown) + ")" + ("" if grad_on else " under no_grad")


# ------------------------------------------------------------------ results of the trace
def _outputs(rec, obj):
    """The spec of what fn returned (trace-time values in it)."""
    if isinstance(obj, Tensor):
        return ("tensor", rec.value_of(obj.data), obj.name)
    if isinstance(obj, np.ndarray):
        return ("array", rec.value_of(obj))
    t = type(obj)
    if t is tuple or t is list:
        return ("tuple" if t is tuple else "list", [_outputs(rec, o) for o in obj])
    if t is dict:
        names = list(obj)
        return ("dict", names, [_outputs(rec, obj[n]) for n in names])
    if isinstance(obj, (tuple, list, dict)):
        raise CompileError(f"mg.compile: the step returned a {t.__name__}; return tensors and arrays in "
                           f"plain tuples, lists and dicts")
    return ("const", obj)


def _warn_if_graph_returned(name, result):
    """Warn once per trace when fn returns a tensor with a graph but runs no backward(): what
    torch.compile(model) users do, then call backward() on the output, which has no graph here."""
    shapes = [list(t.shape) for t in _tensors(result) if t.requires_grad]
    if shapes:
        warnings.warn(f"mg.compile: {name} returns a tensor that requires grad (shape {shapes[0]}) and runs no "
                      f"backward(). Compiled calls return values without a graph, so a backward() after the "
                      f"call cannot reach the parameters (torch.compile keeps autograd through a compiled "
                      f"module; mg.compile compiles whole steps). For training, call loss.backward() inside "
                      f"the compiled function (as examples/char_rnn.py does); for inference, call it under "
                      f"mg.no_grad()", UserWarning, stacklevel=5)


def _tensors(obj):
    if isinstance(obj, Tensor):
        yield obj
    elif type(obj) in (tuple, list):
        for o in obj:
            yield from _tensors(o)
    elif type(obj) is dict:
        for o in obj.values():
            yield from _tensors(o)


def _plain_result(obj):
    """fn's result as a replay returns it: tensors new, without a graph, holding copies of the
    values (and arrays plain)."""
    if isinstance(obj, Tensor):
        data = obj.data
        t = Tensor(np.array(np.ndarray.view(data, np.ndarray) if isinstance(data, Traced) else data, copy=True))
        t.name = obj.name
        return t
    if isinstance(obj, Traced):
        return np.ndarray.view(obj, np.ndarray)
    t = type(obj)
    if t is tuple or t is list:
        return t(_plain_result(o) for o in obj)
    if t is dict:
        return {k: _plain_result(o) for k, o in obj.items()}
    return obj


def _grads(rec, leaves):
    """What the replay binds to .grad and checks before it runs (see Plan). Returns (grads,
    clears, checks, the grad tensors made by this call)."""
    grads, clears, checks, fresh = [], [], [], []
    read = {v.root.id for instr in rec.instrs for v in instr.reads}
    for p in rec.params.values():
        t, g = p.tensor, p.tensor._grad
        if g is None:
            rule = "any"
            if p.entry_grad is not None:
                clears.append(t)
        elif g is p.entry_grad:  # accumulated into (or left alone): the same tensor must be there
            rule = "same"
        else:  # a new .grad: made from None, so the call must start from None, unless the step
            # itself set it to None before it first used the tensor (then it starts anew anyway)
            rule = "none" if p.entry_grad is None and id(t) not in rec.cleared else "any"
            if p.entry_grad is not None and getattr(rec.holder(p.entry_grad_data), "id", None) in read:
                rule = "read"  # the step read the .grad it came with: a replay reads the one there is
            grads.append((t, rec.value_of(g.data)))
            fresh.append(g)
        checks.append((t, p.data, p.requires_grad, rule, p.entry_grad, p.entry_grad_data))
    for k, leaf in enumerate(leaves):
        if isinstance(leaf, Tensor) and leaf.requires_grad and leaf._grad is not None:
            grads.append((k, rec.value_of(leaf._grad.data)))
            fresh.append(leaf._grad)
    return grads, clears, checks, fresh
