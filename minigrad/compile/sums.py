"""A planner rule for `mg.compile(fn, exact=False)`: a weight's per-step gradients as one product.

A recurrent layer uses W_hh at every step, so backward gives one product per step and adds
them up, as the equations say:

    dW = h_{-1}^T d_0 + h_0^T d_1 + ... + h_{T-2}^T d_{T-1}        (T small matmuls, T-1 adds)

When the h_t are pieces of one stacked array (the layer's outputs) and the d_t of another (the
stacked gradient of the input projection), a run of these terms is ONE product of two slices:

    dW = h_{-1}^T d_0 + H[0:T-1]^T D[1:T],    H[0:T-1] = [h_0; ...; h_{T-2}], (T-1)B rows

The same sum, added in another order: the numbers differ from eager's in the last bits, which
is why the rule is off unless asked for (exact=False). Found in the program, never in the
model code: a chain of np.add whose terms are np.matmul(a.T, b) results used only there, with
`a` and `b` whole pieces of two np.stack results, at positions that step together.
"""
from typing import NamedTuple

import numpy as np

from minigrad.compile.trace import Instr, Ref, Value


def summed_products(program, rec):
    """The program with each qualifying chain's run of products made one product."""
    tried = set()  # the chains' last adds (their results' roots), tried once each
    while True:
        readers = {}  # root id -> positions of the calls reading it
        for pos, instr in enumerate(program):
            for v in instr.reads:
                readers.setdefault(v.root.id, []).append(pos)
        made_at = {v.root.id: pos for pos, instr in enumerate(program) for _, v in instr.fresh}
        stacked = _stack_pieces(program)
        for chain in _chains(program, readers, made_at):
            final = program[chain[1][-1]].fresh[0][1].root.id
            if final in tried:
                continue
            tried.add(final)
            rewritten = _rewrite(program, rec, chain, stacked, readers)
            if rewritten is not None:
                program = rewritten
                break  # (positions moved: look for the next chain in the new program)
        else:
            return program


def _stack_pieces(program):
    """{piece root id: (stack Value, index, stack position)} for np.stack(..., axis=0) of
    whole C-ordered pieces into a whole C-ordered result."""
    found = {}
    for pos, instr in enumerate(program):
        if instr.fn is not np.stack or instr.kind != "out" or len(instr.fresh) != 1 or len(instr.args) != 1 \
                or set(instr.kwargs) - {"axis"} or instr.kwargs.get("axis", 0) != 0 \
                or type(instr.args[0]) not in (tuple, list):
            continue
        out = instr.fresh[0][1]
        if not (out.is_whole and _c_ordered(out)):
            continue
        for k, ref in enumerate(instr.args[0]):
            if type(ref) is Ref and ref.value.is_whole and _c_ordered(ref.value) and ref.value.dtype == out.dtype:
                found.setdefault(ref.value.root.id, (out, k, pos))
    return found


def _c_ordered(v):
    expected, step = [], v.dtype.itemsize
    for n in reversed(v.shape):
        expected.insert(0, step)
        step *= n
    return all(s == e for n, s, e in zip(v.shape, v.strides, expected) if n > 1)


def _term(program, pos, readers):
    """If the call at pos is a term G = np.matmul(x, b) of 2-d arrays, whose result G is read
    only once (by the chain): (the root of a if x is the transpose a.T of a whole root a, else
    None; the root of b if b is whole, else None). Else None."""
    instr = program[pos]
    if instr.fn is not np.matmul or instr.kind != "out" or instr.kwargs or len(instr.args) != 2 \
            or len(instr.fresh) != 1 or not all(type(r) is Ref for r in instr.args):
        return None
    x, b = instr.args[0].value, instr.args[1].value
    g = instr.fresh[0][1]
    if len(x.shape) != 2 or len(b.shape) != 2 or not g.is_whole or len(readers.get(g.root.id, ())) != 1:
        return None
    transposed = x.offset == 0 and x.shape == x.root.shape[::-1] and x.strides == x.root.strides[::-1]
    return (x.root if transposed else None), (b.root if b.is_whole else None)


def _chains(program, readers, made_at):
    """Chains of adds, as lists of positions of the matmul terms and the adds, last add last.
    A chain's sum is s_1 = G_1' + G_2', s_k = s_{k-1} + G_{k+1}' (G' = the transposed view)."""
    chains, seen = [], set()
    for pos, instr in enumerate(program):
        if pos in seen or not _is_add(instr):
            continue
        terms, adds, cur = [], [], pos
        while True:
            ins = program[cur]
            left, right = ins.args[0].value, ins.args[1].value
            new_terms = []
            for v in ((left, right) if not adds else (right,)):
                where = made_at.get(v.root.id)
                if where is None or _term(program, where, readers) is None or v.offset != 0 \
                        or v.shape != v.root.shape[::-1] or v.strides != v.root.strides[::-1]:
                    new_terms = None
                    break
                new_terms.append(where)
            if new_terms is None or (adds and (not left.is_whole
                                               or left.root.id != program[adds[-1]].fresh[0][1].root.id)):
                break
            terms += new_terms
            adds.append(cur)
            seen.add(cur)
            out = ins.fresh[0][1]
            nxt = readers.get(out.root.id, ())
            if len(nxt) != 1 or not _is_add(program[nxt[0]]) or program[nxt[0]].args[0].value.root is not out.root:
                break
            cur = nxt[0]
        if len(terms) >= 3:
            chains.append((terms, adds))
    return chains


