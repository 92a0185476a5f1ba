"""Independent numpy implementations of PyTorch's documented optimizer updates (torch.optim
docs, "Algorithm" boxes), and the least-squares problem the optimizer tests run them on.
Each reference takes the start point, a function giving the gradient at p, and the settings."""
import numpy as np

import minigrad as mg
from minigrad import nn

STEPS = 8


def ref_sgd(p, grads_of, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, steps=STEPS):
    p, buf = p.copy(), None
    for _ in range(steps):
        g = grads_of(p)
        if weight_decay:
            g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


def ref_rmsprop(p, grads_of, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                steps=STEPS):
    p = p.copy()
    v, g_avg, buf = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for _ in range(steps):
        g = grads_of(p)
        if weight_decay:
            g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g ** 2
        v_tilde = v
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            v_tilde = v - g_avg ** 2
        if momentum > 0:
            buf = momentum * buf + g / (np.sqrt(v_tilde) + eps)
            p = p - lr * buf
        else:
            p = p - lr * g / (np.sqrt(v_tilde) + eps)
    return p


def ref_adam(p, grads_of, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
             decoupled=False, steps=STEPS):
    p = p.copy()
    m, v, v_max = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    b1, b2 = betas
    for t in range(1, steps + 1):
        g = grads_of(p)
        if decoupled:
            p = p * (1 - lr * weight_decay)
        elif weight_decay:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        m_hat = m / (1 - b1 ** t)
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - b2 ** t)
        else:
            v_hat = v / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def ref_adamw(p, grads_of, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, steps=STEPS):
    return ref_adam(p, grads_of, lr, betas, eps, weight_decay, amsgrad, decoupled=True, steps=steps)


def ref_adagrad(p, grads_of, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                eps=1e-10, steps=STEPS):
    p = p.copy()
    s = np.full_like(p, initial_accumulator_value)
    for t in range(1, steps + 1):
        g = grads_of(p)
        if weight_decay:
            g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        p = p - clr * g / (np.sqrt(s) + eps)
    return p


# a least-squares problem: the gradient depends on the parameters, so every step matters
_rng = np.random.default_rng(0)
A = _rng.standard_normal((5, 4))
B = _rng.standard_normal(5)
P0 = _rng.standard_normal(4)


def quad_grad(p):
    return 2 * A.T @ (A @ p - B)


def mg_run(opt_cls, kwargs, steps=STEPS):
    p = nn.Parameter(P0.copy())
    opt = opt_cls([p], **kwargs)
    a, b = mg.tensor(A), mg.tensor(B)
    for _ in range(steps):
        opt.zero_grad()
        r = a @ p - b
        (r * r).sum().backward()
        opt.step()
    return p.data
