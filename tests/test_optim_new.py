"""RMSprop, AdamW and Adam's amsgrad against independent numpy implementations of PyTorch's
documented updates (torch.optim docs, "Algorithm" boxes); exact resumption (every optimizer) through
mg.save/mg.load; argument errors; and optimizers stepping on the .grad Tensors backward fills."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim

from optim_references import P0, mg_run, quad_grad, ref_adam, ref_adamw, ref_rmsprop

CASES = [
    ("rmsprop_default", optim.RMSprop, ref_rmsprop, dict()),
    ("rmsprop_weight_decay", optim.RMSprop, ref_rmsprop, dict(lr=0.02, alpha=0.9, weight_decay=0.1)),
    ("rmsprop_momentum", optim.RMSprop, ref_rmsprop, dict(lr=0.01, momentum=0.9, eps=1e-6)),
    ("rmsprop_centered", optim.RMSprop, ref_rmsprop, dict(lr=0.01, alpha=0.8, centered=True)),
    ("rmsprop_centered_momentum_wd", optim.RMSprop, ref_rmsprop,
     dict(lr=0.005, alpha=0.95, momentum=0.5, centered=True, weight_decay=0.05)),
    ("adam_amsgrad", optim.Adam, ref_adam, dict(lr=0.1, betas=(0.9, 0.5), amsgrad=True)),
    ("adam_amsgrad_wd", optim.Adam, ref_adam, dict(lr=0.1, betas=(0.8, 0.6), eps=1e-6, weight_decay=0.1,
                                                   amsgrad=True)),
    ("adam_decoupled", optim.Adam, ref_adamw, dict(lr=0.05, weight_decay=0.3, decoupled_weight_decay=True)),
    ("adamw_default", optim.AdamW, ref_adamw, dict()),
    ("adamw_custom", optim.AdamW, ref_adamw, dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.3)),
    ("adamw_amsgrad", optim.AdamW, ref_adamw, dict(lr=0.1, betas=(0.9, 0.5), weight_decay=0.2, amsgrad=True)),
]


@pytest.mark.parametrize("name, opt_cls, ref, kwargs", CASES, ids=[c[0] for c in CASES])
def test_optimizer_matches_reference(name, opt_cls, ref, kwargs):
    ref_kwargs = {k: v for k, v in kwargs.items() if k != "decoupled_weight_decay"}
    expected = ref(P0, quad_grad, **ref_kwargs)
    got = mg_run(opt_cls, kwargs)
    assert not np.allclose(got, P0)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_the_options_change_the_trajectory():
    """So the cases above test each option, not the same update twice."""
    def run(opt_cls, **kwargs):
        return mg_run(opt_cls, kwargs)
    assert not np.allclose(run(optim.Adam, lr=0.1, betas=(0.9, 0.5)),
                           run(optim.Adam, lr=0.1, betas=(0.9, 0.5), amsgrad=True))
    assert not np.allclose(run(optim.Adam, lr=0.05, weight_decay=0.3), run(optim.AdamW, lr=0.05, weight_decay=0.3))
    assert not np.allclose(run(optim.AdamW, lr=0.05, weight_decay=0.0), run(optim.AdamW, lr=0.05))
    assert not np.allclose(run(optim.RMSprop, alpha=0.8), run(optim.RMSprop, alpha=0.8, centered=True))
    assert not np.allclose(run(optim.RMSprop), run(optim.RMSprop, momentum=0.9))


def test_rmsprop_first_step_by_hand():
    """v = (1 - alpha) g^2, so the first step is lr g / (sqrt(1 - alpha) |g| + eps)."""
    p = nn.Parameter(np.array([1.0, -2.0]))
    opt = optim.RMSprop([p], lr=0.01, alpha=0.99, eps=1e-8)
    p.grad = mg.tensor(np.array([0.5, -4.0]), dtype=p.dtype)
    opt.step()
    expected = np.array([1.0, -2.0]) - 0.01 * p.grad.data / (np.sqrt(0.01) * np.abs(p.grad.data) + 1e-8)
    np.testing.assert_allclose(p.data, expected, rtol=1e-15)


def test_state_and_param_group_names_are_pytorchs():
    p = nn.Parameter(np.ones(2))
    opt = optim.RMSprop([p], momentum=0.9, centered=True)
    assert {k: v for k, v in opt.param_groups[0].items() if k != "params"} == dict(
        lr=0.01, momentum=0.9, alpha=0.99, eps=1e-8, centered=True, weight_decay=0)
    p.grad = mg.tensor(np.ones(2), dtype=p.dtype)
    opt.step()
    assert set(opt.state[p]) == {"step", "square_avg", "grad_avg", "momentum_buffer"}
    plain = optim.RMSprop([p])
    plain.step()
    assert set(plain.state[p]) == {"step", "square_avg"}

    adamw = optim.AdamW([p], amsgrad=True)
    group = adamw.param_groups[0]
    assert (group["lr"], group["betas"], group["eps"], group["weight_decay"]) == (1e-3, (0.9, 0.999), 1e-8, 1e-2)
    assert group["amsgrad"] is True and group["decoupled_weight_decay"] is True
    adamw.step()
    assert set(adamw.state[p]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    adam = optim.Adam([p])
    adam.step()
    assert set(adam.state[p]) == {"step", "exp_avg", "exp_avg_sq"}
    assert adam.param_groups[0]["amsgrad"] is False and adam.param_groups[0]["decoupled_weight_decay"] is False


NEW = [(optim.RMSprop, dict(lr=0.1, momentum=0.9, centered=True)),
       (optim.Adam, dict(lr=0.1, amsgrad=True)),
       (optim.AdamW, dict(lr=0.1, amsgrad=True))]
NEW_IDS = ["RMSprop", "Adam_amsgrad", "AdamW"]


@pytest.mark.parametrize("opt_cls, kwargs", NEW, ids=NEW_IDS)
def test_float32_parameters_stay_float32(opt_cls, kwargs):
    p = nn.Parameter(np.ones(3, dtype=np.float32))
    opt = opt_cls([p], **kwargs)
    for _ in range(2):
        opt.zero_grad()
        (p * p).sum().backward()
        opt.step()
    assert p.dtype == np.float32 and (p.data < 1).all()
    assert all(v.dtype == np.float32 for v in opt.state[p].values() if isinstance(v, np.ndarray))


@pytest.mark.parametrize("opt_cls, kwargs", NEW, ids=NEW_IDS)
def test_zero_d_parameter(opt_cls, kwargs):
    p = nn.Parameter(np.array(3.0))
    opt = opt_cls([p], **{**kwargs, "weight_decay": 0.1})
    for _ in range(3):
        opt.zero_grad()
        p.grad = mg.tensor(np.asarray(2 * p.data), dtype=p.dtype)
        opt.step()
    assert p.shape == () and p.data < 3.0


@pytest.mark.parametrize("opt_cls, kwargs", NEW, ids=NEW_IDS)
def test_parameters_without_grad_are_skipped_and_stepped_ones_stamped(opt_cls, kwargs):
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    opt = opt_cls([a, b], **kwargs)
    before = mg.versions.epoch
    a.grad = mg.tensor(np.ones(2), dtype=a.dtype)
    opt.step()
    np.testing.assert_array_equal(b.data, [1.0, 1.0])
    assert b not in opt.state and a in opt.state
    assert a._modified_at > before and getattr(b, "_modified_at", 0) <= before


@pytest.mark.parametrize("opt_cls, kwargs", NEW, ids=NEW_IDS)
def test_backward_through_a_graph_from_before_the_step_raises(opt_cls, kwargs):
    w = nn.Parameter(np.array([2.0]))
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    opt_cls([w], **kwargs).step()
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()


def test_adamw_decay_acts_without_a_gradient_signal():
    """With a zero gradient Adam's update is 0, so AdamW moves p by the decay alone."""
    p = nn.Parameter(np.array([2.0, -4.0]))
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    for _ in range(3):
        p.grad = mg.tensor(np.zeros(2), dtype=p.dtype)
        opt.step()
    np.testing.assert_allclose(p.data, np.array([2.0, -4.0]) * (1 - 0.1 * 0.5) ** 3, rtol=1e-14)


