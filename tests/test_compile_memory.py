"""mg.compile's memory and its structural rewrites: the trace frees what eager frees, the plans
share one arena, results may overwrite an input that dies, and a one-hot matmul is a gather;
all with eager's numbers bit for bit."""
import functools
import gc
import tracemalloc

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import functional as F

eq = np.testing.assert_array_equal


def test_the_trace_keeps_no_intermediate_arrays():
    w = mg.tensor(np.ones((1000, 1000)), requires_grad=True)  # 8 MB per intermediate

    def step(x):
        y = mg.tensor(x)
        for _ in range(10):  # each intermediate dies after the next one is made (no grad kept)
            y = (y * 1.5).detach()
        loss = (y * w).sum()
        loss.backward()
        return loss

    fn = mg.compile(step)
    x = np.ones((1000, 1000))
    gc.collect()
    tracemalloc.start()
    try:
        loss = fn(x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert fn.traces == 1
    # eager's peak: x's copy, two intermediates, y * w, and .grad: ~6 arrays, not 10 more
    assert peak < 9 * x.nbytes, peak / x.nbytes
    eq(loss.data, 1.5 ** 10 * 1e6)
    eq(fn(2 * x).data, 2 * 1.5 ** 10 * 1e6)


def _peak(call):
    gc.collect()
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_tracing_call_keeps_only_what_backward_saved():
    w = mg.tensor(np.full((500, 500), 0.5), requires_grad=True)  # 2 MB per array

    def step(x):
        y = mg.tensor(x) * w   # Mul saves x and w for its backward
        for _ in range(12):    # Add saves nothing: eager's graph alone keeps each y alive
            y = y + 1.0
        loss = y.sum()
        w.grad = None
        loss.backward()
        return loss

    x = np.ones((500, 500))
    eager_loss, eager_peak = _peak(lambda: step(x))
    eager_grad = w.grad.data.copy()
    fn = mg.compile(step)
    loss, traced_peak = _peak(lambda: fn(x))
    assert fn.traces == 1
    eq(loss.data, eager_loss.data)
    eq(w.grad.data, eager_grad)
    # eager: the 13 y's (2 MB each) until backward; the trace: x's copy, the live y, w's grad
    assert eager_peak > 13 * x.nbytes, eager_peak / x.nbytes
    assert traced_peak < 7 * x.nbytes, traced_peak / x.nbytes
    eq(fn(2 * x).data, step(2 * x).data)


@pytest.mark.filterwarnings("ignore:mg.compile.*runs no backward")  # (a forward-only step, on purpose)
def test_the_trace_leaves_an_earlier_graph_as_it_was():
    w = mg.tensor(np.ones(3), requires_grad=True)

    def f(t):
        return ((t * 3) * t).sum()

    def graph():  # an eager graph made before the call, passed in
        return mg.tensor(np.arange(3.0)) * w * 2

    b = graph()
    inputs = b.grad_fn.inputs
    fn = mg.compile(f)
    eq(fn(b).data, f(b).data)
    assert b.grad_fn.inputs is inputs and all(type(t.data) is np.ndarray and 0 not in t.data.strides for t in inputs)
    b.backward(mg.ones(3))  # the earlier graph still works
    eq(w.grad.data, np.arange(3.0) * 2)


def _stacked_step(w, write_after=None, reuse_after=True):
    """hs_t = tanh(x_t @ w) stacked into out; loss from out (and, if reuse_after, hs again)."""
    def step(x):
        hs = [mg.tensor(x[t]) @ w for t in range(5)]
        if reuse_after:
            hs = [h.tanh() for h in hs]  # (Tanh's backward reads its output: the pieces live on)
        out = mg.stack(hs)
        if write_after is not None:      # a piece, or the result, changed after the join:
            with mg.no_grad():           # the join must copy
                (hs[0] if write_after == "piece" else out).data[0] += 1.0
        loss = (out * out).sum() + hs[0].sum()
        w.grad = None
        loss.backward()
        return loss, out
    return step


@pytest.mark.parametrize("write_after, reuse_after, joined_in_place",
                         [(None, True, True), ("piece", True, False), ("result", True, False),
                          (None, False, False)])
def test_a_join_whose_pieces_live_on_is_made_in_place(write_after, reuse_after, joined_in_place):
    w = mg.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
    step = _stacked_step(w, write_after, reuse_after)
    fn = mg.compile(step)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.standard_normal((5, 2, 3))
        loss, out = fn(x)
        grad = w.grad.data.copy()
        expected_loss, expected_out = step(x)
        eq(loss.data, expected_loss.data)
        eq(out.data, expected_out.data)
        eq(grad, w.grad.data)
    assert fn.replays == 2
    stacks = [i for i in fn.plan.program if i.fn is np.stack]
    assert (not stacks) == joined_in_place, [str(fn.plan)]
    if joined_in_place:  # each piece's call writes into its block of the stacked result
        assert "np.tanh" in str(fn.plan) and "'" in str(fn.plan)


def test_the_plan_buffers_are_made_at_the_first_replay():
    def step(x):
        return (mg.tensor(x) * 2).exp().sum()

    fn = mg.compile(step)
    fn(np.ones(100))
    assert fn.plan._steps is None  # traced: no buffers yet
    assert "buffers" in str(fn.plan)
    eq(fn(np.zeros(100)).data, 100.0)
    assert fn.plan._steps is not None


def test_plans_of_one_function_share_the_arena_and_the_grads_and_stay_exact():
    w = mg.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)

    def step(x):
        h = (mg.tensor(x) @ w).tanh()
        loss = (h * h).sum() + h.exp().mean()
        w.grad = None
        loss.backward()
        return loss, h

    def eager(x):
        loss, h = step(x)
        result = loss.data, h.data, w.grad.data.copy()
        w.grad = None  # (as the trace met it)
        return result

    fn = mg.compile(step)
    rng = np.random.default_rng(0)
    shapes = [(5, 3), (7, 3), (5, 3), (7, 3), (5, 3), (7, 3), (5, 3)]
    for shape in shapes:  # alternating signatures: two plans replayed in turn, one arena
        x = rng.standard_normal(shape)
        loss, h = fn(x)
        got = (loss.data, h.data, w.grad.data.copy())
        for a, b in zip(got, eager(x)):
            eq(a, b)
    assert len(fn.plans) == 2 and fn.replays == len(shapes) - 2
    arenas = {id(b[0]) for plan in fn.plans.values() for b in plan._blocks if b[4]}
    assert len(arenas) <= 2  # (the second plan's arena is the first's, or a bigger one)
    grad_buffers = [buf for plan in fn.plans.values() for t, buf in plan.grads if t is w]
    assert len(grad_buffers) == 2 and np.shares_memory(*grad_buffers)  # w's new .grad: one buffer


