"""Every differentiable op, checked with mg.gradcheck (float64 central differences) over
shapes drawn by hypothesis, broadcasting included; plus forward values against numpy.

CATALOGUE maps a case name to a builder `build(draw) -> (fn, inputs)`; `draw` is
hypothesis' `data.draw`, so each example picks its own shapes, axes, indices and values.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.nn import functional as F

SETTINGS = settings(deadline=None, max_examples=15, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ---------------------------------------------------------------- value helpers
def _rng(draw):
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))


def _normal(rng, shape):
    return rng.standard_normal(shape)


def _positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def _away_from_zero(rng, shape):
    """Values with |x| in [0.2, 2]: kinks (relu, abs) and poles (1/x) stay far from the nudges."""
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.2, 2.0, shape)


def _distinct(rng, shape):
    """Values at least 0.1 apart (no ties for max, no crossing of the max when nudged)."""
    size = int(np.prod(shape, dtype=int))
    return (rng.permutation(size).reshape(shape) * 0.1 + rng.uniform(-1, 1)).astype(np.float64)


def _shape(draw, min_dims=0, max_dims=3):
    return draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=3), label="shape")


def _broadcast_pair(draw):
    return draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1,
                                                  max_side=3), label="shapes").input_shapes


def _axis_arg(draw, ndim):
    """None, one axis (maybe negative) or a tuple of distinct axes."""
    if ndim == 0:
        return None
    kind = draw(st.sampled_from(["none", "int", "tuple"]), label="axis kind")
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1), label="axis")
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True), label="axes")
    return tuple(axes)


# ---------------------------------------------------------------- the catalogue
CATALOGUE = {}


def case(name):
    def register(build):
        CATALOGUE[name] = build
        return build
    return register


def _binary(name, op, left=_normal, right=_normal):
    @case(name)
    def build(draw):
        rng = _rng(draw)
        sa, sb = _broadcast_pair(draw)
        return op, [left(rng, sa), right(rng, sb)]


_binary("add", lambda a, b: a + b)
_binary("sub", lambda a, b: a - b)
_binary("mul", lambda a, b: a * b)
_binary("hadamard", mg.hadamard)
_binary("div", lambda a, b: a / b, right=_away_from_zero)
_binary("pow_tensor_exponent", lambda a, b: a ** b, left=_positive)


def _unary(name, op, values=_normal, min_dims=0):
    @case(name)
    def build(draw):
        rng = _rng(draw)
        return op, [values(rng, _shape(draw, min_dims=min_dims))]


_unary("neg", lambda x: -x)
_unary("add_scalar", lambda x: x + 2.5)
_unary("radd_scalar", lambda x: 2.5 + x)
_unary("rsub_scalar", lambda x: 2.5 - x)
_unary("mul_scalar", lambda x: x * -1.5)
_unary("rmul_scalar", lambda x: -1.5 * x)
_unary("div_scalar", lambda x: x / 4)
_unary("rdiv_scalar", lambda x: 3.0 / x, values=_away_from_zero)
_unary("rpow_scalar_base", lambda x: 2.0 ** x)
_unary("sqrt", lambda x: x.sqrt(), values=_positive)
_unary("exp", mg.exp)
_unary("exp_method", lambda x: x.exp())
_unary("log", mg.log, values=_positive)
_unary("tanh", mg.tanh)
_unary("sigmoid", mg.sigmoid)
_unary("relu", mg.relu, values=_away_from_zero)
_unary("abs", lambda x: x.abs(), values=_away_from_zero)
_unary("T", lambda x: x.T)
_unary("transpose_reverse", lambda x: mg.transpose(x))
_unary("flatten", lambda x: x.flatten())
_unary("composite", lambda x: ((x * x).tanh() + x.sigmoid() * 2).exp().sum(axis=-1) if x.ndim else x * x)


@case("cast_float32_roundtrip")
def _(draw):
    # float32 rounding (~1e-7 relative) swamps a 1e-6 nudge; the cast is linear, so a large
    # eps is exact up to that rounding.
    rng = _rng(draw)
    return (lambda x: x.to(mg.float32).to(mg.float64)), [_normal(rng, _shape(draw))], {"eps": 1e-2}


@case("pow_scalar_exponent")
def _(draw):
    rng = _rng(draw)
    p = draw(st.sampled_from([0, 1, 2, 3, -1, -2, 0.5, 1.5, -0.5, 2.0]), label="exponent")
    shape = _shape(draw)
    x = _positive(rng, shape) if isinstance(p, float) else _away_from_zero(rng, shape)
    return (lambda t: t ** p), [x]


# matmul: 2-d, batched with broadcast batch axes, and the 1-d cases
@case("matmul_2d")
def _(draw):
    rng = _rng(draw)
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    return (lambda a, b: a @ b), [_normal(rng, (n, k)), _normal(rng, (k, m))]


@case("matmul_batched_broadcast")
def _(draw):
    rng = _rng(draw)
    ba, bb = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, min_side=1,
                                                    max_side=3)).input_shapes
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    return mg.matmul, [_normal(rng, ba + (n, k)), _normal(rng, bb + (k, m))]


@case("matmul_1d_2d")
def _(draw):
    rng = _rng(draw)
    k, m = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return (lambda a, b: a @ b), [_normal(rng, (k,)), _normal(rng, (k, m))]


@case("matmul_2d_1d")
def _(draw):
    rng = _rng(draw)
    n, k = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return (lambda a, b: a @ b), [_normal(rng, (n, k)), _normal(rng, (k,))]


@case("matmul_1d_1d")
def _(draw):
    rng = _rng(draw)
    k = draw(st.integers(1, 5))
    return (lambda a, b: a @ b), [_normal(rng, (k,)), _normal(rng, (k,))]


@case("matmul_1d_batched")
def _(draw):
    rng = _rng(draw)
    k, m, batch = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (lambda a, b: a @ b), [_normal(rng, (k,)), _normal(rng, (batch, k, m))]


@case("matmul_batched_1d")
def _(draw):
    rng = _rng(draw)
    n, k, batch = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (lambda a, b: a @ b), [_normal(rng, (batch, n, k)), _normal(rng, (k,))]


@case("matmul_one_hot")
def _(draw):
    """A constant one-hot left operand (mg.compile replays this product as a row gather)."""
    rng = _rng(draw)
    classes, m, rows = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 6))
    ids = rng.integers(0, classes, rows)
    return (lambda ids, b: F.one_hot(ids, classes, dtype=mg.float64) @ b), [ids, _normal(rng, (classes, m))]


# reductions
def _reduction(name, method, values=_normal):
    @case(name)
    def build(draw):
        rng = _rng(draw)
        shape = _shape(draw)
        axis = _axis_arg(draw, len(shape))
        keepdims = draw(st.booleans(), label="keepdims")
        return (lambda x: getattr(x, method)(axis=axis, keepdims=keepdims)), [values(rng, shape)]


_reduction("sum", "sum")
_reduction("mean", "mean")
_reduction("amax", "amax", values=_distinct)
_reduction("amin", "amin", values=_distinct)


@case("amax_ties_share")
def _(draw):
    """Tied maxima (exact copies, so a nudge of one breaks the tie): amax splits the gradient
    equally, which is the average of the one-sided derivatives, and central differences agree."""
    rng = _rng(draw)
    n = draw(st.integers(2, 4))
    x = np.repeat(_distinct(rng, (n, 1)), 2, axis=1)  # every row holds its max twice
    return (lambda t: t.amax(dim=1)), [x]


def _max_dim(name, op):
    @case(name)
    def build(draw):
        rng = _rng(draw)
        shape = _shape(draw, min_dims=1)
        dim = draw(st.integers(-len(shape), len(shape) - 1), label="dim")
        keepdim = draw(st.booleans(), label="keepdim")
        return (lambda x: op(x, dim, keepdim)), [_distinct(rng, shape)]


_max_dim("max_dim", lambda x, d, k: x.max(d, keepdim=k))           # (values, indices)
_max_dim("min_dim", lambda x, d, k: x.min(dim=d, keepdim=k))
_max_dim("max_dim_functional", lambda x, d, k: mg.max(x, d, k).values)
_max_dim("min_dim_functional", lambda x, d, k: mg.min(x, dim=d, keepdims=k).values)
_unary("max_all_values", lambda x: x.max(), values=_distinct)
_unary("min_all_values", lambda x: mg.min(x), values=_distinct)
_binary("maximum", mg.maximum)
_binary("minimum", mg.minimum)
_binary("max_of_two_tensors", mg.max)
_binary("min_of_two_tensors", lambda a, b: a.min(b))


@case("prod")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw)
    dim = None if not shape or draw(st.booleans()) else draw(st.integers(-len(shape), len(shape) - 1))
    x = _normal(rng, shape)
    if draw(st.booleans(), label="with zeros") and x.size:
        x.reshape(-1)[rng.integers(0, x.size, 2)] = 0.0  # one or two zeros: the product of the others
    keepdim = draw(st.booleans(), label="keepdim")
    return (lambda t: t.prod(dim=dim, keepdim=keepdim)), [x]


@case("var_std")
def _(draw):
    rng = _rng(draw)
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=3), label="shape")
    axis = _axis_arg(draw, len(shape))
    correction = draw(st.sampled_from([0, 1]), label="correction")
    keepdim = draw(st.booleans(), label="keepdim")
    return (lambda x: (x.var(dim=axis, correction=correction, keepdim=keepdim),
                       x.std(axis, keepdim=keepdim, correction=correction))), [_normal(rng, shape)]


@case("std_unbiased_forms")
def _(draw):
    rng = _rng(draw)
    n = draw(st.integers(2, 4))
    return (lambda x: (x.std(0, False), x.std(unbiased=True), x.var(False), x.var(0, True, True))), \
        [_normal(rng, (n, 2))]


@case("norm")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw)
    axis = _axis_arg(draw, len(shape))
    p = draw(st.sampled_from([1, 2, 3, 1.5, "fro", float("inf")]), label="p")
    keepdim = draw(st.booleans(), label="keepdim")
    values = _distinct if p == float("inf") else _away_from_zero
    return (lambda x: x.norm(p, dim=axis, keepdim=keepdim)), [values(rng, shape)]


@case("logsumexp")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw, min_dims=1)
    axis = _axis_arg(draw, len(shape))
    axis = -1 if axis is None else axis  # torch's logsumexp needs a dim
    keepdim = draw(st.booleans(), label="keepdim")
    return (lambda x: mg.logsumexp(x * 30, axis, keepdim)), [_normal(rng, shape)]


@case("sum_mean_functional_dim")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw, min_dims=1)
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return (lambda x: (mg.sum(x, dim=dim), mg.mean(x, dim=dim, keepdims=True))), [_normal(rng, shape)]


# shape ops
@case("reshape")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw)
    size = int(np.prod(shape, dtype=int))
    target = draw(st.sampled_from([(size,), (-1,), (1, size), (size, 1, 1), (-1, 1)]), label="target")
    return (lambda x: x.reshape(target)), [_normal(rng, shape)]


@case("reshape_varargs_and_view")
def _(draw):
    rng = _rng(draw)
    a, b = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (lambda x: mg.reshape(x, b, a).view(a * b) * 1.0), [_normal(rng, (a, b))]


@case("permute")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw, min_dims=1)
    perm = tuple(draw(st.permutations(range(len(shape))), label="perm"))
    return (lambda x: x.permute(perm)), [_normal(rng, shape)]


@case("transpose_swap_two_axes")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw, min_dims=3, max_dims=4)
    a, b = (draw(st.integers(-len(shape), len(shape) - 1)) for _ in range(2))
    return (lambda x: x.transpose(a, b)), [_normal(rng, shape)]


@case("getitem_slices")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw, min_dims=1)
    index = tuple(draw(st.slices(n), label="slice") for n in shape)
    return (lambda x: x[index]), [_normal(rng, shape)]


@case("getitem_int_and_slice")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw, min_dims=1)
    i = draw(st.integers(-shape[0], shape[0] - 1), label="int")
    rest = tuple(draw(st.slices(n)) for n in shape[1:])
    return (lambda x: x[(i,) + rest]), [_normal(rng, shape)]


@case("getitem_int_array_repeated")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw, min_dims=1)
    n = shape[0]
    idx = draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=5), label="indices")
    idx = np.array(idx + [idx[0], idx[0]])  # at least one index repeats
    as_tensor = draw(st.booleans(), label="index as tensor")
    index = mg.tensor(idx) if as_tensor else idx
    return (lambda x: x[index]), [_normal(rng, shape)]


@case("getitem_two_int_arrays")
def _(draw):
    rng = _rng(draw)
    n, m = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    rows = np.array(draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=6)))
    cols = np.array(draw(st.lists(st.integers(0, m - 1), min_size=len(rows), max_size=len(rows))))
    return (lambda x: x[rows, cols]), [_normal(rng, (n, m))]


@case("getitem_array_with_slice")
def _(draw):
    rng = _rng(draw)
    n, m = draw(st.integers(1, 3)), draw(st.integers(2, 3))
    rows = [0] * draw(st.integers(1, 3)) + [n - 1]
    return (lambda x: x[rows, 1:]), [_normal(rng, (n, m))]


@case("getitem_bool_mask")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw, min_dims=1)
    mask = rng.random(shape) < 0.5
    whole = draw(st.booleans(), label="full-shape mask")
    if not whole:  # a mask over the first axis only
        mask = mask.reshape(shape[0], -1)[:, 0]
    if draw(st.booleans(), label="mask as tensor"):
        mask = mg.tensor(mask)
    return (lambda x: x[mask]), [_normal(rng, shape)]


@case("cat")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw, min_dims=1)
    axis = draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    k = draw(st.integers(1, 3), label="count")
    shapes = []
    for _ in range(k):
        s = list(shape)
        s[axis] = draw(st.integers(1, 3))
        shapes.append(tuple(s))
    return (lambda *xs: mg.cat(xs, axis=axis)), [_normal(rng, s) for s in shapes]


@case("stack")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw)
    axis = draw(st.integers(-len(shape) - 1, len(shape)), label="axis")
    k = draw(st.integers(1, 3), label="count")
    return (lambda *xs: mg.stack(xs, dim=axis)), [_normal(rng, shape) for _ in range(k)]


@case("split_size")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw, min_dims=1)
    axis = draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    size = draw(st.integers(1, 4), label="size")
    return (lambda x: x.split(size, axis=axis)), [_normal(rng, shape)]


@case("split_sections")
def _(draw):
    rng = _rng(draw)
    n, m = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    cut = draw(st.integers(0, n), label="cut")
    return (lambda x: mg.split(x, [cut, n - cut], dim=0)), [_normal(rng, (n, m))]


@case("split_pieces_unused")
def _(draw):
    """Only some pieces reach the loss: the others' gradients are zeros, and a piece used
    twice gets both uses."""
    rng = _rng(draw)
    n, m = draw(st.integers(2, 5)), draw(st.integers(1, 3))
    return (lambda x: x.split(1, dim=0)[0] * 2 + x.split(1, dim=0)[-1].tanh()), [_normal(rng, (n, m))]


@case("unbind")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw, min_dims=1)
    axis = draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    return (lambda x: mg.unbind(x, axis)), [_normal(rng, shape)]


@case("unbind_steps_as_a_recurrence")
def _(draw):
    """x.unbind(0) walked as an RNN walks its steps, one step left out."""
    rng = _rng(draw)
    T, n = draw(st.integers(2, 4)), draw(st.integers(1, 3))

    def recurrence(x):
        steps = x.unbind(0)
        h = steps[0]
        for x_t in steps[2:]:
            h = (h * x_t + x_t).tanh()
        return h
    return recurrence, [_normal(rng, (T, n))]


@case("chunk")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw, min_dims=1)
    axis = draw(st.integers(0, len(shape) - 1), label="axis")
    chunks = draw(st.integers(1, 4), label="chunks")
    return (lambda x: mg.chunk(x, chunks, axis)), [_normal(rng, shape)]


def _near_bounds(rng, shape):
    """Values in +-[0.2, 2] but none within 0.05 of the clamp bounds +-0.5 and +-1 used below."""
    x = _away_from_zero(rng, shape)
    for bound in (-1.0, -0.5, 0.5, 1.0):
        x = np.where(np.abs(x - bound) < 0.05, x + 0.1, x)
    return x


_unary("clamp", lambda x: x.clamp(-0.5, 1.0), values=_near_bounds)
_unary("clamp_min_only", lambda x: mg.clamp(x, min=0.5), values=_near_bounds)
_unary("clip_max_only", lambda x: x.clip(max=-0.5), values=_near_bounds)
_unary("sqrt_functional", mg.sqrt, values=_positive)
_unary("abs_functional", mg.abs, values=_away_from_zero)


@case("clamp_tensor_bounds")
def _(draw):
    """Tensor bounds get the gradient where they are chosen (x below min: min's gradient)."""
    rng = _rng(draw)
    shape = _shape(draw)
    x, lo = _distinct(rng, shape), _normal(rng, shape[1:]) - 0.05
    return (lambda x, lo: x.clamp(min=lo, max=lo + 1.0)), [x, lo]


@case("where")
def _(draw):
    rng = _rng(draw)
    sc, sa, sb = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, min_side=1,
                                                        max_side=3), label="shapes").input_shapes
    cond = rng.random(sc) < 0.5
    if draw(st.booleans(), label="condition as tensor"):
        cond = mg.tensor(cond)
    return (lambda a, b: mg.where(cond, a, b)), [_normal(rng, sa), _normal(rng, sb)]


