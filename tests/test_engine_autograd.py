"""Autograd mechanics: reuse, accumulation, retain_graph, detach / no_grad, hooks, kept
gradients, scopes, anomaly detection, very long chains."""
import numpy as np
import pytest

import minigrad as mg



def _f64(value, shape=()):
    return mg.tensor(np.full(shape, value, dtype=np.float64), requires_grad=True)


# ---------------------------------------------------------------- reuse and graph shapes
def test_tensor_used_twice_in_one_op():
    x = mg.tensor([3.0, -2.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, -4.0])


def test_a_plus_a_then_b_plus_b():
    """micrograd's reuse bug: b = a + a must give a.grad = 2, and chaining doubles again."""
    a = mg.tensor([3.0], requires_grad=True)
    b = a + a
    c = b + b
    c.sum().backward()
    np.testing.assert_array_equal(a.grad, [4.0])


def test_reuse_across_two_products():
    a, b = _f64(-2.0, (1,)), _f64(3.0, (1,))
    d = a * b
    e = a + b
    f = d * e
    f.sum().backward()
    np.testing.assert_allclose(a.grad, [-3.0])
    np.testing.assert_allclose(b.grad, [-8.0])


def _micrograd_expression(a, b):
    """The expression of micrograd's test_more_ops; works on floats and on tensors."""
    relu = (lambda v: max(v, 0.0)) if isinstance(a, float) else (lambda v: v.relu())
    c = a + b
    d = a * b + b ** 3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + relu(b + a)
    d = d + 3 * d + relu(b - a)
    e = c - d
    f = e ** 2
    g = f / 2.0
    g = g + 10.0 / f
    return g


def _micrograd_reference():
    """Value and gradient by central differences on plain Python floats (independent of minigrad)."""
    h = 1e-6
    value = _micrograd_expression(-4.0, 2.0)
    da = (_micrograd_expression(-4.0 + h, 2.0) - _micrograd_expression(-4.0 - h, 2.0)) / (2 * h)
    db = (_micrograd_expression(-4.0, 2.0 + h) - _micrograd_expression(-4.0, 2.0 - h)) / (2 * h)
    return value, da, db


@pytest.mark.parametrize("shape", [
    (1,),
    (),
])
def test_micrograd_more_ops(shape):
    a, b = _f64(-4.0, shape), _f64(2.0, shape)
    g = _micrograd_expression(a, b)
    g.sum().backward()
    value, da, db = _micrograd_reference()
    np.testing.assert_allclose(g.data, value, rtol=1e-12)
    np.testing.assert_allclose(a.grad, da, rtol=1e-6)
    np.testing.assert_allclose(b.grad, db, rtol=1e-6)
    # micrograd's numbers (checked there against PyTorch)
    np.testing.assert_allclose(a.grad, 138.83381924198252, rtol=1e-9)
    np.testing.assert_allclose(b.grad, 645.5772594752186, rtol=1e-9)


def test_zero_d_intermediate_used_three_times():
    a = _f64(2.0)
    b = a * 1.0
    (b * b * b).backward()
    assert a.grad == pytest.approx(12.0)


def test_zero_d_sum_reused_three_times():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    s = x.sum() * 1.0
    (s * 1.0 + s * 2.0 + s * 3.0).backward()
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])


def test_zero_d_results_are_arrays():
    x = mg.tensor(2.0, requires_grad=True)
    y = x * 3.0
    y.backward()
    assert type(y.data) is np.ndarray
    assert isinstance(x.grad, mg.Tensor) and type(x.grad.data) is np.ndarray and not x.grad.requires_grad


def test_zero_d_elementwise_ops_backward():
    for op, d in [(lambda t: t.tanh(), lambda v: 1 - np.tanh(v) ** 2),
                  (lambda t: t.sigmoid(), lambda v: np.exp(-v) / (1 + np.exp(-v)) ** 2),
                  (lambda t: t.exp(), np.exp)]:
        x = _f64(0.3)
        op(x).backward()
        np.testing.assert_allclose(x.grad, d(0.3), rtol=1e-12)


