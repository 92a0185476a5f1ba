"""Matrix product `a @ b` (2-d, batched n-d with broadcast batch axes, and 1-d vectors).

`matmul(a, b)` is the entry point (`a @ b` on tensors): it picks `MatMul`, or `OneHotMatMul`
when `a` is a large constant one-hot matrix, as a char-RNN's input is.
"""
import numpy as np

from minigrad.function import Function, unbroadcast
from minigrad.lazy_grad import OuterGrad


class MatMul(Function):
    """Y = A B;  dL/dA = dL/dY B^T,  dL/dB = A^T dL/dY (batch axes summed where broadcast)."""
    symbol = "@"

    def forward(self, a, b):
        self.saved = (a, b)
        return a @ b

    def backward(self, grad):
        a, b = self.saved
        need_a, need_b = self.inputs[0].requires_grad, self.inputs[1].requires_grad
        if a.ndim == 2 and b.ndim == 2:  # the common case; dL/dB = A^T G kept factored
            return (grad @ b.T if need_a else None), (OuterGrad([a], [grad]) if need_b else None)
        # 1-d operands act as a row (a) or column (b) vector; restore those axes in grad
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = grad
        if b.ndim == 1:
            g2 = g2[..., None]
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        ga = gb = None
        if need_a:
            ga = unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if need_b:
            gb = unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(b.shape)
        return ga, gb

    def shape_error(self, inputs, exc):
        a, b = (t.shape for t in inputs)
        if len(a) == 0 or len(b) == 0:
            return ValueError(f"matmul: {a} @ {b}: both operands need at least one dimension")
        inner_a, inner_b = a[-1], (b[0] if len(b) == 1 else b[-2])
        if inner_a != inner_b:
            return ValueError(f"matmul: {a} @ {b}: inner dimensions {inner_a} and {inner_b} differ")
        return ValueError(f"matmul: {a} @ {b}: batch dimensions {a[:-2]} and {b[:-2]} cannot be broadcast")


class OneHotMatMul(MatMul):
    """Y = A B for a constant one-hot A (row n has a single 1, in column k_n): Y[n] = B[k_n].

    The same product as MatMul, computed as a row gather instead of a matrix product (exactly
    equal for finite B: every other term is 0 * B[k, j]). The gradient is MatMul's: A is a
    constant, and dL/dB = A^T dL/dY.
    """

    def forward(self, a, b):
        if a.shape[1] != b.shape[0] or a.dtype != b.dtype:
            return MatMul.forward(self, a, b)  # the general product (and its shape errors)
        self.saved = (a, b)
        return np.take(np.ascontiguousarray(b), self.rows, axis=0)


ONE_HOT_MIN_SIZE = 16384  # below this, checking for one-hot rows costs more than it saves


def one_hot_rows(a):
    """The column of the single 1 in each row of the 2-d float array `a`, or None if some row
    is not all zeros but for a single 1."""
    if a.dtype.kind != "f" or np.count_nonzero(a) != a.shape[0]:
        return None
    cols = a.argmax(axis=1)  # a row's only nonzero, unless the row is all zeros or negative
    if not (a[np.arange(a.shape[0]), cols] == 1).all():
        return None
    return cols


def matmul(a, b):
    """a @ b for tensors: a row gather when `a` is a big constant one-hot matrix, else MatMul."""
    if (not a.requires_grad and a.data.ndim == 2 and b.data.ndim == 2
            and a.data.size >= ONE_HOT_MIN_SIZE):
        rows = one_hot_rows(a.data)
        if rows is not None:
            return OneHotMatMul.apply(a, b, rows=rows)
    return MatMul.apply(a, b)
