"""optim.lr_scheduler: lr sequences against closed-form numbers (and, for ReduceLROnPlateau,
sequences worked out by hand), PyTorch's construction rules (initial_lr, the step to epoch 0),
exact resumption from a saved state, and argument errors."""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.optim import lr_scheduler


def make_opt(lrs=(0.1,), opt_cls=optim.SGD, **kwargs):
    groups = [{"params": [nn.Parameter(np.zeros(2))], "lr": lr} for lr in lrs]
    return opt_cls(groups, **{"lr": 1.0, **kwargs})


def lrs_over(scheduler, epochs):
    """The lrs of epochs 0 .. epochs-1, one list per epoch, stepping as a training loop does."""
    seen = [scheduler.get_last_lr()]
    for _ in range(epochs - 1):
        scheduler.optimizer.step()
        scheduler.step()
        seen.append(scheduler.get_last_lr())
    return seen


def cosine(base, eta_min, T_max, epoch):
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * epoch / T_max)) / 2


# ---------------------------------------------------------------- the schedules
def test_step_lr_matches_closed_form():
    opt = make_opt([0.1, 1.0])
    got = lrs_over(lr_scheduler.StepLR(opt, step_size=3, gamma=0.1), 12)
    expected = [[base * 0.1 ** (e // 3) for base in (0.1, 1.0)] for e in range(12)]
    for e, (g, x) in enumerate(zip(got, expected, strict=True)):
        assert g == pytest.approx(x, rel=1e-14), e
    exact = lrs_over(lr_scheduler.StepLR(make_opt([0.1]), step_size=2, gamma=0.5), 7)
    assert exact == [[0.1], [0.1], [0.05], [0.05], [0.025], [0.025], [0.0125]]


def test_exponential_lr_matches_closed_form():
    got = lrs_over(lr_scheduler.ExponentialLR(make_opt([0.1, 0.02]), gamma=0.9), 10)
    for e, g in enumerate(got):
        assert g == pytest.approx([0.1 * 0.9 ** e, 0.02 * 0.9 ** e], rel=1e-14), e


@pytest.mark.parametrize("T_max, eta_min", [(5, 0.0), (5, 0.01), (4, 0.05), (1, 0.0), (1, 0.02)])
def test_cosine_annealing_matches_closed_form_past_t_max(T_max, eta_min):
    """Over 3 T_max epochs: down to eta_min, back up to the base, down again."""
    bases = (0.1, 0.3)
    got = lrs_over(lr_scheduler.CosineAnnealingLR(make_opt(bases), T_max=T_max, eta_min=eta_min), 3 * T_max + 1)
    for e, g in enumerate(got):
        assert g == pytest.approx([cosine(b, eta_min, T_max, e) for b in bases], rel=1e-12, abs=1e-15), e
    assert got[T_max] == pytest.approx([eta_min] * 2, abs=1e-15)
    assert got[2 * T_max] == pytest.approx(list(bases), rel=1e-12)


def test_schedules_drive_the_optimizer():
    """SGD with a constant gradient of 1 moves p by the sum of the lrs used."""
    p = nn.Parameter(np.zeros(1))
    opt = optim.SGD([p], lr=0.1)
    scheduler = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(5):
        p.grad = mg.tensor(np.ones(1), dtype=p.dtype)
        opt.step()
        scheduler.step()
    np.testing.assert_allclose(p.data, [-(0.1 + 0.1 + 0.05 + 0.05 + 0.025)], rtol=1e-15)
    assert opt.param_groups[0]["lr"] == 0.025 and scheduler.last_epoch == 5   # 0.1 * 0.5^(5 // 2)


def test_construction_sets_initial_lr_and_takes_the_first_step():
    opt = make_opt([0.1, 0.2])
    scheduler = lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    assert scheduler.last_epoch == 0
    assert scheduler.base_lrs == [0.1, 0.2] == [g["initial_lr"] for g in opt.param_groups]
    assert scheduler.get_last_lr() == [0.1, 0.2]
    opt.param_groups[0]["lr"] = 0.5   # a second scheduler keeps the first's initial_lr (setdefault)
    assert lr_scheduler.ExponentialLR(opt, gamma=0.5).base_lrs == [0.1, 0.2]


def test_the_recursive_form_carries_a_changed_lr_forward():
    """As in PyTorch, each lr is computed from the current one, so a change by hand persists."""
    opt = make_opt([1.0])
    scheduler = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    opt.param_groups[0]["lr"] = 0.3
    scheduler.step()
    assert scheduler.get_last_lr() == [0.15]


def test_last_epoch_resumes_only_with_initial_lr():
    opt = make_opt([0.1])
    with pytest.raises(KeyError, match=r"param_groups\[0\] have no 'initial_lr'"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)
    opt.param_groups[0]["initial_lr"] = 0.1
    scheduler = lr_scheduler.ExponentialLR(opt, gamma=0.5, last_epoch=3)
    assert scheduler.last_epoch == 4 and scheduler.get_last_lr() == [0.1]   # the first step keeps lr


def test_get_lr_outside_step_warns():
    scheduler = lr_scheduler.StepLR(make_opt(), step_size=2)
    with pytest.warns(UserWarning, match="get_last_lr"):
        scheduler.get_lr()


# ---------------------------------------------------------------- ReduceLROnPlateau
@pytest.mark.parametrize("kwargs, metrics, expected", [
    (dict(factor=0.5, patience=2, threshold=0.0),          # reduce after 3 epochs without improvement
     [1.0, 1.0, 1.0, 1.0, 0.5, 0.6, 0.6, 0.6], [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25]),
    (dict(factor=0.5, patience=0, cooldown=2),             # then 2 epochs whose bad epochs do not count
     [1.0] * 8, [1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]),
    (dict(factor=0.1, patience=0, min_lr=0.05),            # never below min_lr
     [1.0] * 4, [1, 0.1, 0.05, 0.05]),
    (dict(factor=0.1, patience=0, mode="max", threshold_mode="abs", threshold=0.1),
     [1.0, 1.05, 1.2, 1.25], [1, 0.1, 0.1, 0.1 * 0.1]),    # 1.05 < 1.0 + 0.1 is no improvement
    (dict(factor=0.5, patience=0, threshold=0.1),          # rel: improving means < 0.9 best
     [1.0, 0.95, 0.85, 0.8], [1, 0.5, 0.5, 0.25]),
    (dict(factor=0.5, patience=0, mode="max"),
     [1.0, 2.0, 2.0, 3.0], [1, 1, 0.5, 0.5]),
])
def test_reduce_on_plateau_sequences(kwargs, metrics, expected):
    opt = make_opt([1.0])
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    got = []
    for m in metrics:
        scheduler.step(m)
        got.append(scheduler.get_last_lr()[0])
    assert got == pytest.approx(expected, rel=1e-14)
    assert scheduler.last_epoch == len(metrics)


def test_reduce_on_plateau_eps_skips_tiny_changes_and_groups_have_own_min_lr():
    opt = make_opt([1e-8, 1.0])
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0, min_lr=[0.0, 0.4])
    for _ in range(4):
        scheduler.step(1.0)
    assert scheduler.get_last_lr() == [1e-8, 0.4]   # 1e-8 - 5e-9 is not more than eps


def test_reduce_on_plateau_does_not_touch_lr_on_construction_and_takes_tensors():
    opt = make_opt([0.3])
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    assert scheduler.get_last_lr() == [0.3] and "initial_lr" not in opt.param_groups[0]
    assert scheduler.last_epoch == 0
    scheduler.step(mg.tensor(1.0))
    scheduler.step(mg.tensor([2.0]))
    assert scheduler.best == 1.0 and scheduler.get_last_lr() == pytest.approx([0.03])
    with pytest.raises(TypeError, match="metrics must be a number such as the validation loss, got NoneType"):
        scheduler.step(None)


# ---------------------------------------------------------------- exact resumption
SCHEDULERS = [
    (lr_scheduler.StepLR, dict(step_size=3, gamma=0.5)),
    (lr_scheduler.ExponentialLR, dict(gamma=0.9)),
    (lr_scheduler.CosineAnnealingLR, dict(T_max=4, eta_min=0.001)),
    (lr_scheduler.ReduceLROnPlateau, dict(factor=0.5, patience=1, cooldown=1, threshold=0.05)),
]
METRICS = [1.0, 0.9, 0.95, 0.9, 0.89, 0.8, 0.81, 0.82, 0.83, 0.7, 0.71, 0.72]


def _plain(obj):
    if isinstance(obj, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in obj.items())
    if isinstance(obj, list):
        return all(_plain(v) for v in obj)
    return obj is None or isinstance(obj, (bool, int, float, str))


def _epochs(params, opt, scheduler, epochs, lrs):
    """One step of SGD on a quadratic per epoch, then the scheduler's step."""
    for e in epochs:
        for p in params:
            p.grad = mg.tensor(2 * p.data - 1.0, dtype=p.dtype)
        opt.step()
        if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):
            scheduler.step(METRICS[e])
        else:
            scheduler.step()
        lrs.append(scheduler.get_last_lr())


def _setup(sched_cls, kwargs, lr):
    params = [nn.Parameter(np.full(3, 2.0)), nn.Parameter(np.full(2, -1.0))]
    opt = optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 2 * lr}], lr=lr, momentum=0.9)
    return params, opt, sched_cls(opt, **kwargs)