@case("where_method_and_scalar")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw)
    return (lambda x: x.where(x > 0, -2.0) + mg.where(x < 0, 0.5, x)), [_away_from_zero(rng, shape)]


@case("masked_fill")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw, min_dims=1)
    mask = rng.random(shape[1:]) < 0.5  # broadcast over the first axis
    return (lambda x: x.masked_fill(mg.tensor(mask), -1.5)), [_normal(rng, shape)]


@case("gather")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw, min_dims=1)
    dim = draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    d = dim % len(shape)
    index_shape = tuple(draw(st.integers(1, 4)) if k == d else draw(st.integers(1, n))
                        for k, n in enumerate(shape))  # no larger than x but along dim
    index = rng.integers(0, shape[d], index_shape)  # repeats likely: their gradients add
    return (lambda x: x.gather(dim, mg.tensor(index))), [_normal(rng, shape)]


@case("expand")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw)
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2), label="new axes"))
    target = lead + tuple(draw(st.sampled_from([-1, 3])) if n == 1 else draw(st.sampled_from([-1, n]))
                          for n in shape)
    return (lambda x: x.expand(*target) * 1.0), [_normal(rng, shape)]


@case("repeat")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw)
    reps = tuple(draw(st.lists(st.integers(1, 3), min_size=len(shape), max_size=len(shape) + 2)))
    return (lambda x: x.repeat(reps)), [_normal(rng, shape)]