@pytest.mark.parametrize("read_after_backward", [False, True])
def test_a_step_that_reads_the_grad_it_came_with_replays_on_the_grad_there_is(read_after_backward):
    def make():
        w = mg.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)

        def step(x):
            last = w.grad  # the previous call's .grad: the plan must read the one there is now
            w.grad = None
            if not read_after_backward:
                previous = (last * last).sum() if last is not None else mg.tensor(0.0)
            loss = (mg.tensor(x) @ w).tanh().sum()
            loss.backward()  # (a new .grad: not written where the old one is read)
            if read_after_backward:
                previous = (last * last).sum() if last is not None else mg.tensor(0.0)
            return loss + previous
        return w, step

    w, step = make()
    w_eager, eager = make()
    fn = mg.compile(step)
    rng = np.random.default_rng(2)
    # (9, 3) is traced when .grad is a replay's buffer, the one every plan's new .grad goes to
    for shape in [(5, 3), (7, 3), (5, 3), (7, 3), (9, 3), (5, 3), (9, 3), (7, 3), (9, 3)]:
        x = rng.standard_normal(shape)
        eq(fn(x).data, eager(x).data)
        eq(w.grad.data, w_eager.grad.data)
    assert fn.replays >= 4


def test_elementwise_results_overwrite_an_input_that_dies():
    def step(x):
        t = mg.tensor(x)
        return ((t * 3 + 1).exp() - 2).tanh() * 0.5

    fn = mg.compile(step)
    x = np.random.default_rng(1).standard_normal((64, 64))
    fn(x)
    for k in range(3):
        xk = x + k
        eq(fn(xk).data, step(xk).data)
    # the chain needs at most two temp arrays' bytes at once, not one per result
    assert fn.plan.stats["buffer_bytes"] <= 4 * xk.nbytes + 4096


