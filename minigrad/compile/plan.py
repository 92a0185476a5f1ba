"""The plan: the recorded numpy calls of one traced call, as a flat program over buffers made
once, that a later call with the same signature replays.

From the recording (trace.py) to the program, in four steps (and between 2 and 3 the rules of
rules.py: a one-hot product as a gather, a C-ordered copy of a transposed operand many products
share, joins made in place; with exact=False also sums.py's: a recurrent weight's per-step
gradient products summed as one). listing.py prints the result:

  1. Keep what matters: a call is kept if it draws random numbers, checks a guard, writes into
     memory that outlives the call (a parameter's .grad, say), or makes a value that a kept
     call, a returned tensor or a parameter's new .grad uses. The rest is dead code.
  2. Refill: a constant the step made and then wrote into (one_hot's np.zeros) gets its values
     back where it was made, so nothing leaks from one call into the next.
  3. Buffers: every temp root (a result of a recorded call) gets a buffer of its bytes. A buffer
     is free after the last call that uses its root or any view of it; a later result of the
     same size takes it over (liveness reuse), so the plan needs about as much memory as the
     most that is alive at once, not the sum of all results. Inputs, returned values and
     gradients keep buffers of their own.
  4. Bind: each value becomes an array on its buffer (views included: x.T, x[:, :H], made here
     once), each call a Python callable with its arrays bound: ufuncs and reductions write into
     their buffer with out=, other functions are called and their result copied in.

Replaying is then: copy the inputs in, call each step, bind the gradient buffers to the
parameters' .grad, and return copies of the returned values. `str(plan)` prints the program.
"""
import collections
import functools
import sys
import weakref

import numpy as np

from minigrad import creation
from minigrad.compile.listing import describe, plan_stats, root_names, size_text
from minigrad.compile.rules import contiguous_operands, joined_in_place, one_hot_roots
from minigrad.compile.sums import summed_products
from minigrad.compile.trace import GuardFailed, Instr, Ref, _same, cyclic_gc_paused
from minigrad.tensor import Tensor

ALIGN = 64  # bytes: every buffer starts on a cache line


