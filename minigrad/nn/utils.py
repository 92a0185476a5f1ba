"""Training helpers: gradient clipping (as torch.nn.utils)."""
import math

import numpy as np

from minigrad.tensor import Tensor


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    """Scale all gradients together so their joint norm is at most `max_norm`, in place.

    total = (sum over every gradient element of |g|^p)^(1/p); if total > max_norm, each
    gradient is multiplied by max_norm / (total + 1e-6). Returns total (before clipping) as a
    0-d tensor, as PyTorch does.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad.data for p in parameters if p.grad is not None]
    if not grads:
        return Tensor(np.asarray(0.0, dtype=np.float32))
    norm_type = float(norm_type)
    if norm_type == math.inf:
        total = max(float(np.abs(g).max()) for g in grads)
    elif norm_type == 2.0:
        total = math.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in grads))
    else:
        total = sum(float((np.abs(g) ** norm_type).sum()) for g in grads) ** (1.0 / norm_type)
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            g *= coef
    return Tensor(np.asarray(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient element into [-clip_value, clip_value], in place."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    for p in parameters:
        if p.grad is not None:
            np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)
