"""Optional parity with PyTorch: the same weights give the same outputs and gradients (of the
input, the initial states and every parameter): cells, stacked layers, bidirectional layers
(1 and 2 layers, batch_first or not, with and without initial states), and unbatched inputs.

Skipped unless torch is installed (the suite never needs it). To run by hand, in an
environment with torch and this project:

    python -m pytest tests/test_models_torch_parity.py      # or
    python tests/test_models_torch_parity.py                 # prints the max abs differences
"""
import numpy as np
import pytest

import minigrad as mg
from minigrad import models

torch = pytest.importorskip("torch")

T, B, D, H = 6, 3, 4, 5
TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}
CELLS = {"RNNCell": {}, "RNNCell-relu": {"nonlinearity": "relu"}, "LSTMCell": {}, "GRUCell": {}}
LAYERS = {"RNN": {}, "LSTM": {}, "GRU": {}, "LSTM-batch_first": {"batch_first": True},
          "RNN-relu": {"nonlinearity": "relu"}}
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}


def torch_tensor(array, dtype):
    return torch.tensor(array, dtype=TORCH_DTYPE[dtype], requires_grad=True)


def max_diff(ours, theirs):
    return float(np.abs(np.asarray(ours, dtype=np.float64) - theirs.detach().double().numpy()).max())


def compare_cell(name, dtype, seed=0):
    """Run T steps of torch's cell and ours from the same weights; return {what: max abs diff}."""
    kind, options = name.split("-")[0], CELLS[name]
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, kind)(D, H, **options).to(TORCH_DTYPE[dtype])
    ours = getattr(models, kind)(D, H, **options)
    ours = ours.double() if dtype == np.float64 else ours.float()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(seed)
    xs = rng.standard_normal((T, B, D)).astype(dtype)
    parts = 2 if kind == "LSTMCell" else 1
    state0 = [rng.standard_normal((B, H)).astype(dtype) for _ in range(parts)]
    probe = rng.standard_normal((T, B, H)).astype(dtype)

    def run(lib, x, state, make):
        x, state = make(x), [make(s) for s in state]
        st = tuple(state) if parts == 2 else state[0]
        loss = 0
        for t in range(T):
            st = (theirs if lib is torch else ours)(x[t], st)
            h = st[0] if parts == 2 else st
            loss = loss + (h * make(probe[t], grad=False)).sum()
        loss.backward()
        return x, state, st

    def make_torch(a, grad=True):
        return torch_tensor(a, dtype) if grad else torch.tensor(a)

    def make_ours(a, grad=True):
        return mg.tensor(a, requires_grad=grad)

    tx, tstate, tfinal = run(torch, xs, state0, make_torch)
    ox, ostate, ofinal = run(None, xs, state0, make_ours)
    diffs = {"output": max(max_diff(o.data, t) for o, t in zip(flat(ofinal), flat(tfinal), strict=True)),
             "grad x": max_diff(ox.grad, tx.grad),
             "grad state": max(max_diff(o.grad, t.grad) for o, t in zip(ostate, tstate, strict=True))}
    tparams = dict(theirs.named_parameters())
    diffs["grad params"] = max(max_diff(p.grad, tparams[n].grad) for n, p in ours.named_parameters())
    return diffs


def compare_layer(name, dtype, num_layers=2, seed=0, bidirectional=False, with_state=True,
                  unbatched=False, **more):
    """Run torch.nn.{RNN,LSTM,GRU} and ours from the same weights; return {what: max abs diff}.

    The loss weighs the output and the final state with fixed random arrays, so every
    gradient (input, initial state, every parameter) is compared, not just their sums."""
    kind, options = name.split("-")[0], {**LAYERS[name], **more}
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, kind)(D, H, num_layers=num_layers, bidirectional=bidirectional, **options)
    theirs = theirs.to(TORCH_DTYPE[dtype])
    ours = getattr(models, kind)(D, H, num_layers=num_layers, bidirectional=bidirectional, **options)
    ours = ours.double() if dtype == np.float64 else ours.float()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(seed)
    directions = 2 if bidirectional else 1
    shape = (T, D) if unbatched else (B, T, D) if options.get("batch_first") else (T, B, D)
    state_shape = (directions * num_layers,) + ((H,) if unbatched else (B, H))
    x = rng.standard_normal(shape).astype(dtype)
    parts = 2 if kind == "LSTM" else 1
    state0 = [rng.standard_normal(state_shape).astype(dtype) for _ in range(parts)] if with_state else []
    probe = rng.standard_normal(shape[:-1] + (directions * H,)).astype(dtype)
    probe_final = [rng.standard_normal(state_shape).astype(dtype) for _ in range(parts)]

    def run(layer, make, make_const):
        inp, st = make(x), [make(s) for s in state0]
        hx = None if not st else tuple(st) if parts == 2 else st[0]
        out, final = layer(inp, hx)
        loss = (out * make_const(probe)).sum()
        for f, r in zip(flat(final), probe_final, strict=True):
            loss = loss + (f * make_const(r)).sum()
        loss.backward()
        return inp, st, out, final

    tx, tstate, tout, tfinal = run(theirs, lambda a: torch_tensor(a, dtype), torch.tensor)
    ox, ostate, oout, ofinal = run(ours, lambda a: mg.tensor(a, requires_grad=True), mg.tensor)
    assert oout.shape == tuple(tout.shape)
    assert [f.shape for f in flat(ofinal)] == [tuple(f.shape) for f in flat(tfinal)]
    tparams = dict(theirs.named_parameters())
    diffs = {"output": max_diff(oout.data, tout),
             "final state": max(max_diff(o.data, t) for o, t in zip(flat(ofinal), flat(tfinal), strict=True)),
             "grad x": max_diff(ox.grad, tx.grad),
             "grad params": max(max_diff(p.grad, tparams[n].grad) for n, p in ours.named_parameters())}
    if with_state:
        diffs["grad state"] = max(max_diff(o.grad, t.grad) for o, t in zip(ostate, tstate, strict=True))
    return diffs