class Plan:
    """The program for one signature. Built by api.py from a finished Recorder.

    Args:
        rec: the Recorder of the traced call.
        outputs: the returned structure, with ("tensor", Value, name), ("array", Value) and
            ("const", object) leaves in ("tuple" | "list", [items]) and ("dict", keys, [items]).
        grads: (tensor, Value) pairs: after a replay, tensor.grad is the value's buffer
            (tensor is a parameter, or the index of an argument tensor).
        clears: parameters whose .grad the step sets to None.
        checks: what must hold before a replay: (tensor, its array, requires_grad, rule,
            grad, grad array), rule "read" (the step reads the .grad it comes with: one of
            that shape and type must be there, copied into the array the trace read), "none"
            (.grad must be None), "same" (.grad must be that
            tensor on that array) or "any".
        input_tensor: per input, whether it came in as a Tensor (else a numpy array).
        title: what `str(plan)` starts with.
        reuse: share buffers between values whose lifetimes do not overlap.
        exact: False lets the planner sum a weight's per-step gradients as one product (sums.py):
            faster, and equal to eager's numbers only up to float rounding.
    """

    def __init__(self, rec, outputs, grads, clears, checks, input_tensor, title, reuse=True, pool=None,
                 exact=True):
        self.title = title
        self.checks, self.clears = checks, clears
        protected = {v.root.id for _, v in grads} | {v.root.id for v in _output_values(outputs)}
        program = _refilled(_live(rec.instrs, protected), rec)
        if not exact:  # rules that add in another order than eager (sums.py)
            program = summed_products(program, rec)
        self.program = program
        self._names = root_names(rec, checks)
        self._one_hot = one_hot_roots(program)
        for instr in program:  # a product that may become a gather reads the indices then: live till there
            if instr.fn is np.matmul and instr.args and type(instr.args[0]) is Ref \
                    and instr.args[0].value.root.id in self._one_hot:
                instr.reads.append(self._one_hot[instr.args[0].value.root.id])
        program = contiguous_operands(program, rec)
        program = self.program = joined_in_place(program, rec, protected)
        self.random = any(i.kind == "random" for i in program)
        self.guards = sum(i.kind == "guard" for i in program)
        # where the buffers go is worked out, the buffers made and the calls bound to them at
        # the first replay (`_materialize`; `stats` and printing work the layout out earlier):
        # the tracing call stays short, and by the first replay the traced call's own arrays
        # (eager's graph, kept by what it returned) are usually gone, so the two are not in
        # memory at once
        self._blocks = self._block_of = self._stats = None
        self._layout_args = (rec, protected, reuse)
        self._pending = (rec, outputs, grads, input_tensor, pool if pool is not None else BufferPool())
        self._inputs_and_grads = len(rec.inputs), len(grads)
        rec.compact(program)
        self._steps = None

    def _layout(self):
        if self._blocks is None:
            rec, protected, reuse = self._layout_args
            self._blocks, self._block_of = _allocate(self.program, rec, protected, reuse)
            self._stats = plan_stats(rec, self.program, self._blocks)
            self._layout_args = None
        return self._block_of

    @property
    def stats(self):
        """Counts: numpy calls per call, buffers and bytes, and those of the traced eager call."""
        self._layout()
        return self._stats

    @property
    def steps(self):
        """The bound calls (made on first use)."""
        if self._steps is None:
            self._materialize()
        return self._steps

    def _materialize(self):
        """Make the buffers (the shared ones from the pool) and bind every call to them."""
        with cyclic_gc_paused():
            self._bind_program()

    def _bind_program(self):
        rec, outputs, grads, input_tensor, pool = self._pending
        give_back_memory()
        self._layout()
        self.grads_read = [(t, grad_data) for t, _, _, rule, _, grad_data in self.checks if rule == "read"]
        reading = {id(t) for t, _ in self.grads_read}
        for t, v in grads:  # a parameter's new .grad: the same buffer in every plan of the function
            block = self._block_of.get(v.root.id)    # (unless the step reads the .grad it came with)
            if isinstance(t, Tensor) and id(t) not in reading and v.is_whole and block is not None \
                    and not block[4] and block[0] is None:
                pool.provide_grad(t, block)
        for b in self._blocks:
            if b[4]:
                pool.provide(b)
            elif b[0] is None:
                b[0] = np.empty(b[3] + ALIGN, np.uint8)
                b[1] = -b[0].ctypes.data % ALIGN
        self._bound = {}
        self.inputs = [(self._array(v), is_tensor) for v, is_tensor in zip(rec.inputs, input_tensor)]
        self.grads = [(t, self._array(v)) for t, v in grads]
        self.outputs = _bind_outputs(outputs, self._array)
        self._steps = _grouped([self._step(instr) for instr in self.program], self.program)
        rec.release({root.id for root in rec.roots if not _planned(root)})
        self._pending = self._bound = None  # (the bound calls hold the arrays they use)
        give_back_memory()  # (the trace's arrays just let go of: before the first replay touches
                            # the new buffers, so the two are not resident at once)

    # ---------------------------------------------------------------- replay
    def check(self, leaves):
        """None if the plan fits this call, else why not (a parameter changed, ...)."""
        for t, data, requires_grad, rule, grad, grad_data in self.checks:
            if t.data is not data:
                return f"a parameter of shape {data.shape} has a new array (e.g. after .double() or load)"
            if t.requires_grad != requires_grad:
                return f"a parameter of shape {data.shape} switched requires_grad"
            if rule == "none" and t._grad is not None:
                return f"a parameter of shape {data.shape} has a .grad now (the trace had none)"
            if rule == "same" and (t._grad is not grad or grad.data is not grad_data):
                return f"the .grad of a parameter of shape {data.shape} is another tensor than at the trace"
            if rule == "read" and (t._grad is None or t._grad.data.shape != grad_data.shape
                                   or t._grad.data.dtype != grad_data.dtype):
                return f"the step reads the .grad of a parameter of shape {data.shape}, which has none now " \
                       f"or one of another shape or type"
        return None

    def run(self, leaves):
        """Replay on the inputs `leaves` (the arguments' tensors and arrays, in order)."""
        if self._steps is None:
            self._materialize()
        for (buf, is_tensor), leaf in zip(self.inputs, leaves):
            np.copyto(buf, leaf.data if is_tensor else leaf)
        for t, grad_data in self.grads_read:  # the .grad there is now, where the trace read one
            if t._grad.data is not grad_data:
                np.copyto(grad_data, t._grad.data)
        state = creation.generator().bit_generator.state if self.random and self.guards else None
        try:
            for step in self._steps:
                step()
        except GuardFailed:
            if state is not None:  # the eager call that follows draws the same numbers again
                creation.generator().bit_generator.state = state
            raise
        for target, buf in self.grads:
            (leaves[target] if type(target) is int else target)._grad = Tensor(buf)
        for t in self.clears:
            t._grad = None
        return _build(self.outputs)

    # ---------------------------------------------------------------- binding
    def _array(self, v):
        """The array of value v in the plan: on its buffer, or the trace's own array for
        external memory and constants the step never writes."""
        a = self._bound.get(v.id)
        if a is None:
            block = self._block_of.get(v.root.id)
            if 0 in v.shape:
                a = np.empty(v.shape, v.dtype)
            elif block is None:
                a = v.array
            else:
                raw, start = (block[0][0], block[0][1] + block[1]) if block[4] else (block[0], block[1])
                a = np.ndarray(v.shape, v.dtype, buffer=raw, offset=start + v.offset, strides=v.strides)
            self._bound[v.id] = a
        return a

    def _bind(self, obj):
        if type(obj) is Ref:
            return self._array(obj.value)
        t = type(obj)
        if t is tuple or t is list:
            return t(self._bind(o) for o in obj)
        if t is dict:
            return {k: self._bind(o) for k, o in obj.items()}
        return obj

    def _step(self, instr):
        """A callable doing `instr` on the plan's arrays."""
        kind = instr.kind
        if kind == "guard":
            return _guard(self._array(instr.reads[0]), instr.convert, instr.expected, instr.where)
        args, kwargs = self._bind(instr.args), self._bind(instr.kwargs)
        fresh = [(path, self._array(v)) for path, v in instr.fresh]
        if kind == "refill":
            return functools.partial(np.copyto, *args)
        if kind == "random":
            return _draw(instr.fn, args, kwargs, fresh[0][1], instr.random_out)
        if kind == "out" and instr.fn is np.matmul:
            gather = self._gather(instr, args, kwargs, fresh)
            if gather is not None:
                return gather
        if kind == "out":
            for name in instr.drop_kwargs:
                kwargs.pop(name, None)
            bufs = tuple(buf for _, buf in sorted(fresh, key=lambda item: item[0]))
            kwargs["out"] = bufs if instr.out_tuple else bufs[0]
        if kind in ("call", "out"):
            if isinstance(instr.fn, np.ufunc):
                args = _numbers_as_arrays(args, instr.fn.nin)
                if kwargs.get("dtype", 0) is None:
                    del kwargs["dtype"]  # (Sigmoid's np.negative(x, dtype=None): the default)
                if set(kwargs) == {"out"} and instr.fn not in (np.maximum, np.minimum):
                    # outputs as positional arguments: a little faster (numpy deprecates it for
                    # maximum and minimum only)
                    out = kwargs.pop("out")
                    args = (*args, *(out if isinstance(out, tuple) else (out,)))
            return functools.partial(instr.fn, *args, **kwargs)
        return _copy(instr.fn, args, kwargs, fresh, instr.label)

    def _gather(self, instr, args, kwargs, fresh):
        """A @ B for a one-hot A known from the program's structure (one_hot's np.zeros and
        np.put_along_axis of 1s, maybe cast with .astype) as a row gather, B[k_n] for row n:
        a product of a one-hot matrix is exactly a row gather, the same numbers as the
        product for finite B. None if this product is not one."""
        if kwargs or len(args) != 2 or len(instr.args) != 2 or type(instr.args[0]) is not Ref:
            return None
        va = instr.args[0].value
        index = self._one_hot.get(va.root.id)
        a, b = args
        out = fresh[0][1] if len(fresh) == 1 else None
        if index is None or out is None or a.ndim != 2 or b.ndim != 2 or not a.flags.c_contiguous \
                or va.offset != 0 or a.nbytes != va.root.nbytes or not a.dtype == b.dtype == out.dtype \
                or a.dtype.kind != "f" or out.shape != (a.shape[0], b.shape[1]):
            return None
        idx = self._array(index)
        if not idx.flags.c_contiguous or idx.size != a.shape[0]:
            return None
        rows = idx.reshape(-1)
        if not np.shares_memory(rows, idx):  # (a view: it sees each call's indices)
            return None
        # mode "wrap": a negative index counts from the end, as np.put_along_axis placed it (which
        # ran before and raised for one out of range); "raise" would copy `out` at every call
        if b.flags.c_contiguous:
            return functools.partial(np.take, b, rows, 0, out, "wrap")
        ordered = np.empty(b.shape, b.dtype)  # b (W.T, say) C-ordered first: each row is then one
                                              # block of memory, about 5x faster to gather

        def gather():
            np.copyto(ordered, b)
            np.take(ordered, rows, 0, out, "wrap")
        return gather

    # ---------------------------------------------------------------- printing
    def __str__(self):
        s = self.stats
        lines = [
            self.title,
            f"  per call: {s['steps']} numpy calls ({s['guards']} guards, {s['random']} random draws, "
            f"{s['refills']} refills), {self._inputs_and_grads[0]} input copies, "
            f"{self._inputs_and_grads[1]} .grad bound",
            f"  buffers: {s['buffers']} ({size_text(s['buffer_bytes'])}) for {s['temps']} results "
            f"({size_text(s['temp_bytes'])} without reuse); inputs {size_text(s['input_bytes'])}; "
            f"external {s['externals']} arrays ({size_text(s['external_bytes'])}), constants {s['consts']}",
            f"  traced from one eager call: {s['ops']} ops (Function.apply), {s['calls']} numpy calls, "
            f"{s['allocations']} new arrays ({size_text(s['allocated_bytes'])})",
        ]
        for pos, instr in enumerate(self.program):
            lines.append(f"{pos:6d}  " + describe(instr, self._name))
        return "\n".join(lines)

    __repr__ = __str__

    def _name(self, v):
        root = v.root
        block = self._layout().get(root.id)
        name = f"b{block[2]}" if block is not None and root.kind == "temp" else self._names[root.id]
        return name + ("" if v.is_whole else "'")


