"""nn: Module registration and traversal, state dicts, layers, dropout, one_hot, losses."""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.act = nn.Tanh()
        self.scale = nn.Parameter(np.ones(4, dtype=np.float32))

    def forward(self, x):
        return self.act(self.fc(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.layers = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 2)])
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        h = self.block(x)
        for layer in self.layers:
            h = layer(self.drop(h))
        return h


# ---------------------------------------------------------------- registration and traversal
def test_named_parameters_use_dotted_names_in_registration_order():
    names = [n for n, _ in Net().named_parameters()]
    assert names == ["block.scale", "block.fc.weight", "block.fc.bias",
                     "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]


def test_parameters_and_named_parameters_agree():
    net = Net()
    assert [id(p) for p in net.parameters()] == [id(p) for _, p in net.named_parameters()]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())


def test_children_and_modules():
    net = Net()
    assert [n for n, _ in net.named_children()] == ["block", "layers", "drop"]
    assert list(net.children()) == [net.block, net.layers, net.drop]
    names = [n for n, _ in net.named_modules()]
    assert names == ["", "block", "block.fc", "block.act", "layers", "layers.0", "layers.1", "drop"]
    assert len(list(net.modules())) == 8


def test_reassigning_and_deleting_unregister():
    m = Block()
    m.scale = np.zeros(4)                  # no longer a parameter
    assert "scale" not in dict(m.named_parameters())
    m.fc = None
    assert [n for n, _ in m.named_children()] == ["act"]
    m.extra = nn.Parameter(np.zeros(2))
    assert "extra" in dict(m.named_parameters())
    del m.extra
    assert "extra" not in dict(m.named_parameters())
    with pytest.raises(AttributeError):
        _ = m.extra


def test_shared_parameter_listed_once():
    m = nn.Module()
    shared = nn.Linear(2, 2)
    m.a, m.b = shared, shared
    assert len(list(m.parameters())) == 2


def test_register_parameter_none_keeps_attribute():
    lin = nn.Linear(3, 2, bias=False)
    assert lin.bias is None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]


def test_zero_grad_to_none_and_to_zero():
    net = Block()
    net(mg.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.data.any() for p in net.parameters())
    net(mg.randn(5, 3)).sum().backward()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_train_and_eval_are_recursive():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_repr_shows_the_tree():
    text = repr(Net())
    assert "(block): Block(" in text and "(fc): Linear(in_features=3, out_features=4, bias=True)" in text
    assert "(drop): Dropout(p=0.5)" in text


# ---------------------------------------------------------------- state dicts
def test_state_dict_round_trip_into_a_fresh_model():
    mg.manual_seed(1)
    a = Net().eval()
    mg.manual_seed(2)
    b = Net().eval()
    x = mg.randn(3, 3)
    assert not np.allclose(a(x).data, b(x).data)
    state = a.state_dict()
    assert list(state) == [n for n, _ in a.named_parameters()]
    b_weight = b.block.fc.weight.data
    b.load_state_dict(state)
    assert b.block.fc.weight.data is b_weight           # loaded in place (optimizers keep working)
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_state_dict_is_a_copy():
    lin = nn.Linear(2, 2)
    state = lin.state_dict()
    state["weight"][...] = 123.0
    assert not (lin.weight.data == 123.0).any()
    lin.weight.data[...] = 7.0
    assert not (state["weight"] == 7.0).any()


def test_load_state_dict_accepts_tensors_and_lists():
    lin = nn.Linear(2, 1)
    lin.load_state_dict({"weight": mg.tensor([[1.0, 2.0]]), "bias": [3.0]})
    np.testing.assert_array_equal(lin(mg.tensor([[1.0, 1.0]])).data, [[6.0]])


# ---------------------------------------------------------------- Linear
def test_linear_shapes_and_formula():
    lin = nn.Linear(5, 3)
    assert lin.weight.shape == (3, 5) and lin.bias.shape == (3,)
    x = mg.randn(4, 5)
    y = lin(x)
    assert y.shape == (4, 3) and y.dtype == np.float32
    np.testing.assert_allclose(y.data, x.data @ lin.weight.data.T + lin.bias.data, rtol=1e-6)
    assert lin(mg.randn(2, 7, 5)).shape == (2, 7, 3)


def test_linear_init_bounds_follow_pytorch():
    mg.manual_seed(0)
    lin = nn.Linear(64, 200)
    bound = 1 / math.sqrt(64)
    for p in (lin.weight.data, lin.bias.data):
        assert np.abs(p).max() <= bound
        assert np.abs(p).max() > 0.9 * bound        # spread over the whole interval
        assert abs(p.mean()) < 0.1 * bound
    assert lin.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)  # uniform's std


def test_linear_init_is_reproducible_with_manual_seed():
    mg.manual_seed(42)
    a = nn.Linear(3, 3).weight.data.copy()
    mg.manual_seed(42)
    np.testing.assert_array_equal(a, nn.Linear(3, 3).weight.data)


