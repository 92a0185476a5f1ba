"""Ops that move values without changing them: reshape, transpose, indexing, cat, stack, split,
expand, repeat, clone.

Their backward puts each gradient value back where its value came from.
"""
import numpy as np

from minigrad.function import Function


class Reshape(Function):
    """y = x viewed with a new shape;  dL/dx = dL/dy reshaped back."""
    symbol = "reshape"

    def forward(self, x):
        self.saved = x.shape
        return x.reshape(self.shape)

    def backward(self, grad):
        return (grad.reshape(self.saved),)

    def shape_error(self, inputs, exc):
        x = inputs[0]
        return ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.numel()} elements) "
                          f"into shape {tuple(self.shape)}")


class Transpose(Function):
    """y = x with its axes permuted;  dL/dx = dL/dy with the inverse permutation."""
    symbol = "T"

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, grad):
        return (grad.transpose(np.argsort(self.axes)),)


class GetItem(Function):
    """y = x[index];  dL/dx = zeros with dL/dy added at the indexed places
    (an index that repeats a position adds its gradient once per repeat)."""
    symbol = "[]"

    def forward(self, x):
        self.saved = x.shape, x.dtype
        return x[self.index]

    def backward(self, grad):
        shape, dtype = self.saved
        dx = np.zeros(shape, dtype)
        if is_basic(self.index):
            dx[self.index] = grad
        else:  # an array index may pick a position twice: np.add.at adds once per pick
            np.add.at(dx, self.index, grad)
        return (dx,)

    def shape_error(self, inputs, exc):
        return type(exc)(f"getitem: index {self.index!r} does not fit a tensor of shape "
                         f"{inputs[0].shape}: {exc}")


class Split(Function):
    """y_0, y_1, ... = consecutive pieces of x along `axis`, of the given sizes (torch.split,
    torch.chunk);  dL/dx = the pieces' gradients joined back (zeros for a piece no gradient
    reached). One node for all pieces, so backward joins them once instead of adding each
    piece's gradient into an x-sized array of zeros."""
    symbol = "[]"

    def forward(self, x):
        self.saved = x.shape, x.dtype
        ends = np.cumsum(self.sizes)
        before = (slice(None),) * self.axis
        return tuple(x[before + (slice(end - n, end),)] for n, end in zip(self.sizes, ends))

    def backward(self, grads):
        shape, dtype = self.saved
        parts = [np.zeros(shape[:self.axis] + (n,) + shape[self.axis + 1:], dtype) if g is None else g
                 for n, g in zip(self.sizes, grads)]
        return (np.concatenate(parts, axis=self.axis),)


class Unbind(Function):
    """y_0, y_1, ... = x[0], x[1], ... along `axis` (torch.unbind: a sequence into its steps);
    dL/dx = the steps' gradients stacked back (zeros for a step no gradient reached)."""
    symbol = "[]"

    def forward(self, x):
        self.saved = x.shape[:self.axis] + x.shape[self.axis + 1:], x.dtype
        before = (slice(None),) * self.axis
        return tuple(x[before + (k,)] for k in range(x.shape[self.axis]))

    def backward(self, grads):
        shape, dtype = self.saved
        return (np.stack([np.zeros(shape, dtype) if g is None else g for g in grads], axis=self.axis),)


