"""mg.compile: a traced-and-replayed step gives eager's numbers bit for bit.

Every op of the gradcheck catalogue, the recurrent cells and layers (dropout included), and a
char-RNN training loop are run eagerly and compiled on several inputs of one signature, and
compared with assert_array_equal: the first compiled call traces (and is eager), the others
replay the plan.
"""
import gc
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import models, nn, optim
from minigrad.nn import functional as F
from test_engine_ops_gradcheck import CATALOGUE

eq = np.testing.assert_array_equal


# ---------------------------------------------------------------- every op of the catalogue
class _Draws:
    """Replays a catalogue builder's draws, giving a new "seed" each time: the same shapes,
    axes and options (so one signature and one fn), other values."""

    def __init__(self, draw):
        self.draw, self.log = draw, []

    def first(self, strategy, label=None):
        value = self.draw(strategy, label=label)
        self.log.append(value)
        return value

    def again(self, seed):
        values = iter(self.log)

        def draw(strategy, label=None):
            value = next(values)
            return seed if label == "seed" else value
        return draw


def _weighted_sum_step(fn):
    """fn's outputs, backward through a fixed weighting of them (so every gradient differs)."""
    def step(*inputs):
        out = fn(*inputs)
        outs = tuple(out) if isinstance(out, tuple) else (out,)
        total = None
        for o in outs:
            if isinstance(o, mg.Tensor) and o.requires_grad:
                w = mg.tensor(np.linspace(-1.0, 2.0, o.data.size).reshape(o.shape).astype(o.dtype))
                term = (o * w).sum()
                total = term if total is None else total + term
        if total is not None:
            total.backward()
        return outs
    return step


def _as_inputs(arrays):
    return [mg.tensor(a, requires_grad=True) if a.dtype.kind == "f" else a for a in arrays]


def _run(step, arrays):
    inputs = _as_inputs(arrays)
    outs = step(*inputs)
    grads = [t.grad.data if isinstance(t, mg.Tensor) and t.grad is not None else None for t in inputs]
    return [o.data if isinstance(o, mg.Tensor) else o for o in outs], grads