def flat(state):
    return list(state) if isinstance(state, tuple) else [state]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(CELLS))
def test_cell_matches_torch(name, dtype):
    diffs = compare_cell(name, dtype)
    assert max(diffs.values()) < TOLERANCE[dtype], diffs


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name, dtype):
    diffs = compare_layer(name, dtype)
    assert max(diffs.values()) < TOLERANCE[dtype], diffs


BIDIRECTIONAL = [(kind, num_layers, batch_first, with_state) for kind in ("RNN", "LSTM", "GRU")
                 for num_layers in (1, 2) for batch_first in (False, True) for with_state in (False, True)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind, num_layers, batch_first, with_state", BIDIRECTIONAL)
def test_bidirectional_layer_matches_torch(kind, num_layers, batch_first, with_state, dtype):
    diffs = compare_layer(kind, dtype, num_layers, bidirectional=True, batch_first=batch_first,
                          with_state=with_state)
    assert max(diffs.values()) < TOLERANCE[dtype], diffs


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU", "LSTM-batch_first"])
def test_unbatched_layer_matches_torch(name, bidirectional, dtype):
    diffs = compare_layer(name, dtype, bidirectional=bidirectional, unbatched=True)
    assert max(diffs.values()) < TOLERANCE[dtype], diffs


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_unbatched_cell_matches_torch(kind):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(D, H).double()
    ours = getattr(models, kind)(D, H).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal(D)
    state = [rng.standard_normal(H) for _ in range(2 if kind == "LSTMCell" else 1)]
    tx, ox = torch_tensor(x, np.float64), mg.tensor(x, requires_grad=True)
    tstate = [torch_tensor(s, np.float64) for s in state]
    ostate = [mg.tensor(s, requires_grad=True) for s in state]
    tnew = theirs(tx, hx=tuple(tstate) if len(state) == 2 else tstate[0])
    onew = ours(ox, hx=tuple(ostate) if len(state) == 2 else ostate[0])
    assert [o.shape for o in flat(onew)] == [tuple(t.shape) for t in flat(tnew)] == [(H,)] * len(state)
    probe = rng.standard_normal(H)
    sum((t * torch.tensor(probe)).sum() for t in flat(tnew)).backward()
    sum((o * mg.tensor(probe)).sum() for o in flat(onew)).backward()
    diffs = [max_diff(o.data, t) for o, t in zip(flat(onew), flat(tnew), strict=True)]
    diffs += [max_diff(ox.grad, tx.grad)]
    diffs += [max_diff(o.grad, t.grad) for o, t in zip(ostate, tstate, strict=True)]
    tparams = dict(theirs.named_parameters())
    diffs += [max_diff(p.grad, tparams[n].grad) for n, p in ours.named_parameters()]
    assert max(diffs) < TOLERANCE[np.float64], diffs


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_bidirectional_state_dict_loads_both_ways(kind):
    theirs = getattr(torch.nn, kind)(D, H, num_layers=2, bidirectional=True)
    ours = getattr(models, kind)(D, H, num_layers=2, bidirectional=True)
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((T, B, D)).astype(np.float32)
    assert max_diff(ours(mg.tensor(x))[0].data, theirs(torch.tensor(x))[0]) < TOLERANCE[np.float32]


if __name__ == "__main__":
    for dtype in (np.float64, np.float32):
        runs = [(name, compare_cell(name, dtype)) for name in CELLS]
        runs += [(name + " x2", compare_layer(name, dtype)) for name in LAYERS]
        runs += [(f"{kind} x{L} bi{' bf' * bf}{' h0' * st}",
                  compare_layer(kind, dtype, L, bidirectional=True, batch_first=bf, with_state=st))
                 for kind, L, bf, st in BIDIRECTIONAL]
        runs += [(f"{name} unbatched{' bi' * bi}", compare_layer(name, dtype, bidirectional=bi, unbatched=True))
                 for name in ("RNN", "LSTM", "GRU") for bi in (False, True)]
        for name, diffs in runs:
            print(f"{name:24s} {dtype.__name__}", {k: f"{v:.1e}" for k, v in diffs.items()})