def is_basic(index):
    """True when `index` uses only ints, slices, None and Ellipsis: numpy's basic indexing, which
    never selects a position twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts)


class Cat(Function):
    """y = [x_1, x_2, ...] joined along `axis`;  each dL/dx_k is its slice of dL/dy."""
    symbol = "cat"

    def forward(self, *xs):
        self.saved = np.cumsum([x.shape[self.axis] for x in xs[:-1]])
        return np.concatenate(xs, axis=self.axis)

    def backward(self, grad):
        return tuple(np.split(grad, self.saved, axis=self.axis))

    def shape_error(self, inputs, exc):
        shapes = ", ".join(str(t.shape) for t in inputs)
        return ValueError(f"cat: shapes {shapes} differ outside axis {self.axis}")


class Stack(Function):
    """y = x_1, x_2, ... stacked along a new `axis`;  dL/dx_k = dL/dy at position k of that axis."""
    symbol = "stack"

    def forward(self, *xs):
        return np.stack(xs, axis=self.axis)

    def backward(self, grad):
        return tuple(np.moveaxis(grad, self.axis, 0))

    def shape_error(self, inputs, exc):
        shapes = ", ".join(str(t.shape) for t in inputs)
        return ValueError(f"stack: all tensors need the same shape, got {shapes}")


class Expand(Function):
    """y = x stretched along its size-1 axes (and new leading axes) to `shape`, without copying;
    dL/dx = dL/dy summed over the stretched axes."""
    symbol = "expand"

    def forward(self, x):
        return np.broadcast_to(x, self.shape)

    def backward(self, grad):
        return (grad,)  # (the engine sums it over the stretched axes)


class Repeat(Function):
    """y = x tiled `repeats[d]` times along each axis d (torch.repeat, numpy.tile);
    dL/dx = the sum of dL/dy over the tiles."""
    symbol = "repeat"

    def forward(self, x):
        self.saved = x.shape
        return np.tile(x, self.repeats)

    def backward(self, grad):
        shape = self.saved
        padded = (1,) * (len(self.repeats) - len(shape)) + shape
        tiles = [n for r, s in zip(self.repeats, padded) for n in (r, s)]  # (r0, s0, r1, s1, ...)
        return (grad.reshape(tiles).sum(axis=tuple(range(0, len(tiles), 2))).reshape(shape),)


class Clone(Function):
    """y = a copy of x (its own memory);  dy/dx = 1."""
    symbol = "clone"

    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        return (grad,)


class Cast(Function):
    """y = x converted to another float dtype;  dL/dx = dL/dy converted back."""
    symbol = "cast"

    def forward(self, x):
        self.saved = x.dtype
        return x.astype(self.dtype)

    def backward(self, grad):
        return (grad.astype(self.saved),)


def _check_tensors(tensors, op):
    from minigrad.tensor import Tensor
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    bad = [type(t).__name__ for t in tensors if not isinstance(t, Tensor)]
    if bad:
        raise TypeError(f"{op}: expected tensors, got {', '.join(bad)}")
    return tensors


def cat(tensors, axis=0, dim=None):
    """Join tensors along an existing axis (torch.cat)."""
    from minigrad.tensor import _one_axis
    tensors = _check_tensors(tensors, "cat")
    axis = _one_axis(axis if dim is None else dim, tensors[0].ndim, "cat")
    if any(t.ndim != tensors[0].ndim for t in tensors):
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise ValueError(f"cat: all tensors need the same number of dimensions, got {shapes}")
    return Cat.apply(*tensors, axis=axis)


def stack(tensors, axis=0, dim=None):
    """Join tensors of equal shape along a new axis (torch.stack)."""
    from minigrad.tensor import _one_axis
    tensors = _check_tensors(tensors, "stack")
    axis = _one_axis(axis if dim is None else dim, tensors[0].ndim + 1, "stack")
    return Stack.apply(*tensors, axis=axis)


def split(tensor, split_size_or_sections, axis=0, dim=None):
    """Cut a tensor along `axis` into pieces of `split_size` (last may be smaller) or of the
    listed sizes (torch.split): one Split node for all the pieces."""
    from minigrad.tensor import _one_axis
    axis = _one_axis(axis if dim is None else dim, tensor.ndim, "split")
    n = tensor.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: split size must be positive, got {size}")
        sizes = [min(size, n - start) for start in range(0, n, size)]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} add up to {sum(sizes)}, but axis {axis} has length {n}")
    return Split.apply(tensor, axis=axis, sizes=tuple(sizes))


def unbind(tensor, axis=0, dim=None):
    """The tensor's slices along `axis`, as a tuple (torch.unbind): `for x_t in x.unbind(0)`
    walks a time-major sequence. One node for all of them (Unbind), as torch."""
    from minigrad.tensor import _one_axis
    if tensor.ndim == 0:
        raise ValueError("unbind: a 0-d tensor has no dimension to unbind")
    return Unbind.apply(tensor, axis=_one_axis(axis if dim is None else dim, tensor.ndim, "unbind"))


def chunk(tensor, chunks, axis=0, dim=None):
    """Cut a tensor into `chunks` equal pieces along `axis` (torch.chunk)."""
    from minigrad.tensor import _one_axis
    axis = _one_axis(axis if dim is None else dim, tensor.ndim, "chunk")
    if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise ValueError(f"chunk: the number of chunks must be a positive int, got {chunks!r}")
    n = tensor.shape[axis]
    return split(tensor, max(-(-n // chunks), 1), axis)


def _sizes(sizes):
    """Sizes given as f(2, 3) or f((2, 3))."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        return tuple(sizes[0])
    return tuple(sizes)


def expand(tensor, *sizes):
    """torch.expand: a view stretched to `sizes`; -1 keeps a size, new axes go in front."""
    sizes, shape = _sizes(sizes), tensor.shape
    if len(sizes) < len(shape):
        raise ValueError(f"expand: the number of sizes given ({len(sizes)}) must be at least the "
                         f"number of dimensions of the tensor of shape {shape}")
    new = len(sizes) - len(shape)
    target = []
    for d, size in enumerate(sizes):
        old = shape[d - new] if d >= new else None
        if size == -1:
            if old is None:
                raise ValueError(f"expand: size -1 is not allowed in a new leading dimension ({d}) "
                                 f"when expanding shape {shape} to {sizes}")
            size = old
        if old is not None and old != 1 and old != size:
            raise ValueError(f"expand: the expanded size ({size}) must match the existing size "
                             f"({old}) at non-singleton dimension {d}; target sizes {sizes}, "
                             f"tensor shape {shape}")
        target.append(int(size))
    return Expand.apply(tensor, shape=tuple(target))


def repeat(tensor, *repeats):
    """torch.repeat: the tensor tiled repeats[d] times along dimension d."""
    repeats = _sizes(repeats)
    if len(repeats) < tensor.ndim:
        raise ValueError(f"repeat: {len(repeats)} repeat counts given for a tensor of shape "
                         f"{tensor.shape}; give at least one per dimension")
    if any(r < 0 for r in repeats):
        raise ValueError(f"repeat: repeat counts must be >= 0, got {repeats}")
    return Repeat.apply(tensor, repeats=tuple(int(r) for r in repeats))
