"""Lazy gradients (minigrad/lazy_grad.py): a matmul's weight gradient kept factored and a
slice's gradient added into place must sum exactly like dense arrays, in any mix."""
import gc
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.lazy_grad import IndexedGrad, OuterGrad, _join_tiles


def rng():
    return np.random.default_rng(7)


def test_weight_used_at_every_step_through_its_transpose_matches_finite_differences():
    r = rng()
    xs, w, h0 = r.standard_normal((4, 3, 5)), r.standard_normal((5, 5)), r.standard_normal((3, 5))

    def unrolled(xs, w, h0):
        h = h0
        for t in range(4):              # W.T per step, as the recurrent cells do
            h = (xs[t] + h @ w.T).tanh()
        return h

    assert mg.gradcheck(unrolled, [xs, w, h0])


def test_lazy_and_dense_contributions_to_one_tensor_mix():
    r = rng()
    a, w = r.standard_normal((3, 4)), r.standard_normal((4, 4))

    def mixed(a, w):
        wt = w.T
        y = a @ wt + a @ w              # factored through W.T, and a direct matmul
        z = (w * w).sum() + w[1:3].sum() + w[[0, 0, 2]].sum()  # dense and indexed parts
        return y.sum() * z

    assert mg.gradcheck(mixed, [a, w])


def test_hooks_and_kept_grads_see_dense_tensors():
    r = rng()
    a = mg.tensor(r.standard_normal((3, 4)), requires_grad=True)
    w = mg.tensor(r.standard_normal((5, 4)), requires_grad=True)
    wt = w.T
    wt.retain_grad()
    seen = []
    w.register_hook(lambda g: seen.append((type(g), type(g.data))))
    ((a @ wt).sum() + (a @ wt).tanh().sum()).backward()
    assert type(wt.grad.data) is np.ndarray and type(w.grad.data) is np.ndarray
    assert seen == [(mg.Tensor, np.ndarray)]
    np.testing.assert_allclose(w.grad, wt.grad.T)


def test_outer_grad_sums_its_parts_and_transposes():
    r = rng()
    parts = [(r.standard_normal((2, 3)), r.standard_normal((2, 4))) for _ in range(3)]
    lazy = OuterGrad([parts[0][0]], [parts[0][1]])
    for a, g in parts[1:]:
        assert lazy.absorb(OuterGrad([a], [g]))
    expected = sum(a.T @ g for a, g in parts)
    np.testing.assert_allclose(lazy.dense(), expected)
    np.testing.assert_allclose(lazy.transposed().dense(), expected.T)
    assert not lazy.absorb(IndexedGrad((0,), np.ones(4), (3, 4), np.float64, True))


USES = {
    "x @ W": lambda x, w, wt: x @ w,
    "x @ W.T, one W.T": lambda x, w, wt: x @ wt,        # wt's gradient sums the n parts
    "x @ W.T at every use": lambda x, w, wt: x @ w.T,   # W sums n transposed parts
}


def _backward_seconds(n, use, repeats=3):
    """Best time of `repeats` backwards of sum_k x_k @ W, a weight used n times (graph built once)."""
    r = rng()
    w = mg.tensor(r.standard_normal((3, 3)), requires_grad=True)
    x, wt = mg.tensor(r.standard_normal((1, 3))), w.T
    total = USES[use](x, w, wt)
    for _ in range(n - 1):
        total = total + USES[use](x, w, wt)
    loss = total.sum()
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        gc.disable()  # no collection of the big graph inside the timing
        try:
            start = time.perf_counter()
            loss.backward(retain_graph=True)
            best = min(best, time.perf_counter() - start)
        finally:
            gc.enable()
    outer = x.data.T @ np.ones((1, 3))  # d sum(x @ W) / dW, once per use and backward
    np.testing.assert_allclose(w.grad, repeats * n * (outer if use == "x @ W" else outer.T))
    return best


@pytest.mark.parametrize("use", sorted(USES))
def test_backward_is_linear_in_the_uses_of_a_weight(use):
    """n uses of W through a matmul give n factored parts; summing them must take O(n) (it was
    O(n^2): each absorb copied the lists). 4x the uses: about 4x the time, not 16x."""
    small, big = _backward_seconds(5_000, use), _backward_seconds(20_000, use)
    assert big / small < 8, f"{use}: 5k uses {small:.3f} s, 20k uses {big:.3f} s: ratio {big / small:.1f}"


def test_absorb_extends_in_place_but_never_a_transposed_copy():
    r = rng()
    a, g = r.standard_normal((2, 3)), r.standard_normal((2, 4))
    lazy = OuterGrad([a], [g])
    flipped = lazy.transposed()
    assert lazy.absorb(OuterGrad([a], [g])) and flipped.absorb(OuterGrad([g], [a]))
    assert len(lazy.lefts) == len(flipped.lefts) == 2  # each got only its own part
    np.testing.assert_allclose(flipped.dense(), lazy.dense().T)