def test_diamond_graph():
    x = mg.tensor([1.0, 2.0, -3.0], requires_grad=True)
    a = x * 2.0
    b = x * 3.0
    y = (a * b).sum()          # 6 x^2
    y.backward()
    np.testing.assert_allclose(x.grad, 12 * x.data)


def test_slices_fancy_indices_and_dense_uses_of_one_tensor_add_up():
    x = mg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(np.array(g)))
    with mg.retain_grads():
        h = x * 1.0
        mask = np.array([True, False, False, True])
        parts = [h[0:2], h[1:3] * 10.0, h[[3, 3]] * 100.0, h[mask], h * 1000.0]
        loss = mg.cat([p.reshape(-1) for p in parts]).sum()
        loss.backward(retain_graph=True)
    expected = np.array([1 + 1 + 1000, 1 + 10 + 1000, 10 + 1000, 200 + 1 + 1000])
    np.testing.assert_array_equal(h.grad, expected)
    np.testing.assert_array_equal(x.grad, expected)
    np.testing.assert_array_equal(seen[0], expected)
    loss.backward()                                      # and once more, accumulating
    np.testing.assert_array_equal(x.grad, 2 * expected)


def test_unused_branch_gets_no_gradient():
    x = mg.tensor([1.0], requires_grad=True)
    w = mg.tensor([5.0], requires_grad=True)
    _ = w * 2.0                # built but not part of the loss
    (x * 3.0).sum().backward()
    assert w.grad is None
    np.testing.assert_array_equal(x.grad, [3.0])


# ---------------------------------------------------------------- accumulation and retain_graph
def test_accumulates_over_two_backward_calls_with_retain_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])


def test_accumulates_over_two_separate_graphs():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * 2.0).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [5.0, 5.0])


def test_second_backward_without_retain_graph_raises():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.tanh() * x).sum()
    y.backward()
    first = x.grad.data.copy()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    np.testing.assert_array_equal(x.grad, first)


def test_retain_graph_keeps_results_identical():
    x = mg.tensor([0.5, -1.0], requires_grad=True)
    y = (x.exp() * x.sigmoid()).sum()
    y.backward(retain_graph=True)
    g1 = x.grad.data.copy()
    x.grad = None
    y.backward()
    np.testing.assert_array_equal(x.grad, g1)


def test_backward_with_explicit_grad():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2.0
    y.backward(np.array([1.0, 10.0, 100.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 20.0, 200.0])
    assert x.grad.dtype == np.float32


def test_leaf_grad_is_not_aliased_to_other_gradients():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x + 0.0
    with mg.retain_grads():
        (y * 1.0).sum().backward()
    x.grad.data[0] = 100.0
    assert y.grad[0] == 1.0


# ---------------------------------------------------------------- detach, no_grad, requires_grad
def test_detach_stops_gradient_and_shares_memory():
    x = mg.tensor([2.0, 3.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.data, x.data)
    (x * d).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 3.0])     # not 2x


def test_detach_in_place():
    x = mg.tensor([2.0], requires_grad=True)
    y = x * 2.0
    y.detach_()
    assert y.grad_fn is None and not y.requires_grad


def test_no_grad_context_manager():
    x = mg.tensor([1.0], requires_grad=True)
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = x * 2.0
        with mg.enable_grad():
            z = x * 2.0
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None


def test_no_grad_decorator_and_restore_after_exception():
    x = mg.tensor([1.0], requires_grad=True)

    @mg.no_grad()
    def infer(t):
        return t * 2.0

    assert not infer(x).requires_grad
    assert mg.is_grad_enabled()

    @mg.no_grad()
    def boom():
        raise KeyError("x")

    with pytest.raises(KeyError):
        boom()
    assert mg.is_grad_enabled()


def test_set_grad_enabled():
    x = mg.tensor([1.0], requires_grad=True)
    with mg.set_grad_enabled(False):
        assert not (x * 2.0).requires_grad
    with mg.set_grad_enabled(True):
        assert (x * 2.0).requires_grad


def test_requires_grad_propagation():
    a = mg.tensor([1.0], requires_grad=True)
    c = mg.tensor([2.0])
    assert a.is_leaf and c.is_leaf and not c.requires_grad
    assert (a + c).requires_grad and (c * a).requires_grad
    assert not (c + c).requires_grad and (c + c).grad_fn is None
    y = a * c
    assert not y.is_leaf and type(y.grad_fn).__name__ == "Mul"
    y.sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(a.grad, [2.0])