@case("clone")
def _(draw):
    rng = _rng(draw)
    return (lambda x: x.clone() * x), [_normal(rng, _shape(draw))]


@case("shape_methods")
def _(draw):
    """unsqueeze, squeeze, flatten(start, end), t and view: all Reshape/Transpose underneath."""
    rng = _rng(draw)
    a, b, c = (draw(st.integers(1, 3)) for _ in range(3))
    return (lambda x: (x.unsqueeze(1).squeeze(1).flatten(1, 2).t(), x.view(c, b, a).squeeze(),
                       x.flatten(start_dim=0, end_dim=1).unsqueeze(-1))), [_normal(rng, (a, b, c))]


@case("method_forms")
def _(draw):
    """add/sub with alpha, mul, div, pow, matmul, mm, bmm: the operators' ops under torch's names."""
    rng = _rng(draw)
    n, k = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (lambda a, b, c: (a.add(b, alpha=2).sub(b, alpha=0.5).mul(a).div(2.0).pow(2),
                             a.matmul(b.T), a.mm(b.T), mg.mm(a, b.T), mg.bmm(c, c.transpose(1, 2)),
                             c.bmm(c.transpose(1, 2)))), \
        [_normal(rng, (n, k)), _normal(rng, (n, k)), _normal(rng, (2, n, k))]