# ---------------------------------------------------------------- exact resumption
class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.fc2 = nn.Linear(4, 1)
        self.gain = nn.Parameter(np.array(1.5, dtype=np.float32))   # a 0-d parameter too

    def forward(self, x):
        return self.fc2(self.fc1(x).tanh()) * self.gain


def _train(model, opt, batches):
    for x, y in batches:
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()


RESUME = [
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    (optim.Adam, dict(lr=0.01, weight_decay=1e-3)),
    (optim.Adagrad, dict(lr=0.05, lr_decay=0.01)),
    (optim.RMSprop, dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=1e-3)),
    (optim.RMSprop, dict(lr=0.01)),
    (optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=1e-3)),
    (optim.AdamW, dict(lr=0.01, amsgrad=True)),
    (optim.AdamW, dict(lr=0.01, weight_decay=0.1)),
]


@pytest.mark.parametrize("opt_cls, kwargs", RESUME, ids=["SGD", "Adam", "Adagrad", "RMSprop_all", "RMSprop",
                                                          "Adam_amsgrad", "AdamW_amsgrad", "AdamW"])
def test_resume_from_saved_state_is_exact(tmp_path, opt_cls, kwargs):
    rng = np.random.default_rng(1)
    batches = [(mg.tensor(rng.standard_normal((8, 3)).astype(np.float32)),
                mg.tensor(rng.standard_normal((8, 1)).astype(np.float32))) for _ in range(10)]
    mg.manual_seed(0)
    straight = Tiny()
    opt_a = opt_cls(straight.parameters(), **kwargs)
    mg.manual_seed(0)
    resumed = Tiny()
    opt_b = opt_cls(resumed.parameters(), **kwargs)

    _train(straight, opt_a, batches)                 # 10 steps without a break

    _train(resumed, opt_b, batches[:4])              # 4 steps, save, then restore into new objects
    path = tmp_path / "ckpt.npz"
    mg.save({"model": resumed.state_dict(), "optim": opt_b.state_dict()}, path)
    mg.manual_seed(123)
    fresh = Tiny()
    opt_c = opt_cls(fresh.parameters(), **{**kwargs, "lr": 99.0})   # hyper-parameters restored too
    ckpt = mg.load(path)
    fresh.load_state_dict(ckpt["model"])
    opt_c.load_state_dict(ckpt["optim"])
    assert opt_c.param_groups[0]["lr"] == kwargs["lr"]
    assert opt_c.param_groups[0] == {**opt_b.param_groups[0], "params": opt_c.param_groups[0]["params"]}
    _train(fresh, opt_c, batches[4:])

    for (name, p), (_, q) in zip(straight.named_parameters(), fresh.named_parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)