@pytest.mark.parametrize("left", [np.float64(2.0), np.float32(2.0), np.full(2, 2.0)])
def test_numpy_value_on_the_left_keeps_the_graph(left):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = left * x
    assert isinstance(y, mg.Tensor) and y.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_requires_grad_toggle():
    x = mg.tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    with pytest.raises(RuntimeError, match="detach"):
        (mg.tensor([1.0], requires_grad=True) * 2.0).requires_grad_(False)


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="requires_grad=True"):
        mg.tensor([1.0]).sum().backward()


# ---------------------------------------------------------------- long chains
def test_ten_thousand_op_chain_has_no_recursion_error():
    x = mg.tensor(np.array([1.0]), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0001 ** 10_000], rtol=1e-3)
    del y  # freeing a deep graph must not overflow the C stack either


# ---------------------------------------------------------------- kept gradients and hooks
def test_retain_grad_on_intermediate():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    assert h.retain_grad() is h
    other = x * 5.0
    (h * h + other).sum().backward()
    np.testing.assert_array_equal(h.grad, [6.0, 12.0])
    assert other.grad is None


def test_retain_grads_is_off_by_default_and_keeps_intermediates_when_on():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    (h * h).sum().backward()
    assert h.grad is None
    x.grad = None
    with mg.retain_grads():
        h = x * 3.0
        loss = (h * h).sum()
        loss.backward()
    np.testing.assert_array_equal(h.grad, [6.0, 12.0])
    assert loss.grad == 1.0
    np.testing.assert_array_equal(x.grad, [18.0, 36.0])
    h2 = x * 3.0                       # outside again: off
    (h2 * h2).sum().backward()
    assert h2.grad is None


def test_hook_sees_gradient_and_can_replace_it():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    seen = []
    h.register_hook(lambda g: seen.append(np.array(g)))
    handle = h.register_hook(lambda g: g * 10.0)
    (h * mg.tensor([1.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(seen[0], [1.0, 3.0])
    np.testing.assert_array_equal(x.grad, [20.0, 60.0])
    handle.remove()
    handle.remove()  # a second remove is harmless
    x.grad = None
    h = x * 2.0
    h.register_hook(lambda g: None)
    h.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_removed_hook_is_not_called():
    x = mg.tensor([1.0], requires_grad=True)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    handle.remove()
    (x * 2.0).sum().backward()
    assert calls == []
    np.testing.assert_array_equal(x.grad, [2.0])


def test_hook_on_leaf_replaces_what_is_stored():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 0.0 + 7.0)
    (x * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [7.0, 7.0])


def test_hook_with_wrong_shape_is_refused():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    h.register_hook(lambda g: mg.ones(3))
    with pytest.raises(ValueError, match="shape"):
        h.sum().backward()


def test_hooks_receive_and_return_tensors():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    seen = []
    h.register_hook(lambda g: seen.append(g) or g * 2.0)   # a Tensor in, a Tensor out
    h.sum().backward()
    assert isinstance(seen[0], mg.Tensor) and not seen[0].requires_grad
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0])
    y = x * 1.0
    y.register_hook(lambda g: g.data)                      # an array is not a gradient, as in torch
    with pytest.raises(TypeError, match="must return a Tensor or None, got ndarray"):
        y.sum().backward()


def test_grad_is_a_tensor_users_can_compute_with():
    """d2l's grad_clipping and the everyday idioms: .grad is a Tensor, assignable, zeroable."""
    w = mg.tensor([3.0, 4.0], requires_grad=True)
    (w * w).sum().backward()
    g = w.grad
    assert isinstance(g, mg.Tensor) and g.grad_fn is None and not g.requires_grad
    assert float(mg.sum(g * g)) == 100.0
    w.grad = None
    assert w.grad is None
    with pytest.raises(TypeError, match="Tensor or None"):
        w.grad = np.ones(2)
    with pytest.raises(RuntimeError, match="shape"):
        w.grad = mg.ones(3)
    (w * w).sum().backward()
    (w * 1.0).sum().backward()                             # accumulates into the same Tensor
    np.testing.assert_array_equal(w.grad.data, [7.0, 9.0])


