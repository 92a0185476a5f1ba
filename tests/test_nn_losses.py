"""Losses (F.cross_entropy, F.nll_loss, F.mse_loss and their modules): values against numpy
formulas written here, gradients by float64 finite differences, and PyTorch's edge cases."""
import itertools
import re
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F
from minigrad.ops import CrossEntropy

REDUCTIONS = ["mean", "sum", "none"]


# ---------------------------------------------------------------- numpy references
def _log_softmax_np(x):
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _nll_np(logp, t, weight=None, ignore_index=-100, reduction="mean", eps=0.0):
    """PyTorch's documented formula, one sample at a time:
    l_n = (1 - eps) w_{t_n} (-logp[n, t_n]) + eps / C sum_c w_c (-logp[n, c]), 0 if ignored;
    mean = sum_n l_n / sum_{n kept} w_{t_n}."""
    n, c = logp.shape
    w = np.ones(c) if weight is None else np.asarray(weight, dtype=float)
    losses, kept_weight = np.zeros(n), 0.0
    for i in range(n):
        if t[i] == ignore_index:
            continue
        kept_weight += w[t[i]]
        smooth = sum(w[k] * -logp[i, k] for k in range(c)) / c
        losses[i] = (1 - eps) * w[t[i]] * -logp[i, t[i]] + eps * smooth
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.sum() / kept_weight


def _case(seed=0, n=6, c=4, ignore=False, ignore_index=-100):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c)) * 2
    t = rng.integers(0, c, n)
    if ignore:
        t[[1, 4]] = ignore_index
    return x, t, rng.uniform(0.2, 2.0, c)


# (reduction, weighted, ignore, eps) for cross_entropy; (reduction, weighted, ignore) for nll_loss;
# (reduction, weighted) for mse_loss
OPTIONS = list(itertools.product(REDUCTIONS, [False, True], [False, True], [0.0, 0.25, 1.0]))
NLL_OPTIONS = list(itertools.product(REDUCTIONS, [False, True], [False, True]))
MSE_OPTIONS = list(itertools.product(REDUCTIONS, [False, True]))


# ---------------------------------------------------------------- cross_entropy values
@pytest.mark.parametrize("reduction, weighted, ignore, eps", OPTIONS)
def test_cross_entropy_matches_numpy_formula(reduction, weighted, ignore, eps):
    x, t, w = _case(ignore=ignore)
    weight = w if weighted else None
    loss = F.cross_entropy(mg.tensor(x), t, weight=weight, reduction=reduction, label_smoothing=eps)
    expected = _nll_np(_log_softmax_np(x), t, weight, reduction=reduction, eps=eps)
    assert loss.shape == np.shape(expected) and loss.dtype == np.float64
    np.testing.assert_allclose(loss.data, expected, rtol=1e-12, atol=1e-14)


def test_cross_entropy_of_int_like_floats_is_the_issue_value():
    # the PyTorch-habits issue: this used to return int 2 for int64 logits
    loss = F.cross_entropy(mg.tensor([[1.0, 2.0, 3.0]]), [0])
    assert loss.dtype == np.float32
    assert loss.item() == pytest.approx(np.log(np.exp([1, 2, 3]).sum()) - 1)   # 2.4076
    assert loss.item() == pytest.approx(2.4076, abs=1e-4)


def test_weighted_mean_divides_by_the_weights_of_kept_targets():
    logp = np.log(np.array([[0.5, 0.5], [0.1, 0.9], [0.2, 0.8]]))
    t = np.array([0, 1, 1])
    w = np.array([2.0, 3.0])
    loss = F.nll_loss(mg.tensor(logp), t, weight=w)
    by_hand = (2 * -np.log(0.5) + 3 * -np.log(0.9) + 3 * -np.log(0.8)) / (2 + 3 + 3)
    assert loss.item() == pytest.approx(by_hand, rel=1e-12)
    ignored = F.nll_loss(mg.tensor(logp), np.array([0, -100, 1]), weight=w)
    assert ignored.item() == pytest.approx((2 * -np.log(0.5) + 3 * -np.log(0.8)) / (2 + 3), rel=1e-12)


def test_label_smoothing_by_hand():
    # eps = 0.3, C = 2: the target is 0.85 on the true class and 0.15 on the other
    logits = np.array([[2.0, 0.0]])
    logp = _log_softmax_np(logits)[0]
    loss = F.cross_entropy(mg.tensor(logits), np.array([1]), label_smoothing=0.3)
    assert loss.item() == pytest.approx(-(0.85 * logp[1] + 0.15 * logp[0]), rel=1e-12)