# ------------------------------------------------------------------ 1. live calls
def _live(instrs, protected):
    """The calls that matter (module docstring, step 1), in order."""
    live = set(protected)
    kept = []
    for instr in reversed(instrs):
        keep = instr.kind in ("guard", "random") \
            or any(w.root.kind in ("external", "input") or w.root.id in live for w in instr.writes) \
            or any(v.root.id in live for _, v in instr.fresh)
        if keep:
            kept.append(instr)
            live.update(v.root.id for v in instr.reads)
            live.update(v.root.id for v in instr.writes)
    kept.reverse()
    return kept


# ------------------------------------------------------------------ 2. refills
def _refilled(instrs, rec):
    """The program with a refill of each written constant (that has values to keep) where the
    constant was made."""
    used = {v.root.id for instr in instrs for v in (*instr.reads, *instr.writes)}
    refills = collections.defaultdict(list)
    for root in rec.roots:
        if root.kind == "const" and root.written and root.snapshot is not None and root.id in used:
            v = rec.value_of(root.array)
            refills[root.created_at].append(Instr("refill", np.copyto, (Ref(v), root.snapshot), {}, [], [],
                                                  [v], "refill"))
    if not refills:
        return list(instrs)
    position = {id(instr): k for k, instr in enumerate(rec.instrs)}
    program = []
    pending = sorted(refills)
    for instr in instrs:
        at = position[id(instr)]
        while pending and pending[0] <= at:
            program += refills[pending.pop(0)]
        program.append(instr)
    return program


