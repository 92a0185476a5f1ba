"""mg.compile(fn, exact=False): a recurrent weight's per-step gradient products summed as one
product (minigrad/compile/sums.py). The forward is untouched (bit for bit); the gradients
equal eager's up to the rounding of a sum taken in another order."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import models
from minigrad.nn import functional as F

eq = np.testing.assert_array_equal


def _products(plan):
    return [i for i in plan.program if i.fn is np.matmul]


def _layer_step(model):
    def step(x, hx):
        out, state = model(x, hx)
        loss = (out * out).mean()
        model.zero_grad()
        loss.backward()
        return out
    return step


@pytest.mark.parametrize("layer", [models.RNN, models.LSTM, models.GRU])
@pytest.mark.parametrize("num_layers,batch_first", [(1, False), (2, True)])
def test_each_layers_per_step_weight_products_become_one_within_rounding(layer, num_layers, batch_first):
    steps, batch, hidden = 6, 3, 5
    results, plans = [], []
    for exact in (True, False):
        mg.manual_seed(4)
        model = layer(4, hidden, num_layers=num_layers, batch_first=batch_first).double()
        step = _layer_step(model)
        fn = mg.compile(step, exact=exact)
        rng = np.random.default_rng(5)
        shape = (batch, steps, 4) if batch_first else (steps, batch, 4)
        got = []
        for _ in range(3):
            x = mg.tensor(rng.standard_normal(shape))
            hx = mg.tensor(rng.standard_normal((num_layers, batch, hidden)))
            if layer is models.LSTM:
                hx = (hx, mg.tensor(rng.standard_normal((num_layers, batch, hidden))))
            out = fn(x, hx)
            got.append((out.data.copy(), [p.grad.data.copy() for p in model.parameters()]))
            expected = step(x, hx)  # eager, on the same weights
            eq(out.data, expected.data)
            for g, p in zip(got[-1][1], model.parameters(), strict=True):
                if exact:
                    eq(g, p.grad.data)
                else:
                    np.testing.assert_allclose(g, p.grad.data, rtol=1e-12, atol=1e-14)
        results.append(got)
        plans.append(fn.plan)
    exact_products, merged_products = _products(plans[0]), _products(plans[1])
    # per layer: the steps after the first (their h_{t-1} are the layer's stacked outputs) in one
    # product. Not the GRU's: its W_hh products' gradients (r * dn for the n gate) are not the
    # stacked gradients of the input projection, so there is no tall operand to take
    merged = 0 if layer is models.GRU else num_layers
    assert len(exact_products) - len(merged_products) == merged * (steps - 2)
    tall = [i for i in merged_products if i.note]
    assert len(tall) == merged
    assert all(i.args[0].value.shape[-1] == (steps - 1) * batch for i in tall)
    assert str(plans[1]).count(f"summed: {steps - 1} steps' products in one") == merged


def test_float32_training_stays_within_rounding_of_exact():
    """Five Adam steps of a small LSTM char model, exact and not: the losses agree to float32
    rounding (not bit for bit: the sums are added in another order)."""
    losses = {}
    for exact in (True, False):
        mg.manual_seed(0)
        lstm, head = models.LSTM(11, 16), mg.nn.Linear(16, 11)
        params = list(lstm.parameters()) + list(head.parameters())
        opt = mg.optim.Adam(params, lr=1e-2)

        def step(x, y, lstm=lstm, head=head, opt=opt):
            out, _ = lstm(F.one_hot(x, 11, dtype=mg.float32))
            loss = F.cross_entropy(head(out.reshape(-1, 16)), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            return loss

        fn = mg.compile(step, exact=exact)
        rng = np.random.default_rng(1)
        losses[exact] = []
        for _ in range(6):
            ids = rng.integers(0, 11, (9, 4))
            losses[exact].append(float(fn(ids[:-1], ids[1:]).data))
            opt.step()
    np.testing.assert_allclose(losses[False], losses[True], rtol=1e-5)
    assert losses[True][-1] < losses[True][0]


def test_a_recurrence_without_stacked_states_is_left_bit_for_bit():
    """The rule needs the h_t to be pieces of one stacked array; a loop that only keeps the last
    h has nothing to take a tall product of, so exact=False changes nothing."""
    rng = np.random.default_rng(2)
    w = mg.tensor(rng.standard_normal((8, 8)) / 3, requires_grad=True)

    def step(h, xs):
        h = mg.tensor(h)
        for x in mg.tensor(xs).unbind(0):
            h = (h @ w.T + x).tanh()
        w.grad = None
        h.sum().backward()
        return h

    fn, exact = mg.compile(step, exact=False), mg.compile(step)
    for _ in range(3):
        h0, xs = rng.standard_normal((4, 8)), rng.standard_normal((5, 4, 8))
        got = (fn(h0, xs).data, w.grad.data.copy())
        exact(h0, xs)
        for a, b in zip(got, (step(h0, xs).data, w.grad.data)):
            eq(a, b)
    assert [i.label for i in fn.plan.program] == [i.label for i in exact.plan.program]


def test_exact_is_the_default_and_a_decorator_option():
    @mg.compile(exact=False)
    def step(x):
        return (mg.tensor(x) * 2).sum()

    assert step.exact is False and mg.compile(lambda x: x).exact is True
    eq(step(np.ones(3)).data, 6.0)