def test_indexed_grad_adds_repeated_indices_once_per_repeat():
    values = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    grad = IndexedGrad(np.array([0, 2, 0]), values, (3, 2), np.float64, basic=False)
    np.testing.assert_allclose(grad.dense(), [[6.0, 8.0], [0.0, 0.0], [3.0, 4.0]])


def _indexed_sum(shape, indices, r, dtype=np.float64):
    """The IndexedGrad of several slices absorbed into one, and the same sum added densely."""
    expected = np.zeros(shape, dtype)
    total = None
    for index in indices:
        values = r.standard_normal(np.zeros(shape)[index].shape).astype(dtype)
        expected[index] += values
        part = IndexedGrad(index, values, shape, dtype, basic=True)
        if total is None:
            total = part
        else:
            assert total.absorb(part)
    return total, expected


def test_slices_that_tile_a_tensor_join_into_its_gradient():
    r = rng()
    gates = [(slice(None), slice(k * 3, (k + 1) * 3)) for k in (2, 0, 3, 1)]  # any order
    steps = list(range(4))
    for shape, indices in [((2, 12), gates), ((4, 2, 3), steps), ((4, 2), [-1, 0, 1, 2]),
                           ((3, 5), [slice(0, 1), slice(1, 5)])]:
        total, expected = _indexed_sum(shape, indices, r, np.float32)
        assert _join_tiles(total.parts, shape, np.float32) is not None  # joined, not added
        dense = total.dense()
        assert dense.dtype == np.float32 and dense.shape == shape
        np.testing.assert_array_equal(dense, expected)


def test_slices_with_gaps_overlaps_or_mixed_axes_add_into_zeros():
    r = rng()
    cases = [[0, 2],                                    # a gap: row 1 stays zero
             [slice(0, 2), slice(1, 3)],                # an overlap: row 1 gets both
             [0, 0, 1, 2],                              # a repeat
             [(slice(None), 0), 1, 2],                  # two axes
             [slice(0, 3, 2), 1],                       # a step
             [(Ellipsis, 0), (Ellipsis, 1), (Ellipsis, 2)]]
    for indices in cases:
        total, expected = _indexed_sum((3, 3), indices, r)
        assert _join_tiles(total.parts, (3, 3), np.float64) is None
        np.testing.assert_allclose(total.dense(), expected)


def test_an_lstm_style_unstack_and_chunk_match_finite_differences():
    r = rng()
    xs, w = r.standard_normal((3, 2, 8)), r.standard_normal((2, 8))

    def unstack_and_chunk(xs, w):
        h = w[:, 0:2]
        for t in range(3):              # x[t] for every t, then the four chunks of each
            gates = xs[t] + w
            h = h * gates[:, 0:2].sigmoid() + gates[:, 2:4].tanh() * gates[:, 6:8] + gates[:, 4:6]
        return h

    assert mg.gradcheck(unstack_and_chunk, [xs, w])


def test_outer_grad_sums_in_groups_exactly_like_one_product(monkeypatch):
    from minigrad import lazy_grad

    r = rng()
    lefts = [r.standard_normal((n, 3)) for n in (2, 5, 1, 4, 3)]
    rights = [r.standard_normal((n, 6)) for n in (2, 5, 1, 4, 3)]
    expected = np.concatenate(lefts).T @ np.concatenate(rights)
    for group_bytes in (1, 200, 400, 10**9):  # one part per group ... all parts in one
        monkeypatch.setattr(lazy_grad, "GROUP_BYTES", group_bytes)
        np.testing.assert_allclose(OuterGrad(list(lefts), list(rights)).dense(), expected, rtol=1e-12)


@settings(deadline=None, max_examples=60, derandomize=True)
@given(data=st.data())
def test_any_set_of_slices_sums_like_adding_each_into_zeros(data):
    """Random cuts of a random axis into ranges and single positions, in random order, maybe
    with a piece dropped (a gap) or repeated (an overlap): joined or not, the same sum."""
    r = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3), label="shape"))
    axis = data.draw(st.integers(0, len(shape) - 1), label="axis")
    n = shape[axis]
    cuts = sorted(set(data.draw(st.lists(st.integers(1, n), max_size=n), label="cuts")) | {0, n})
    indices = []
    for start, stop in zip(cuts, cuts[1:]):
        if stop == start + 1 and data.draw(st.booleans(), label="as int"):
            where = start - n if data.draw(st.booleans(), label="negative") else start
        else:
            where = slice(start, stop)
        indices.append((slice(None),) * axis + (where,))
    spoil = data.draw(st.sampled_from(["none", "gap", "overlap"]), label="spoil")
    if spoil == "gap" and len(indices) > 1:
        indices.pop(data.draw(st.integers(0, len(indices) - 1), label="dropped"))
    elif spoil == "overlap":
        indices.append(indices[data.draw(st.integers(0, len(indices) - 1), label="repeated")])
    indices = data.draw(st.permutations(indices), label="order")
    total, expected = _indexed_sum(shape, indices, r)
    np.testing.assert_allclose(total.dense(), expected, rtol=1e-12)
