"""Optimizers against independent numpy implementations of PyTorch's documented updates
(torch.optim docs, "Algorithm" boxes), exact resumption from a saved state, and
clip_grad_norm_."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

from optim_references import P0, mg_run, quad_grad, ref_adagrad, ref_adam, ref_sgd

CASES = [
    ("sgd", mg.optim.SGD, ref_sgd, dict(lr=0.01)),
    ("sgd_momentum", mg.optim.SGD, ref_sgd, dict(lr=0.01, momentum=0.9)),
    ("sgd_momentum_dampening_wd", mg.optim.SGD, ref_sgd, dict(lr=0.01, momentum=0.8, dampening=0.3,
                                                               weight_decay=0.1)),
    ("sgd_nesterov", mg.optim.SGD, ref_sgd, dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ("adam_default", mg.optim.Adam, ref_adam, dict()),
    ("adam_custom", mg.optim.Adam, ref_adam, dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("adagrad_default", mg.optim.Adagrad, ref_adagrad, dict()),
    ("adagrad_custom", mg.optim.Adagrad, ref_adagrad, dict(lr=0.1, lr_decay=0.05, weight_decay=0.1,
                                                           initial_accumulator_value=0.3, eps=1e-6)),
]


@pytest.mark.parametrize("name, opt_cls, ref, kwargs", CASES, ids=[c[0] for c in CASES])
def test_optimizer_matches_reference(name, opt_cls, ref, kwargs):
    expected = ref(P0, quad_grad, **kwargs)
    got = mg_run(opt_cls, kwargs)
    assert not np.allclose(got, P0)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("opt_cls, kwargs", [(mg.optim.SGD, dict(lr=0.1, momentum=0.9)),
                                             (mg.optim.Adam, dict(lr=0.1)),
                                             (mg.optim.Adagrad, dict(lr=0.1))])
def test_float32_parameters_stay_float32(opt_cls, kwargs):
    p = nn.Parameter(np.ones(3, dtype=np.float32))
    opt = opt_cls([p], **kwargs)
    for _ in range(2):
        opt.zero_grad()
        (p * p).sum().backward()
        opt.step()
    assert p.dtype == np.float32 and (p.data < 1).all()


@pytest.mark.parametrize("opt_cls", [mg.optim.SGD, mg.optim.Adam, mg.optim.Adagrad])
def test_zero_d_parameter(opt_cls):
    p = nn.Parameter(np.array(3.0))
    opt = opt_cls([p], lr=0.1, **({"momentum": 0.9} if opt_cls is mg.optim.SGD else {}))
    for _ in range(3):
        opt.zero_grad()
        p.grad = mg.tensor(np.asarray(2 * p.data), dtype=p.dtype)
        opt.step()
    assert p.shape == () and p.data < 3.0


def test_parameters_without_grad_are_skipped():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    opt = mg.optim.Adam([a, b], lr=0.1)
    a.grad = mg.tensor(np.ones(2), dtype=a.dtype)
    opt.step()
    np.testing.assert_array_equal(b.data, [1.0, 1.0])
    assert b not in opt.state and a in opt.state


def test_param_groups_have_their_own_lr():
    a, b = nn.Parameter(np.zeros(1)), nn.Parameter(np.zeros(1))
    opt = mg.optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad, b.grad = mg.ones(1, dtype=a.dtype), mg.ones(1, dtype=b.dtype)
    opt.step()
    np.testing.assert_allclose([a.data[0], b.data[0]], [-0.1, -1.0])
    opt.param_groups[0]["lr"] = 0.5
    opt.step()
    np.testing.assert_allclose(a.data, [-0.6])


def test_optimizer_zero_grad():
    p = nn.Parameter(np.zeros(2))
    opt = mg.optim.SGD([p], lr=0.1)
    p.grad = mg.tensor(np.ones(2), dtype=p.dtype)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad, [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None


def test_state_dict_is_a_snapshot():
    p = nn.Parameter(np.ones(2))
    opt = mg.optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = mg.tensor(np.ones(2), dtype=p.dtype)
    opt.step()
    state = opt.state_dict()
    opt.step()
    np.testing.assert_array_equal(state["state"]["0"]["momentum_buffer"], [1.0, 1.0])
    assert state["param_groups"][0]["params"] == [0]


def test_failed_load_state_dict_leaves_optimizer_unchanged():
    p = nn.Parameter(np.ones(2))
    opt = mg.optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = mg.tensor(np.ones(2), dtype=p.dtype)
    opt.step()
    bad = opt.state_dict()
    bad["param_groups"][0]["lr"] = 5.0
    bad["state"]["0"]["momentum_buffer"] = np.zeros(3)
    with pytest.raises(ValueError):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["lr"] == 0.1
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"], [1.0, 1.0])


# ---------------------------------------------------------------- clip_grad_norm_
def _params_with_grads(grads):
    ps = []
    for g in grads:
        p = nn.Parameter(np.zeros_like(g))
        p.grad = mg.tensor(g.copy(), dtype=p.dtype)
        ps.append(p)
    return ps


def _norm(flat, norm_type):
    if norm_type == float("inf"):
        return np.abs(flat).max()
    return np.sum(np.abs(flat) ** norm_type) ** (1 / norm_type)


GRADS = [np.array([[3.0, -4.0], [1.0, 2.0]]), np.array([-2.0, 0.5, 6.0])]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
def test_clip_grad_norm_returns_total_and_scales(norm_type):
    flat = np.concatenate([g.ravel() for g in GRADS])
    total = _norm(flat, norm_type)
    ps = _params_with_grads(GRADS)
    max_norm = 2.0
    out = nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    assert isinstance(out, mg.Tensor)
    assert out.item() == pytest.approx(total, rel=1e-12)
    coef = max_norm / (total + 1e-6)                  # PyTorch's documented coefficient
    for p, g in zip(ps, GRADS, strict=True):
        np.testing.assert_allclose(p.grad, g * coef, rtol=1e-12)
    new = np.concatenate([p.grad.data.ravel() for p in ps])
    new_total = _norm(new, norm_type)
    assert new_total == pytest.approx(max_norm, rel=1e-5)


def test_clip_grad_norm_leaves_small_gradients_alone():
    ps = _params_with_grads(GRADS)
    total = nn.utils.clip_grad_norm_(ps, 100.0).item()
    assert total == pytest.approx(np.sqrt(sum((g ** 2).sum() for g in GRADS)))
    for p, g in zip(ps, GRADS, strict=True):
        np.testing.assert_array_equal(p.grad, g)


def test_clip_grad_norm_single_tensor_generator_and_missing_grads():
    p = nn.Parameter(np.zeros(2))
    p.grad = mg.tensor(np.array([3.0, 4.0]), dtype=p.dtype)
    assert nn.utils.clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad, [0.6, 0.8], rtol=1e-5)
    q, r = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(1))
    q.grad = mg.tensor(np.array([0.0, 10.0]), dtype=q.dtype)
    assert nn.utils.clip_grad_norm_((x for x in [q, r]), 5.0).item() == pytest.approx(10.0)
    np.testing.assert_allclose(q.grad, [0.0, 5.0], rtol=1e-5)
    assert nn.utils.clip_grad_norm_([r], 1.0).item() == 0.0


def test_clip_grad_norm_on_real_gradients_of_a_model():
    mg.manual_seed(0)
    model = nn.Linear(4, 3)
    (model(mg.randn(5, 4) * 100) ** 2).sum().backward()
    grads = [p.grad.data.copy() for p in model.parameters()]
    total = nn.utils.clip_grad_norm_(model.parameters(), 0.5).item()
    before = np.concatenate([g.astype(np.float64).ravel() for g in grads])
    after = np.concatenate([p.grad.data.astype(np.float64).ravel() for p in model.parameters()])
    assert total == pytest.approx(_norm(before, 2.0), rel=1e-5)
    assert _norm(after, 2.0) == pytest.approx(0.5, rel=1e-4)


def test_clip_grad_value():
    p = nn.Parameter(np.zeros(3))
    p.grad = mg.tensor(np.array([-5.0, 0.5, 5.0]), dtype=p.dtype)
    nn.utils.clip_grad_value_([p], 1.0)
    np.testing.assert_array_equal(p.grad, [-1.0, 0.5, 1.0])




def test_clip_grad_norm_clips_a_zero_d_parameter():
    g = nn.Parameter(np.array(2.0, dtype=np.float32))
    (g * g * 100.0).backward()                      # grad 400
    assert nn.utils.clip_grad_norm_([g], 1.0).item() == pytest.approx(400.0)
    assert float(g.grad) == pytest.approx(1.0, rel=1e-5)


def test_zero_grad_in_place_on_a_zero_d_parameter():
    g = nn.Parameter(np.array(2.0, dtype=np.float32))
    (g * 3.0).backward()
    opt = mg.optim.SGD([g], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert float(g.grad) == 0.0