# ------------------------------------------------------------------ 3. buffers
def _planned(root):
    """Whether the plan gives this root a buffer (inputs, results, written constants)."""
    return root.kind in ("input", "temp") or (root.kind == "const" and root.written)


def _allocate(program, rec, protected, reuse):
    """Where each planned root lives: ({root id: block}, the blocks). A block is
    [raw bytes, start, number, nbytes, shared]; the memory is made later (Plan._materialize).

    Temps (results of the calls, unless returned or bound to a .grad) share one arena, each at
    a byte offset chosen once for the whole program, as TFLite's planner does ("greedy by
    size"): from the largest down, each takes the lowest-waste gap among the temps alive at the
    same time, so the arena is close to the most bytes alive at once. An elementwise ufunc's
    result may overlap an input whose last use is that call (numpy computes x = f(x, y) in
    place, element by element, with the same numbers; a partial overlap it buffers itself).
    The plans of one compiled function share the arena's memory (BufferPool). Inputs, returned
    values, gradients and written constants have buffers of their own.
    """
    first, last = {}, {}
    for pos, instr in enumerate(program):
        for v in (*instr.reads, *instr.writes, *(v for _, v in instr.fresh)):
            first.setdefault(v.root.id, pos)
            last[v.root.id] = pos
    roots = {root.id: root for root in rec.roots}
    for v in rec.inputs:
        first[v.root.id], last[v.root.id] = -1, len(program)
    blocks, block_of = [], {}
    shared = []
    for rid in first:
        root = roots[rid]
        if not _planned(root):
            continue
        if reuse and root.kind == "temp" and rid not in protected:
            pos = first[rid]
            instr = program[pos]
            elementwise = instr.kind == "out" and isinstance(instr.fn, np.ufunc) and instr.fn.signature is None
            shared.append((-_aligned(root.nbytes), 2 * pos + (2 if elementwise else 1), 2 * last[rid] + 1, rid))
        else:
            block = [None, 0, len(blocks), root.nbytes, False]
            blocks.append(block)
            block_of[rid] = block
    for rid in protected:  # returned values that are neither results nor inputs: their own buffer
        if rid not in block_of and _planned(roots[rid]):
            block = [None, 0, len(blocks), roots[rid].nbytes, False]
            blocks.append(block)
            block_of[rid] = block
    if shared:
        offsets, arena_bytes = _place(sorted(shared))
        arena = [None, 0, len(blocks), arena_bytes, True]
        blocks.append(arena)
        numbers = {off: k for k, off in enumerate(sorted(set(offsets.values())), start=len(blocks))}
        for rid, off in offsets.items():
            block_of[rid] = [arena, off, numbers[off], roots[rid].nbytes, True]
    return blocks, block_of