@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize("name", sorted(CATALOGUE))
@settings(deadline=None, max_examples=4, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_every_catalogue_op_compiles_bit_for_bit(name, exact, data):
    """Also with exact=False: its rule needs a chain of per-step products over stacked arrays,
    which no single op makes, so it must leave these programs (and their bits) alone."""
    draws = _Draws(data.draw)
    fn, first_inputs, *_ = CATALOGUE[name](draws.first)
    step = _weighted_sum_step(fn)
    compiled = mg.compile(step, exact=exact)
    for k, seed in enumerate([None, 12345, 2**31 + 7]):
        arrays = first_inputs if seed is None else CATALOGUE[name](draws.again(seed))[1]
        with np.errstate(all="ignore"):
            eager_out, eager_grads = _run(step, arrays)
            out, grads = _run(compiled, arrays)
        assert compiled.traces == 1 and compiled.replays == k, (compiled.traces, compiled.replays)
        for a, b in zip(eager_out, out, strict=True):
            eq(b, a)
            if isinstance(a, np.ndarray):
                assert b.dtype == a.dtype
        for a, b in zip(eager_grads, grads, strict=True):
            assert (a is None) == (b is None)
            if a is not None:
                eq(b, a)


# ---------------------------------------------------------------- recurrent cells and layers
def _state_like(value):
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize("cell", [models.RNNCell, models.LSTMCell, models.GRUCell, models.PeepholeLSTMCell,
                                  models.FourGateLSTMCell])
def test_cells_compile_bit_for_bit(cell):
    mg.manual_seed(1)
    model = cell(5, 7)
    rng = np.random.default_rng(0)

    def step(x, state):
        new = _state_like(model(x, state))
        loss = sum(((part * part).sum() for part in new), mg.tensor(0.0))
        model.zero_grad()
        loss.backward()
        return new

    compiled = mg.compile(step)
    for k in range(4):
        x = rng.standard_normal((3, 5)).astype(np.float32)
        parts = [rng.standard_normal((3, 7)).astype(np.float32) for _ in model.state_names]
        state = None if k == 0 else (mg.tensor(parts[0]) if len(parts) == 1 else tuple(map(mg.tensor, parts)))
        expected = step(mg.tensor(x), state)
        expected_grads = [p.grad.data.copy() for p in model.parameters()]
        got = compiled(mg.tensor(x), state)
        for a, b in zip(expected, got, strict=True):
            eq(b.data, a.data)
        for a, p in zip(expected_grads, model.parameters(), strict=True):
            eq(p.grad.data, a)
    assert compiled.replays == 2  # signatures: state None (once), state given (then twice replayed)


@pytest.mark.parametrize("layer", [models.RNN, models.LSTM, models.GRU])
@pytest.mark.parametrize("num_layers,batch_first,dropout", [(1, False, 0.0), (2, True, 0.0), (3, False, 0.4),
                                                            (2, True, 0.5)])
def test_layers_compile_bit_for_bit_dropout_included(layer, num_layers, batch_first, dropout):
    mg.manual_seed(2)
    model = layer(4, 6, num_layers=num_layers, batch_first=batch_first, dropout=dropout)
    model.train()
    rng = np.random.default_rng(3)

    def step(x, hx):
        out, state = model(x, hx)
        loss = (out * out).mean() + sum((s * s).sum() for s in _state_like(state))
        model.zero_grad()
        loss.backward()
        return out, state

    compiled = mg.compile(step)
    shape = (2, 5, 4) if batch_first else (5, 2, 4)
    for k in range(4):
        x = rng.standard_normal(shape).astype(np.float32)
        hx = None
        if k % 2:
            parts = [mg.tensor(rng.standard_normal((num_layers, 2, 6)).astype(np.float32))
                     for _ in model.cells[0].state_names]
            hx = parts[0] if len(parts) == 1 else tuple(parts)
        mg.manual_seed(100 + k)
        out, state = step(mg.tensor(x), hx)
        grads = [p.grad.data.copy() for p in model.parameters()]
        after_eager = mg.generator().random()
        mg.manual_seed(100 + k)
        out_c, state_c = compiled(mg.tensor(x), hx)
        eq(out_c.data, out.data)
        for a, b in zip(_state_like(state), _state_like(state_c), strict=True):
            eq(b.data, a.data)
        for a, p in zip(grads, model.parameters(), strict=True):
            eq(p.grad.data, a)
        assert mg.generator().random() == after_eager  # the replay drew as many numbers as eager
    assert compiled.traces == 2 and compiled.replays == 2


def test_bidirectional_lstm_compiles_bit_for_bit():
    mg.manual_seed(0)
    model = models.LSTM(5, 6, num_layers=2, bidirectional=True, dropout=0.3)
    rng = np.random.default_rng(1)

    def step(x):
        out, (h, c) = model(x)
        model.zero_grad()
        ((out * out).sum() + (h * c).sum()).backward()
        return out, h, c

    fn = mg.compile(step)
    for k in range(3):
        x = mg.tensor(rng.standard_normal((4, 3, 5)).astype(np.float32))
        mg.manual_seed(k)
        expected = step(x)
        grads = [p.grad.data.copy() for p in model.parameters()]
        mg.manual_seed(k)
        for a, b in zip(expected, fn(x), strict=True):
            eq(b.data, a.data)
        for a, p in zip(grads, model.parameters(), strict=True):
            eq(p.grad.data, a)
    assert fn.replays == 2


def test_dropout_and_randn_are_drawn_again_at_each_replay():
    x = mg.tensor(np.ones((4, 50), np.float32))

    def step(x):
        return F.dropout(x, 0.5) + mg.randn(4, 50) * 0.0 + mg.rand(4, 50)

    compiled = mg.compile(step)
    results = []
    for seed in (1, 2, 1):
        mg.manual_seed(seed)
        expected = step(x)
        mg.manual_seed(seed)
        got = compiled(x)
        eq(got.data, expected.data)
        results.append(got.data)
    assert not np.array_equal(results[0], results[1])
    eq(results[0], results[2])
    assert compiled.replays == 2


# ---------------------------------------------------------------- a training loop
def _char_rnn(seed, vocab=11, hidden=16):
    mg.manual_seed(seed)
    lstm, head = models.LSTM(vocab, hidden), nn.Linear(hidden, vocab)
    params = list(lstm.parameters()) + list(head.parameters())
    return lstm, head, params, optim.Adam(params, lr=2e-2)


def _train(compiled, steps=20, vocab=11, hidden=16, reuse=True):
    lstm, head, params, opt = _char_rnn(0, vocab, hidden)

    def step(x, y, state):
        logits, state = lstm(F.one_hot(x, vocab, dtype=mg.float32), state)
        loss = F.cross_entropy(head(logits.reshape(-1, hidden)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        return loss, tuple(s.detach() for s in state)

    fn = mg.compile(step, reuse_buffers=reuse) if compiled else step
    rng = np.random.default_rng(5)
    state, history = None, []
    for k in range(steps):
        ids = rng.integers(0, vocab, (9, 4))
        if k == 10:
            state = None  # a new "epoch": back to the first signature
        loss, state = fn(ids[:-1], ids[1:], state)
        history.append((loss.data.copy(), [p.grad.data.copy() for p in params]))
        opt.step()
    return history, [p.data.copy() for p in params], fn


@pytest.mark.parametrize("reuse", [True, False])
def test_twenty_training_steps_match_eager_exactly(reuse):
    eager, eager_weights, _ = _train(False)
    compiled, weights, fn = _train(True, reuse=reuse)
    for (loss_a, grads_a), (loss_b, grads_b) in zip(eager, compiled, strict=True):
        eq(loss_b, loss_a)
        for a, b in zip(grads_a, grads_b, strict=True):
            eq(b, a)
    for a, b in zip(eager_weights, weights, strict=True):
        eq(b, a)
    assert fn.replays >= 16  # traced: state None, state given, and None again (grads now set)


@pytest.mark.parametrize("options", [{}, {"cell": "gru"}, {"embedding_dim": 5}, {"cell": "rnn", "dropout": 0.2}])
def test_char_rnn_model_training_matches_eager(options):
    """models.CharRNN reads its input as np.asarray(getattr(idx, "data", idx)): for an array,
    .data is its memoryview, and the array made from it must stay the input."""
    def run(compiled):
        mg.manual_seed(0)
        model = models.CharRNN(9, 8, 2, **options)
        opt = optim.Adam(model.parameters(), lr=1e-2)

        def step(x, y, state):
            logits, state = model(x, state)
            loss = F.cross_entropy(logits.reshape(-1, 9), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            return loss, state

        fn = mg.compile(step) if compiled else step
        rng, state, losses = np.random.default_rng(0), None, []
        for k in range(6):
            ids = rng.integers(0, 9, (7, 3))
            mg.manual_seed(k)
            loss, state = fn(ids[:-1], ids[1:], state)
            state = models.detach_state(state)
            opt.step()
            losses.append(loss.data.copy())
        return losses, [p.data.copy() for p in model.parameters()], fn

    eager_losses, eager_weights, _ = run(False)
    losses, weights, fn = run(True)
    eq(np.array(losses), np.array(eager_losses))
    for a, b in zip(eager_weights, weights, strict=True):
        eq(b, a)
    assert fn.replays == 4


def _grads_after_four_calls(step_of, seed):
    """The layer's .grad after 4 calls of step_of(layer), eagerly and compiled (with the
    compiled function): each must equal the other bit for bit."""
    results = []
    for compiled in (False, True):
        mg.manual_seed(seed)
        layer = nn.Linear(3, 2)
        fn = mg.compile(step_of(layer)) if compiled else step_of(layer)
        rng = np.random.default_rng(seed)
        for _ in range(4):
            fn(mg.tensor(rng.standard_normal((5, 3)).astype(np.float32)))
        results.append([p.grad.data.copy() for p in layer.parameters()])
    for a, b in zip(*results, strict=True):
        eq(b, a)
    return fn


def test_accumulating_gradients_without_zero_grad_match_eager():
    def step_of(layer):
        def step(x):
            loss = (layer(x) ** 2).sum()
            loss.backward()
            return loss
        return step

    fn = _grads_after_four_calls(step_of, seed=4)
    assert fn.traces == 2 and fn.replays == 2  # .grad None, then a .grad to add into


def test_zero_grad_between_forward_and_backward_traces_once():
    """The forward uses the weights but not their .grad: a zero_grad after it still frees the
    plan from the .grad a call starts with (the harness's order: loss, zero_grad, backward)."""
    def step_of(layer):
        opt = optim.SGD(layer.parameters(), lr=0.1)

        def step(x):
            loss = (layer(x) ** 2).sum()
            opt.zero_grad()
            loss.backward()
            return loss
        return step

    fn = _grads_after_four_calls(step_of, seed=6)
    assert fn.traces == 1 and fn.replays == 3


def test_a_grad_read_before_zero_grad_keeps_the_plan_tied_to_it():
    """A step that looks at .grad (None or not) before clearing it depends on it: the second call,
    which starts with a .grad, is traced again and runs the other branch, as eager does."""
    def step_of(layer):
        def step(x):
            scale = 1.0 if layer.weight.grad is None else 3.0
            layer.zero_grad()
            loss = (layer(x) * scale).sum()
            loss.backward()
            return loss
        return step

    fn = _grads_after_four_calls(step_of, seed=7)
    assert fn.traces == 2 and fn.replays == 2


def test_a_grad_cleared_after_the_first_use_still_depends_on_the_calls_grad():
    """Only a .grad set to None before any backward (and unread) frees the plan from the .grad a
    call starts with; one cleared between two backwards keeps the first one's sum out: as eager."""
    def step_of(layer):
        def step(x):
            first = (layer(x) ** 2).sum()
            first.backward()              # adds into whatever .grad the call starts with
            for p in layer.parameters():
                p.grad = None             # ... which is thrown away here
            second = layer(x).sum()
            second.backward()
            return second
        return step

    fn = _grads_after_four_calls(step_of, seed=5)
    assert fn.replays >= 2


# ---------------------------------------------------------------- signatures and the cache
@pytest.mark.filterwarnings("ignore:mg.compile.*runs no backward")  # (a forward-only step, on purpose)
def test_new_signature_traces_again_and_cache_keeps_several():
    w = mg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    calls = []

    def step(x, scale):
        calls.append(x.shape)
        return (mg.tensor(x) @ w * scale).sum()

    fn = mg.compile(step, cache_size=2)
    a, b = np.ones((4, 3)), np.ones((5, 3))
    first = fn(a, 2.0)
    assert calls == [(4, 3)] and fn.traces == 1
    eq(first.data, step(a, 2.0).data)  # the first call is the eager call
    calls.clear()
    fn(a, 2.0)
    fn(b, 2.0)
    fn(a, 3.0)  # another Python value: another signature
    fn(a.astype(np.float32), 2.0)
    assert len(calls) == 3 and fn.traces == 4 and fn.replays == 1
    assert len(fn.plans) == 2  # the two most recent
    fn(a.astype(np.float32), 2.0)
    assert fn.replays == 2


def test_returned_values_are_copies_without_a_graph_from_every_call():
    w = mg.tensor(np.ones(3), requires_grad=True)

    def step(x):
        y = mg.tensor(x) * w
        return y, y.sum()

    fn = mg.compile(step)
    with pytest.warns(UserWarning, match=r"returns a tensor that requires grad \(shape \[3\]\) and runs no backward"):
        y1, s1 = fn(np.array([1.0, 2.0, 3.0]))  # (told once, at the trace)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y2, s2 = fn(np.array([4.0, 5.0, 6.0]))
    y3, _ = fn(np.array([7.0, 8.0, 9.0]))
    eq(y1.data, [1.0, 2.0, 3.0])
    eq(y2.data, [4.0, 5.0, 6.0])
    eq(s2.data, 15.0)
    for y in (y1, s1, y2, s2, y3):  # the tracing call's results as a replay's: values, no graph
        assert y.grad_fn is None and not y.requires_grad


def test_a_replaced_parameter_array_traces_again():
    layer = nn.Linear(3, 2)

    def step(x):
        layer.zero_grad()
        loss = layer(mg.tensor(x)).sum()
        loss.backward()
        return loss

    fn = mg.compile(step)
    x = np.ones((2, 3), np.float32)
    for _ in range(3):
        fn(x)
    # the step clears .grad (zero_grad) before it uses the parameters, so the plan does not
    # depend on the .grad a call starts with: the second call (.grad set) replays already
    assert fn.traces == 1 and fn.replays == 2
    layer.weight.data = layer.weight.data * 2  # a new array: the plan reads the old one
    got = fn(x)
    assert fn.traces == 2
    eq(got.data, step(x).data)
    fn(x)
    assert fn.replays == 3


def test_plan_prints_one_line_per_numpy_call_and_the_counts():
    w = mg.tensor(np.ones((3, 2), np.float32), requires_grad=True)

    def step(x):
        loss = (mg.tensor(x) @ w).tanh().sum()
        loss.backward()
        return loss

    fn = mg.compile(step)
    fn(np.ones((4, 3), np.float32))
    text = str(fn.plan)
    assert "numpy calls" in text and "buffers" in text and "traced from one eager call" in text
    assert "np.matmul" in text and "np.tanh" in text
    program = text.split("\n")[4:]
    assert len(program) == len(fn.plan.steps) == fn.plan.stats["steps"]


def test_tracing_pauses_the_cyclic_gc_and_gives_it_back_as_it_was():
    """The trace and the first replay run with gc off (they make many small objects); after a
    trace, a replay or a failed trace, gc is on again, or still off if the caller had it off."""
    seen = []

    def step(x):
        seen.append(gc.isenabled())
        if x.shape[0] == 3:
            raise ValueError("a step that fails while traced")
        return (mg.tensor(x) * 2).sum()

    fn = mg.compile(step)
    assert gc.isenabled()
    fn(np.ones(2))
    fn(np.ones(2))
    with pytest.raises(ValueError, match="fails while traced"):
        fn(np.ones(3))
    assert gc.isenabled() and seen == [False, False]
    gc.disable()
    try:
        fn(np.ones(4))
        assert not gc.isenabled()
    finally:
        gc.enable()


# ---------------------------------------------------------------- values in Python
def test_concretizing_in_user_code_names_the_line():
    w = mg.tensor(np.ones(3), requires_grad=True)

    def step(x):
        loss = (mg.tensor(x) * w).sum()
        if loss.item() > 100:  # value-dependent Python in the step itself
            loss = loss * 0
        return loss

    with pytest.raises(mg.CompileError, match=r"item\(\) of a traced value at .*test_compile.py:\d+ \(if loss"):
        mg.compile(step)(np.ones(3))
    with pytest.raises(mg.CompileError, match="float"):
        mg.compile(lambda x: float((mg.tensor(x) * w).sum()))(np.ones(3))
    with pytest.raises(mg.CompileError, match="bool"):
        mg.compile(lambda x: 1 if mg.tensor(x).sum() > 0 else 0)(np.ones(3))


def test_guard_in_minigrad_code_out_of_range_target_raises_as_eager():
    w = mg.tensor(np.ones((3, 4), np.float32), requires_grad=True)

    def step(x, t):
        loss = F.cross_entropy(mg.tensor(x) @ w, t)
        loss.backward()
        return loss

    fn = mg.compile(step)
    x = np.ones((2, 3), np.float32)
    fn(x, np.array([0, 3]))
    w.grad = None
    fn(x, np.array([1, 2]))
    assert fn.replays == 1 and fn.plan.guards > 0
    for bad in (np.array([0, 4]), np.array([-1, 0])):
        w.grad = None
        with pytest.raises(ValueError) as eager:
            step(x, bad)
        w.grad = None
        with pytest.raises(ValueError) as compiled:
            fn(x, bad)
        assert str(compiled.value) == str(eager.value)
    w.grad = None
    fn(x, np.array([2, 2]))  # valid again: the plan still serves
    assert fn.replays == 2


def test_hooks_retain_grad_record_visits_and_detect_anomaly_are_refused():
    w = mg.tensor(np.ones(3), requires_grad=True)

    def hooked(x):
        y = mg.tensor(x) * w
        y.register_hook(lambda g: g)
        y.sum().backward()

    def retained(x):
        y = mg.tensor(x) * w
        y.retain_grad()
        (y * 2).sum().backward()

    def keep_all(x):
        with mg.retain_grads():
            (mg.tensor(x) * w).sum().backward()

    def anomaly(x):
        with mg.detect_anomaly():
            (mg.tensor(x) * w).sum().backward()

    def hooked_after_use(x):  # the graph has y's stand-in by then (trace.py): refused all the same
        y = mg.tensor(x) * w
        z = (y * 2).sum()
        y.register_hook(lambda g: g)
        z.backward()

    def retained_after_use(x):
        y = mg.tensor(x) * w
        z = (y * 2).sum()
        y.retain_grad()
        z.backward()

    def visits(x):
        with mg.record_visits():
            (mg.tensor(x) * w).sum().backward()

    for fn, what in ((hooked, "register_hook"), (retained, "retain_grad"), (keep_all, "retain_grads"),
                     (anomaly, "detect_anomaly"), (hooked_after_use, "register_hook"),
                     (retained_after_use, "retain_grad"), (visits, "record_visits")):
        w.grad = None
        with pytest.raises(mg.CompileError, match=what):
            mg.compile(fn)(np.ones(3))
    w.register_hook(lambda g: g)  # a hook on a parameter, registered before
    with pytest.raises(mg.CompileError, match="register_hook"):
        mg.compile(lambda x: (mg.tensor(x) * w).sum().backward())(np.ones(3))


def test_clip_grad_norm_values_as_before_and_compiled():
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(5).astype(np.float32)]

    def reference(gs, max_norm):  # the former implementation: Python floats and a branch
        total = math.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in gs))
        coef = max_norm / (total + 1e-6)
        return total, [g * coef if coef < 1 else g for g in gs]

    for max_norm in (0.5, 1e6):
        params = [mg.tensor(g.copy(), requires_grad=True) for g in grads]
        for p, g in zip(params, grads):
            p.grad = mg.tensor(g.copy())
        total = nn.utils.clip_grad_norm_(params, max_norm)
        expected_total, expected = reference(grads, max_norm)
        assert total.shape == () and total.dtype == np.float32
        eq(total.data, np.float32(expected_total))
        for p, g in zip(params, expected):
            eq(p.grad.data, g)

    def step(xs):
        params = [mg.tensor(x, requires_grad=True) for x in xs]
        (sum((p * p).sum() for p in params) * 0.5).backward()
        return nn.utils.clip_grad_norm_(params, 1.0), [p.grad for p in params]

    fn = mg.compile(step)
    for k in range(3):
        xs = [g * (k + 1) for g in grads]
        total, clipped = fn(xs)
        expected_total, expected = reference(xs, 1.0)
        eq(total.data, np.float32(expected_total))
        for a, b in zip(clipped, expected):
            eq(a.data, b)
    assert fn.replays == 2


# ---------------------------------------------------------------- memory the step reads and writes
def test_captured_arrays_are_read_live_and_constants_refilled():
    scale = np.array([1.0, 2.0, 3.0])

    def step(x):
        buf = np.zeros(3)             # made inside the step, then written: refilled at each call
        buf[1] = x.sum()              # (zeros: refilled from a scalar zero)
        signed = np.full(3, -0.0)     # (not zero bytes: refilled from its snapshot)
        signed[0] = x[0]
        return mg.tensor(x) * mg.tensor(scale) + mg.tensor(buf), mg.tensor(signed)

    fn = mg.compile(step)
    for k in range(3):
        scale[0] = 10.0 * k           # changed between calls: eager reads the new values
        x = np.full(3, float(k + 1))
        (got, got_signed), (expected, expected_signed) = fn(x), step(x)
        eq(got.data, expected.data)
        eq(got_signed.data, expected_signed.data)
        eq(np.signbit(got_signed.data), [False, True, True])
    assert fn.replays == 2


def test_views_of_inputs_and_buffers_stay_views():
    w = mg.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)

    def step(x):
        t = mg.tensor(x)
        y = (t.T[::-1] @ w[:, 1:]).sum(axis=0) + t[0, ::2].sum()
        y.sum().backward()
        return y

    fn = mg.compile(step)
    rng = np.random.default_rng(1)
    for _ in range(3):
        x = rng.standard_normal((3, 5))
        w.grad = None
        expected, expected_grad = step(x).data, w.grad.data.copy()
        w.grad = None
        eq(fn(x).data, expected)
        eq(w.grad.data, expected_grad)
    assert fn.replays == 2


