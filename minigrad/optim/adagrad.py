"""Adagrad (Duchi et al., 2011), PyTorch's update, done in place."""
import numpy as np

from minigrad.optim.optimizer import Optimizer, grad_array


class Adagrad(Optimizer):
    """g = grad + weight_decay * p;  clr = lr / (1 + (t - 1) lr_decay)
    sum = sum + g^2;  p = p - clr * g / (sqrt(sum) + eps)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10):
        if lr < 0 or eps < 0 or lr_decay < 0:
            raise ValueError(f"Adagrad: lr, lr_decay and eps must be >= 0, got {lr}, {lr_decay}, {eps}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                g = grad_array(p)
                if g is None:
                    continue
                if group["weight_decay"]:
                    g = g + group["weight_decay"] * p.data
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {
                        "step": 0, "sum": np.full_like(p.data, group["initial_accumulator_value"])}
                state["step"] += 1
                clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
                s = state["sum"]
                s += g * g
                denom = np.sqrt(s)
                denom += group["eps"]
                p.data -= clr * g / denom
        self._mark_stepped()