def _one_hot_step(w, vocab, cast):
    def step(x):
        if cast == "temp":  # indices in a temp buffer (the plan keeps it alive up to the gather)
            onehot = F.one_hot(np.ascontiguousarray(x.T), vocab, dtype=mg.float32)
        elif cast:  # the harness's way: an int64 one-hot, cast to float
            onehot = mg.tensor(F.one_hot(x, vocab).data.astype(np.float32))
        else:
            onehot = F.one_hot(x, vocab, dtype=mg.float32)
        y = (onehot.reshape(-1, vocab) @ w).tanh()
        loss = y.sum()
        w.grad = None
        loss.backward()
        return loss, y
    return step


def _gathers(plan):
    return sum(isinstance(s, functools.partial) and s.func is np.take or getattr(s, "__name__", "") == "gather"
               for s in plan.steps)


def test_a_one_hot_matmul_is_replayed_as_a_gather_with_eagers_numbers():
    rng = np.random.default_rng(2)
    vocab = 11
    for cast in (False, True, "temp"):
        w = mg.tensor(rng.standard_normal((vocab, 6)).astype(np.float32), requires_grad=True)
        step = _one_hot_step(w, vocab, cast)
        fn = mg.compile(step)
        for _ in range(4):
            x = rng.integers(0, vocab, (5, 3))
            loss, y = fn(x)
            got = (loss.data, y.data, w.grad.data.copy())
            eloss, ey = step(x)
            for a, b in zip(got, (eloss.data, ey.data, w.grad.data)):
                eq(a, b)
        assert _gathers(fn.plan) == 1, cast
        eq(y.data, np.tanh(w.data[(x.T if cast == "temp" else x).reshape(-1)]))


def test_a_one_hot_matmul_of_a_transposed_weight_is_a_gather_with_eagers_numbers():
    """onehot @ W.T (nn.Linear's layout): the rows of W.T are gathered, from a C-ordered copy."""
    rng = np.random.default_rng(3)
    vocab = 7
    w = mg.tensor(rng.standard_normal((5, vocab)).astype(np.float32), requires_grad=True)

    def step(x):
        y = (F.one_hot(x, vocab, dtype=mg.float32) @ w.T).tanh()
        w.grad = None
        y.sum().backward()
        return y

    fn = mg.compile(step)
    for _ in range(3):
        x = rng.integers(0, vocab, 6)
        y = fn(x)
        got = (y.data, w.grad.data.copy())
        for a, b in zip(got, (step(x).data, w.grad.data)):
            eq(a, b)
        eq(y.data, np.tanh(w.data.T[x]))
        w.data -= 0.1  # (the gather reads the weight of the moment)
    assert _gathers(fn.plan) == 1


def _recurrence(w, steps):
    def step(h):
        h = mg.tensor(h)
        for _ in range(steps):
            h = (h @ w.T).tanh()  # a new view w.T at each step, as a cell makes it
        w.grad = None
        h.sum().backward()
        return h
    return step


def test_a_transposed_operand_of_many_products_is_copied_once_with_eagers_numbers():
    rng = np.random.default_rng(4)
    w = mg.tensor(rng.standard_normal((64, 64)).astype(np.float32) / 8, requires_grad=True)
    h = rng.standard_normal((32, 64)).astype(np.float32)
    if not np.array_equal(h @ w.data.T, h @ np.ascontiguousarray(w.data.T)):
        pytest.skip("this BLAS rounds a product of a transposed operand differently: the plan keeps it")
    step = _recurrence(w, 6)
    fn = mg.compile(step)
    for _ in range(3):
        h = rng.standard_normal((32, 64)).astype(np.float32)
        got = (fn(h).data, w.grad.data.copy())
        for a, b in zip(got, (step(h).data, w.grad.data)):
            eq(a, b)
        w.data *= 0.9  # the copy is made at each call, from the weight of the moment
    copies = [i for i in fn.plan.program if i.fn is np.copyto and i.kind == "call"]
    products = [i for i in fn.plan.program if i.fn is np.matmul and i.args[1].value.root is copies[0].writes[0].root]
    assert len(copies) == 1 and len(products) == 6
    assert copies[0].reads[0].shape == (64, 64) and not copies[0].reads[0].is_whole  # w.T
    assert "C-ordered, for 6 products" in str(fn.plan)


