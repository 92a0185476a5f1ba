"""Gradients kept in a cheaper form than a dense array until the engine needs the array.

Two ops give them, where the dense form would waste work on the hot path of an RNN:

    IndexedGrad   x[index]'s gradient: zero but at `index`. Added into place in the pending
                  gradient, instead of building a mostly-zero array (an LSTM slices its four
                  gates out of one array every step).
    OuterGrad     a matmul's gradient for its right operand, A^T G, kept as the factors. A
                  weight used at every time step gets one contribution per step, and
                  sum_k A_k^T G_k = [A_1; ...; A_n]^T [G_1; ...; G_n]: one large matmul when
                  the sum is complete, instead of n small ones and n additions.

The engine (autograd.py) sums contributions with `absorb`/`add_to` and calls `dense()` when a
tensor's gradient is complete; a Function that sets `accepts_lazy = True` is handed the lazy
form itself (Transpose passes an OuterGrad on transposed).
"""
import numpy as np


class LazyGrad:
    """Interface: `shape`, `dense()`, `add_to(buffer)`, `absorb(other) -> bool`, `check_values()`."""

    __slots__ = ()

    def absorb(self, other):
        """Take `other` into self in place if it is of a kind self can hold; True if done."""
        return False


class IndexedGrad(LazyGrad):
    """The gradient of x[index]: `values` at `index` of an array of `shape`, zero elsewhere."""

    __slots__ = ("index", "values", "shape", "dtype", "basic")

    def __init__(self, index, values, shape, dtype, basic):
        self.index, self.values, self.shape, self.dtype, self.basic = index, values, shape, dtype, basic

    def add_to(self, buffer):
        """buffer[index] += values (a repeated advanced index adds once per repeat)."""
        if self.basic:
            buffer[self.index] += self.values
        else:
            np.add.at(buffer, self.index, self.values)
        return buffer

    def dense(self):
        return self.add_to(np.zeros(self.shape, self.dtype))

    def check_values(self):
        return np.asarray(self.values)


class OuterGrad(LazyGrad):
    """sum_k lefts[k]^T @ rights[k], each lefts[k] (n_k, p) and rights[k] (n_k, q): shape (p, q)."""

    __slots__ = ("lefts", "rights", "shape")

    def __init__(self, lefts, rights):
        self.lefts, self.rights = lefts, rights
        self.shape = (lefts[0].shape[1], rights[0].shape[1])

    def transposed(self):
        """(A^T G)^T = G^T A: the same sum for the transposed operand."""
        return OuterGrad(self.rights, self.lefts)

    def absorb(self, other):
        if type(other) is not OuterGrad:
            return False
        self.lefts = self.lefts + other.lefts
        self.rights = self.rights + other.rights
        return True

    def dense(self):
        if len(self.lefts) == 1:
            return self.lefts[0].T @ self.rights[0]
        return np.concatenate(self.lefts).T @ np.concatenate(self.rights)

    def add_to(self, buffer):
        buffer += self.dense()
        return buffer

    def check_values(self):
        return self.dense()