# ---------------------------------------------------------------- argument errors
@pytest.mark.parametrize("make, error, match", [
    (lambda p: optim.RMSprop(p, lr=-0.1), ValueError, r"RMSprop: lr must be >= 0, got -0.1"),
    (lambda p: optim.RMSprop(p, alpha=-0.5), ValueError, r"RMSprop: alpha must be >= 0"),
    (lambda p: optim.RMSprop(p, eps=-1e-8), ValueError, r"RMSprop: eps must be >= 0"),
    (lambda p: optim.RMSprop(p, momentum=-0.9), ValueError, r"RMSprop: momentum must be >= 0"),
    (lambda p: optim.RMSprop(p, weight_decay=-1), ValueError, r"RMSprop: weight_decay must be >= 0"),
    (lambda p: optim.RMSprop(p, lr=float("nan")), ValueError, r"RMSprop: lr must be >= 0, got nan"),
    (lambda p: optim.RMSprop(p, lr="0.01"), TypeError, r"RMSprop: lr must be a number, got '0.01'"),
    (lambda p: optim.Adam(p, weight_decay=-0.1), ValueError, r"Adam: weight_decay must be >= 0"),
    (lambda p: optim.Adam(p, betas=(0.9,)), ValueError, r"Adam: betas must be two numbers in \[0, 1\)"),
    (lambda p: optim.AdamW(p, betas=(0.9, 1.0)), ValueError, r"AdamW: betas must be two numbers in \[0, 1\)"),
    (lambda p: optim.AdamW(p, lr=-1e-3), ValueError, r"AdamW: lr must be >= 0"),
    (lambda p: optim.AdamW(p, weight_decay=None), TypeError, r"AdamW: weight_decay must be a number, got None"),
])
def test_bad_arguments_give_clear_errors(make, error, match):
    with pytest.raises(error, match=match):
        make([nn.Parameter(np.zeros(2))])


# ---------------------------------------------------------------- gradients are Tensors
ALL = [(optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
       (optim.Adagrad, dict(lr=0.1, weight_decay=0.1)),
       (optim.Adam, dict(lr=0.1, amsgrad=True, weight_decay=0.1)),
       (optim.AdamW, dict(lr=0.1)),
       (optim.RMSprop, dict(lr=0.1, momentum=0.9, centered=True, weight_decay=0.1))]


@pytest.mark.parametrize("opt_cls, kwargs", ALL, ids=[c[0].__name__ for c in ALL])
def test_optimizers_step_on_the_grad_tensors_backward_fills(opt_cls, kwargs):
    """backward's .grad (a Tensor) drives the same steps as gradients assigned by hand, and
    zero_grad(set_to_none=False) zeroes that very Tensor in place."""
    def run(by_backward):
        p = nn.Parameter(P0.copy())
        opt = opt_cls([p], **kwargs)
        for _ in range(3):
            opt.zero_grad()
            if by_backward:
                ((p - 1.0) * (p - 1.0)).sum().backward()  # d/dp = 2 (p - 1)
            else:
                p.grad = mg.tensor(2 * (p.data - 1.0), dtype=p.dtype)
            assert isinstance(p.grad, mg.Tensor) and not p.grad.requires_grad
            opt.step()
        grad = p.grad
        opt.zero_grad(set_to_none=False)
        assert p.grad is grad
        np.testing.assert_array_equal(grad.data, np.zeros(4))
        return p.data

    np.testing.assert_array_equal(run(by_backward=True), run(by_backward=False))