def test_plain_case_keeps_the_fused_op_and_others_compose():
    x, t, w = _case()
    assert isinstance(F.cross_entropy(mg.tensor(x, requires_grad=True), t).grad_fn, CrossEntropy)
    # an ignore_index that no target hits keeps the fused op too
    assert isinstance(F.cross_entropy(mg.tensor(x, requires_grad=True), t, ignore_index=99).grad_fn, CrossEntropy)
    for kwargs in [dict(weight=w), dict(reduction="sum"), dict(label_smoothing=0.1), dict(ignore_index=int(t[0]))]:
        loss = F.cross_entropy(mg.tensor(x, requires_grad=True), t, **kwargs)
        assert not isinstance(loss.grad_fn, CrossEntropy), kwargs


def test_fused_and_composed_paths_agree():
    x, t, _ = _case(seed=3)
    fused = F.cross_entropy(mg.tensor(x), t)
    composed = F.cross_entropy(mg.tensor(x), t, reduction="sum") / len(t)
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-12)
    np.testing.assert_allclose(fused.data, F.nll_loss(mg.tensor(x).log_softmax(1), t).data, rtol=1e-12)


# ---------------------------------------------------------------- ignore_index
def test_ignored_target_may_be_out_of_range_but_others_may_not():
    x, t, _ = _case()
    t[2] = 7
    loss = F.cross_entropy(mg.tensor(x), t, ignore_index=7)
    np.testing.assert_allclose(loss.data, _nll_np(_log_softmax_np(x), t, ignore_index=7), rtol=1e-12)
    t[3] = -3
    with pytest.raises(ValueError, match="cross_entropy: target -3 is out of range for 4 classes"):
        F.cross_entropy(mg.tensor(x), t, ignore_index=7)
    with pytest.raises(ValueError, match="nll_loss: target 7 is out of range for 4 classes"):
        F.nll_loss(mg.tensor(x), t, ignore_index=-3)


def test_ignore_index_may_be_a_real_class():
    x, t, _ = _case(seed=1)
    t[:3] = 0
    loss = F.cross_entropy(mg.tensor(x), t, ignore_index=0, reduction="none")
    np.testing.assert_array_equal(loss.data[:3], 0.0)
    np.testing.assert_allclose(loss.data, _nll_np(_log_softmax_np(x), t, ignore_index=0, reduction="none"))


def test_ignored_samples_get_no_gradient():
    x, t, w = _case(ignore=True)
    for reduction in REDUCTIONS:
        logits = mg.tensor(x, requires_grad=True)
        F.cross_entropy(logits, t, weight=w, reduction=reduction, label_smoothing=0.2).sum().backward()
        np.testing.assert_array_equal(logits.grad[[1, 4]], 0.0)
        assert np.abs(logits.grad.data[[0, 2, 3, 5]]).min() > 0


def test_all_targets_ignored_as_torch():
    """Mean over no targets is 0/0 = nan (with zero gradient); sum is 0; none is all zeros."""
    x = np.random.default_rng(0).standard_normal((3, 4))
    t = np.full(3, -100)
    for eps in [0.0, 0.2]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")            # no numpy divide warnings either
            logits = mg.tensor(x, requires_grad=True)
            loss = F.cross_entropy(logits, t, label_smoothing=eps)
            loss.backward()
        assert np.isnan(loss.item())
        np.testing.assert_array_equal(logits.grad, 0.0)
        assert F.cross_entropy(mg.tensor(x), t, reduction="sum", label_smoothing=eps).item() == 0.0
        np.testing.assert_array_equal(F.cross_entropy(mg.tensor(x), t, reduction="none").data, 0.0)


# ---------------------------------------------------------------- shapes and forms
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_logits_with_a_0d_target(reduction):
    x, _, w = _case(n=1, c=5)
    kwargs = dict(weight=w, reduction=reduction, label_smoothing=0.1)
    single = F.cross_entropy(mg.tensor(x[0]), np.array(3), **kwargs)
    batch = F.cross_entropy(mg.tensor(x), np.array([3]), **kwargs)
    assert single.shape == ()
    np.testing.assert_allclose(single.data, batch.data.reshape(()), rtol=1e-12)
    assert F.nll_loss(mg.tensor(x[0]), mg.tensor(2), reduction=reduction).item() == pytest.approx(-x[0, 2])
    assert F.cross_entropy(mg.tensor(x[0]), 1).item() == pytest.approx(-_log_softmax_np(x)[0, 1])