def _einsum(name, equation, *shapes):
    @case(name)
    def build(draw):
        rng = _rng(draw)
        sizes = {letter: draw(st.integers(1, 3), label=letter) for letter in "bijkl"}
        inputs = [_normal(rng, tuple(sizes[c] for c in s)) for s in shapes]
        return (lambda *xs: mg.einsum(equation, *xs)), inputs


_einsum("einsum_matmul", "ij,jk->ik", "ij", "jk")
_einsum("einsum_bmm", "bij,bjk->bik", "bij", "bjk")
_einsum("einsum_dot", "i,i->", "i", "i")
_einsum("einsum_transpose", "ij->ji", "ij")
_einsum("einsum_rowwise_dot", "bi,bi->b", "bi", "bi")
_einsum("einsum_outer", "i,j->ij", "i", "j")
_einsum("einsum_sum_alone", "ij,jk->k", "ij", "jk")    # i appears only in the first operand
_einsum("einsum_implicit", "ij,jk", "ij", "jk")        # no "->": output "ik"
_einsum("einsum_three_operands", "ij,jk,kl->il", "ij", "jk", "kl")


def _softmaxlike(name, fn):
    @case(name)
    def build(draw):
        rng = _rng(draw)
        shape = _shape(draw, min_dims=1)
        axis = draw(st.integers(-len(shape), len(shape) - 1), label="axis")
        return (lambda x: fn(x, axis)), [_normal(rng, shape) * 3]


