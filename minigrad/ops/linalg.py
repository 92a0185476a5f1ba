"""Matrix product `a @ b` (2-d, batched n-d with broadcast batch axes, and 1-d vectors), and einsum.

`mm` and `bmm` are the matrix product for exactly 2-d and 3-d operands, as in torch.
"""
import numpy as np

from minigrad.function import Function


class MatMul(Function):
    """Y = A B;  dL/dA = dL/dY B^T,  dL/dB = A^T dL/dY (batch axes summed where broadcast)."""
    symbol = "@"

    def forward(self, a, b):
        self.saved = (a, b)
        return a @ b

    def backward(self, grad):
        a, b = self.saved
        if a.ndim == 1 or b.ndim == 1:
            return self.vector_backward(grad)
        ga = grad @ np.swapaxes(b, -1, -2) if self.inputs[0].requires_grad else None
        gb = np.swapaxes(a, -1, -2) @ grad if self.inputs[1].requires_grad else None
        return ga, gb

    def vector_backward(self, grad):
        """A vector operand acts as a row (a) or a column (b): put that axis back in it and in
        grad, take the matrices' gradients, then drop the axis again."""
        a, b = self.saved
        if b.ndim == 1:
            b, grad = b[:, None], grad[..., None]
        if a.ndim == 1:
            a, grad = a[None, :], np.expand_dims(grad, -2)
        ga = grad @ np.swapaxes(b, -1, -2) if self.inputs[0].requires_grad else None
        gb = np.swapaxes(a, -1, -2) @ grad if self.inputs[1].requires_grad else None
        return _squeezed(ga, self.saved[0]), _squeezed(gb, self.saved[1])

    def shape_error(self, inputs, exc):
        a, b = (t.shape for t in inputs)
        if len(a) == 0 or len(b) == 0:
            return ValueError(f"matmul: {a} @ {b}: both operands need at least one dimension")
        inner_a, inner_b = a[-1], (b[0] if len(b) == 1 else b[-2])
        if inner_a != inner_b:
            return ValueError(f"matmul: {a} @ {b}: inner dimensions {inner_a} and {inner_b} differ")
        return ValueError(f"matmul: {a} @ {b}: batch dimensions {a[:-2]} and {b[:-2]} cannot be broadcast")


def _squeezed(grad, x):
    """A vector operand's gradient without the axis backward put back (batch axes stay: the
    engine sums them)."""
    if grad is None or x.ndim != 1:
        return grad
    return grad.sum(axis=tuple(range(grad.ndim - 2))).reshape(x.shape)


def mm(a, b):
    """torch.mm: the product of two matrices (2-d only; matmul broadcasts, mm does not)."""
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"mm: both operands must be matrices (2-d), got shapes {a.shape} and {b.shape}")
    return MatMul.apply(a, b)


def bmm(a, b):
    """torch.bmm: a batch of matrix products, (B, n, k) @ (B, k, m) -> (B, n, m) (no broadcasting)."""
    if a.ndim != 3 or b.ndim != 3:
        raise ValueError(f"bmm: both operands must be 3-d (batch, rows, columns), got shapes "
                         f"{a.shape} and {b.shape}")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ValueError(f"bmm: {a.shape} @ {b.shape}: expected the second operand to have shape "
                         f"({a.shape[0]}, {a.shape[2]}, m)")
    return MatMul.apply(a, b)


class Einsum(Function):
    """y = einsum(equation, x_1, x_2, ...): the products of the operands' elements, summed over
    every letter not in the output (e.g. "ij,jk->ik" is A B);
    dL/dx_k = einsum("out,(the other operands)->subs_k", dL/dy, (the other operands)): the same
    contraction with x_k's subscripts and the output's swapped (for "ij,jk->ik": dL/dA =
    einsum("ik,jk->ij", G, B) = G B^T). A letter of x_k found nowhere else was summed over x_k
    alone, so its gradient is broadcast back along that axis."""
    symbol = "einsum"

    def forward(self, *xs):
        self.saved = xs
        return np.asarray(np.einsum(self.equation, *xs))

    def backward(self, grad):
        xs, (*ins, out) = self.saved, self.subscripts
        grads = []
        for k, x in enumerate(xs):
            if not self.inputs[k].requires_grad:
                grads.append(None)
                continue
            other_subs = [s for j, s in enumerate(ins) if j != k]
            others = [y for j, y in enumerate(xs) if j != k]
            known = set(out).union(*other_subs)
            target = "".join(c for c in ins[k] if c in known)
            g = np.einsum(",".join([out] + other_subs) + "->" + target, grad, *others)
            summed_alone = [d for d, c in enumerate(ins[k]) if c not in known]
            grads.append(np.broadcast_to(np.expand_dims(g, summed_alone), x.shape))
        return tuple(grads)


def einsum(equation, *operands):
    """torch.einsum for operands whose subscripts are distinct letters (no "ii", no "...").

    Examples: "ij,jk->ik" (matmul), "bij,bjk->bik" (bmm), "i,i->" (dot), "ij->ji" (transpose),
    "bi,bi->b" (row-wise dot), "i,j->ij" (outer). Without "->" the output is the letters that
    appear once, in alphabetical order (as torch).
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ins, out = _parse_einsum(equation, len(operands))
    sizes = {}
    for k, (subs, t) in enumerate(zip(ins, operands)):
        if len(subs) != t.ndim:
            raise ValueError(f"einsum: operand {k} has subscripts {subs!r} ({len(subs)} letters) but "
                             f"shape {t.shape} ({t.ndim} dimensions)")
        for c, n in zip(subs, t.shape):
            if sizes.setdefault(c, (n, k, t.shape))[0] != n:
                m, j, shape = sizes[c]
                raise ValueError(f"einsum: letter {c!r} has size {m} in operand {j} (shape {shape}) "
                                 f"but size {n} in operand {k} (shape {t.shape})")
    explicit = ",".join(ins) + "->" + out
    return Einsum.apply(*operands, equation=explicit, subscripts=(*ins, out))


def _parse_einsum(equation, n):
    """The operands' subscripts and the output's: "ij,jk->ik" -> (["ij", "jk"], "ik")."""
    eq = equation.replace(" ", "")
    if "..." in eq:
        raise ValueError(f"einsum: {equation!r}: '...' (ellipsis) is not supported; name every axis")
    lhs, arrow, out = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != n:
        raise ValueError(f"einsum: {equation!r} has subscripts for {len(ins)} operand(s), but {n} given")
    letters = "".join(ins)
    if not arrow:
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    for subs in ins + [out]:
        if not all(c.isalpha() for c in subs):
            raise ValueError(f"einsum: {equation!r}: subscripts must be letters, got {subs!r}")
        if len(set(subs)) != len(subs):
            raise ValueError(f"einsum: {equation!r}: {subs!r} repeats a letter (a diagonal or trace); "
                             f"only distinct letters within each operand and the output are supported")
    missing = set(out) - set(letters)
    if missing:
        raise ValueError(f"einsum: {equation!r}: output letter(s) {''.join(sorted(missing))!r} "
                         f"appear in no operand")
    return ins, out