def _is_add(instr):
    return instr.fn is np.add and instr.kind == "out" and not instr.kwargs and len(instr.args) == 2 \
        and len(instr.fresh) == 1 and all(type(r) is Ref for r in instr.args)


class _Stacked(NamedTuple):
    """A term a.T @ b whose a and b are pieces of stacks: a = a_stack[index], b = b_stack[index + shift]."""
    a_stack: object  # the stacks' Values
    b_stack: object
    shift: int
    index: int
    pos: int  # where the term's product is in the program
    ready: int  # where the later of the two stacks is made


def _rewrite(program, rec, chain, stacked, readers):
    """The program with the longest run of terms (pieces k, k+1, ... of one stack for a, and
    k+s, k+s+1, ... of another for b) replaced by one product; None if there is none of 2+,
    or it would take every term."""
    term_pos, add_pos = chain
    candidates = []
    for p in term_pos:
        a_root, b_root = _term(program, p, readers)
        if a_root is not None and b_root is not None and a_root.id in stacked and b_root.id in stacked:
            (sa, ka, pa), (sb, kb, pb) = stacked[a_root.id], stacked[b_root.id]
            candidates.append(_Stacked(sa, sb, kb - ka, ka, p, max(pa, pb)))
    candidates.sort(key=lambda t: (t.a_stack.root.id, t.b_stack.root.id, t.shift, t.index))
    best, run = [], []
    for t in candidates:
        if run and (t.a_stack, t.b_stack, t.shift) == (run[-1].a_stack, run[-1].b_stack, run[-1].shift) \
                and t.index == run[-1].index + 1:
            run.append(t)
        else:
            run = [t]
        if len(run) > len(best):
            best = list(run)
    if len(best) < 2:
        return None
    last_add = add_pos[-1]
    final = program[last_add].fresh[0][1]
    first_reader = min(readers.get(final.root.id, [len(program)]))
    if max(t.ready for t in best) >= first_reader:  # the stacks come too late
        return None
    sa, sb, s, k0, n = best[0].a_stack, best[0].b_stack, best[0].shift, best[0].index, len(best)
    if any(v.root.id in (sa.root.id, sb.root.id) for instr in program for v in instr.writes):
        return None  # (written in place: the product would read other values)
    rows_a, rows_b = sa.shape[1], sb.shape[1]
    a_cols, b_cols = int(np.prod(sa.shape[2:])), int(np.prod(sb.shape[2:]))
    itemsize = sa.dtype.itemsize
    a_t = Value.view(rec, sa.root, k0 * sa.strides[0], (a_cols, n * rows_a), (itemsize, a_cols * itemsize),
                     sa.dtype)  # stacked a's rows k0 .. k0+n-1, transposed
    b_v = Value.view(rec, sb.root, (k0 + s) * sb.strides[0], (n * rows_b, b_cols), (b_cols * itemsize, itemsize),
                     sb.dtype)  # stacked b's rows k0+s .. k0+s+n-1
    product = rec.fresh(np.empty((a_cols, b_cols), final.dtype), label="summed products")
    errstate = program[last_add].errstate
    new = [Instr("out", np.matmul, (Ref(a_t), Ref(b_v)), {}, [((), product)], [a_t, b_v], [], "np.matmul",
                 errstate)]
    new[0].note = f"summed: {n} steps' products in one"
    merged = {t.pos for t in best}
    rest = [p for p in term_pos if p not in merged]
    if not rest:  # (a term left over keeps an add that makes the chain's result; a layer has one:
        return None  # h_{-1}, the state it starts from, is not among its stacked outputs)
    acc = _transposed(rec, product)
    for k, p in enumerate(rest):
        g = _transposed(rec, program[p].fresh[0][1])
        if k == len(rest) - 1:
            out = final
        else:
            out = rec.fresh(np.empty(final.shape, final.dtype, order="F" if final.strides[0] < final.strides[-1]
                                     else "C"))
        new.append(Instr("out", np.add, (Ref(acc), Ref(g)), {}, [((), out)], [acc, g], [], "np.add", errstate))
        acc = out
    dropped = merged | set(add_pos)
    out_program = []
    for pos, instr in enumerate(program):
        if pos == first_reader:
            out_program += new
        if pos not in dropped:
            out_program.append(instr)
    if first_reader == len(program):
        out_program += new
    return out_program


def _transposed(rec, v):
    return Value.view(rec, v.root, v.offset, v.shape[::-1], v.strides[::-1], v.dtype)
