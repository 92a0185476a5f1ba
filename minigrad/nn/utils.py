"""Training helpers: gradient clipping (as torch.nn.utils)."""
import math

import numpy as np

from minigrad.tensor import Tensor


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    """Scale all gradients together so their joint norm is at most `max_norm`, in place.

    total = (sum over every gradient element of |g|^p)^(1/p); each gradient is multiplied by
    coef = min(max_norm / (total + 1e-6), 1), which is 1 (no change) unless total > max_norm.
    Returns total (before clipping) as a 0-d tensor, as PyTorch does.

    Written as PyTorch's own, with numpy and no Python branch on the values (the sums are
    float64 and in the order of the parameters, the clamp keeps a NaN total from scaling), so
    that mg.compile can record it.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad.data for p in parameters if p.grad is not None]
    if not grads:
        return Tensor(np.asarray(0.0, dtype=np.float32))
    norm_type = float(norm_type)
    if norm_type == math.inf:
        total = np.abs(grads[0]).max().astype(np.float64)
        for g in grads[1:]:
            largest = np.abs(g).max()
            total = np.where(largest > total, largest, total)  # (a NaN stays, as Python's max)
    else:
        total = np.float64(0.0)
        for g in grads:
            if norm_type == 2.0:
                flat = g.ravel()
                total = total + np.dot(flat, flat)
            else:
                total = total + (np.abs(g) ** norm_type).sum()
        total = np.sqrt(total) if norm_type == 2.0 else total ** (1.0 / norm_type)
    coef = np.fmin(max_norm / (total + 1e-6), 1.0)  # fmin: a NaN coefficient becomes 1
    for g in grads:
        g *= coef.astype(g.dtype)
    return Tensor(np.asarray(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient element into [-clip_value, clip_value], in place."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    for p in parameters:
        if p.grad is not None:
            np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)
