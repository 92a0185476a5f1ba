"""The tensor methods and functions of the "PyTorch habits" set against PyTorch itself: values,
gradients (ties included, where torch has a rule for them) and the in-place rules. Skipped
without torch."""
import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
Y = RNG.standard_normal((3, 4))
ROW = RNG.standard_normal((4,))
TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0]])
ZEROS = np.array([[2.0, 0.0, 3.0, 1.0], [0.0, 0.0, 1.0, 2.0], [1.5, -2.0, 0.5, 3.0]])
INDEX = np.array([[3, 0, 0], [1, 1, 2], [0, 3, 3]])
MASK = X > 0

# name -> (function of minigrad tensors, function of torch tensors, inputs); the first output
# (or the named tuple's values) is compared, and its gradient for a fixed random projection.
# `same(fn, inputs)`: the method code is the same in both libraries.
def same(fn, inputs):
    return fn, fn, inputs


CASES = {
    "max_dim": same(lambda x: x.max(1), [X]),
    "max_dim_keepdim_ties": same(lambda x: x.max(0, keepdim=True), [TIES]),
    "min_dim_ties": same(lambda x: x.min(dim=1), [TIES]),
    "max_all_ties": same(lambda x: x.max(), [TIES]),
    "amax_ties": same(lambda x: x.amax(1), [TIES]),
    "amin_dims_ties": same(lambda x: x.amin((0, 1), keepdim=True), [TIES]),
    "maximum_ties": (mg.maximum, torch.maximum, [TIES, np.full((3, 4), 2.0)]),
    "minimum_broadcast": (mg.minimum, torch.minimum, [X, ROW]),
    "max_of_two": (mg.max, torch.max, [X, Y]),
    "clamp": same(lambda x: x.clamp(-0.5, 0.5), [X]),
    "clamp_at_bounds": same(lambda x: x.clamp(0.0, 2.0), [TIES]),
    "clamp_tensor_min": same(lambda x, m: x.clamp(min=m), [TIES, np.array(2.0)]),
    "prod_dim_zeros": same(lambda x: x.prod(1), [ZEROS]),
    "prod_all": same(lambda x: x.prod(), [X]),
    "var_default": same(lambda x: x.var(1), [X]),
    "var_correction0_keepdim": same(lambda x: x.var(0, keepdim=True, correction=0), [X]),
    "std_unbiased_false": same(lambda x: x.std(1, False), [X]),
    "std_all": same(lambda x: x.std(), [X]),
    "std_constant": same(lambda x: x.std(0), [np.ones((3, 2))]),
    "norm_default": same(lambda x: x.norm(), [X]),
    "norm_p1_dim": same(lambda x: x.norm(1, dim=1), [X]),
    "norm_p3_keepdim": same(lambda x: x.norm(3, dim=0, keepdim=True), [X]),
    "norm_inf": same(lambda x: x.norm(float("inf"), dim=1), [X]),
    "norm_zero": same(lambda x: x.norm(dim=1), [np.zeros((2, 3))]),
    "logsumexp": same(lambda x: x.logsumexp(1), [X * 50]),
    "logsumexp_dims": (lambda x: mg.logsumexp(x, (0, 1), True), lambda x: torch.logsumexp(x, (0, 1), True), [X]),
    "where": (lambda a, b: mg.where(mg.tensor(MASK), a, b), lambda a, b: torch.where(torch.tensor(MASK), a, b),
              [X, ROW]),
    "where_method": (lambda a, b: a.where(mg.tensor(MASK), b), lambda a, b: a.where(torch.tensor(MASK), b), [X, Y]),
    "masked_fill": (lambda x: x.masked_fill(mg.tensor(MASK), 0.5), lambda x: x.masked_fill(torch.tensor(MASK), 0.5),
                    [X]),
    "gather_dim1": (lambda x: x.gather(1, mg.tensor(INDEX)), lambda x: x.gather(1, torch.tensor(INDEX)), [X]),
    "gather_dim0": (lambda x: x.gather(0, mg.tensor(INDEX[:2] % 3)), lambda x: x.gather(0, torch.tensor(INDEX[:2] % 3)),
                    [X]),
    "expand": same(lambda x: x[:, :1].expand(2, -1, 5), [X]),
    "repeat": same(lambda x: x.repeat(2, 1, 3), [X]),
    "clone": same(lambda x: x.clone() * x, [X]),
    "unsqueeze_squeeze_flatten": same(lambda x: x.unsqueeze(1).unsqueeze(-1).squeeze(1).flatten(1), [X]),
    "t_mm": same(lambda a, b: a.t().mm(b), [X, Y]),
    "bmm": (mg.bmm, torch.bmm, [RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 4, 5))]),
    "add_sub_alpha": same(lambda a, b: a.add(b, alpha=2).sub(b, alpha=0.5), [X, Y]),
    "einsum_matmul": (mg.einsum, torch.einsum, ["ij,kj->ik", X, Y]),
    "einsum_rowdot": (mg.einsum, torch.einsum, ["bi,bi->b", X, Y]),
    "einsum_outer": (mg.einsum, torch.einsum, ["i,j->ij", ROW, ROW[:2]]),
    "einsum_implicit": (mg.einsum, torch.einsum, ["ba", X]),
    "einsum_sum_alone": (mg.einsum, torch.einsum, ["ij,jk->k", X, Y.T]),
}