def test_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor([1.0]).register_hook(lambda g: g)


# ---------------------------------------------------------------- scopes
def test_scope_tags_nodes_and_nests():
    x = mg.tensor([1.0], requires_grad=True)
    assert mg.current_scope() is None
    with mg.scope("layer0"):
        a = x * 2.0
        assert mg.current_scope() == "layer0"
        with mg.scope("t3"):
            b = a + 1.0
            assert mg.current_scope() == "layer0/t3"
        c = a - 1.0
    d = x * 3.0
    assert (a.scope, b.scope, c.scope, d.scope) == ("layer0", "layer0/t3", "layer0", None)
    assert mg.current_scope() is None


def test_scope_restored_after_exception():
    with pytest.raises(ZeroDivisionError):
        with mg.scope("outer"):
            _ = 1 / 0
    assert mg.current_scope() is None


def test_scope_as_decorator_nests_at_call_time():
    @mg.scope("cell")
    def cell(t):
        return t * 2.0

    with mg.scope("t3"):
        y = cell(mg.tensor([1.0], requires_grad=True))
    assert y.scope == "t3/cell"


# ---------------------------------------------------------------- anomaly detection
def test_detect_anomaly_forward_names_the_op():
    x = mg.tensor([0.0, 1.0], requires_grad=True)
    with mg.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(FloatingPointError, match="Log forward"):
            x.log()
    with np.errstate(divide="ignore"):
        y = x.log()  # off again: no error
    assert np.isinf(y.data[0])


def test_detect_anomaly_backward_names_the_op():
    x = mg.tensor([0.0, 4.0], requires_grad=True)
    with mg.detect_anomaly(), np.errstate(divide="ignore"):
        y = x.sqrt()                    # forward fine: sqrt(0) = 0
        with pytest.raises(FloatingPointError, match=r"PowScalar backward"):
            y.sum().backward()          # d sqrt / dx at 0 = inf


def test_detect_anomaly_backward_names_the_scope_of_the_node():
    x = mg.tensor([0.0, 4.0], requires_grad=True)
    with mg.detect_anomaly(), np.errstate(divide="ignore"):
        with mg.scope("enc"):
            y = x.sqrt()
        with pytest.raises(FloatingPointError, match=r"PowScalar backward.*enc"):
            y.sum().backward()


def test_detect_anomaly_off_by_default():
    x = mg.tensor([0.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        x.sqrt().sum().backward()
    assert np.isinf(x.grad.data[0])


def test_set_grad_enabled_works_as_a_call_a_context_and_a_decorator():
    x = mg.tensor([1.0], requires_grad=True)
    try:
        mg.set_grad_enabled(False)                      # a plain call switches at once
        assert not mg.is_grad_enabled() and not (x * 2).requires_grad
        mg.set_grad_enabled(True)
        assert (x * 2).requires_grad
        with mg.set_grad_enabled(False):                # a context restores on exit
            assert not (x * 2).requires_grad
        assert mg.is_grad_enabled()

        @mg.set_grad_enabled(False)                     # a decorator switches inside only
        def double(t):
            return t * 2
        assert mg.is_grad_enabled()
        assert not double(x).requires_grad and (x * 2).requires_grad
    finally:
        mg.set_grad_enabled(True)


@pytest.mark.parametrize("decorator", ["bare", "called"])
def test_no_grad_decorates_with_or_without_parentheses(decorator):
    x = mg.tensor([1.0], requires_grad=True)

    def double(t):
        return t * 2
    wrapped = mg.no_grad(double) if decorator == "bare" else mg.no_grad()(double)
    assert not wrapped(x).requires_grad
    assert mg.is_grad_enabled() and (x * 2).requires_grad
    with mg.no_grad():
        assert mg.enable_grad(double)(x).requires_grad
    with mg.inference_mode():
        assert not (x * 2).requires_grad


def test_backward_takes_torchs_keywords():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3.0).backward(gradient=mg.tensor([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad.data, [3.0, 30.0])
    with pytest.raises(NotImplementedError, match="create_graph"):
        (x * x).sum().backward(create_graph=True)