def test_shape_errors_name_the_function_and_shapes():
    with pytest.raises(ValueError, match=re.escape("cross_entropy: unbatched logits of shape (4,) need a 0-d target, "
                                                   "got shape (1,)")):
        F.cross_entropy(mg.zeros(4), np.array([1]))
    with pytest.raises(ValueError, match=re.escape("nll_loss: input must have shape (N, C), got (2, 3, 4)")):
        F.nll_loss(mg.zeros(2, 3, 4), np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match=re.escape("nll_loss: targets must have shape (2,) to match input (2, 3), "
                                                   "got (3,)")):
        F.nll_loss(mg.zeros(2, 3), np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match=re.escape("cross_entropy: weight must have shape (3,), one value per class, "
                                                   "got (2,)")):
        F.cross_entropy(mg.zeros(2, 3), np.array([0, 1]), weight=[1.0, 2.0])


def test_empty_batch_sums_to_zero_but_has_no_mean():
    empty = mg.zeros(0, 4)
    targets = np.zeros(0, dtype=np.int64)
    assert F.cross_entropy(empty, targets, reduction="sum").item() == 0.0
    assert F.cross_entropy(empty, targets, reduction="none").shape == (0,)
    with pytest.raises(ValueError, match="nll_loss: empty batch"):
        F.nll_loss(empty, targets)


# ---------------------------------------------------------------- dtypes and options
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_integer_and_bool_inputs_are_refused(dtype):
    x = mg.tensor(np.array([[1, 0, 1]], dtype=dtype))
    name = np.dtype(dtype).name
    with pytest.raises(TypeError, match=f"cross_entropy: expected floating point logits, got {name}"):
        F.cross_entropy(x, [0])
    with pytest.raises(TypeError, match=f"nll_loss: expected floating point input, got {name}"):
        F.nll_loss(x, [0])
    with pytest.raises(TypeError, match=f"mse_loss: expected floating point input, got {name}"):
        F.mse_loss(x, np.ones((1, 3)))


def test_float32_stays_float32():
    x, t, w = _case()
    x32 = mg.tensor(x.astype(np.float32))
    for kwargs in [{}, dict(weight=w, ignore_index=int(t[0]), label_smoothing=0.1, reduction="none")]:
        assert F.cross_entropy(x32, t, **kwargs).dtype == np.float32
    assert F.mse_loss(x32, x32 * 2, weight=np.ones(x.shape)).dtype == np.float32


def test_option_errors():
    x, t = mg.zeros(2, 3), np.array([0, 1])
    with pytest.raises(ValueError, match="cross_entropy: reduction must be 'none', 'mean' or 'sum', got 'avg'"):
        F.cross_entropy(x, t, reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0, got 1.5"):
        F.cross_entropy(x, t, label_smoothing=1.5)
    with pytest.raises(ValueError, match="mse_loss: reduction must be"):
        F.mse_loss(x, x, reduction="mean_squared")
    with pytest.raises(ValueError, match=re.escape("mse_loss: weight (3,) and input (2, 3) differ in shape")):
        F.mse_loss(x, x, weight=np.ones(3))
    with pytest.raises(ValueError, match="MSELoss: reduction must be"):
        nn.MSELoss(reduction="avg")


def test_legacy_size_average_and_reduce_map_to_reduction():
    x, t, _ = _case()
    with pytest.warns(UserWarning, match="please use reduction='sum' instead"):
        legacy = F.cross_entropy(mg.tensor(x), t, size_average=False)
    assert legacy.item() == pytest.approx(F.cross_entropy(mg.tensor(x), t, reduction="sum").item())
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.NLLLoss(reduce=False).reduction == "none"
    with pytest.warns(UserWarning, match="reduction='mean'"):
        assert nn.MSELoss(size_average=True).reduction == "mean"


# ---------------------------------------------------------------- nll_loss and mse_loss values
@pytest.mark.parametrize("reduction, weighted, ignore", NLL_OPTIONS)
def test_nll_loss_matches_numpy_formula_and_cross_entropy(reduction, weighted, ignore):
    x, t, w = _case(seed=2, ignore=ignore)
    weight = w if weighted else None
    logp = _log_softmax_np(x)
    loss = F.nll_loss(mg.tensor(logp), t, weight=weight, reduction=reduction)
    np.testing.assert_allclose(loss.data, _nll_np(logp, t, weight, reduction=reduction), rtol=1e-12, atol=1e-14)
    ce = F.cross_entropy(mg.tensor(x), t, weight=weight, reduction=reduction)
    np.testing.assert_allclose(loss.data, ce.data, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("reduction, weighted", MSE_OPTIONS)
def test_mse_loss_matches_numpy_formula(reduction, weighted):
    rng = np.random.default_rng(4)
    a, b, w = rng.standard_normal((3, 2)), rng.standard_normal((3, 2)), rng.uniform(0.1, 1.0, (3, 2))
    weight = w if weighted else np.ones((3, 2))
    squared = weight * (a - b) ** 2
    expected = {"none": squared, "sum": squared.sum(), "mean": squared.sum() / weight.sum()}[reduction]
    loss = F.mse_loss(mg.tensor(a), mg.tensor(b), reduction=reduction, weight=w if weighted else None)
    np.testing.assert_allclose(loss.data, expected, rtol=1e-12)


# ---------------------------------------------------------------- gradients
@pytest.mark.parametrize("reduction, weighted, ignore, eps", OPTIONS)
def test_cross_entropy_gradcheck(reduction, weighted, ignore, eps):
    x, t, w = _case(seed=5, n=5, c=3, ignore=ignore)
    weight = w if weighted else None
    assert mg.gradcheck(lambda x: F.cross_entropy(x, t, weight=weight, reduction=reduction, label_smoothing=eps),
                        [x])


def test_cross_entropy_gradcheck_unbatched_and_ignore_index_a_class():
    x, t, w = _case(seed=6, n=5, c=3)
    t[:2] = 1
    assert mg.gradcheck(lambda x: F.cross_entropy(x, t, weight=w, ignore_index=1, label_smoothing=0.3), [x])
    assert mg.gradcheck(lambda v: F.cross_entropy(v, np.array(2), weight=w, label_smoothing=0.3,
                                                  reduction="none"), [x[0]])


@pytest.mark.parametrize("reduction, weighted, ignore", NLL_OPTIONS)
def test_nll_loss_gradcheck(reduction, weighted, ignore):
    x, t, w = _case(seed=7, n=5, c=3, ignore=ignore)
    weight = w if weighted else None
    assert mg.gradcheck(lambda p: F.nll_loss(p, t, weight=weight, reduction=reduction), [x])
    assert mg.gradcheck(lambda x: F.nll_loss(x.log_softmax(1), t, weight=weight, reduction=reduction), [x])


@pytest.mark.parametrize("reduction, weighted", MSE_OPTIONS)
def test_mse_loss_gradcheck_input_target_and_weight(reduction, weighted):
    rng = np.random.default_rng(8)
    a, b, w = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), rng.uniform(0.1, 1.0, (2, 3))
    if weighted:   # weight as a tensor input: its gradient is checked too
        assert mg.gradcheck(lambda a, b, w: F.mse_loss(a, b, reduction=reduction, weight=w), [a, b, w])
    else:
        assert mg.gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), [a, b])


