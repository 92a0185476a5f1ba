"""A tensor used many times (a weight at every time step, the slices of one array) gets the sum
of its gradients: checked against finite differences, dense sums and for linear time."""
import gc
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg


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


def test_matmul_transposed_and_indexed_uses_of_one_tensor_add_up():
    r = rng()
    a, w = r.standard_normal((3, 4)), r.standard_normal((4, 4))

    def mixed(a, w):
        wt = w.T
        y = a @ wt + a @ w              # through W.T, and a direct matmul
        z = (w * w).sum() + w[1:3].sum() + w[[0, 0, 2]].sum()  # elementwise, sliced and indexed uses
        return y.sum() * z

    assert mg.gradcheck(mixed, [a, w])


def test_hooks_and_kept_grads_see_tensors_of_plain_arrays():
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
    """n uses of W through a matmul give n gradients; summing them must take O(n) (a version
    that kept the parts in lists took O(n^2)). 4x the uses: about 4x the time, not 16x."""
    small, big = _backward_seconds(5_000, use), _backward_seconds(20_000, use)
    assert big / small < 8, f"{use}: 5k uses {small:.3f} s, 20k uses {big:.3f} s: ratio {big / small:.1f}"


def test_an_index_that_repeats_a_row_adds_its_gradient_once_per_repeat():
    x = mg.tensor(np.zeros((3, 2)), requires_grad=True)
    values = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    (x[np.array([0, 2, 0])] * mg.tensor(values)).sum().backward()
    np.testing.assert_allclose(x.grad, [[6.0, 8.0], [0.0, 0.0], [3.0, 4.0]])


def _slices_grad(shape, indices, r, dtype=np.float64):
    """x.grad of sum_k (x[index_k] * c_k).sum() for random c_k, and the same sum added densely."""
    x = mg.tensor(np.zeros(shape, dtype), requires_grad=True)
    expected = np.zeros(shape, dtype)
    loss = None
    for index in indices:
        c = r.standard_normal(np.zeros(shape)[index].shape).astype(dtype)
        expected[index] += c
        part = (x[index] * mg.tensor(c)).sum()
        loss = part if loss is None else loss + part
    loss.backward()
    return x.grad.data, expected


def test_slices_that_tile_a_tensor_sum_into_its_gradient():
    r = rng()
    gates = [(slice(None), slice(k * 3, (k + 1) * 3)) for k in (2, 0, 3, 1)]  # any order
    steps = list(range(4))
    for shape, indices in [((2, 12), gates), ((4, 2, 3), steps), ((4, 2), [-1, 0, 1, 2]),
                           ((3, 5), [slice(0, 1), slice(1, 5)])]:
        grad, expected = _slices_grad(shape, indices, r, np.float32)
        assert grad.dtype == np.float32 and grad.shape == shape
        np.testing.assert_array_equal(grad, expected)


def test_slices_with_gaps_overlaps_or_mixed_axes_sum_like_adding_into_zeros():
    r = rng()
    cases = [[0, 2],                                    # a gap: row 1 stays zero
             [slice(0, 2), slice(1, 3)],                # an overlap: row 1 gets both
             [0, 0, 1, 2],                              # a repeat
             [(slice(None), 0), 1, 2],                  # two axes
             [slice(0, 3, 2), 1],                       # a step
             [(Ellipsis, 0), (Ellipsis, 1), (Ellipsis, 2)]]
    for indices in cases:
        grad, expected = _slices_grad((3, 3), indices, r)
        np.testing.assert_allclose(grad, expected)


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


@settings(deadline=None, max_examples=60, derandomize=True)
@given(data=st.data())
def test_any_set_of_slices_sums_like_adding_each_into_zeros(data):
    """Random cuts of a random axis into ranges and single positions, in random order, maybe
    with a piece dropped (a gap) or repeated (an overlap): the same sum as adding into zeros."""
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
    grad, expected = _slices_grad(shape, indices, r)
    np.testing.assert_allclose(grad, expected, rtol=1e-12)