def _first(out):
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_torch(name):
    ours_fn, theirs_fn, arrays = CASES[name]
    arrays = list(arrays)
    equation = [arrays.pop(0)] if isinstance(arrays[0], str) else []  # einsum's first argument
    ours = [mg.tensor(a, dtype=mg.float64, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    o_out, t_out = ours_fn(*equation, *ours), theirs_fn(*equation, *theirs)
    if isinstance(t_out, tuple):  # (values, indices)
        assert type(o_out).__name__ == type(t_out).__name__ and o_out._fields == ("values", "indices")
        np.testing.assert_array_equal(o_out.indices.data, t_out.indices.numpy())
    o, t = _first(o_out), _first(t_out)
    np.testing.assert_allclose(o.data, t.detach().numpy(), rtol=1e-12, atol=1e-12)
    projection = np.random.default_rng(1).standard_normal(t.shape)
    o.backward(projection)
    t.backward(torch.tensor(projection))
    for a, b in zip(ours, theirs):
        expected = np.zeros(a.shape) if b.grad is None else b.grad.numpy()
        got = np.zeros(a.shape) if a.grad is None else np.asarray(a.grad)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dim, keepdim", [(None, False), (None, True), (1, False), (0, True), (-1, True)])
@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argmax_argmin_match_torch(op, dim, keepdim):
    ours = getattr(mg.tensor(TIES), op)(dim, keepdim)
    theirs = getattr(torch.tensor(TIES), op)(dim, keepdim)
    assert ours.dtype == np.int64 and ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.data, theirs.numpy())


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_comparisons_match_torch(op):
    ours = eval(f"mg.tensor(TIES) {op} 2.0")
    theirs = eval(f"torch.tensor(TIES) {op} 2.0")
    np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_size_matches_torch():
    ours, theirs = mg.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    assert ours.size() == tuple(theirs.size()) and ours.size(-1) == theirs.size(-1)


def test_in_place_rules_match_torch():
    def outcome(make, update):
        t = make()
        try:
            update(t)
        except RuntimeError as exc:
            return "error", str(exc).split(".")[0].split(": ")[-1]
        return "ok", np.asarray(t.data if isinstance(t, mg.Tensor) else t.numpy()).tolist()

    cases = [
        (lambda lib: lib.tensor([1, 2]), lambda t: t.__iadd__(1.5)),
        (lambda lib: lib.tensor([1, 2]), lambda t: t.__itruediv__(2)),
        (lambda lib: lib.tensor([1.0, 2.0]), lambda t: t.__imul__(3)),
        (lambda lib: lib.tensor([1.0, 2.0], requires_grad=True), lambda t: t.__iadd__(1)),
        (lambda lib: lib.tensor([1, 2]), lambda t: t.fill_(1.5)),
        (lambda lib: lib.tensor([1, 2]), lambda t: t.clamp_(min=1.5)),
        (lambda lib: lib.tensor([1.0, 5.0]), lambda t: t.clamp_(2.0, 3.0)),
    ]
    for make, update in cases:
        ours, theirs = outcome(lambda make=make: make(mg), update), outcome(lambda make=make: make(torch), update)
        assert ours[0] == theirs[0], (ours, theirs)
        if ours[0] == "ok":
            assert ours[1] == theirs[1]
        else:  # the same kind of error: (the dtype names differ where numpy promotes to float64)
            assert ours[1].split(" type")[0] == theirs[1].split(" type")[0], (ours, theirs)


def test_linspace_eye_match_torch():
    np.testing.assert_allclose(mg.linspace(-1, 2, 7).data, torch.linspace(-1, 2, 7).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(mg.eye(3, 2).data, torch.eye(3, 2).numpy())