def test_linear_float64_and_module_cast():
    lin = nn.Linear(2, 2, dtype=mg.float64)
    assert lin.weight.dtype == np.float64 and lin.bias.dtype == np.float64
    lin.float()
    assert lin.weight.dtype == np.float32
    assert nn.Linear(2, 2).double().bias.dtype == np.float64


def test_linear_gradients():
    lin = nn.Linear(3, 2)
    x = mg.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    lin(x).sum().backward()
    np.testing.assert_allclose(lin.weight.grad, np.tile(x.data.sum(0), (2, 1)))
    np.testing.assert_allclose(lin.bias.grad, [2.0, 2.0])


# ---------------------------------------------------------------- Embedding
def test_embedding_lookup_and_gradient_with_repeated_indices():
    emb = nn.Embedding(5, 3)
    idx = np.array([[1, 3, 1], [1, 0, 3]])
    out = emb(idx)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.data, emb.weight.data[idx])
    upstream = np.arange(18.0, dtype=np.float32).reshape(2, 3, 3)
    out.backward(upstream)
    expected = np.zeros((5, 3), dtype=np.float32)
    for (i, j), k in np.ndenumerate(idx):
        expected[k] += upstream[i, j]
    np.testing.assert_array_equal(emb.weight.grad, expected)
    assert not emb.weight.grad.data[[2, 4]].any()


def test_embedding_accepts_int_tensor_and_inits_normal():
    mg.manual_seed(0)
    emb = nn.Embedding(1000, 8)
    assert emb(mg.tensor([3, 3])).shape == (2, 8)
    assert emb.weight.data.std() == pytest.approx(1.0, rel=0.05)


# ---------------------------------------------------------------- Sequential and activations
def test_sequential_applies_in_order():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1), nn.Sigmoid())
    assert len(seq) == 4 and isinstance(seq[1], nn.ReLU) and isinstance(seq[-1], nn.Sigmoid)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    x = mg.randn(4, 2)
    expected = (seq[2](seq[0](x).relu())).sigmoid()
    np.testing.assert_array_equal(seq(x).data, expected.data)


def test_activation_modules():
    x = mg.tensor([-1.0, 0.5])
    np.testing.assert_array_equal(nn.Tanh()(x).data, np.tanh(x.data))
    np.testing.assert_array_equal(nn.ReLU()(x).data, [0.0, 0.5])
    np.testing.assert_allclose(nn.Sigmoid()(x).data, 1 / (1 + np.exp(-x.data)), rtol=1e-6)


# ---------------------------------------------------------------- Dropout
def test_dropout_eval_is_identity():
    drop = nn.Dropout(0.3).eval()
    x = mg.randn(10, 10)
    np.testing.assert_array_equal(drop(x).data, x.data)
    assert F.dropout(x, 0.3, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_dropout_train_zeroes_and_scales():
    mg.manual_seed(0)
    p = 0.25
    drop = nn.Dropout(p)
    x = mg.tensor(np.ones((200, 100), dtype=np.float32), requires_grad=True)
    y = drop(x)
    kept = y.data != 0
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data[kept], 1 / (1 - p), rtol=1e-6)
    assert kept.mean() == pytest.approx(1 - p, abs=0.01)
    assert y.data.mean() == pytest.approx(1.0, abs=0.02)        # expectation preserved
    y.sum().backward()
    np.testing.assert_allclose(x.grad, kept / (1 - p), rtol=1e-6)  # gradient through kept only


def test_dropout_draws_a_new_mask_each_call():
    mg.manual_seed(3)
    drop = nn.Dropout(0.5)
    x = mg.ones(100)
    assert not np.array_equal(drop(x).data, drop(x).data)


# ---------------------------------------------------------------- one_hot and losses
def test_one_hot():
    out = F.one_hot(np.array([[0, 2], [1, 1]]), 3)
    assert out.shape == (2, 2, 3) and out.dtype == np.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.data, np.eye(3, dtype=np.int64)[[[0, 2], [1, 1]]])
    assert F.one_hot(mg.tensor([1]), 2, dtype=mg.float32).dtype == np.float32
    np.testing.assert_array_equal(F.one_hot(np.array(1), 3).data, [0, 1, 0])


def test_mse_and_nll_loss_values():
    a = mg.tensor([1.0, 2.0, 4.0], requires_grad=True)
    loss = F.mse_loss(a, [1.0, 0.0, 1.0])
    assert loss.item() == pytest.approx((0 + 4 + 9) / 3)
    loss.backward()
    np.testing.assert_allclose(a.grad, 2 * np.array([0.0, 2.0, 3.0]) / 3, rtol=1e-6)
    logp = mg.tensor(np.log(np.array([[0.5, 0.5], [0.1, 0.9]])))
    assert F.nll_loss(logp, np.array([0, 1])).item() == pytest.approx(-(np.log(0.5) + np.log(0.9)) / 2)