_softmaxlike("softmax", lambda x, a: x.softmax(a))
_softmaxlike("softmax_functional_dim", lambda x, a: mg.softmax(x, dim=a))
_softmaxlike("log_softmax", lambda x, a: x.log_softmax(axis=a))
_softmaxlike("log_softmax_functional", lambda x, a: F.log_softmax(x, a))


@case("cross_entropy")
def _(draw):
    rng = _rng(draw)
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    targets = rng.integers(0, c, n)
    return (lambda x, t: F.cross_entropy(x, t)), [_normal(rng, (n, c)) * 3, targets]


@case("nll_loss")
def _(draw):
    rng = _rng(draw)
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    targets = rng.integers(0, c, n)
    return (lambda x: F.nll_loss(x.log_softmax(1), targets)), [_normal(rng, (n, c))]


@case("mse_loss")
def _(draw):
    rng = _rng(draw)
    shape = _shape(draw)
    return F.mse_loss, [_normal(rng, shape), _normal(rng, shape)]


@case("linear")
def _(draw):
    rng = _rng(draw)
    n, i, o = (draw(st.integers(1, 3)) for _ in range(3))
    return F.linear, [_normal(rng, (n, i)), _normal(rng, (o, i)), _normal(rng, (o,))]


@case("embedding_repeated_indices")
def _(draw):
    rng = _rng(draw)
    v, d = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    idx = rng.integers(0, v, (draw(st.integers(1, 3)), 3))
    idx[0, 0] = idx[0, 1] = idx.flat[-1]
    return (lambda w: F.embedding(idx, w)), [_normal(rng, (v, d))]


