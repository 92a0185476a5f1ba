"""Optional parity with PyTorch: the same weights give the same outputs and gradients.

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
TOLERANCE = {np.float64: 1e-10, np.float32: 2e-5}
CELLS = {"RNNCell": {}, "RNNCell-relu": {"nonlinearity": "relu"}, "LSTMCell": {}, "GRUCell": {}}
LAYERS = {"RNN": {}, "LSTM": {}, "GRU": {}, "LSTM-batch_first": {"batch_first": True},
          "RNN-relu": {"nonlinearity": "relu"}, "LSTM-fused": {"fused": True}}
OURS_ONLY = {"fused"}  # options torch.nn's layers do not take
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


def compare_layer(name, dtype, num_layers=2, seed=0):
    """Run torch.nn.{RNN,LSTM,GRU} and ours from the same weights; return {what: max abs diff}."""
    kind, options = name.split("-")[0], LAYERS[name]
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, kind)(D, H, num_layers=num_layers,
                                     **{k: v for k, v in options.items() if k not in OURS_ONLY})
    theirs = theirs.to(TORCH_DTYPE[dtype])
    ours = getattr(models, kind)(D, H, num_layers=num_layers, **options)
    ours = ours.double() if dtype == np.float64 else ours.float()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(seed)
    shape = (B, T, D) if options.get("batch_first") else (T, B, D)
    x = rng.standard_normal(shape).astype(dtype)
    parts = 2 if kind == "LSTM" else 1
    state0 = [rng.standard_normal((num_layers, B, H)).astype(dtype) for _ in range(parts)]
    probe = rng.standard_normal(shape[:2] + (H,)).astype(dtype)

    tx, tstate = torch_tensor(x, dtype), [torch_tensor(s, dtype) for s in state0]
    tout, tfinal = theirs(tx, tuple(tstate) if parts == 2 else tstate[0])
    ((tout * torch.tensor(probe)).sum() + sum(f.sum() for f in flat(tfinal))).backward()
    ox, ostate = mg.tensor(x, requires_grad=True), [mg.tensor(s, requires_grad=True) for s in state0]
    oout, ofinal = ours(ox, tuple(ostate) if parts == 2 else ostate[0])
    ((oout * mg.tensor(probe)).sum() + sum(f.sum() for f in flat(ofinal))).backward()

    tparams = dict(theirs.named_parameters())
    return {"output": max_diff(oout.data, tout),
            "final state": max(max_diff(o.data, t) for o, t in zip(flat(ofinal), flat(tfinal), strict=True)),
            "grad x": max_diff(ox.grad, tx.grad),
            "grad state": max(max_diff(o.grad, t.grad) for o, t in zip(ostate, tstate, strict=True)),
            "grad params": max(max_diff(p.grad, tparams[n].grad) for n, p in ours.named_parameters())}


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


if __name__ == "__main__":
    for dtype in (np.float64, np.float32):
        for name, diffs in [(name, compare_cell(name, dtype)) for name in CELLS] + \
                           [(name + " x2", compare_layer(name, dtype)) for name in LAYERS]:
            print(f"{name:20s} {dtype.__name__}", {k: f"{v:.1e}" for k, v in diffs.items()})
