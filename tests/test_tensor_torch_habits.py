"""PyTorch habits carry over: comparisons, max/min, in-place updates, torch's spellings, and the
tensor methods and functions a lecture uses, each checked against a numpy formula written here.

The tests marked "silent" are the cases where the old code gave a wrong result without an
error (x == 2 was False, x.max(dim=1) a tensor, x += 1 a new tensor); they fail on that code.
"""
import numpy as np
import pytest

import minigrad as mg


def _grad(t):
    return np.asarray(t.grad)


def _t(*rows, requires_grad=False):
    return mg.tensor(np.array(rows, dtype=np.float64), requires_grad=requires_grad)


# ---------------------------------------------------------------- A. comparisons
def test_silent_eq_and_ne_are_elementwise_bool_tensors():
    x = mg.tensor([1.0, 2.0, 3.0])
    eq, ne = x == 2.0, x != mg.tensor([1.0, 0.0, 3.0])
    assert isinstance(eq, mg.Tensor) and eq.dtype == np.bool_ and not eq.requires_grad
    np.testing.assert_array_equal(eq.data, [False, True, False])
    np.testing.assert_array_equal(ne.data, [False, True, False])
    np.testing.assert_array_equal((x == np.array([1.0, 0.0, 3.0])).data, [True, False, True])
    np.testing.assert_array_equal((2.0 == x).data, [False, True, False])  # reflected


def test_comparisons_of_a_tensor_that_requires_grad_are_constants():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    for mask in (x == 1.0, x != 1.0, x < 2, x <= 2, x > 1, x >= 1):
        assert mask.dtype == np.bool_ and mask.grad_fn is None and not mask.requires_grad


def test_tensors_stay_hashable_by_identity():
    a, b = mg.tensor([1.0, 2.0]), mg.tensor([1.0, 2.0])  # equal values, two tensors
    state = {a: "a", b: "b"}
    assert state[a] == "a" and state[b] == "b" and len({a, b, a}) == 2
    assert hash(a) == object.__hash__(a)


def test_equality_with_other_types_is_false_as_in_torch():
    x = mg.tensor([1.0, 2.0])
    assert (x == None) is False and (x != None) is True  # noqa: E711
    assert (x == "a") is False


def test_membership_is_by_identity_first_and_ambiguous_otherwise_as_in_torch():
    """`p in params` calls == on each element until one is p itself: with p first it works,
    after another tensor it meets an elementwise result (torch raises the same way)."""
    a, b = mg.tensor([1.0, 2.0]), mg.tensor([3.0, 4.0])
    assert a in [a, b]
    with pytest.raises(ValueError, match="ambiguous"):
        b in [a, b]  # noqa: B015
    assert any(p is b for p in [a, b])  # the way to ask