@pytest.mark.parametrize("name", sorted(CATALOGUE))
@SETTINGS
@given(data=st.data())
def test_gradcheck(name, data):
    fn, inputs, *options = CATALOGUE[name](data.draw)
    assert mg.gradcheck(fn, inputs, **(options[0] if options else {})) is True


@settings(deadline=None, max_examples=1, derandomize=True)
@given(data=st.data())
def test_catalogue_covers_every_primitive_op(data):
    """Each Function subclass exported by minigrad.ops is exercised by at least one case."""
    covered, seen, keep_alive = set(), set(), []  # (alive, so no id is reused)
    for build in CATALOGUE.values():
        fn, inputs, *_ = build(data.draw)
        tensors = [mg.tensor(x, requires_grad=True) if x.dtype.kind == "f" else x for x in inputs]
        out = fn(*tensors)
        stack = list(out) if isinstance(out, tuple) else [out]
        keep_alive.append(out)
        while stack:
            t = stack.pop()
            if t.grad_fn is not None and id(t.grad_fn) not in seen:
                seen.add(id(t.grad_fn))
                covered.add(type(t.grad_fn).__name__)
                stack.extend(t.grad_fn.inputs)
    missing = set(mg.ops.__all__) - covered
    assert not missing, f"ops without a gradcheck case: {sorted(missing)}"


@pytest.mark.parametrize("axis", range(-3, 3))
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_family_gradcheck_on_every_axis(op, axis):
    x = np.random.default_rng(axis + 3).standard_normal((2, 3, 4)) * 3
    assert mg.gradcheck(lambda t: getattr(t, op)(axis), [x])


def test_mask_from_comparison_selects_and_routes_gradient():
    x = mg.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    y = x[x > 0]
    np.testing.assert_array_equal(y.data, [2.0, 4.0])
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 4.0, 0.0, 8.0])