def _aligned(nbytes):
    return -(-nbytes // ALIGN) * ALIGN


_ENDLESS = np.iinfo(np.int64).max  # the top of the arena: the gap above every placed item


def _place(items):
    """Offsets for (-size, start, end, root id) items (largest first) such that items whose
    [start, end] meet do not share bytes; and the bytes needed."""
    n = len(items)
    p_start, p_end = np.empty(n, np.int64), np.empty(n, np.int64)
    p_lo, p_hi = np.empty(n, np.int64), np.empty(n, np.int64)
    offsets, top, k = {}, 0, 0
    for neg, start, end, rid in items:
        size = -neg
        if size == 0:
            offsets[rid] = 0
            continue
        meet = (p_start[:k] <= end) & (p_end[:k] >= start)
        lo, hi = p_lo[:k][meet], p_hi[:k][meet]
        off = 0
        if lo.size:
            order = np.argsort(lo, kind="stable")
            lo, hi = lo[order], np.maximum.accumulate(hi[order])
            # gaps: [0, lo[0]), [hi[j], lo[j+1]), [hi[-1], inf)
            gap_lo = np.concatenate(([0], hi))
            gap_hi = np.concatenate((lo, [_ENDLESS]))
            room = gap_hi - gap_lo
            fits = np.flatnonzero(room >= size)
            best = fits[np.argmin(room[fits])]  # the tightest gap (the last one is endless)
            off = int(gap_lo[best])
        p_start[k], p_end[k], p_lo[k], p_hi[k] = start, end, off, off + size
        k += 1
        offsets[rid] = off
        top = max(top, off + size)
    return offsets, top


def give_back_memory():
    """Hand the heap memory freed by the traced call back to the operating system (glibc keeps
    freed blocks of up to 32 MB in the process otherwise, which would add the eager call's peak
    to the plan's buffers in the resident size). A no-op where there is no malloc_trim."""
    global _trim
    if _trim is None:
        _trim = False
        if sys.platform.startswith("linux"):
            import ctypes
            try:
                _trim = ctypes.CDLL(None).malloc_trim  # (the C library the process has: glibc's)
            except (OSError, AttributeError):
                pass
    if _trim:
        _trim(0)


_trim = None


class BufferPool:
    """The memory the plans of one compiled function share (they never run at once): the
    arena, grown when a plan needs more (the plans bound to the old one keep it), and one
    buffer per parameter for its new .grad, which every plan's replay rebinds (as one plan's
    replays do: a .grad kept from an earlier call sees the later call's values)."""

    def __init__(self):
        self.raw, self.start, self.nbytes = None, 0, -1
        self.grads = {}  # id(parameter) -> (weak reference to it, its buffer)

    def provide(self, arena):
        if arena[3] > self.nbytes:
            self.raw = np.empty(arena[3] + ALIGN, np.uint8)
            self.start, self.nbytes = -self.raw.ctypes.data % ALIGN, arena[3]
        arena[0], arena[1] = self.raw, self.start

    def provide_grad(self, param, block):
        ref, raw = self.grads.get(id(param), (None, None))
        if ref is None or ref() is not param or raw.nbytes != block[3] + ALIGN:
            raw = np.empty(block[3] + ALIGN, np.uint8)
            self.grads[id(param)] = (weakref.ref(param), raw)
        block[0], block[1] = raw, -raw.ctypes.data % ALIGN


# ------------------------------------------------------------------ 4. steps
def _numbers_as_arrays(args, nin):
    """A ufunc's Python number beside one float array as a 0-d array of that array's type: numpy
    casts the number to the array's type anyway (NEP 50), so the numbers are the same, and the
    call skips the conversion each time (np.add(1, x) on a (32, 128) float32 x: 0.95 -> 0.64 us;
    the small char-RNN step has about 700 such calls)."""
    arrays = [a for a in args[:nin] if isinstance(a, np.ndarray)]
    if len(arrays) != 1 or arrays[0].dtype.kind != "f":
        return args
    out = list(args)
    for k, a in enumerate(args[:nin]):
        if type(a) in (int, float):
            with np.errstate(all="ignore"):
                number = np.array(a, arrays[0].dtype)
            if np.isfinite(number):  # (one that overflows the type stays as it was: numpy warns of it)
                out[k] = number
    return tuple(out)


def _guard(buf, convert, expected, where):
    def guard():
        if not _same(convert(buf), expected):
            raise GuardFailed(where)
    return guard


def _draw(name, args, kwargs, buf, out_ok):
    """A draw from minigrad's generator of the moment (mg.manual_seed makes a new one)."""
    if out_ok:
        def draw():
            getattr(creation.generator(), name)(*args, out=buf, **kwargs)
    else:
        shape = buf.shape

        def draw():
            result = getattr(creation.generator(), name)(*args, **kwargs)
            if np.shape(result) != shape:
                raise GuardFailed(f"generator().{name} drew shape {np.shape(result)}, traced {shape}")
            np.copyto(buf, result)
    return draw


def _copy(fn, args, kwargs, fresh, label):
    """fn(...) for a function without out=: its result copied into the planned buffer(s),
    after checking the shape (which may depend on the values: x[mask])."""
    if len(fresh) == 1 and fresh[0][0] == ():
        buf = fresh[0][1]
        shape = buf.shape

        def copy():
            result = fn(*args, **kwargs)
            if getattr(result, "shape", ()) != shape:
                raise GuardFailed(f"{label} gave shape {np.shape(result)}, traced {shape}")
            np.copyto(buf, result)
        return copy

    def copy_parts():
        result = fn(*args, **kwargs)
        for path, buf in fresh:
            part = result
            for k in path:
                part = part[k]
            if getattr(part, "shape", ()) != buf.shape:
                raise GuardFailed(f"{label} gave shape {np.shape(part)}, traced {buf.shape}")
            np.copyto(buf, part)
    return copy_parts


def _grouped(steps, program):
    """The steps, with each run of calls made under a numpy errstate other than the one at the
    start of the trace (np.errstate(over="ignore") around an exp) replayed under it."""
    out, k = [], 0
    while k < len(steps):
        state = program[k].errstate
        if state is None:
            out.append(steps[k])
            k += 1
            continue
        j = k
        while j < len(steps) and program[j].errstate == state:
            j += 1
        out.append(_under(state, steps[k:j]))
        k = j
    return out


def _under(state, steps):
    def run():
        with np.errstate(**state):
            for step in steps:
                step()
    return run


# ------------------------------------------------------------------ outputs
def _output_values(spec):
    kind = spec[0]
    if kind in ("tensor", "array"):
        yield spec[1]
    elif kind in ("tuple", "list"):
        for item in spec[1]:
            yield from _output_values(item)
    elif kind == "dict":
        for item in spec[2]:
            yield from _output_values(item)


def _bind_outputs(spec, array):
    kind = spec[0]
    if kind == "tensor":
        return (kind, array(spec[1]), spec[2])
    if kind == "array":
        return (kind, array(spec[1]))
    if kind in ("tuple", "list"):
        return (kind, [_bind_outputs(item, array) for item in spec[1]])
    if kind == "dict":
        return (kind, spec[1], [_bind_outputs(item, array) for item in spec[2]])
    return spec


def _build(spec):
    """The returned structure of a replay: new tensors and arrays holding copies of the values
    (the buffers are written again by the next call)."""
    kind = spec[0]
    if kind == "tensor":
        t = Tensor(spec[1].copy())
        t.name = spec[2]
        return t
    if kind == "array":
        return spec[1].copy()
    if kind == "tuple":
        return tuple(_build(item) for item in spec[1])
    if kind == "list":
        return [_build(item) for item in spec[1]]
    if kind == "dict":
        return dict(zip(spec[1], (_build(item) for item in spec[2])))
    return spec[1]
