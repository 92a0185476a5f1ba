"""Backward refuses a graph whose leaves were changed in place after it was built
(minigrad/versions.py), as PyTorch does, instead of mixing old and new values silently."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.models import LSTM, detach_state


def test_backward_after_an_optimizer_step_through_the_old_graph_raises():
    w = mg.tensor([2.0], requires_grad=True)
    x = mg.tensor([3.0], requires_grad=True)
    loss = (w * x).sum()
    loss.backward(retain_graph=True)
    optim.SGD([w, x], lr=0.1).step()
    with pytest.raises(RuntimeError, match=r"Mul node .* changed in place .* optimizer step"):
        loss.backward()


def test_a_graph_built_after_the_step_is_fine():
    w = mg.tensor([2.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    opt.zero_grad()
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad, 2 * w.data)


def test_a_state_carried_without_detach_across_steps_raises_and_detached_trains():
    mg.manual_seed(0)
    lstm, head = LSTM(3, 4), nn.Linear(4, 1)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = optim.SGD(params, lr=0.1)
    x = mg.randn(5, 2, 3)

    def window(state, detach):
        out, state = lstm(x, state)
        loss = head(out).sum()
        opt.zero_grad()
        loss.backward(retain_graph=True)
        opt.step()
        return detach_state(state) if detach else state

    state = None
    for _ in range(3):
        state = window(state, detach=True)      # truncated BPTT: each window's own graph
    with pytest.raises(RuntimeError, match="detach"):
        state = window(state, detach=False)      # the first window's graph is fresh: fine
        window(state, detach=False)              # reaches back into it after a step: refused


def test_load_state_dict_and_init_count_as_changes():
    lin = nn.Linear(2, 2)
    loss = lin(mg.ones(1, 2)).sum()
    lin.load_state_dict({k: np.zeros_like(v) for k, v in lin.state_dict().items()})
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()
    loss = lin(mg.ones(1, 2)).sum()
    nn.init.uniform_(lin.weight, -1, 1)
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()
