"""Optional: optimizers and lr schedules against PyTorch itself (skipped without torch).

Both libraries get the same gradients (a numpy function of the current parameters), so only
the update rules are compared. The schedules are plain Python float arithmetic in the same
order as PyTorch's, so their lrs must agree exactly."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.optim import lr_scheduler

torch = pytest.importorskip("torch")

STEPS = 25
_rng = np.random.default_rng(0)
A = _rng.standard_normal((6, 5))
B = _rng.standard_normal(6)
P0 = [_rng.standard_normal(5), np.array(0.7)]       # a vector and a 0-d parameter


def grads_of(params):
    """A least-squares gradient for the vector and a quartic one for the scalar."""
    vec, scalar = params
    return [2 * A.T @ (A @ vec - B), 4 * scalar ** 3 - 1.0]


def run_minigrad(opt_cls, kwargs, dtype):
    params = [nn.Parameter(p.astype(dtype)) for p in P0]
    opt = opt_cls(params, **kwargs)
    for _ in range(STEPS):
        for p, g in zip(params, grads_of([p.data for p in params]), strict=True):
            p.grad = mg.tensor(np.asarray(g, dtype=dtype), dtype=p.dtype)
        opt.step()
    return [p.data for p in params]


def run_torch(opt_cls, kwargs, dtype):
    params = [torch.tensor(p.astype(dtype), requires_grad=True) for p in P0]
    opt = opt_cls(params, **kwargs)
    for _ in range(STEPS):
        for p, g in zip(params, grads_of([p.detach().numpy() for p in params]), strict=True):
            p.grad = torch.from_numpy(np.asarray(g, dtype=dtype))
        opt.step()
    return [p.detach().numpy() for p in params]


CASES = [
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.02, alpha=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, eps=1e-6)),
    ("RMSprop", dict(lr=0.01, alpha=0.8, centered=True)),
    ("RMSprop", dict(lr=0.005, alpha=0.95, momentum=0.5, centered=True, weight_decay=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.9, 0.5), amsgrad=True)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.6), eps=1e-6, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.3)),
    ("AdamW", dict(lr=0.05, betas=(0.9, 0.5), weight_decay=0.2, amsgrad=True)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1)),
]


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)], ids=["float64", "float32"])
@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_optimizer_matches_torch(name, kwargs, dtype, rtol):
    ours = run_minigrad(getattr(optim, name), kwargs, dtype)
    theirs = run_torch(getattr(torch.optim, name), kwargs, dtype)
    for a, b, p0 in zip(ours, theirs, P0, strict=True):
        assert a.dtype == b.dtype == dtype
        assert not np.allclose(a, p0)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 0.1)


def test_param_group_defaults_match_torch():
    for name in ["RMSprop", "Adam", "AdamW"]:
        ours = getattr(optim, name)([nn.Parameter(np.zeros(1))]).param_groups[0]
        theirs = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)]).param_groups[0]
        for key in ours:
            if key != "params":
                assert ours[key] == theirs[key], (name, key)


# ---------------------------------------------------------------- schedules
def sched_pair(sched_name, kwargs, lrs=(0.1, 0.3), last_epoch=None):
    extra = {} if last_epoch is None else {"last_epoch": last_epoch}
    ours_opt = optim.SGD([{"params": [nn.Parameter(np.zeros(1))], "lr": lr} for lr in lrs], lr=1.0)
    theirs_opt = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs],
                                 lr=1.0)
    if last_epoch is not None:
        for g in ours_opt.param_groups + theirs_opt.param_groups:
            g["initial_lr"] = g["lr"]
    return (getattr(lr_scheduler, sched_name)(ours_opt, **kwargs, **extra),
            getattr(torch.optim.lr_scheduler, sched_name)(theirs_opt, **kwargs, **extra))


def step_both(pair, epochs, metrics=None):
    ours, theirs = pair
    seen = [(ours.get_last_lr(), theirs.get_last_lr())]
    for e in range(epochs):
        theirs.optimizer.step()   # (no gradients: only so torch does not warn about the order)
        if metrics is None:
            ours.step()
            theirs.step()
        else:
            ours.step(metrics[e])
            theirs.step(metrics[e])
        seen.append((ours.get_last_lr(), theirs.get_last_lr()))
    return seen


SCHEDULES = [
    ("StepLR", dict(step_size=3)),
    ("StepLR", dict(step_size=2, gamma=0.7)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=5)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
    ("CosineAnnealingLR", dict(T_max=1, eta_min=0.02)),
    ("CosineAnnealingLR", dict(T_max=50, eta_min=1e-4)),
]


@pytest.mark.parametrize("last_epoch", [None, 0, 4, 5])
@pytest.mark.parametrize("name, kwargs", SCHEDULES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULES)])
def test_schedule_matches_torch_exactly(name, kwargs, last_epoch):
    pair = sched_pair(name, kwargs, last_epoch=last_epoch)
    epochs = 3 * kwargs.get("T_max", 5)
    for e, (ours, theirs) in enumerate(step_both(pair, epochs)):
        assert ours == theirs, e
    assert pair[0].last_epoch == pair[1].last_epoch
    ours_state, theirs_state = pair[0].state_dict(), pair[1].state_dict()
    assert set(ours_state) <= set(theirs_state)
    assert ours_state == {k: theirs_state[k] for k in ours_state}


METRICS = [1.0, 0.9, 0.95, 0.9, 0.9, 0.899, 0.8, 0.81, 0.82, 0.83, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75, 0.6]
PLATEAUS = [
    dict(),
    dict(factor=0.5, patience=1, cooldown=1, threshold=0.05),
    dict(factor=0.5, patience=0, threshold_mode="abs", threshold=0.01, min_lr=[0.02, 0.0]),
    dict(mode="max", factor=0.3, patience=1, min_lr=0.01),
    dict(mode="max", threshold_mode="abs", patience=0, eps=0.05),
]


@pytest.mark.parametrize("kwargs", PLATEAUS)
def test_reduce_on_plateau_matches_torch_exactly(kwargs):
    pair = sched_pair("ReduceLROnPlateau", kwargs)
    for e, (ours, theirs) in enumerate(step_both(pair, len(METRICS), METRICS)):
        assert ours == theirs, e
    ours_state, theirs_state = pair[0].state_dict(), pair[1].state_dict()
    assert set(ours_state) <= set(theirs_state)
    assert ours_state == {k: theirs_state[k] for k in ours_state}
