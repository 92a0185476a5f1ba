"""Adam (Kingma and Ba, 2015), with AMSGrad (Reddi et al., 2018), PyTorch's update, done in place."""
import math
import numbers

import numpy as np

from minigrad.optim.optimizer import Optimizer, check_hyper, grad_array


class Adam(Optimizer):
    """g = grad + weight_decay * p     (decoupled_weight_decay: p = p (1 - lr weight_decay) instead)
    m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
    v_max = max(v_max, v), and v_max replaces v below   (amsgrad only)
    p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 decoupled_weight_decay=False):
        name = type(self).__name__
        check_hyper(name, lr=lr, eps=eps, weight_decay=weight_decay)
        betas = tuple(betas)
        if len(betas) != 2 or not all(isinstance(b, numbers.Real) and 0 <= b < 1 for b in betas):
            raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {betas}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=bool(amsgrad), decoupled_weight_decay=bool(decoupled_weight_decay)))

    def step(self):
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                g = grad_array(p)
                if g is None:
                    continue
                if wd and group["decoupled_weight_decay"]:
                    p.data *= 1 - lr * wd
                elif wd:
                    g = g + wd * p.data
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {"step": 0, "exp_avg": np.zeros_like(p.data),
                                             "exp_avg_sq": np.zeros_like(p.data)}
                if group["amsgrad"] and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = np.zeros_like(p.data)
                state["step"] += 1
                t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
                m *= b1
                m += (1 - b1) * g
                v *= b2
                v += (1 - b2) * (g * g)
                if group["amsgrad"]:
                    v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
                denom = np.sqrt(v, out=np.empty_like(v))  # an array even for a 0-d parameter
                denom /= math.sqrt(1 - b2 ** t)
                denom += eps
                np.divide(m, denom, out=denom)
                denom *= lr / (1 - b1 ** t)
                p.data -= denom
        self._mark_stepped()