def test_cross_entropy_gradient_matches_formula():
    """The loss is sum_n sum_c q_nc (-log p_nc) / D with q_n = (1 - eps) w_{t_n} onehot(t_n) + (eps / C) w
    (0 for ignored n) and D = sum of w_{t_n} over kept n, so dL/dx_n = (p_n sum_c q_nc - q_n) / D."""
    x, t, w = _case(seed=9, ignore=True)
    eps, (n, c) = 0.2, x.shape
    logits = mg.tensor(x, requires_grad=True)
    F.cross_entropy(logits, t, weight=w, label_smoothing=eps).backward()
    p = np.exp(_log_softmax_np(x))
    kept = t != -100
    q = np.zeros((n, c))
    q[kept] = eps / c * w
    q[np.flatnonzero(kept), t[kept]] += (1 - eps) * w[t[kept]]
    expected = (p * q.sum(axis=1, keepdims=True) - q) / w[t[kept]].sum()
    np.testing.assert_allclose(logits.grad, expected, rtol=1e-10, atol=1e-15)


# ---------------------------------------------------------------- modules
def test_loss_modules_call_the_functions():
    x, t, w = _case(ignore=True, ignore_index=3)
    x, t = mg.tensor(x), mg.tensor(t)
    criterion = nn.CrossEntropyLoss(weight=w, ignore_index=3, reduction="sum", label_smoothing=0.1)
    np.testing.assert_array_equal(
        criterion(x, t).data,
        F.cross_entropy(x, t, weight=w, ignore_index=3, reduction="sum", label_smoothing=0.1).data)
    logp = x.log_softmax(1)
    np.testing.assert_array_equal(nn.NLLLoss(w, ignore_index=3, reduction="none")(logp, t).data,
                                  F.nll_loss(logp, t, weight=w, ignore_index=3, reduction="none").data)
    np.testing.assert_array_equal(nn.MSELoss(reduction="sum")(x, x * 2).data,
                                  F.mse_loss(x, x * 2, reduction="sum").data)
    assert nn.CrossEntropyLoss().reduction == "mean" and nn.CrossEntropyLoss().ignore_index == -100


def test_loss_module_reprs_and_parameters():
    assert repr(nn.CrossEntropyLoss(label_smoothing=0.1)) == "CrossEntropyLoss()"   # as torch
    assert repr(nn.NLLLoss()) == "NLLLoss()" and repr(nn.MSELoss()) == "MSELoss()"
    assert list(nn.CrossEntropyLoss(weight=mg.ones(3)).parameters()) == []
