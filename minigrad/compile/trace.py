"""Tracing: run one call of the step for real, and write down every numpy call it makes.

The eager engine is numpy code (every op's forward and backward). To see that code at work
without changing it, the arrays it computes on are a numpy subclass, `Traced`: a real array
(a view of real memory, with the real values), so the traced call computes exactly what an
eager call computes, and every numpy call it makes reaches the recorder through numpy's own
override protocols:

    __array_ufunc__       np.add, np.exp, a @ b, a += b, x.sum() (np.add.reduce), np.add.at, ...
    __array_function__    np.concatenate, np.where, np.einsum, np.put_along_axis, ...
    methods, indexing     x.reshape, x.T, x.astype, x.copy, x[i], x[i] = v, ... (overridden below)

Each array the call touches gets a `Value` (shape, dtype, strides) on a `Root`, the memory it
lives in:

    input     an argument of the compiled function, copied into a buffer at each replay
    external  memory that existed before the call: parameters, their .grad, captured arrays;
              read and written in place at replay, so an optimizer step between calls is seen
    const     made inside the step from no traced value (np.zeros in one_hot, np.asarray(2.0),
              the seed np.ones of backward): kept, and refilled at its creation point if the
              step writes into it, so nothing leaks from one call into the next
    temp      the result of a recorded numpy call: a buffer of the plan (plan.py)

A result whose memory lies inside a known root (x.T, x[:, :H], x.reshape(...) when numpy gives
a view) is a view: the plan makes it once, when the buffers are made, and replays nothing.

What numpy cannot tell us is handled at the edges:

  * np.asarray / np.array / np.ascontiguousarray turn any subclass into a plain ndarray (and
    minigrad calls them on its way, e.g. nn.functional's index checks), and np.zeros / np.ones
    / np.empty / np.full / np.arange make plain arrays that the step may fill from traced
    values (one_hot). While tracing, these names in the numpy module are replaced by versions
    that keep traced arrays traced and give traced constants (`numpy_entry_points`).
  * Random numbers: minigrad's generator (creation.generator()) is replaced by a recording
    proxy, so each draw (dropout's mask, mg.randn) is drawn again at every replay, from the
    generator of that moment, in the same order as eager.
  * Parameters: Function.apply calls `Recorder.enter` before each op (function.tracer); a
    tensor whose array is not traced yet (a parameter, a constant made by the step) gets a
    traced view of it for the rest of the call, so that every later use is seen too.
  * Memory: eager's graph keeps every intermediate array until backward, through its nodes'
    input tensors. The traced call's nodes keep stand-ins for them instead (graph fields, no
    values: `Recorder.drop_inputs`), so its arrays live only as long as the step's code or what
    backward saved holds them, and the tracing call peaks well below an eager call.
  * Values turned into Python (bool(t), float(t), t.item(), t.tolist(), int(t) as an index):
    asked by minigrad's own code (the target range check of cross_entropy), the answer is
    kept as a GUARD that the replay checks again (and traces again when it differs); asked
    by the user's step (`if loss.item() > 3`), it is a CompileError naming the line, as jax's
    concretization error: the replay does not run that line.

Tracing is for one thread at a time (the switches above are process-wide while it lasts).
"""
import contextlib
import gc
import linecache
import operator
import sys
import weakref

import numpy as np

from minigrad import creation, function, grad_mode
from minigrad.tensor import Tensor


class CompileError(RuntimeError):
    """What mg.compile cannot do with this step (the message says why and what to do instead)."""


class GuardFailed(Exception):
    """A replayed guard found a different answer than the trace did (the plan is not valid for
    these values): the call is traced again."""

    def __init__(self, where):
        super().__init__(where)
        self.where = where


_active = None  # the Recorder of the call being traced, or None


