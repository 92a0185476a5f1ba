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
    """The gradient of x[index]: `values` at `index` of an array of `shape`, zero elsewhere.

    Gradients of several slices of one tensor are kept together (`absorb`). When they tile it,
    as an LSTM's four gate slices or a sequence's time steps do, the dense gradient is the
    pieces joined in order (one copy) instead of zeros with each piece added in.
    """

    __slots__ = ("parts", "shape", "dtype")

    def __init__(self, index, values, shape, dtype, basic=None):
        """`basic`: whether `index` is a basic index (see `is_basic`); None: find out when needed."""
        self.parts = [(index, values, basic)]
        self.shape, self.dtype = shape, dtype

    def absorb(self, other):
        if type(other) is not IndexedGrad:
            return False
        self.parts += other.parts
        return True

    def add_to(self, buffer):
        """buffer[index] += values for each part (a repeated advanced index adds once per repeat)."""
        for index, values, basic in self.parts:
            if basic or (basic is None and is_basic(index)):
                buffer[index] += values
            else:
                np.add.at(buffer, index, values)
        return buffer

    def dense(self):
        if len(self.parts) > 1:
            joined = _join_tiles(self.parts, self.shape, self.dtype)
            if joined is not None:
                return joined
        return self.add_to(np.zeros(self.shape, self.dtype))

    def check_values(self):
        return np.concatenate([np.ravel(values) for _, values, _ in self.parts])


def is_basic(index):
    """True when `index` uses only ints, slices, None and Ellipsis: numpy's basic indexing, which
    never selects a position twice (an advanced index may, and then adds once per repeat)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts)


def _join_tiles(parts, shape, dtype):
    """The parts joined into one array of `shape` if they are ranges along one axis that cover
    it exactly once (x[0], x[1], ..., or x[:, 0:H], x[:, H:2H], ...); else None."""
    spans = []
    for index, values, basic in parts:
        span = basic is not False and _range_along_one_axis(index, shape)  # (only basic ones)
        if not span:
            return None
        spans.append((span[1], span, values))
    axis = spans[0][1][0]
    spans.sort(key=lambda item: item[0])
    end = 0
    for start, (span_axis, _, stop, _), _ in spans:
        if span_axis != axis or start != end:
            return None  # another axis, a gap or an overlap
        end = stop
    if end != shape[axis]:
        return None
    pieces = [np.expand_dims(values, axis) if dropped else values
              for _, (_, _, _, dropped), values in spans]
    return np.concatenate(pieces, axis=axis, dtype=dtype)


def _range_along_one_axis(index, shape):
    """(axis, start, stop, dropped) when `index` selects start:stop of one axis (or the single
    position start, which drops that axis) and all of every other axis; else None."""
    parts = index if type(index) is tuple else (index,)
    if len(parts) > len(shape):
        return None
    found = None
    for axis, part in enumerate(parts):
        if type(part) is slice:
            start, stop, step = part.indices(shape[axis])
            if start == 0 and stop == shape[axis] and step == 1:
                continue  # the whole axis
            if found or step != 1 or stop <= start:
                return None
            found = (axis, start, stop, False)
        elif isinstance(part, (int, np.integer)) and not isinstance(part, bool):
            if found:
                return None
            start = int(part) + shape[axis] if part < 0 else int(part)
            found = (axis, start, start + 1, True)
        else:  # None or Ellipsis
            return None
    return found


GROUP_BYTES = 1 << 20  # OuterGrad.dense joins this much of its factors per matmul


class OuterGrad(LazyGrad):
    """sum_k lefts[k]^T @ rights[k], each lefts[k] (n_k, p) and rights[k] (n_k, q): shape (p, q).

    It owns the two lists it is given: `absorb` appends to them in place.
    """

    __slots__ = ("lefts", "rights", "shape")

    def __init__(self, lefts, rights):
        self.lefts, self.rights = lefts, rights
        self.shape = (lefts[0].shape[1], rights[0].shape[1])

    def transposed(self):
        """(A^T G)^T = G^T A: the same sum for the transposed operand (with lists of its own,
        as `absorb` extends them in place)."""
        return OuterGrad(list(self.rights), list(self.lefts))

    def absorb(self, other):
        """Append other's parts to self's lists in place: O(parts of other), so n uses of a
        weight are summed in O(n) (a new list per absorb would copy all earlier parts: O(n^2))."""
        if type(other) is not OuterGrad:
            return False
        self.lefts += other.lefts
        self.rights += other.rights
        return True

    def dense(self):
        """The sum as one matmul per group of parts, each group's factors joined into about
        GROUP_BYTES: as fast as one matmul over all parts, without a copy of all of them."""
        lefts, rights = self.lefts, self.rights
        if len(lefts) == 1:
            return lefts[0].T @ rights[0]
        total, start, size = None, 0, 0
        for k in range(len(lefts)):
            size += lefts[k].nbytes + rights[k].nbytes
            if size < GROUP_BYTES and k + 1 < len(lefts):
                continue
            part = _joined(lefts, start, k).T @ _joined(rights, start, k)
            total = part if total is None else np.add(total, part, out=total)
            start, size = k + 1, 0
        return total

    def add_to(self, buffer):
        buffer += self.dense()
        return buffer

    def check_values(self):
        return self.dense()


def _joined(arrays, first, last):
    """arrays[first..last] stacked along axis 0 (the array itself when there is one)."""
    return arrays[first] if first == last else np.concatenate(arrays[first:last + 1])
