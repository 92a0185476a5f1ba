"""Planner rules that rewrite the program before its buffers are planned (plan.py): each keeps
eager's numbers bit for bit, and says in the printed program what it did.

  one_hot_roots        a product of one_hot's matrix (np.zeros, then np.put_along_axis of 1s) is
                       a row gather: found here, replayed as np.take by Plan._gather
  contiguous_operands  a transposed weight (W.T in x @ W.T) that several products read is copied
                       C-ordered once per call, where BLAS gives the same bits for it
  joined_in_place      the pieces of a join along the first axis that live on after it are made
                       in their blocks of the join's result, which then copies nothing

(With exact=False, sums.py adds a rule that rounds differently.)
"""
import collections

import numpy as np

from minigrad.compile.trace import Instr, Ref


_COPIES = (".astype", ".copy", "np.array", "np.asarray", "np.ascontiguousarray")


def one_hot_roots(program):
    """{root id: index Value} for the roots that are one-hot by construction: a constant made
    by np.zeros and written only by one np.put_along_axis of 1 along its last axis (its row n
    has a single 1, at the index), and a whole-array copy of one (.astype to a number type,
    .copy, np.array, np.asarray, np.ascontiguousarray: mg.tensor's copy). (A one-hot
    is known from how it was made, never by looking at its values.)"""
    writers = collections.defaultdict(list)
    for instr in program:
        for v in instr.writes:
            writers[v.root.id].append(instr)
    found = {}
    for instr in program:
        if instr.kind == "call" and instr.fn is np.put_along_axis and len(instr.args) == 3 \
                and type(instr.args[0]) is Ref and type(instr.args[1]) is Ref:
            target, index = instr.args[0].value, instr.args[1].value
            root, values, axis = target.root, instr.args[2], instr.kwargs.get("axis")
            ok = root.kind == "const" and target.is_whole and not root.empty and root.snapshot is not None \
                and not root.snapshot.any() and type(values) in (int, float) and values == 1 \
                and axis in (-1, len(target.shape) - 1) and set(instr.kwargs) == {"axis"} \
                and index.shape == target.shape[:-1] + (1,) and index.dtype.kind in "iu" \
                and all(w is instr or w.kind == "refill" for w in writers[root.id])
            if ok:
                found[root.id] = index
        elif instr.kind == "copy" and instr.label in _COPIES and len(instr.fresh) == 1 \
                and type(instr.args[0]) is Ref and instr.args[0].value.root.id in found:
            source, (_, result) = instr.args[0].value, instr.fresh[0]
            if source.is_whole and result.is_whole and result.dtype.kind in "fiu" \
                    and result.shape == source.shape and not writers[result.root.id]:
                found[result.root.id] = found[source.root.id]
    return found


# ------------------------------------------------------------------ 2b. product operands
MIN_USES = 4  # products sharing one transposed operand that make its copy worth it


def contiguous_operands(program, rec):
    """The program with one C-ordered copy of each transposed right operand of np.matmul (W.T
    of an (out, in) weight, in x @ W.T) that several products use and the step never writes:
    the copy, made where the first product was, feeds them all. BLAS reads a C-ordered
    operand faster (the LSTM's (32, 128) @ W_hh.T per step: 70 -> 50 us with one BLAS thread,
    about 2% of the small char-RNN step; with two threads no change was measurable), and gives
    the same numbers when it packs either layout into the same panels for the same kernel; for some
    shapes it picks other kernels (OpenBLAS's small-matrix ones: an (8, 64) @ (64, 64) product
    rounds differently). So it is tried here once, on the operand itself and a left operand of
    the traced shape, and a product whose bits differ keeps its operand as it was."""
    written = {v.root.id for instr in program for v in instr.writes}
    uses = collections.defaultdict(list)
    for pos, instr in enumerate(program):
        if instr.fn is np.matmul and instr.kind == "out" and len(instr.args) == 2 and not instr.kwargs \
                and type(instr.args[0]) is Ref and type(instr.args[1]) is Ref:
            v = instr.args[1].value
            if len(v.shape) == 2 and v.root.kind == "external" and v.root.id not in written \
                    and v.array is not None and v.array.flags.f_contiguous and not v.array.flags.c_contiguous:
                a = instr.args[0].value.shape
                uses[(v.root.id, v.offset, v.shape, v.strides, v.dtype, a)].append(pos)  # (a new view each use)
    copies = {}
    for positions in uses.values():
        if len(positions) < MIN_USES:
            continue
        operand = program[positions[0]].args[1].value
        if not _same_product(operand.array, program[positions[0]].args[0].value):
            continue
        copy = rec.fresh(np.empty(operand.shape, operand.dtype), label="C-ordered copy")
        copies[positions[0]] = Instr("call", np.copyto, (Ref(copy), Ref(operand)), {}, [], [operand], [copy],
                                     "np.copyto", program[positions[0]].errstate)
        copies[positions[0]].note = f"C-ordered, for {len(positions)} products"
        for pos in positions:
            instr = program[pos]
            view = instr.args[1].value
            instr.args = (instr.args[0], Ref(copy))
            instr.reads = [copy if r is view else r for r in instr.reads]
    if not copies:
        return program
    out = []
    for pos, instr in enumerate(program):
        if pos in copies:
            out.append(copies[pos])
        out.append(instr)
    return out


