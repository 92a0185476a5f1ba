"""Adam (Kingma and Ba, 2015), PyTorch's update, done in place."""
import math

import numpy as np

from minigrad.optim.optimizer import Optimizer


class Adam(Optimizer):
    """g = grad + weight_decay * p
    m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
    p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        if lr < 0 or eps < 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"Adam: need lr >= 0, eps >= 0 and betas in [0, 1), got lr={lr}, "
                             f"betas={betas}, eps={eps}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay))

    def step(self):
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if wd:
                    g = g + wd * p.data
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {"step": 0, "exp_avg": np.zeros_like(p.data),
                                             "exp_avg_sq": np.zeros_like(p.data)}
                state["step"] += 1
                t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
                m *= b1
                m += (1 - b1) * g
                v *= b2
                v += (1 - b2) * (g * g)
                denom = np.sqrt(v, out=np.empty_like(v))  # an array even for a 0-d parameter
                denom *= 1.0 / math.sqrt(1 - b2 ** t)
                denom += eps
                np.divide(m, denom, out=denom)
                denom *= lr / (1 - b1 ** t)
                p.data -= denom
        self._mark_stepped()