def test_few_products_or_an_operand_the_step_writes_are_not_copied():
    rng = np.random.default_rng(5)
    few = mg.tensor(rng.standard_normal((16, 16)).astype(np.float32), requires_grad=True)
    fn = mg.compile(_recurrence(few, 3))
    fn(rng.standard_normal((4, 16)).astype(np.float32))
    assert not any(i.fn is np.copyto for i in fn.plan.program)

    w = mg.from_numpy(rng.standard_normal((64, 64)).astype(np.float32) / 8)  # (no grad: not a parameter)

    def step(h):
        h = mg.tensor(h)
        for k in range(6):
            h = (h @ w.T).tanh()
            if k == 2:
                w.data[0, 0] += 0.5  # the products after this see another operand
        return h

    fn = mg.compile(step)
    for _ in range(2):
        h = rng.standard_normal((32, 64)).astype(np.float32)
        before = w.data.copy()
        got = fn(h).data
        w.data[...] = before
        eq(got, step(h).data)
    assert not any(i.fn is np.copyto and i.kind == "call" for i in fn.plan.program)
    assert sum(i.fn is np.matmul for i in fn.plan.program) == 6


@pytest.mark.filterwarnings("ignore:mg.compile.*runs no backward")  # (a forward-only step, on purpose)
def test_a_matmul_of_a_constant_that_is_not_one_hot_stays_a_product():
    w = mg.tensor(np.ones((4, 3), np.float32), requires_grad=True)

    def step(x):
        a = np.zeros((5, 4), np.float32)
        np.put_along_axis(a, x[:, None], 2, axis=-1)  # 2s, not 1s
        return (mg.tensor(a) @ w).sum()

    fn = mg.compile(step)
    x = np.array([0, 1, 2, 3, 0])
    fn(x)
    eq(fn(x).data, 30.0)
    assert _gathers(fn.plan) == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_python_numbers_beside_a_float_array_are_bound_as_arrays_of_its_type_with_eagers_numbers(dtype):
    w = mg.tensor(np.linspace(-2, 2, 12).astype(dtype), requires_grad=True)

    def step(x):
        w.grad = None
        y = ((mg.tensor(x) * w) * 0.1 + 1) / 3 - 2 ** 0.5  # 0.1 and 2 ** 0.5: not exact in either type
        y = y.sigmoid() + y.tanh()  # (their numpy: 1 / (1 + exp(-x)), 1 - y * y)
        (y * y).sum().backward()
        return y

    fn = mg.compile(step)
    rng = np.random.default_rng(6)
    for _ in range(3):
        x = rng.standard_normal(12).astype(dtype)
        got, grad = fn(x).data, w.grad.data.copy()
        eq(got, step(x).data)
        eq(grad, w.grad.data)
    ufunc_args = [a for s in fn.plan.steps if isinstance(s, functools.partial) and isinstance(s.func, np.ufunc)
                  for a in s.args]
    assert not [a for a in ufunc_args if type(a) in (int, float)]
    assert sum(isinstance(a, np.ndarray) and a.ndim == 0 and a.dtype == dtype for a in ufunc_args) >= 2


def test_a_python_number_the_arrays_type_cannot_hold_stays_a_number_and_numpy_still_warns():
    def step(x):  # numpy code in the step, on its argument
        return np.add(np.multiply(x, 2), 1e39)  # 1e39 is beyond float32: numpy casts it to inf, and warns

    fn = mg.compile(step)
    for _ in range(3):
        with pytest.warns(RuntimeWarning, match="overflow"):
            out = fn(np.ones(3, np.float32))
        eq(out, np.full(3, np.inf, np.float32))
    assert fn.replays == 2