def test_an_optimizer_step_inside_is_refused():
    layer = nn.Linear(2, 1)
    opt = optim.SGD(layer.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        layer(mg.tensor(x)).sum().backward()
        opt.step()

    with pytest.raises(mg.CompileError, match="optimizer.step"):
        mg.compile(step)(np.ones((1, 2), np.float32))


@pytest.mark.filterwarnings("ignore:mg.compile.*runs no backward")  # (a forward-only step, on purpose)
def test_a_compiled_method_and_grad_mode_in_the_signature():
    class Model:
        def __init__(self):
            self.w = mg.tensor(np.ones(2), requires_grad=True)

        @mg.compile
        def score(self, x):
            return (mg.tensor(x) * self.w).sum()

    m = Model()
    eq(m.score(np.array([1.0, 2.0])).data, 3.0)
    eq(m.score(np.array([3.0, 4.0])).data, 7.0)
    with mg.no_grad():
        out = m.score(np.array([5.0, 6.0]))
    eq(out.data, 11.0)
    assert Model.score.traces == 2 and Model.score.replays == 1


def test_a_shape_that_depends_on_the_values_traces_again():
    def step(x):
        t = mg.tensor(x)
        return t[t > 0].sum()

    fn = mg.compile(step)
    for x in (np.array([1.0, -2.0, 3.0]), np.array([4.0, 5.0, -6.0]), np.array([-1.0, -2.0, 7.0])):
        eq(fn(x).data, step(x).data)
    assert fn.replays == 1 and fn.traces == 2  # two positives, two again, then one


def test_errstate_of_the_trace_holds_in_the_replay_and_numpy_is_put_back():
    original = (np.asarray, np.zeros, np.array)

    def step(x):
        return mg.tensor(x).sigmoid()  # e^-x overflows for x = -1000: silenced as in eager

    fn = mg.compile(step)
    with np.errstate(over="raise"):
        for x in (np.array([-1000.0, 0.0]), np.array([-2000.0, 1.0])):
            eq(fn(x).data, step(x).data)
    assert fn.replays == 1
    with pytest.raises(mg.CompileError):
        mg.compile(lambda x: float(mg.tensor(x).sum()))(np.ones(2))
    assert (np.asarray, np.zeros, np.array) == original
    assert mg.function.tracer is None and not isinstance(mg.generator(), type(None))


def test_a_guarded_branch_in_minigrad_traces_the_other_branch():
    w = mg.tensor(np.arange(12.0).reshape(3, 4) / 10, requires_grad=True)

    def step(x, t):
        loss = F.cross_entropy(mg.tensor(x) @ w, t)  # branches on (t == ignore_index).any()
        loss.backward()
        return loss

    fn = mg.compile(step)
    x = np.ones((2, 3))
    for t in ([0, 1], [2, 3], [0, -100], [1, -100], [3, 1]):
        t = np.array(t)
        w.grad = None
        expected, expected_grad = step(x, t).data, w.grad.data.copy()
        w.grad = None
        eq(fn(x, t).data, expected)
        eq(w.grad.data, expected_grad)
    assert fn.traces == 3 and fn.replays == 2  # [0, -100] and [3, 1] take the other branch: traced


def test_a_compiled_module_that_returns_a_graph_says_backward_after_the_call_cannot_work():
    """torch.compile(model) keeps autograd; mg.compile compiles whole steps: compiling a model and
    calling backward() on its output is warned about at the trace, naming the module and the fix."""
    layer = nn.Linear(3, 2)
    fn = mg.compile(layer)
    with pytest.warns(UserWarning, match=r"Linear returns a tensor that requires grad .* call it under mg.no_grad"):
        out = fn(mg.randn(4, 3))
    assert out.grad_fn is None and not out.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        out.sum().backward()
    assert "plan of Linear for" in str(fn.plan)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with mg.no_grad():  # inference: nothing to warn about
            eq(fn(mg.tensor(np.ones((4, 3), np.float32))).data, layer(mg.tensor(np.ones((4, 3), np.float32))).data)

        def step(x):  # a training step: it runs backward itself
            layer.zero_grad()
            loss = layer(x).sum()
            loss.backward()
            return loss
        mg.compile(step)(mg.randn(4, 3))