# ---------------------------------------------------------------- forward values against numpy
def _softmax_np(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


FORWARD = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, 2),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, 2),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, 2),
    "hadamard": (mg.hadamard, np.multiply, 2),
    "div": (lambda a, b: a / b, lambda a, b: a / b, 2),
    "pow": (lambda a, b: a.abs() ** b, lambda a, b: np.abs(a) ** b, 2),
    "rpow": (lambda a: 2.0 ** a, lambda a: 2.0 ** a, 1),
    "rsub": (lambda a: 1.0 - a, lambda a: 1.0 - a, 1),
    "rdiv": (lambda a: 1.0 / a, lambda a: 1.0 / a, 1),
    "neg": (lambda a: -a, np.negative, 1),
    "exp": (mg.exp, np.exp, 1),
    "log": (lambda a: a.abs().log(), lambda a: np.log(np.abs(a)), 1),
    "sqrt": (lambda a: a.abs().sqrt(), lambda a: np.sqrt(np.abs(a)), 1),
    "tanh": (mg.tanh, np.tanh, 1),
    "sigmoid": (mg.sigmoid, lambda a: 1 / (1 + np.exp(-a)), 1),
    "relu": (mg.relu, lambda a: np.maximum(a, 0), 1),
    "abs": (lambda a: a.abs(), np.abs, 1),
    "sum0": (lambda a: a.sum(0), lambda a: a.sum(0), 1),
    "mean_keep": (lambda a: a.mean(axis=(0, 1), keepdims=True), lambda a: a.mean((0, 1), keepdims=True), 1),
    "max1": (lambda a: a.max(axis=1).values, lambda a: a.max(1), 1),
    "max1_indices": (lambda a: a.max(1).indices, lambda a: a.argmax(1), 1),
    "min0_keepdim": (lambda a: a.min(0, keepdim=True).values, lambda a: a.min(0, keepdims=True), 1),
    "max_all": (lambda a: a.max(), np.max, 1),
    "amax01": (lambda a: a.amax((0, 1)), lambda a: a.max((0, 1)), 1),
    "amin1_keepdims": (lambda a: a.amin(axis=1, keepdims=True), lambda a: a.min(1, keepdims=True), 1),
    "argmin": (lambda a: a.argmin(), lambda a: np.argmin(a), 1),
    "maximum": (mg.maximum, np.maximum, 2),
    "minimum": (mg.minimum, np.minimum, 2),
    "clamp": (lambda a: a.clamp(-0.5, 1.0), lambda a: np.minimum(np.maximum(a, -0.5), 1.0), 1),
    "prod1": (lambda a: a.prod(1), lambda a: a[:, 0] * a[:, 1] * a[:, 2] * a[:, 3], 1),
    "var0": (lambda a: a.var(0), lambda a: ((a - a.mean(0)) ** 2).sum(0) / 2, 1),
    "std_biased": (lambda a: a.std(correction=0), lambda a: np.sqrt(((a - a.mean()) ** 2).mean()), 1),
    "norm3": (lambda a: a.norm(3, dim=1), lambda a: (np.abs(a) ** 3).sum(1) ** (1 / 3), 1),
    "logsumexp1": (lambda a: a.logsumexp(1), lambda a: np.log(np.exp(a).sum(1)), 1),
    "where": (lambda a, b: mg.where(a > b, a, b), np.maximum, 2),
    "gather1": (lambda a: a.gather(1, mg.tensor([[3, 0], [1, 1], [0, 2]])),
                lambda a: np.array([[a[0, 3], a[0, 0]], [a[1, 1], a[1, 1]], [a[2, 0], a[2, 2]]]), 1),
    "einsum": (lambda a, b: mg.einsum("ij,kj->ik", a, b), lambda a, b: a @ b.T, 2),
    "expand": (lambda a: a[:1].expand(3, -1), lambda a: np.stack([a[0]] * 3), 1),
    "repeat": (lambda a: a.repeat(2, 1), lambda a: np.concatenate([a, a]), 1),
    "softmax0": (lambda a: a.softmax(0), lambda a: _softmax_np(a, 0), 1),
    "log_softmax-1": (lambda a: a.log_softmax(-1), lambda a: np.log(_softmax_np(a, -1)), 1),
    "matmul": (lambda a, b: a @ b.T, lambda a, b: a @ b.T, 2),
    "T": (lambda a: a.T, lambda a: a.T, 1),
    "permute": (lambda a: a.permute(1, 0), lambda a: a.T, 1),
    "getitem": (lambda a: a[[1, 1, 0], ::-1], lambda a: a[[1, 1, 0], ::-1], 1),
    "cat": (lambda a, b: mg.cat([a, b], 1), lambda a, b: np.concatenate([a, b], 1), 2),
    "stack": (lambda a, b: mg.stack([a, b], -1), lambda a, b: np.stack([a, b], -1), 2),
}