@contextlib.contextmanager
def cyclic_gc_paused():
    """Python's cyclic garbage collector off for a while (reference counting still frees what
    dies). Tracing and binding make tens of thousands of small objects, and the collections
    they trigger walk every object the process holds: about 15% of a small char-RNN trace."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def active():
    """The Recorder tracing right now, or None."""
    return _active


# ------------------------------------------------------------------ what the recorder keeps
# `array` of a Root or Value: the array in `_array`, or what its weak reference points to (a temp:
# None once eager has let it go)
_held_array = property(lambda self: self._array() if type(self._array) is weakref.ref else self._array,
                       lambda self, a: setattr(self, "_array", a))


class Root:
    """A piece of memory used by the traced call (see the module docstring for the kinds).

    lo, nbytes: its bytes at trace time (address of the lowest byte, size); `array` covers
    them (the owner of views found later). For a const: `created_at` (index in the program
    where it appeared), `written` (the step writes into it), `empty` (made by np.empty:
    nothing to refill) and `snapshot` (its values before the first write; a scalar zero if
    they were all zero bytes).

    A temp (a result of a recorded call) is held weakly, as eager holds it: the trace keeps
    its shape, strides and place, not its values, so the tracing call frees what eager frees
    (and more: the nodes it makes keep no input values, `Recorder.drop_inputs`). `alive` says
    whether its memory still exists (the owner of its bytes is alive); a dead root is no longer
    found by address or by owner.
    """

    __slots__ = ("id", "kind", "_array", "lo", "nbytes", "created_at", "written", "empty", "snapshot",
                 "label", "shape", "strides", "_owner")

    def __init__(self, id, kind, array, lo, nbytes, created_at, label):
        self.id, self.kind, self.lo, self.nbytes = id, kind, lo, nbytes
        self._array, self._owner = array, None
        self.created_at, self.label = created_at, label
        self.written, self.empty, self.snapshot = False, False, None
        self.shape, self.strides = array.shape, array.strides

    array = _held_array

    @property
    def alive(self):
        if self._owner is not None:
            return self._owner() is not None
        return self._array is not None


class Value:
    """An array the trace saw: `shape`, `dtype`, `strides` at byte `offset` of `root`;
    `array` is the trace-time array itself (plain ndarray; None once a temp's array is gone:
    held weakly as its root)."""

    __slots__ = ("id", "root", "offset", "shape", "dtype", "strides", "_array", "recorder", "is_whole")

    def __init__(self, id, root, offset, array, recorder):
        self.id, self.root, self.offset, self.recorder = id, root, offset, recorder
        self.shape, self.dtype, self.strides = array.shape, array.dtype, array.strides
        self._array = weakref.ref(array) if root.kind == "temp" else array
        # whether the value is its root's whole array (not a view into it)
        self.is_whole = offset == 0 and array.strides == root.strides and array.shape == root.shape

    array = _held_array

    @classmethod
    def view(cls, recorder, root, offset, shape, strides, dtype):
        """A Value for a view of `root` no traced call made (a planner rule's operand)."""
        v = cls.__new__(cls)
        v.id, v.root, v.offset, v.recorder = len(recorder.values), root, offset, None
        v.shape, v.dtype, v.strides, v._array = tuple(shape), np.dtype(dtype), tuple(strides), None
        v.is_whole = offset == 0 and v.strides == root.strides and v.shape == root.shape
        recorder.values.append(v)
        return v


_NO_KEYWORDS = {}  # the keywords of every recorded call that had none (read only)


class Ref:
    """A recorded value inside the arguments of a recorded call."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class Instr:
    """One recorded numpy call, replayed as one call.

    kind: "call" (fn(*args, **kwargs); results already have a place, through out= or in place),
    "out" (the same with out=fresh buffers added), "copy" (the result of fn(...) copied into the
    fresh buffers: for functions without out=), "random" (a draw from minigrad's generator),
    "guard" (check a value turned into Python is still the same).
    """

    __slots__ = ("kind", "fn", "args", "kwargs", "fresh", "reads", "writes", "label", "errstate",
                 "where", "convert", "expected", "out_tuple", "drop_kwargs", "random_out", "note")

    def __init__(self, kind, fn, args, kwargs, fresh, reads, writes, label, errstate=None):
        self.kind, self.fn, self.args, self.kwargs = kind, fn, args, kwargs
        self.fresh, self.reads, self.writes, self.label, self.errstate = fresh, reads, writes, label, errstate
        self.where = self.convert = self.expected = None
        self.out_tuple, self.drop_kwargs, self.random_out = False, (), False
        self.note = None  # what a planner rule made of it, for the printed program


def _extent(a):
    """(lowest byte address, one past the highest) of array `a`."""
    ptr = a.__array_interface__["data"][0]
    if a.flags.c_contiguous:
        return ptr, ptr + a.nbytes
    if a.size == 0:
        return ptr, ptr
    lo = hi = ptr
    for n, s in zip(a.shape, a.strides):
        if s < 0:
            lo += (n - 1) * s
        else:
            hi += (n - 1) * s
    return lo, hi + a.itemsize


def _memory_owner(a):
    """The array at the end of a's chain of views: it owns the memory, or was made from a buffer
    (np.frombuffer: then its .base is that buffer, not an array)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _plain(obj):
    """`obj` with every Traced array in it (in lists, tuples, dicts) viewed as a plain ndarray."""
    if isinstance(obj, Traced):
        return np.ndarray.view(obj, np.ndarray)
    t = type(obj)
    if t is tuple or t is list:
        return t([_plain(o) for o in obj])
    if t is dict:
        return {k: _plain(o) for k, o in obj.items()}
    return obj


def _module(frame):
    return frame.f_globals.get("__name__", "") or ""


def _inside(name, package):
    return name == package or name.startswith(package + ".")


def _asker(frame):
    """The frame that wants a value in Python: the innermost one outside numpy, minigrad.compile
    and minigrad.tensor (whose item/float/bool/tolist convert on behalf of their caller)."""
    while frame is not None:
        name = _module(frame)
        if not (_inside(name, "numpy") or _inside(name, "minigrad.compile") or name == "minigrad.tensor"):
            return frame
        frame = frame.f_back
    return None


def _where(frame):
    if frame is None:
        return "?", 0, ""
    filename, line = frame.f_code.co_filename, frame.f_lineno
    return filename, line, linecache.getline(filename, line).strip()


def _same(a, b):
    """a == b, with NaN equal to NaN (a guard on a NaN value holds)."""
    try:
        if a == b:
            return True
    except ValueError:
        return bool(np.array_equal(a, b, equal_nan=True))
    return isinstance(a, float) and isinstance(b, float) and a != a and b != b


# numpy functions whose Python answer does not depend on the values (shape and type queries)
_STATIC = {np.shape, np.ndim, np.size, np.result_type, np.may_share_memory, np.shares_memory,
           np.iscomplexobj, np.isrealobj, np.array2string, np.array_repr, np.array_str, np.min_scalar_type,
           np.can_cast}
# functions whose out= writes exactly what they would return (so the replay writes into the
# planned buffer directly; methods say so where they are made, below); the others are replayed
# and their result copied in
_OUT_FUNCTIONS = {np.concatenate, np.stack, np.take, np.cumsum}
# functions and methods that write into their first argument
_WRITES_FIRST = {np.copyto, np.put_along_axis, np.put, np.place, np.putmask, np.fill_diagonal,
                 operator.setitem}


class Recorder:
    """Records one traced call: its values, roots and numpy calls (`instrs`), the tensors it
    swapped to traced arrays (put back by `restore`), and the parameters it met."""

    def __init__(self):
        self.values, self.roots, self.instrs = [], [], []
        self._owners = {}     # id(owner array) -> [roots whose bytes it holds]
        self._by_id = {}      # id(plain array seen) -> its Value (the array is kept in its Value)
        self.swapped = []     # (object, attribute, original, traced): restored at the end
        self.params = {}      # id(leaf tensor that requires grad) -> ParamRecord
        self.cleared = set()  # ids of tensors whose .grad the step set to None before it was used
        self.grads_read = set()  # ids of tensors whose .grad the step read (t.grad)
        self.backward_ran = False
        self.inputs = []      # Values of the input buffers, in argument order
        self.ops = 0          # Function.apply calls (the eager graph's nodes)
        self.calls = 0        # numpy calls made by the eager call
        self.start_errstate = np.geterr()
        self._stand_ins = {}  # id(tensor an op made) -> (weak ref to it, its stand-in in the graph)
        self._tuples = {}     # one copy of each shape and strides tuple (`one`)

    def release(self, keep):
        """After the plan is made: let go of the trace's own arrays (the plan has buffers of its
        own), except those of the roots in `keep`, which the plan uses as they are."""
        for v in self.values:
            v.recorder = None
            if v.root.id not in keep:
                v.array = None
        for root in self.roots:
            if root.id not in keep:
                root.array = None
        self._owners, self._by_id, self.swapped, self._stand_ins = {}, {}, [], {}

    def one(self, t):
        """The recorder's one copy of tuple t (the values' shapes and strides repeat: one tuple
        each is less memory for as long as the plan lives)."""
        return self._tuples.setdefault(t, t)

    def compact(self, program):
        """Once the program is made: the trace's objects, kept as long as the plan, made smaller.
        Roots forget their owner (what finds a view's root while tracing), temps that eager let
        go of drop their weak references, each call's lists of values become tuples, and its
        labels and empty keywords are shared (templates are read only: binding makes new ones)."""
        for x in (*self.roots, *self.values):
            if type(x._array) is weakref.ref and x._array() is None:
                x._array = None  # (a temp eager has let go of)
        for root in self.roots:
            root._owner = None
        for instr in program:
            instr.reads, instr.writes, instr.fresh = tuple(instr.reads), tuple(instr.writes), tuple(instr.fresh)
            instr.label = sys.intern(instr.label)
            if not instr.kwargs:
                instr.kwargs = _NO_KEYWORDS
        self.instrs, self._by_id, self._owners, self._stand_ins, self._tuples = [], {}, {}, {}, {}

    # ---------------------------------------------------------------- values and roots
    def _new_root(self, array, kind, label=None, extent=None):
        lo, hi = extent or _extent(array)
        root = Root(len(self.roots), kind, array, lo, hi - lo, len(self.instrs), label)
        root.shape, root.strides = self.one(root.shape), self.one(root.strides)
        self.roots.append(root)
        owner = _memory_owner(array)  # views found later lead to the owner
        key = id(owner)
        self._owners.setdefault(key, []).append(root)
        if kind == "temp":  # held weakly: when the owner dies its id and address may come back
            root.array = weakref.ref(array)
            owners = self._owners

            def dead(_, owners=owners, key=key, root=root):
                roots = owners.get(key)
                if roots is not None and root in roots:
                    roots.remove(root)
                    if not roots:
                        del owners[key]
            root._owner = weakref.ref(owner, dead)
        return root  # (a strong root.array holds the owner alive: its id stays unique)

    def _find_root(self, plain, extent=None):
        """The known root holding all of `plain`'s bytes, or None."""
        lo, hi = extent or _extent(plain)
        obj = plain
        while obj is not None:
            for root in self._owners.get(id(obj), ()):
                if plain.size == 0 and root.array is not obj:
                    continue  # an empty array has no bytes to place: only the very same one
                if root.lo <= lo and hi <= root.lo + root.nbytes:
                    return root
            obj = obj.base if isinstance(obj.base, np.ndarray) else None
        return None

    def holder(self, plain):
        """The known root holding `plain`'s bytes, searched by address (for an array made from
        a buffer, whose .base is not the array that owns the memory), or None."""
        root = self._find_root(plain)
        if root is None and plain.size and _memory_owner(plain).base is not None:  # (not an array
            lo, hi = _extent(plain)                                # that owns its memory: a buffer's)
            root = next((r for r in self.roots if r.nbytes and r.lo <= lo and hi <= r.lo + r.nbytes
                         and r.alive), None)
        return root

    def _value(self, root, plain, offset=None):
        if offset is None:  # (of element 0)
            offset = plain.__array_interface__["data"][0] - root.lo if plain.size else 0
        v = Value(len(self.values), root, offset, plain, self)
        v.shape, v.strides = self.one(v.shape), self.one(v.strides)
        self.values.append(v)
        return v

    def value_of(self, a, kind="external"):
        """The Value of array `a` (Traced or plain), found by identity or by memory; an array of
        unknown memory is a new root of `kind`."""
        if type(a) is Traced:
            v = a._value
            if v is not None and v.recorder is self:
                return v
            plain = np.ndarray.view(a, np.ndarray)
        else:
            v = self._by_id.get(id(a))
            if v is not None and v.array is a:
                return v
            plain = a
        root = self.holder(plain)
        if root is None:
            root = self._new_root(plain, kind)
        v = self._value(root, plain)
        if type(a) is Traced:
            a._value = v
        else:
            self._by_id[id(a)] = v
        return v

    def wrap(self, plain, value):
        """A Traced view of `plain` standing for `value`."""
        t = np.ndarray.view(plain, Traced)
        t._value = value
        return t

    def fresh(self, plain, kind="temp", label=None, extent=None):
        """A new root for an array made by the call (a result, an input buffer, a constant)."""
        root = self._new_root(plain, kind, label, extent)
        v = self._value(root, plain, 0 if plain.flags.c_contiguous else None)  # (its own first byte)
        self._by_id[id(plain)] = v
        return v

    def constant(self, plain, empty=False):
        """A traced constant for an array the step made from no traced value (np.zeros, ...)."""
        v = self.fresh(plain, "const")
        v.root.empty = empty
        return self.wrap(plain, v)

    # ---------------------------------------------------------------- tensors
    def enter(self, inputs):
        """Called by Function.apply before an op: give untraced inputs a traced array, and let
        the nodes that made the inputs drop theirs (`drop_inputs`)."""
        self.ops += 1
        if grad_mode.keep_grads or grad_mode.anomaly:
            raise CompileError(_REFUSED["retain_grads" if grad_mode.keep_grads else "anomaly"])
        for t in inputs:
            data = t.data
            if type(data) is not Traced or data._value is None or data._value.recorder is not self:
                self.instrument(t)
            elif self._made_here(t):
                self.drop_inputs(t.grad_fn)
            if t._hooks or t._retain:
                raise CompileError(_REFUSED["hook" if t._hooks else "retain_grad"])

    def instrument(self, t):
        """Swap tensor t's array for a traced view of it (until `restore`). A leaf that
        requires grad is a parameter: its .grad (if any) is traced too, and it is remembered
        with the .grad it has now (the api instruments the parameters it knows from earlier
        plans before the step starts, so that is the .grad at the start of the call)."""
        original = t.data
        if not isinstance(original, np.ndarray):
            return
        v = self.value_of(original)
        self._swap(t, "data", original, self.wrap(_plain(original), v))
        if t.requires_grad and t.grad_fn is None and id(t) not in self.params:
            grad = t._grad
            self.params[id(t)] = ParamRecord(t, original, grad)
            v.root.label = "parameter"
            if grad is not None and isinstance(grad.data, np.ndarray):
                g = self.value_of(grad.data)
                self._swap(grad, "data", grad.data, self.wrap(_plain(grad.data), g))

    def drop_inputs(self, fn):
        """Let node fn keep, for each input an op made, a stand-in: a tensor with the same
        grad_fn, output_nr, shape and dtype, and no values. Eager's node keeps its input tensors,
        and through them every intermediate array until backward, although backward reads of
        them only their graph fields (what it needs of their values forward put in `saved`).
        With stand-ins an intermediate array lives as long as the step's code or a node's
        `saved` holds it, and the tracing call peaks lower than an eager call; the numpy calls,
        and so the plan, are the same. (Done when fn's output is first used, or at backward.)"""
        inputs = fn.__dict__.get("inputs")
        if inputs is not None and not fn.__dict__.get("inputs_dropped"):
            fn.inputs = tuple(self._stand_in(t) if t.grad_fn is not None else t for t in inputs)
            fn.inputs_dropped = True

    def _made_here(self, t):
        """Whether t was made by an op of this traced call (its node is not an earlier graph's)."""
        data = t.data
        return t.grad_fn is not None and type(data) is Traced and data._value is not None \
            and data._value.recorder is self and data._value.root.kind == "temp"

    def _stand_in(self, t):
        """t's stand-in in the graph (one per tensor, so that its uses sum into one gradient)."""
        entry = self._stand_ins.get(id(t))
        if entry is not None and entry[0]() is t:
            s = entry[1]()
            if s is not None:
                return s
        dtype = t.data.dtype  # (no numpy function: they are the recorder's while it traces)
        s = Tensor(np.ndarray(t.data.shape, dtype, buffer=bytes(dtype.itemsize), strides=(0,) * t.data.ndim))
        s.requires_grad, s.grad_fn, s.output_nr = t.requires_grad, t.grad_fn, t.output_nr
        s.name, s.scope, s._modified_at = t.name, t.scope, t._modified_at
        self._stand_ins[id(t)] = (weakref.ref(t), weakref.ref(s))  # (s lives as long as a node has it)
        return s

    def _swap(self, obj, attr, original, traced):
        setattr(obj, attr, traced)
        self.swapped.append((obj, attr, original, traced))

    def restore(self):
        """Put back every array swapped in (unless the step replaced it itself)."""
        replaced = []
        for obj, attr, original, traced in reversed(self.swapped):
            if getattr(obj, attr) is traced:
                setattr(obj, attr, original)
            else:
                replaced.append(obj)
        self.swapped = []
        return replaced

    def grad_cleared(self, tensor):
        """Called when the step sets tensor.grad = None. Before any backward and before the step
        read tensor.grad, that makes its .grad at the start of the call irrelevant to the call
        (a zero_grad at the top of the step, or between forward and backward), so a replay may
        start from any .grad."""
        if not self.backward_ran and id(tensor) not in self.grads_read:
            self.cleared.add(id(tensor))

    def grad_read(self, tensor):
        """Called when the step reads tensor.grad (it may depend on it being None or not)."""
        self.grads_read.add(id(tensor))

    def refuse_hooks(self, tensor):
        """Called by backward for a tensor whose gradient a hook or retain_grad would see."""
        if tensor._hooks:
            raise CompileError(_REFUSED["hook"])
        if tensor._retain or grad_mode.keep_grads:
            raise CompileError(_REFUSED["retain_grad" if tensor._retain else "retain_grads"])

    def check_backward(self, root):
        """Called at the start of backward: refuse what the replay cannot do."""
        self.backward_ran = True
        if grad_mode.visit_log is not None:
            raise CompileError(_REFUSED["record_visits"])
        if self._made_here(root):
            self.drop_inputs(root.grad_fn)
        for ref, _ in self._stand_ins.values():  # a hook or retain_grad given after the tensor's
            t = ref()                           # use: its gradient goes to the stand-in
            if t is not None and (t._hooks or t._retain):
                self.refuse_hooks(t)
        if grad_mode.keep_grads:
            raise CompileError(_REFUSED["retain_grads"])
        if grad_mode.anomaly:
            raise CompileError(_REFUSED["anomaly"])
        self.refuse_hooks(root)

    # ---------------------------------------------------------------- recording calls
    def _template(self, obj, reads):
        """`obj` with each array replaced by a Ref to its Value (collected in `reads`)."""
        if isinstance(obj, np.ndarray):
            v = self.value_of(obj)
            reads.append(v)
            return Ref(v)
        t = type(obj)
        if t is tuple or t is list:
            return t([self._template(o, reads) for o in obj])
        if t is dict:
            return {k: self._template(o, reads) for k, o in obj.items()}
        return obj

    def call(self, fn, args, kwargs, label, writes=(), out_ok=False, out_tuple=False):
        """Run fn(*args, **kwargs) on plain arrays and record it; returns its result with every
        array in it traced.

        writes: positions of args that fn writes into; out_ok: fn takes out= for its result
        (a tuple of outputs if out_tuple, as ufuncs take it).
        """
        self.calls += 1
        reads = []
        targs = self._template(args, reads)
        tkwargs = self._template(kwargs, reads)
        written = [targs[i].value for i in writes if isinstance(targs[i], Ref)]
        out = tkwargs.get("out")
        if out is not None:
            written += [r.value for r in (out if isinstance(out, tuple) else (out,)) if isinstance(r, Ref)]
        for v in written:
            self._will_write(v)
        errstate = np.geterr()
        result = fn(*_plain(args), **_plain(kwargs))
        fresh = []
        python = isinstance(result, (bool, int, float, complex)) and not isinstance(result, np.generic)
        if python:  # a value in Python (np.count_nonzero, np.array_equal): see concretize
            plain = np.asarray(result)
            v = self.fresh(plain)
            fresh.append(((), v))
            wrapped = self.wrap(plain, v)
            out_ok = False
        else:
            wrapped = self._results(result, (), fresh)
        if fresh and (not out_ok or out is not None):  # (out= given for some outputs only: copy)
            kind = "copy"
        elif fresh:
            kind = "out"
        else:
            kind = "call"
        if fresh or written:
            instr = Instr(kind, fn, targs, tkwargs, fresh, reads, written, label,
                          errstate if errstate != self.start_errstate else None)
            self.instrs.append(instr)
            instr.out_tuple = out_tuple
            if kind == "out" and "dtype" in kwargs and fn in (np.concatenate, np.stack):
                instr.drop_kwargs = ("dtype",)  # dtype and out cannot both be given (out has it)
        if python:
            return self.concretize(wrapped, type(result), type(result).__name__)
        if out is not None and not fresh:  # fn returned the out array(s) the caller gave
            return kwargs["out"][0] if isinstance(kwargs["out"], tuple) and len(kwargs["out"]) == 1 \
                else kwargs["out"]
        return wrapped

    def _results(self, result, path, fresh):
        """Traced versions of the arrays in `result`; new arrays become fresh roots."""
        if isinstance(result, np.ndarray):
            extent = _extent(result)
            root = self._find_root(result, extent)
            if root is not None:   # a view of memory we know (or the very same array)
                v = self.value_of(result)
            else:
                v = self.fresh(result, extent=extent)
                fresh.append((path, v))
            return self.wrap(result, v)
        if isinstance(result, np.generic):  # numpy's scalars: a 0-d array, so it stays traced
            plain = np.asarray(result)
            v = self.fresh(plain)
            fresh.append((path, v))
            return self.wrap(plain, v)
        if isinstance(result, (tuple, list)) and not isinstance(result, str):
            items = [self._results(r, path + (k,), fresh) for k, r in enumerate(result)]
            return tuple(items) if type(result) is tuple else items if type(result) is list \
                else type(result)(*items)
        return result

    def _will_write(self, v):
        """Before the step first writes into a const: keep its values for the refill."""
        root = v.root
        if root.label == "parameter":
            raise CompileError(
                "mg.compile: the step changes a parameter in place (an optimizer step?). Not supported "
                "yet: an optimizer's Python state (Adam's step count, its first moments) would be "
                "baked into the plan. Call optimizer.step() after the compiled function")
        if root.kind == "const" and not root.written:
            if not root.empty:
                snapshot = root.array.copy()
                if snapshot.dtype.kind in "biufc" and not snapshot.reshape(-1).view(np.uint8).any():
                    snapshot = snapshot.dtype.type(0)  # (all zero bytes, as one_hot's np.zeros)
                root.snapshot = snapshot
        root.written = True

    def ufunc(self, ufunc, method, inputs, kwargs):
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        label = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        return self.call(fn, inputs, kwargs, label, writes=(0,) if method == "at" else (),
                         out_ok=method != "at", out_tuple=True)

    def getitem(self, array, index):
        return self.call(operator.getitem, (array, self._index(index)), {}, "[]")

    def setitem(self, array, index, value):
        index = self._index(index)
        if isinstance(value, np.ndarray) and not _has_array(index):
            target = np.ndarray.view(array, np.ndarray)[_plain(index)]
            if isinstance(target, np.ndarray) and _extent(target) == _extent(value) and \
                    target.strides == value.strides and target.shape == value.shape and target.dtype == value.dtype:
                return  # x[i] += v has already written into x[i] itself: the copy back is a no-op
        self.call(operator.setitem, (array, index, value), {}, "[]=", writes=(0,))

    def _index(self, index):
        """An index with traced integers (0-d) and traced slice bounds turned into Python ints
        (guarded): where a view starts must be known when the plan is made."""
        if type(index) is tuple:
            return tuple(self._index(i) for i in index)
        if isinstance(index, Traced) and index.ndim == 0 and index.dtype.kind in "iu":
            return operator.index(index)
        if type(index) is slice and any(isinstance(p, Traced) for p in (index.start, index.stop, index.step)):
            return slice(*(operator.index(p) if isinstance(p, Traced) else p
                           for p in (index.start, index.stop, index.step)))
        return index

    def random(self, name, method, args, kwargs):
        """A draw from minigrad's generator: recorded, to be drawn again at each replay."""
        self.calls += 1
        reads = []
        targs, tkwargs = self._template(args, reads), self._template(kwargs, reads)
        result = method(*_plain(args), **_plain(kwargs))
        if not isinstance(result, np.ndarray):
            raise CompileError(
                f"mg.compile: generator().{name}(...) gave a Python {type(result).__name__}, not an array; "
                f"a random number in Python cannot be drawn again when the step is replayed. Draw an "
                f"array (give a size) inside the step, or draw the number outside and pass it in")
        v = self.fresh(result)
        out_ok = name in ("random", "standard_normal") and "dtype" not in kwargs
        instr = Instr("random", name, targs, tkwargs, [((), v)], reads, [], f"generator().{name}")
        instr.random_out = out_ok
        self.instrs.append(instr)
        return self.wrap(result, v)

    # ---------------------------------------------------------------- values into Python
    def concretize(self, array, convert, what):
        """`convert(array)` (bool, float, int, .item(), .tolist(), ...): kept as a guard when
        minigrad's code asks, refused with a CompileError when the user's step does."""
        plain = np.ndarray.view(array, np.ndarray)
        answer = convert(plain)
        frame = _asker(sys._getframe(1))
        filename, line, code = _where(frame)
        if frame is not None and _inside(_module(frame), "minigrad"):
            v = self.value_of(array)
            instr = Instr("guard", None, None, None, [], [v], [], f"guard {what}()")
            instr.where, instr.convert, instr.expected = f"{filename}:{line}", convert, answer
            self.instrs.append(instr)
            return answer
        raise CompileError(
            f"mg.compile: {what}() of a traced value at {filename}:{line}" + (f" ({code})" if code else "")
            + ": inside a compiled function a tensor's values are not known to Python, because later "
              "calls replay the recorded numpy calls without running this line. Return the tensor "
              "and read it after the call (loss = step(x, y); loss.item()), or keep the computation "
              "in tensor ops (mg.where for a branch).")


class ParamRecord:
    """A leaf that requires grad met by the trace (a parameter): what the replay checks
    (its array is still the same, the state of .grad) and binds (.grad afterwards).

    entry_grad: its .grad when the call started (known from an earlier plan), else when the
    trace first met it."""

    __slots__ = ("tensor", "data", "entry_grad", "entry_grad_data", "requires_grad")

    def __init__(self, tensor, data, entry_grad):
        self.tensor, self.data, self.entry_grad = tensor, data, entry_grad
        self.entry_grad_data = entry_grad.data if entry_grad is not None else None
        self.requires_grad = tensor.requires_grad


def _has_array(index):
    parts = index if type(index) is tuple else (index,)
    return any(isinstance(p, (np.ndarray, list)) for p in parts)


_REFUSED = {
    "hook": "mg.compile: register_hook is not supported inside a compiled function yet (the replay runs "
            "no Python between numpy calls, so a hook would not be called): remove the hook, or run "
            "this step eagerly",
    "retain_grad": "mg.compile: retain_grad() is not supported inside a compiled function yet (only "
                   "parameters' .grad is bound after a replay): return the tensor you need, or run this "
                   "step eagerly",
    "retain_grads": "mg.compile: mg.retain_grads() is not supported inside a compiled function yet: run "
                    "the step eagerly to look at intermediate gradients",
    "record_visits": "mg.compile: mg.record_visits() is not supported inside a compiled function (the "
                     "replay runs no Python between numpy calls, so it would see no visits): run the step "
                     "eagerly to record the walk",
    "anomaly": "mg.compile: mg.detect_anomaly() is not supported inside a compiled function yet (its "
               "checks are Python between numpy calls): run the step eagerly to find the NaN",
}


# ------------------------------------------------------------------ the traced array
def _method(name, out_ok=False, writes=()):
    """An ndarray method that records itself while tracing (plain numpy otherwise)."""
    fn = getattr(np.ndarray, name)

    def method(self, *args, **kwargs):
        rec = _active
        if rec is None:
            return fn(np.ndarray.view(self, np.ndarray), *_plain(args), **_plain(kwargs))
        ok = out_ok or (name == "mean" and self.dtype in (np.float32, np.float64) and "dtype" not in kwargs)
        return rec.call(fn, (self,) + args, kwargs, f".{name}", writes=writes, out_ok=ok)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"ndarray.{name}, recorded while tracing."
    return method


def _conversion(name, convert):
    """A conversion of the values into Python (bool(x), float(x), x.item(), ...)."""
    def method(self, *args):
        rec = _active
        plain = np.ndarray.view(self, np.ndarray)
        if rec is None:
            return convert(plain, *args)
        return rec.concretize(self, (lambda a: convert(a, *args)) if args else convert, name)

    method.__name__ = method.__qualname__ = name
    return method


class Traced(np.ndarray):
    """A numpy array whose numpy calls are recorded while a Recorder is active (module
    docstring). Outside a trace it behaves as a plain ndarray (a traced array kept by a
    model after the trace is harmless, only slower)."""

    def __array_finalize__(self, obj):
        self._value = None  # a view numpy made by itself: found by its memory when used

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        rec = _active
        if rec is None:
            return getattr(ufunc, method)(*_plain(inputs), **_plain(kwargs))
        return rec.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        rec = _active
        if rec is None or func in _STATIC:
            return func(*_plain(args), **_plain(kwargs))
        return rec.call(func, args, kwargs, f"np.{func.__name__}", writes=(0,) if func in _WRITES_FIRST else (),
                        out_ok=func in _OUT_FUNCTIONS)

    def __getitem__(self, index):
        rec = _active
        if rec is None:
            return np.ndarray.view(self, np.ndarray)[_plain(index)]
        return rec.getitem(self, index)

    def __setitem__(self, index, value):
        rec = _active
        if rec is None:
            np.ndarray.view(self, np.ndarray)[_plain(index)] = _plain(value)
            return
        rec.setitem(self, index, value)

    def __repr__(self):
        return repr(np.ndarray.view(self, np.ndarray))

    def __str__(self):
        return str(np.ndarray.view(self, np.ndarray))

    def __format__(self, spec):
        return format(np.ndarray.view(self, np.ndarray), spec)

    @property
    def T(self):
        return self.transpose()

    @property
    def mT(self):
        return self.swapaxes(-1, -2)

    # views or copies (the recorder tells which by the memory of the result)
    reshape = _method("reshape")
    transpose = _method("transpose")
    swapaxes = _method("swapaxes")
    squeeze = _method("squeeze")
    ravel = _method("ravel")
    flatten = _method("flatten")
    view = _method("view")
    diagonal = _method("diagonal")
    astype = _method("astype")
    copy = _method("copy")
    __copy__ = _method("__copy__")
    __deepcopy__ = _method("__deepcopy__")
    take = _method("take")
    repeat = _method("repeat")
    compress = _method("compress")
    nonzero = _method("nonzero")
    searchsorted = _method("searchsorted")
    argsort = _method("argsort")
    conj = _method("conj")
    round = _method("round")
    dot = _method("dot")
    # reductions and scans
    sum = _method("sum", out_ok=True)
    prod = _method("prod", out_ok=True)
    max = _method("max", out_ok=True)
    min = _method("min", out_ok=True)
    any = _method("any", out_ok=True)
    all = _method("all", out_ok=True)
    cumsum = _method("cumsum", out_ok=True)
    cumprod = _method("cumprod", out_ok=True)
    clip = _method("clip", out_ok=True)
    mean = _method("mean")
    var = _method("var")
    std = _method("std")
    argmax = _method("argmax")
    argmin = _method("argmin")
    trace = _method("trace")
    # in place
    fill = _method("fill", writes=(0,))
    put = _method("put", writes=(0,))
    sort = _method("sort", writes=(0,))
    partition = _method("partition", writes=(0,))
    # values into Python
    __bool__ = _conversion("bool", bool)
    __float__ = _conversion("float", float)
    __int__ = _conversion("int", int)
    __complex__ = _conversion("complex", complex)
    __index__ = _conversion("index", operator.index)
    item = _conversion("item", np.ndarray.item)
    tolist = _conversion("tolist", np.ndarray.tolist)
    tobytes = _conversion("tobytes", np.ndarray.tobytes)


# ------------------------------------------------------------------ numpy's entry points
def _called_from_numpy():
    """True when the caller of the patched function is numpy itself or mg.compile's own code
    (which must get numpy's plain arrays)."""
    name = _module(sys._getframe(2))
    return _inside(name, "numpy") or _inside(name, "minigrad.compile")


def _holds_traced(obj):
    if isinstance(obj, Traced):
        return True
    if type(obj) in (list, tuple):
        return any(_holds_traced(o) for o in obj)
    return False


def _keeping_traced(name, original):
    """np.asarray & co. that keep a traced array traced (and record a conversion that copies)."""
    def convert(a, *args, **kwargs):
        rec = _active
        if rec is None or _called_from_numpy():
            return original(a, *args, **kwargs)
        if not isinstance(a, np.ndarray) and hasattr(type(a), "__array__") and not isinstance(a, (list, tuple)):
            inner = a.__array__()  # a Tensor: its array (traced inside the trace)
            if isinstance(inner, Traced):
                a = inner
        if isinstance(a, memoryview) and isinstance(a.obj, np.ndarray) and a.shape == a.obj.shape:
            a = a.obj  # np.asarray(x.data): `getattr(t, "data", t)` on an array gives its memoryview
        if isinstance(a, np.ndarray) or _holds_traced(a):  # (a plain array: memory read live)
            return rec.call(original, (a,) + args, kwargs, f"np.{name}")
        result = original(a, *args, **kwargs)
        if type(result) is np.ndarray and result is not a:
            root = rec.holder(result)
            if root is not None:  # the memory of a known array, reached through a buffer
                v = rec._value(root, result)
                rec._by_id[id(result)] = v
                return rec.wrap(result, v)
            return rec.constant(result)  # a new array from Python data: a constant
        return result

    convert.__name__ = convert.__qualname__ = name
    convert.__doc__ = original.__doc__
    return convert


def _making_constants(name, original):
    """np.zeros & co. that give a traced constant to minigrad's and the user's code."""
    empty = name == "empty"

    def make(*args, **kwargs):
        result = original(*args, **kwargs)
        rec = _active
        if rec is None or type(result) is not np.ndarray or _called_from_numpy():
            return result
        return rec.constant(result, empty=empty)

    make.__name__ = make.__qualname__ = name
    make.__doc__ = original.__doc__
    return make


_CONVERSIONS = ("asarray", "array", "ascontiguousarray", "asfortranarray")
_CREATIONS = ("zeros", "ones", "empty", "full", "arange", "eye", "identity")


@contextlib.contextmanager
def numpy_entry_points():
    """While tracing: numpy's array-making functions keep traced arrays traced (see the module
    docstring); put back on exit."""
    saved = {name: getattr(np, name) for name in _CONVERSIONS + _CREATIONS}
    for name in _CONVERSIONS:
        setattr(np, name, _keeping_traced(name, saved[name]))
    for name in _CREATIONS:
        setattr(np, name, _making_constants(name, saved[name]))
    try:
        yield
    finally:
        for name, original in saved.items():
            setattr(np, name, original)


class RecordingGenerator:
    """Stands in for minigrad's numpy Generator while tracing: each draw is recorded (and made
    with the real generator, so the trace's numbers are eager's)."""

    def __init__(self, real):
        self._real = real

    def __getattr__(self, name):
        attr = getattr(self._real, name)
        if name.startswith("_") or not callable(attr) or name in ("spawn", "bit_generator"):
            return attr

        def draw(*args, **kwargs):
            rec = _active
            if rec is None:
                return attr(*args, **kwargs)
            return rec.random(name, attr, args, kwargs)

        return draw


@contextlib.contextmanager
def recording(recorder):
    """Make `recorder` the active one: Function.apply reports to it, numpy's entry points and
    minigrad's generator are replaced; everything is put back on exit."""
    global _active
    if _active is not None:
        raise CompileError("mg.compile: a trace is already running (tracing is for one thread at a time)")
    real = creation._rng
    proxy = RecordingGenerator(real)
    _active = recorder
    function.tracer = recorder
    creation._rng = proxy
    try:
        with numpy_entry_points():
            yield recorder
        if creation._rng is not proxy:
            raise CompileError("mg.compile: the step called mg.manual_seed; a replay would not seed "
                               "again. Seed outside the compiled function")
    finally:
        _active = None
        function.tracer = None
        if creation._rng is proxy:
            creation._rng = real
        recorder.restore()
