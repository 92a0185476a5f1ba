"""Opt-in speed path: one LSTM layer's whole window as a single op, with backward by hand.

`LSTM(..., fused=True)` runs each layer's recurrence through `lstm_window` instead of T calls
of `LSTMCell.step`. It computes the same values (bit for bit: the same formulas in the same
order) and the same gradients (checked in float64 by the tests), but as one graph node whose
backward is backpropagation through time written out, so a step costs a dozen numpy calls
on preallocated arrays instead of about 17 recorded ops. It is for fast training only: the
equations a student reads are in models/lstm.py, and graph pictures of a fused layer show
one node. The input projection W_ih x + b stays an ordinary op outside (one matmul).

Forward, t = 0 .. T-1, with a_t = x_proj[t] + h_{t-1} W_hh^T cut into gates i, f, g, o:

    i, f, o = σ(a_i), σ(a_f), σ(a_o);   g = tanh(a_g)
    c_t = f ⊙ c_{t-1} + i ⊙ g;          h_t = o ⊙ tanh(c_t)

Backward, t = T-1 .. 0. dh and dc are the gradients reaching h_t and c_t: from outside (the
output's gradient) plus, for t < T-1, from step t+1 through the recurrence:

    dc    += dh ⊙ o ⊙ (1 - tanh² c_t)
    da_i   = dc ⊙ g ⊙ i (1 - i)          da_f = dc ⊙ c_{t-1} ⊙ f (1 - f)
    da_g   = dc ⊙ i ⊙ (1 - g²)           da_o = dh ⊙ tanh(c_t) ⊙ o (1 - o)
    dh_{t-1} = da_t W_hh                 dc_{t-1} = dc ⊙ f

and then dx_proj[t] = da_t and dW_hh = Σ_t da_t^T h_{t-1}. The factors that multiply dc
and dh (g i (1 - i), ...) do not depend on the gradient, so they are computed for all steps
at once before the loop.
"""
import numpy as np

from minigrad.function import Function
from minigrad.ops.elementwise import sigmoid_of_negated_


class LSTMWindow(Function):
    """(x_proj (T, B, 4H), weight_hh (4H, H), h0 (B, H), c0 (B, H)) -> hc (2, T, B, H):
    hc[0] holds h_1 .. h_T (the layer's output), hc[1] holds c_1 .. c_T."""

    symbol = "LSTM×T"

    def forward(self, x_proj, weight_hh, h0, c0):
        _check_shapes(x_proj, weight_hh, h0, c0)
        T, B, four_h = x_proj.shape
        H = four_h // 4
        acts = np.empty_like(x_proj)  # the gates' activations i, f, g, o at every step
        states = np.empty((2, T + 1, B, H), x_proj.dtype)
        h, c = states  # h[t] = h_{t-1} and c[t] = c_{t-1}: h0 and c0 first
        tanh_c = np.empty((T, B, H), x_proj.dtype)
        h[0], c[0] = h0, c0
        w_hh_t = weight_hh.T
        for t in range(T):
            a = acts[t]
            np.matmul(h[t], w_hh_t, out=a)
            np.add(x_proj[t], a, out=a)
            _sigmoid_(a[:, 0:2 * H])  # i, f
            np.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])  # g
            _sigmoid_(a[:, 3 * H:])  # o
            i, f, g, o = a[:, 0:H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            np.multiply(f, c[t], out=c[t + 1])
            c[t + 1] += i * g
            np.tanh(c[t + 1], out=tanh_c[t])
            np.multiply(o, tanh_c[t], out=h[t + 1])
        self.saved = (acts, h, c, tanh_c, weight_hh)
        return states[:, 1:]

    def backward(self, grad):
        acts, h, c, tanh_c, weight_hh = self.saved
        T, B, four_h = acts.shape
        H = four_h // 4
        gates = acts.reshape(T, B, 4, H)
        i, f, g, o = gates[:, :, 0], gates[:, :, 1], gates[:, :, 2], gates[:, :, 3]
        # d a_k = factor_k ⊙ dc (k = i, f, g) or ⊙ dh (k = o), for all steps at once
        factor = np.empty_like(gates)
        factor[:, :, 0] = g * i * (1 - i)
        factor[:, :, 1] = c[:-1] * f * (1 - f)
        factor[:, :, 2] = i * (1 - g * g)
        factor[:, :, 3] = tanh_c * o * (1 - o)
        dc_per_dh = o * (1 - tanh_c * tanh_c)  # c_t reaches the loss through h_t = o tanh(c_t) too
        d_acts = np.empty_like(gates)
        dh = np.zeros((B, H), acts.dtype)  # the gradient reaching h_t from step t+1
        dc = np.zeros((B, H), acts.dtype)  # the gradient reaching c_t from step t+1
        for t in range(T - 1, -1, -1):
            dh += grad[0, t]
            dc += grad[1, t]
            dc += dh * dc_per_dh[t]
            np.multiply(dc[:, None, :], factor[t, :, 0:3], out=d_acts[t, :, 0:3])  # da_i, da_f, da_g
            np.multiply(dh, factor[t, :, 3], out=d_acts[t, :, 3])  # da_o
            dc *= f[t]
            dh = d_acts[t].reshape(B, four_h) @ weight_hh
        d_x_proj = d_acts.reshape(T, B, four_h)
        need_w = self.inputs[1].requires_grad
        d_weight_hh = d_x_proj.reshape(T * B, four_h).T @ h[:-1].reshape(T * B, H) if need_w else None
        return d_x_proj, d_weight_hh, dh, dc


def _check_shapes(x_proj, weight_hh, h0, c0):
    H = weight_hh.shape[-1]
    if not (x_proj.ndim == 3 and weight_hh.shape == (4 * H, H) and x_proj.shape[2] == 4 * H
            and h0.shape == c0.shape == (x_proj.shape[1], H)):
        raise ValueError("expected x_proj (T, B, 4H), weight_hh (4H, H), h0 and c0 (B, H)")
    dtypes = {x_proj.dtype, weight_hh.dtype, h0.dtype, c0.dtype}
    if len(dtypes) != 1 or x_proj.dtype.kind != "f":
        raise TypeError(f"expected one float dtype for all four, got {', '.join(sorted(map(str, dtypes)))}")


def _sigmoid_(a):
    """a = σ(a) in place, by the Sigmoid op's own formula (so the very same values)."""
    sigmoid_of_negated_(np.negative(a, out=a))


def lstm_window(x_proj, weight_hh, h0, c0):
    """Run an LSTM layer's recurrence over a window as one op (see the module docstring).

    x_proj (T, B, 4H) = W_ih x_t + b_ih + b_hh for every t; weight_hh (4H, H); h0, c0 (B, H).
    Returns hc (2, T, B, H): the outputs h_1 .. h_T are hc[0], the final state hc[0, -1], hc[1, -1].
    """
    return LSTMWindow.apply(x_proj, weight_hh, h0, c0)