def _same_product(b, a_value):
    """Whether BLAS gives a @ b and a @ (C-ordered copy of b) the same bits, on this b and a
    left operand of the traced shape and type."""
    a = np.random.default_rng(0).standard_normal(a_value.shape).astype(a_value.dtype)
    with np.errstate(all="ignore"):
        return np.array_equal(a @ b, a @ np.ascontiguousarray(b), equal_nan=True)


# ------------------------------------------------------------------ 2c. joins made in place
def joined_in_place(program, rec, protected):
    """The program without the copy of each np.stack(pieces) and np.concatenate(pieces) along
    the first axis whose pieces can be made in their place: the result C-ordered, each piece a
    whole C-ordered result of a call (a temp) of the result's type, joined once, not returned,
    and neither the pieces nor the result written by a call after the join. The pieces' values
    become views of the result, at their offsets in it (each piece a block of contiguous
    memory, as its own buffer was), so the call that makes a piece writes it into the result,
    and the join has nothing left to do: the same numbers, one copy of the pieces fewer, and
    the pieces and their join no longer in memory twice (an LSTM layer's stacked outputs,
    which backward reads again).
    Only joins whose pieces are used after the join: the result's bytes are taken from the
    first piece on, and for pieces that die at the join (the gate gradients stacked for the
    input weights' gradient) that would hold the last pieces' bytes while the forward's saved
    values are all still there: measured, a larger arena (11.7 -> 13.0 MB on the small
    char-RNN step)."""
    last_write, last_use = {}, {}
    for pos, instr in enumerate(program):
        for v in instr.writes:
            last_write[v.root.id] = pos
        for v in (*instr.reads, *instr.writes):
            last_use[v.root.id] = pos
    by_root = collections.defaultdict(list)
    for v in rec.values:
        by_root[v.root.id].append(v)
    joined, removed = set(), set()
    for pos, instr in enumerate(program):
        pieces = _pieces(instr)
        if pieces is None:
            continue
        result = instr.fresh[0][1]
        roots = [p.root.id for p in pieces]
        if last_write.get(result.root.id, -1) > pos:  # (the result changed after the join: not the pieces)
            continue
        if len(set(roots)) != len(roots) or any(r in joined or r in protected or last_write.get(r, -1) > pos
                                                or last_use[r] <= pos or not _whole_c_ordered(p)
                                                or p.dtype != result.dtype or p.root.kind != "temp"
                                                for r, p in zip(roots, pieces)):
            continue
        offset = result.offset
        for piece in pieces:
            old = piece.root
            for v in by_root.pop(old.id):
                v.root, v.offset, v.is_whole = result.root, offset + v.offset, False
                by_root[result.root.id].append(v)
            offset += old.nbytes
        joined.update(roots)
        removed.add(pos)
    return [instr for pos, instr in enumerate(program) if pos not in removed] if removed else program


def _pieces(instr):
    """The pieces' Values of a join along the first axis into a C-ordered result, or None."""
    if instr.kind != "out" or instr.fn not in (np.stack, np.concatenate) or len(instr.fresh) != 1 \
            or len(instr.args) != 1 or type(instr.args[0]) not in (tuple, list) or not instr.args[0] \
            or instr.kwargs.get("axis", 0) != 0 or instr.kwargs.get("dtype") is not None \
            or not set(instr.kwargs) <= {"axis", "dtype"} or not _whole_c_ordered(instr.fresh[0][1]):
        return None
    if any(type(r) is not Ref for r in instr.args[0]):
        return None
    return [r.value for r in instr.args[0]]


def _whole_c_ordered(v):
    """Whether value v is its root's whole array, laid out in C order."""
    strides, step = [], v.dtype.itemsize
    for n in reversed(v.shape):
        strides.append(step)
        step *= n
    return v.is_whole and all(s == c for s, c, n in zip(v.strides, reversed(strides), v.shape) if n > 1)