@pytest.mark.parametrize("sched_cls, kwargs", SCHEDULERS, ids=[c[0].__name__ for c in SCHEDULERS])
def test_resume_from_saved_state_continues_exactly(tmp_path, sched_cls, kwargs):
    params_a, opt_a, sched_a = _setup(sched_cls, kwargs, lr=0.1)
    straight = []
    _epochs(params_a, opt_a, sched_a, range(12), straight)

    params_b, opt_b, sched_b = _setup(sched_cls, kwargs, lr=0.1)
    resumed = []
    _epochs(params_b, opt_b, sched_b, range(5), resumed)
    state = sched_b.state_dict()
    assert "optimizer" not in state and _plain(state)
    mg.save({"params": [p.data for p in params_b], "optim": opt_b.state_dict(), "sched": state},
            tmp_path / "ckpt.npz")

    params_c, opt_c, sched_c = _setup(sched_cls, kwargs, lr=7.0)      # PyTorch's order: scheduler,
    ckpt = mg.load(tmp_path / "ckpt.npz")                              # then optimizer state, then
    opt_c.load_state_dict(ckpt["optim"])                               # scheduler state
    sched_c.load_state_dict(ckpt["sched"])
    for p, saved in zip(params_c, ckpt["params"], strict=True):
        p.data[...] = saved
    assert sched_c.state_dict() == state
    _epochs(params_c, opt_c, sched_c, range(5, 12), resumed)

    assert resumed == straight
    assert len({lr[0] for lr in straight}) > 2       # the lr did change
    for p, q in zip(params_a, params_c, strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_is_a_snapshot():
    scheduler = lr_scheduler.StepLR(make_opt(), step_size=1, gamma=0.5)
    state = scheduler.state_dict()
    scheduler.step()
    assert state["last_epoch"] == 0 and state["_last_lr"] == [0.1]


def test_load_state_dict_refuses_another_schedulers_state():
    step = lr_scheduler.StepLR(make_opt(), step_size=2)
    cosine_ = lr_scheduler.CosineAnnealingLR(make_opt(), T_max=3)
    with pytest.raises(ValueError, match=r"missing keys \['T_max', 'eta_min'\], unexpected keys "
                                         r"\['gamma', 'step_size'\]; was the state saved from a different scheduler"):
        cosine_.load_state_dict(step.state_dict())
    other = lr_scheduler.StepLR(make_opt([0.1, 0.2]), step_size=2)
    with pytest.raises(ValueError, match=r"'base_lrs' must have one entry per parameter group \(1\)"):
        step.load_state_dict(other.state_dict())
    assert step.base_lrs == [0.1]
    plateau = lr_scheduler.ReduceLROnPlateau(make_opt())
    bad = {**plateau.state_dict(), "mode": "sideways"}
    with pytest.raises(ValueError, match="mode 'sideways'"):
        plateau.load_state_dict(bad)
    assert plateau.mode == "min"


# ---------------------------------------------------------------- argument errors
@pytest.mark.parametrize("make, error, match", [
    (lambda o: lr_scheduler.StepLR([o], step_size=2), TypeError,
     "StepLR: optimizer must be a minigrad.optim.Optimizer, got list"),
    (lambda o: lr_scheduler.StepLR(o, step_size=0), ValueError, "StepLR: step_size must be a positive integer"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2.5), ValueError, "step_size must be a positive integer"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0), ValueError, "StepLR: gamma must be a number > 0"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2, last_epoch=-2), ValueError, "last_epoch must be an integer >= -1"),
    (lambda o: lr_scheduler.ExponentialLR(o, gamma=float("nan")), ValueError, "ExponentialLR: gamma must be"),
    (lambda o: lr_scheduler.ExponentialLR(o, gamma="0.9"), ValueError, "ExponentialLR: gamma must be"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), ValueError,
     "CosineAnnealingLR: T_max must be a positive integer"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=10.0), ValueError, "T_max must be a positive integer"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=-1e-3), ValueError, "eta_min must be"),
    (lambda o: lr_scheduler.ReduceLROnPlateau("opt"), TypeError, "ReduceLROnPlateau: optimizer must be"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="mni"), ValueError, "mode must be 'min' or 'max', got 'mni'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="relative"), ValueError,
     "threshold_mode must be 'rel' or 'abs'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, r"factor must be a number in \[0, 1\)"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=-1), ValueError, "patience must be an integer >= 0"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, cooldown=0.5), ValueError, "cooldown must be an integer >= 0"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold=-1e-4), ValueError, "threshold must be a number >= 0"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, eps=-1.0), ValueError, "eps must be a number >= 0"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.0, 0.1]), ValueError,
     "min_lr has 2 entries, the optimizer 1 parameter groups"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=-0.1), ValueError, "min_lr must be a number >= 0"),
])
def test_bad_arguments_give_clear_errors(make, error, match):
    opt = make_opt()
    with pytest.raises(error, match=match):
        make(opt)
    assert opt.param_groups[0]["lr"] == 0.1 and "initial_lr" not in opt.param_groups[0]


def test_exported_as_in_pytorch():
    assert optim.lr_scheduler is lr_scheduler
    assert issubclass(lr_scheduler.ReduceLROnPlateau, lr_scheduler.LRScheduler)
    for name in ["StepLR", "ExponentialLR", "CosineAnnealingLR", "ReduceLROnPlateau"]:
        assert hasattr(mg.optim.lr_scheduler, name)