# ---------------------------------------------------------------- A. max / min
def test_silent_max_along_a_dim_is_values_and_indices():
    x = _t([1.0, 5.0, 3.0], [4.0, 2.0, 6.0])
    out = x.max(dim=1)
    assert isinstance(out, tuple) and type(out).__name__ == "max" and out._fields == ("values", "indices")
    values, indices = out
    np.testing.assert_array_equal(values.data, [5.0, 6.0])
    np.testing.assert_array_equal(indices.data, [1, 2])
    assert indices.dtype == np.int64 and not indices.requires_grad
    low = x.min(0, keepdim=True)
    assert type(low).__name__ == "min"
    np.testing.assert_array_equal(low.values.data, [[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(low.indices.data, [[0, 1, 0]])
    np.testing.assert_array_equal(x.max(axis=0).values.data, [4.0, 5.0, 6.0])  # numpy's name


def test_max_without_dim_is_a_0d_value_and_amax_takes_several_dims():
    x = _t([1.0, 5.0, 3.0], [4.0, 2.0, 6.0])
    assert x.max().shape == () and x.max().item() == 6.0 and x.min().item() == 1.0
    np.testing.assert_array_equal(x.amax(dim=(0, 1), keepdim=True).data, [[6.0]])
    np.testing.assert_array_equal(x.amin(1).data, [1.0, 2.0])
    with pytest.raises(TypeError, match="max: dim must be an int or None.*amax"):
        x.max(dim=(0, 1))


def test_max_dim_gradient_goes_to_the_returned_index_amax_ties_share():
    x = mg.tensor([2.0, 7.0, 7.0], requires_grad=True)
    x.max(0).values.backward()
    np.testing.assert_array_equal(_grad(x), [0.0, 1.0, 0.0])
    x.grad = None
    x.amax().backward()
    np.testing.assert_array_equal(_grad(x), [0.0, 0.5, 0.5])
    x.grad = None
    x.amin(0).backward()
    np.testing.assert_array_equal(_grad(x), [1.0, 0.0, 0.0])


def test_argmax_argmin_are_int64_without_gradient():
    a = np.array([[1.0, 9.0, 3.0], [8.0, 2.0, 7.0]])
    x = mg.tensor(a, requires_grad=True)
    assert x.argmax().item() == np.argmax(a) and x.argmax().dtype == np.int64
    np.testing.assert_array_equal(x.argmax(1).data, np.argmax(a, 1))
    np.testing.assert_array_equal(x.argmin(dim=0, keepdim=True).data, [np.argmin(a, 0)])
    assert x.argmax(keepdim=True).shape == (1, 1) and not x.argmax().requires_grad
    np.testing.assert_array_equal(mg.argmin(x, 1).data, [0, 1])


def test_max_min_functions_have_torchs_three_forms():
    a, b = _t([1.0, 5.0], [4.0, 2.0]), _t([3.0, 3.0], [3.0, 3.0])
    assert mg.max(a).item() == 5.0 and mg.min(a).item() == 1.0
    np.testing.assert_array_equal(mg.max(a, 1).indices.data, [1, 0])
    np.testing.assert_array_equal(mg.min(a, dim=0, keepdim=True).values.data, [[1.0, 2.0]])
    np.testing.assert_array_equal(mg.max(a, b).data, np.maximum(a.data, b.data))
    np.testing.assert_array_equal(mg.min(a, b).data, np.minimum(a.data, b.data))
    np.testing.assert_array_equal(a.max(b).data, np.maximum(a.data, b.data))


def test_max_along_an_empty_axis_is_an_error_naming_op_and_shape():
    with pytest.raises(ValueError, match=r"max: axis 1 of the tensor of shape \(3, 0\) has length 0"):
        mg.zeros(3, 0).max(1)
    with pytest.raises(ValueError, match=r"argmin: the tensor of shape \(0,\) is empty"):
        mg.zeros(0).argmin()
    assert mg.zeros(0, 3).max(1).values.shape == (0,)


def test_maximum_and_minimum_split_ties_like_torch():
    a = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = mg.tensor([1.0, 1.0, 4.0], requires_grad=True)
    mg.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(_grad(a), [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(_grad(b), [0.5, 0.0, 1.0])


# ---------------------------------------------------------------- A. in-place updates
def test_silent_plus_equals_changes_the_tensor_itself():
    x = mg.tensor([1.0, 2.0])
    alias = x
    x += 1
    x -= 0.5
    x *= 4
    x /= 2
    assert x is alias
    np.testing.assert_array_equal(alias.data, ((np.array([1.0, 2.0]) + 1 - 0.5) * 4) / 2)
    assert alias.dtype == np.float32


def test_in_place_shares_memory_with_from_numpy_and_views():
    a = np.zeros(3)
    t = mg.from_numpy(a)
    assert t.dtype == np.float64
    t += 2.0
    t[0] = 7.0
    np.testing.assert_array_equal(a, [7.0, 2.0, 2.0])
    a[1] = 5.0
    assert t.data[1] == 5.0


def test_in_place_keeps_the_dtype_and_refuses_a_wider_result_like_torch():
    x = mg.tensor([1, 2])
    x += 3
    x *= 2
    np.testing.assert_array_equal(x.data, [8, 10])
    assert x.dtype == np.int64
    with pytest.raises(RuntimeError, match="add_: result type .* can't be cast to the desired output type Long"):
        x += 1.5
    with pytest.raises(RuntimeError, match="div_: .*can't be cast to the desired output type Long"):
        x /= 2
    f = mg.tensor([1.0])
    f += mg.tensor([1.0], dtype=mg.float64)  # float into float: fine, stays float32
    assert f.dtype == np.float32 and f.item() == 2.0


def test_in_place_result_must_keep_the_shape():
    x = mg.zeros(3)
    with pytest.raises(RuntimeError, match=r"add_: output with shape \(3,\) doesn't match the broadcast shape"):
        x += mg.zeros(2, 3)


def test_in_place_on_a_leaf_that_requires_grad_is_torchs_error():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    leaf_error = "a leaf Variable that requires grad is being used in an in-place operation"
    for update in (lambda: w.__iadd__(1), lambda: w.mul_(2), lambda: w.zero_(), lambda: w.fill_(1),
                   lambda: w.copy_(mg.ones(2)), lambda: w.clamp_(0, 1), lambda: w.add_(1)):
        with pytest.raises(RuntimeError, match=leaf_error):
            update()
    with pytest.raises(RuntimeError, match="a view of " + leaf_error):
        w[0] = 5.0
    np.testing.assert_array_equal(w.data, [1.0, 2.0])


def test_in_place_under_no_grad_updates_and_stamps_so_a_stale_graph_is_refused():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    with mg.no_grad():
        w -= 0.5
        w[1] = 3.0
    np.testing.assert_array_equal(w.data, [0.5, 3.0])
    assert w.requires_grad and w.is_leaf
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()
    (w * w).sum().backward()  # a graph built after the change is fine
    np.testing.assert_array_equal(_grad(w), [1.0, 6.0])


def test_in_place_on_a_constant_that_a_graph_read_stamps_it_too():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    c = mg.tensor([3.0, 4.0])
    loss = (w * c).sum()
    c += 1  # the graph saved c's old values
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()


def test_in_place_on_a_tensor_in_a_graph_is_refused_with_the_way_out():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    h = w * 2
    with pytest.raises(RuntimeError, match=r"add_: in-place operations on a tensor that is part of a graph "
                                           r"\(made by the Mul op\).*x = x \+ 1"):
        h.add_(1)
    with mg.no_grad(), pytest.raises(RuntimeError, match="part of a graph"):
        h.zero_()  # no_grad does not help: backward would read the changed values


def test_augmented_assignment_where_torch_records_an_op_makes_a_new_tensor():
    """`total += loss` accumulates as in torch: where torch would record the in-place op, the
    name is rebound to total + loss (and the gradient flows); a parameter is still refused."""
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    total = mg.zeros(())
    for _ in range(3):
        before = total
        total += (w * w).sum()                 # a constant += a value that requires grad
        assert total is not before and total.requires_grad
    h = w * 2
    h += 1                                     # a tensor in a graph += a constant
    total = total + h.sum()
    total.backward()
    np.testing.assert_array_equal(w.grad.data, [3 * 2 * 1.0 + 2, 3 * 2 * 2.0 + 2])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w += h                                 # a leaf that requires grad: torch's error


def test_in_place_with_a_value_that_requires_grad_is_refused():
    x, w = mg.zeros(2), mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="the value requires grad.*gradient would be lost"):
        x.add_(w)
    with pytest.raises(RuntimeError, match="the value requires grad"):
        x[0] = w[0]
    with mg.no_grad():
        x.copy_(w)
    np.testing.assert_array_equal(x.data, [1.0, 2.0])


def test_in_place_methods_compute_what_torch_does():
    x = mg.tensor([1.0, -2.0, 3.0])
    assert x.add_(mg.tensor([1.0, 1.0, 1.0]), alpha=2) is x
    np.testing.assert_array_equal(x.data, [3.0, 0.0, 5.0])
    np.testing.assert_array_equal(x.sub_(1, alpha=3).data, [0.0, -3.0, 2.0])
    np.testing.assert_array_equal(x.mul_(2).data, [0.0, -6.0, 4.0])
    np.testing.assert_array_equal(x.div_(4).data, [0.0, -1.5, 1.0])
    np.testing.assert_array_equal(x.clamp_(min=-1.0, max=0.5).data, [0.0, -1.0, 0.5])
    np.testing.assert_array_equal(x.fill_(mg.tensor(2.5)).data, [2.5, 2.5, 2.5])
    np.testing.assert_array_equal(x.zero_().data, [0.0, 0.0, 0.0])
    m = mg.zeros(2, 3)
    np.testing.assert_array_equal(m.copy_(mg.tensor([1.0, 2.0, 3.0])).data, [[1, 2, 3], [1, 2, 3]])  # broadcast
    m[:, 0] = mg.tensor([9.0, 8.0])
    np.testing.assert_array_equal(m.data[:, 0], [9.0, 8.0])
    i = mg.tensor([1, 2])
    i.fill_(1.7)  # fill_ and copy_ convert to the tensor's dtype, as in torch
    np.testing.assert_array_equal(i.data, [1, 1])
    with pytest.raises(RuntimeError, match="clamp_: result type .* Long"):
        i.clamp_(min=1.5)
    with pytest.raises(ValueError, match="fill_: the value must be a number or a 0-d tensor"):
        x.fill_(mg.tensor([1.0]))
    with pytest.raises(RuntimeError, match=r"copy_: cannot write into the tensor of shape \(2, 3\)"):
        m.copy_(mg.tensor([1.0, 2.0]))


def test_optimizer_state_keyed_by_parameters_survives_equal_values():
    w1, w2 = mg.tensor([1.0], requires_grad=True), mg.tensor([1.0], requires_grad=True)
    opt = mg.optim.SGD([w1, w2], lr=0.5)
    (w1 * 2 + w2 * 4).sum().backward()
    opt.step()
    np.testing.assert_allclose([w1.item(), w2.item()], [1.0 - 0.5 * 2, 1.0 - 0.5 * 4])


# ---------------------------------------------------------------- B. spellings
REDUCTIONS = ["sum", "mean", "amax", "amin", "prod", "std", "var", "norm", "logsumexp", "argmax", "argmin",
              "all", "any"]


@pytest.mark.parametrize("name", REDUCTIONS + ["max", "min"])
def test_every_reduction_takes_keepdim_and_keepdims_and_dim_and_axis(name):
    x = _t([1.0, 5.0, 3.0], [4.0, 2.0, 6.0])

    def reduce(**kw):
        out = getattr(x, name)(**kw)
        return out.values if name in ("max", "min") else out

    torch_style, numpy_style = reduce(dim=1, keepdim=True), reduce(axis=1, keepdims=True)
    assert torch_style.shape == numpy_style.shape == (2, 1)
    np.testing.assert_array_equal(torch_style.data, numpy_style.data)
    assert reduce(dim=1).shape == (2,)
    with pytest.raises(TypeError, match=f"{name}: got both dim=1 and axis=0"):
        reduce(dim=1, axis=0)


def test_silent_size_is_torchs_shape_and_numel_the_count():
    x = mg.zeros(2, 3)
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-2) == 2 and x.size(dim=0) == 2
    assert x.numel() == 6
    with pytest.raises(ValueError, match="size: axis 2 is out of range"):
        x.size(2)


@pytest.mark.parametrize("name", ["randn", "rand", "zeros", "ones"])
def test_creation_takes_size_as_a_keyword(name):
    assert getattr(mg, name)(size=(2, 3)).shape == (2, 3)
    assert getattr(mg, name)(2, 3).shape == getattr(mg, name)((2, 3)).shape == (2, 3)
    with pytest.raises(TypeError, match="not both"):
        getattr(mg, name)(2, size=(3,))


# ---------------------------------------------------------------- C. methods, against numpy
A = np.array([[0.5, -1.5, 2.0], [1.0, 3.0, -0.5]])


def test_arithmetic_methods():
    a, b = mg.tensor(A), mg.tensor(A[::-1].copy())
    np.testing.assert_allclose(a.add(b, alpha=2).data, A + 2 * A[::-1])
    np.testing.assert_allclose(a.sub(b, alpha=3).data, A - 3 * A[::-1])
    np.testing.assert_allclose(a.mul(b).div(4).data, A * A[::-1] / 4)
    np.testing.assert_allclose(a.pow(2).data, A ** 2)
    np.testing.assert_allclose(a.matmul(b.t()).data, A @ A[::-1].T)
    np.testing.assert_allclose(a.mm(b.T).data, A @ A[::-1].T)
    with pytest.raises(ValueError, match=r"mm: both operands must be matrices \(2-d\), got shapes \(2, 3\) and \(3,\)"):
        a.mm(mg.ones(3))
    with pytest.raises(NotImplementedError, match="rounding_mode"):
        a.div(2, rounding_mode="floor")


def test_shape_methods():
    x = mg.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.view(6, 4).shape == (6, 4) and x.view((4, 6)).shape == (4, 6)
    assert x.unsqueeze(0).shape == (1, 2, 3, 4) and x.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert x.unsqueeze(1).squeeze().shape == (2, 3, 4)
    assert mg.zeros(1, 2, 1).squeeze(0).shape == (2, 1) and mg.zeros(1, 2, 1).squeeze((0, 2)).shape == (2,)
    assert mg.zeros(1, 2, 1).squeeze(1).shape == (1, 2, 1)  # not length 1: kept, as torch
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12) and x.flatten(0, 1).shape == (6, 4)
    assert mg.tensor(3.0).flatten().shape == (1,)
    assert mg.ones(3).t().shape == (3,) and mg.ones(2, 3).t().shape == (3, 2)
    with pytest.raises(ValueError, match=r"t: expects a tensor with <= 2 dimensions, got shape \(2, 3, 4\)"):
        x.t()
    with pytest.raises(ValueError, match="flatten: start_dim 2 comes after end_dim 1"):
        x.flatten(2, 1)
    np.testing.assert_array_equal(x.T.data, x.data.T)


def test_expand_repeat_clone():
    v = mg.tensor([[1.0], [2.0]])
    np.testing.assert_array_equal(v.expand(2, 3).data, [[1, 1, 1], [2, 2, 2]])
    assert v.expand(4, -1, 3).shape == (4, 2, 3)
    with pytest.raises(ValueError, match=r"expand: the expanded size \(5\) must match the existing size \(2\)"):
        v.expand(5, 3)
    with pytest.raises(ValueError, match="size -1 is not allowed in a new leading dimension"):
        v.expand(-1, 2, 3)
    np.testing.assert_array_equal(v.repeat(2, 2).data, np.tile(v.data, (2, 2)))
    assert mg.ones(2, 3).repeat(2, 1, 1).shape == (2, 2, 3)
    with pytest.raises(ValueError, match="repeat: 1 repeat counts given for a tensor of shape"):
        mg.ones(2, 3).repeat(2)
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    c = w.clone()
    assert c.data is not w.data and c.grad_fn is not None
    (c * c).sum().backward()
    np.testing.assert_array_equal(_grad(w), [2.0, 4.0])


def test_clamp_values_and_gradient_mask():
    x = mg.tensor([-1.0, 0.0, 0.5, 1.0, 2.0], requires_grad=True)
    y = x.clamp(0.0, 1.0)
    np.testing.assert_array_equal(y.data, np.minimum(np.maximum(x.data, 0.0), 1.0))
    y.sum().backward()
    np.testing.assert_array_equal(_grad(x), [0.0, 1.0, 1.0, 1.0, 0.0])  # bounds count as inside
    np.testing.assert_array_equal(x.clip(max=0.0).data, np.minimum(x.data, 0.0))
    np.testing.assert_array_equal(mg.clamp(x, min=0.5).data, np.maximum(x.data, 0.5))
    with pytest.raises(ValueError, match="clamp: at least one of 'min' or 'max'"):
        x.clamp()


def test_clamp_with_a_tensor_bound_gives_it_the_gradient_where_chosen():
    x = mg.tensor([-1.0, 0.0, 0.5, 1.0, 2.0], requires_grad=True)
    low = mg.tensor(0.0, requires_grad=True)
    x.clamp(min=low).sum().backward()
    np.testing.assert_array_equal(_grad(x), [0.0, 1.0, 1.0, 1.0, 1.0])
    assert low.grad is not None and float(np.asarray(low.grad)) == 1.0


def test_reductions_against_numpy_formulas():
    x = mg.tensor(A)
    n = A.shape[1]
    mean = A.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(x.var(1).data, ((A - mean) ** 2).sum(1) / (n - 1))
    np.testing.assert_allclose(x.var(1, unbiased=False).data, ((A - mean) ** 2).sum(1) / n)
    np.testing.assert_allclose(x.std(dim=1, correction=0).data, np.sqrt(((A - mean) ** 2).sum(1) / n))
    np.testing.assert_allclose(x.std().data, np.sqrt(((A - A.mean()) ** 2).sum() / (A.size - 1)))
    np.testing.assert_allclose(x.std(False).data, np.sqrt(((A - A.mean()) ** 2).mean()))
    np.testing.assert_allclose(x.prod(1).data, A[:, 0] * A[:, 1] * A[:, 2])
    np.testing.assert_allclose(x.prod().data, np.prod(A.ravel()))
    np.testing.assert_allclose(x.norm().data, np.sqrt((A ** 2).sum()))
    np.testing.assert_allclose(x.norm(1, dim=0).data, np.abs(A).sum(0))
    np.testing.assert_allclose(x.norm(float("inf"), dim=1).data, np.abs(A).max(1))
    np.testing.assert_allclose(x.logsumexp(1).data, np.log(np.exp(A).sum(1)))
    np.testing.assert_allclose(mg.logsumexp(x, (0, 1)).data, np.log(np.exp(A).sum()))
    with pytest.raises(TypeError, match="logsumexp: missing dim"):
        x.logsumexp()
    with pytest.raises(ValueError, match="norm: p must be a number > 0"):
        x.norm(0)
    with pytest.raises(TypeError, match="std: needs a floating-point tensor"):
        mg.tensor([1, 2]).std()


def test_prod_gradient_is_the_product_of_the_others_even_at_zeros():
    x = mg.tensor([[2.0, 0.0, 3.0], [0.0, 0.0, 1.0], [2.0, 4.0, 5.0]], requires_grad=True)
    x.prod(1).sum().backward()
    np.testing.assert_array_equal(_grad(x), [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [20.0, 10.0, 8.0]])


def test_std_and_norm_of_a_constant_have_gradient_0_as_torch():
    z = mg.zeros(3, requires_grad=True)
    z.norm().backward()
    np.testing.assert_array_equal(_grad(z), [0.0, 0.0, 0.0])
    c = mg.ones(3, requires_grad=True)
    c.std().backward()
    np.testing.assert_array_equal(_grad(c), [0.0, 0.0, 0.0])


def test_logsumexp_is_stable_and_its_gradient_is_the_softmax():
    x = mg.tensor([1000.0, 1000.0, -np.inf], dtype=mg.float64, requires_grad=True)
    y = x.logsumexp(0)
    np.testing.assert_allclose(y.item(), 1000.0 + np.log(2.0))
    y.backward()
    np.testing.assert_allclose(_grad(x), [0.5, 0.5, 0.0])
    assert mg.tensor([-np.inf, -np.inf]).logsumexp(0).item() == -np.inf
    assert mg.zeros(0).logsumexp(0).item() == -np.inf


def test_where_masked_fill_gather():
    x = mg.tensor(A, requires_grad=True)
    cond = x > 0.75
    np.testing.assert_array_equal(x.where(cond, 0.0).data, np.where(A > 0.75, A, 0.0))
    np.testing.assert_array_equal(mg.where(cond, x, -x).data, np.where(A > 0.75, A, -A))
    filled = x.masked_fill(mg.tensor([True, False, True]), -9.0)  # broadcast over rows
    np.testing.assert_array_equal(filled.data, np.where([True, False, True], -9.0, A))
    filled.sum().backward()
    np.testing.assert_array_equal(_grad(x), [[0, 1, 0], [0, 1, 0]])
    index = np.array([[2, 2], [0, 1]])
    np.testing.assert_array_equal(x.gather(1, mg.tensor(index)).data,
                                  [[A[0, 2], A[0, 2]], [A[1, 0], A[1, 1]]])
    np.testing.assert_array_equal(x.gather(0, mg.tensor([[1, 0, 1]])).data, [[A[1, 0], A[0, 1], A[1, 2]]])
    x.grad = None
    x.gather(1, mg.tensor(index)).sum().backward()
    np.testing.assert_array_equal(_grad(x), [[0, 0, 2], [1, 1, 0]])  # a repeated index adds twice
    with pytest.raises(TypeError, match="masked_fill: only bool masks"):
        x.masked_fill(mg.tensor([1, 0, 1]), 0.0)
    with pytest.raises(IndexError, match="gather: index 3 is out of bounds for dimension 1 with size 3"):
        x.gather(1, mg.tensor([[3]]))
    with pytest.raises(ValueError, match=r"gather: index \(2,\) must have as many dimensions as the input \(2, 3\)"):
        x.gather(1, mg.tensor([0, 1]))
    with pytest.raises(TypeError, match="where: condition must be a bool tensor"):
        mg.where(mg.tensor([1, 0]), 1.0, 0.0)


def test_masked_fill_keeps_the_tensors_dtype():
    i = mg.tensor([1, 2, 3])
    out = i.masked_fill(i > 1, 0)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.data, [1, 0, 0])


def test_type_and_dtype_conversions():
    x = mg.tensor([1.5, 2.5])
    assert x.type() == "minigrad.FloatTensor" and x.double().type() == "minigrad.DoubleTensor"
    assert mg.tensor([1]).type() == "minigrad.LongTensor" and (x > 2).type() == "minigrad.BoolTensor"
    assert x.type(mg.float64).dtype == np.float64 and x.type("minigrad.LongTensor").dtype == np.int64
    assert x.float() is x and x.type(mg.float32) is x
    with pytest.raises(ValueError, match="type: unknown tensor type 'torch.FloatTensor'"):
        x.type("torch.FloatTensor")


def test_all_and_any():
    x = mg.tensor([[1.0, 0.0], [2.0, 3.0]])
    assert not (x != 0).all().item() and (x != 0).any().item()
    np.testing.assert_array_equal((x > 0).all(dim=1).data, [False, True])
    assert (mg.tensor([1.0, 2.0]) == mg.tensor([1.0, 2.0])).all()


# ---------------------------------------------------------------- D. functions
def test_einsum_forms_a_lecture_writes():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    ba, bb = rng.standard_normal((5, 2, 3)), rng.standard_normal((5, 3, 4))
    u, v = rng.standard_normal(3), rng.standard_normal(4)
    e = mg.einsum
    np.testing.assert_allclose(e("ij,jk->ik", mg.tensor(a), mg.tensor(b)).data, a @ b)
    np.testing.assert_allclose(e("bij,bjk->bik", mg.tensor(ba), mg.tensor(bb)).data, ba @ bb)
    np.testing.assert_allclose(e("i,i->", mg.tensor(u), mg.tensor(u)).data, (u * u).sum())
    np.testing.assert_allclose(e("ij->ji", mg.tensor(a)).data, a.T)
    np.testing.assert_allclose(e("bi,bi->b", mg.tensor(a), mg.tensor(a)).data, (a * a).sum(1))
    np.testing.assert_allclose(e("i,j->ij", mg.tensor(u), mg.tensor(v)).data, u[:, None] * v[None, :])
    np.testing.assert_allclose(e("ij,jk", [mg.tensor(a), mg.tensor(b)]).data, a @ b)  # implicit output, a list
    np.testing.assert_allclose(e("ij,jk->k", mg.tensor(a), mg.tensor(b)).data, (a @ b).sum(0))


def test_einsum_gradient_is_the_rearranged_einsum():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    g = rng.standard_normal((2, 4))
    ta, tb = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    mg.einsum("ij,jk->ik", ta, tb).backward(g)
    np.testing.assert_allclose(_grad(ta), g @ b.T)
    np.testing.assert_allclose(_grad(tb), a.T @ g)


def test_einsum_errors_are_clear():
    m = mg.ones(2, 2)
    with pytest.raises(ValueError, match="einsum: 'ii->i': 'ii' repeats a letter"):
        mg.einsum("ii->i", m)
    with pytest.raises(ValueError, match="ellipsis"):
        mg.einsum("...ij->...ji", m)
    with pytest.raises(ValueError, match=r"letter 'j' has size 2 in operand 0 \(shape \(2, 2\)\) but size 3"):
        mg.einsum("ij,jk->ik", m, mg.ones(3, 4))
    with pytest.raises(ValueError, match="has subscripts for 2 operand"):
        mg.einsum("ij,jk->ik", m)
    with pytest.raises(ValueError, match=r"operand 0 has subscripts 'ijk' \(3 letters\) but shape \(2, 2\)"):
        mg.einsum("ijk->i", m)


def test_bmm_and_mm_check_their_shapes():
    a, b = np.arange(24.0).reshape(2, 3, 4), np.arange(40.0).reshape(2, 4, 5)
    np.testing.assert_allclose(mg.bmm(mg.tensor(a), mg.tensor(b)).data, a @ b)
    with pytest.raises(ValueError, match=r"bmm: both operands must be 3-d"):
        mg.bmm(mg.ones(3, 4), mg.ones(4, 5))
    with pytest.raises(ValueError, match=r"bmm: \(2, 3, 4\) @ \(2, 5, 6\): expected the second operand"):
        mg.bmm(mg.ones(2, 3, 4), mg.ones(2, 5, 6))


def test_unary_functions():
    x = mg.tensor([-4.0, 9.0])
    np.testing.assert_array_equal(mg.abs(x).data, [4.0, 9.0])
    np.testing.assert_array_equal(mg.sqrt(mg.abs(x)).data, [2.0, 3.0])


def test_new_creation_functions():
    mg.manual_seed(0)
    r = mg.randint(3, 7, (1000,))
    assert r.dtype == np.int64 and r.shape == (1000,) and r.data.min() == 3 and r.data.max() == 6
    assert mg.randint(5, (2, 3)).shape == (2, 3) and mg.randint(0, 2, size=(4,)).data.max() <= 1
    with pytest.raises(ValueError, match="randint: high"):
        mg.randint(5, 5, (2,))
    lin = mg.linspace(0, 1, 5)
    assert lin.dtype == np.float32
    np.testing.assert_allclose(lin.data, [0.0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_array_equal(mg.eye(2).data, [[1, 0], [0, 1]])
    np.testing.assert_array_equal(mg.eye(2, 3).data, [[1, 0, 0], [0, 1, 0]])
    with pytest.raises(TypeError, match="from_numpy: expected a numpy array"):
        mg.from_numpy([1.0])


def test_the_cpu_is_the_only_device_and_others_fail_clearly():
    x = mg.zeros(2, device="cpu")
    assert x.device == "cpu" and x.cpu() is x and x.to("cpu") is x
    assert x.to("cpu", mg.float64).dtype == np.float64 and x.to(dtype=mg.float64).dtype == np.float64
    net = mg.nn.Linear(2, 3)
    assert net.to("cpu") is net and net.cpu() is net
    for attempt in (lambda: mg.zeros(2, device="cuda"), lambda: mg.randn(2, device="cuda:0"),
                    lambda: x.to("cuda"), lambda: net.to("cuda"), lambda: mg.nn.LSTM(2, 3, device="mps")):
        with pytest.raises(ValueError, match="CPU only"):
            attempt()
    for attempt in (x.cuda, net.cuda):
        with pytest.raises(RuntimeError, match="CPU only"):
            attempt()