@pytest.mark.parametrize("name", sorted(FORWARD))
def test_forward_values_match_numpy(name):
    op, ref, arity = FORWARD[name]
    rng = np.random.default_rng(7)
    arrays = [rng.uniform(0.3, 2.0, (3, 4)) * rng.choice([-1, 1], (3, 4)) for _ in range(arity)]
    out = op(*[mg.tensor(a) for a in arrays])
    np.testing.assert_allclose(out.data, ref(*arrays), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- specific gradient values
def test_repeated_integer_indices_accumulate():
    x = mg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0, 0.0])


def test_repeated_rows_accumulate_weighted():
    x = mg.tensor(np.zeros((3, 2)), requires_grad=True)
    w = np.array([[1.0, 2.0], [10.0, 20.0], [100.0, 200.0]])
    (x[np.array([2, 2, 0])] * mg.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad, [[100.0, 200.0], [0, 0], [11.0, 22.0]])


def test_bool_mask_gradient_lands_on_selected_elements():
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    mask = np.array([[True, False, True], [False, True, True]])
    (x[mask] * mg.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [[1.0, 0.0, 2.0], [0.0, 3.0, 4.0]])


def test_max_ties_share_the_gradient_like_amax():
    """torch.amax (and torch.max with no dim) split the gradient evenly between tied maxima."""
    x = mg.tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]), requires_grad=True)
    x.amax(axis=1).sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]])
    x.grad = None
    x.max().backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]])


def test_max_along_a_dim_sends_the_gradient_to_the_index_returned_only():
    """torch.max(x, dim): a tie does not share; the gradient goes to the index in `indices`."""
    x = mg.tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]), requires_grad=True)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(indices.data, [1, 0])     # the first of the tied maxima
    values.sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    x.grad = None
    x.min(0).values.sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])


def test_pow_zero_exponent_has_zero_gradient_at_zero():
    x = mg.tensor([0.0, 2.0], requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_cross_entropy_value_and_gradient_match_formula():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((5, 4))
    targets = np.array([0, 3, 3, 1, 2])
    x = mg.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, targets)
    loss.backward()
    p = _softmax_np(logits, 1)
    expected = -np.log(p[np.arange(5), targets]).mean()
    onehot = np.eye(4)[targets]
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)
    np.testing.assert_allclose(x.grad, (p - onehot) / 5, rtol=1e-10, atol=1e-14)


def test_chunk_and_split_piece_sizes_follow_torch():
    x = mg.arange(7)
    assert [p.shape[0] for p in x.split(3)] == [3, 3, 1]
    assert [p.shape[0] for p in x.chunk(3)] == [3, 3, 1]
    assert [p.shape[0] for p in mg.arange(6).chunk(4)] == [2, 2, 2]
    assert [p.shape[0] for p in x.split([2, 5])] == [2, 5]
    np.testing.assert_array_equal(mg.cat(x.split(3)).data, np.arange(7))


def test_transpose_permute_and_T_semantics():
    x = mg.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.transpose(0, 2).shape == (4, 3, 2)            # two ints swap, as torch.transpose
    assert x.transpose(-1, 1).shape == (2, 4, 3)
    assert x.permute(2, 0, 1).shape == (4, 2, 3)
    assert x.permute((1, 2, 0)).shape == (3, 4, 2)
    assert x.T.shape == (4, 3, 2)
    m = mg.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(m.T.data, m.data.T)
    np.testing.assert_array_equal(m.transpose(1, 0).data, m.data.T)
    np.testing.assert_array_equal(m.permute(0, 1).data, m.data)   # identity permutation


def test_transpose_0_1_swaps_on_2d_like_torch():
    m = mg.tensor(np.arange(6.0).reshape(2, 3))
    assert m.transpose(0, 1).shape == (3, 2)
