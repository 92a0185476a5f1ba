"""RMSprop (Hinton's lecture 6e, 2012), PyTorch's update, done in place. The optimizer of the
original char-rnn."""
import numpy as np

from minigrad.optim.optimizer import Optimizer, check_hyper, grad_array


class RMSprop(Optimizer):
    """g = grad + weight_decay * p
    v = alpha v + (1 - alpha) g^2
    centered:  g_avg = g_avg + (1 - alpha)(g - g_avg);  denom = sqrt(v - g_avg^2) + eps
    else:      denom = sqrt(v) + eps
    momentum > 0:  buf = momentum buf + g / denom;  p = p - lr buf
    else:          p = p - lr g / denom
    (eps is added after the square root, as in PyTorch; Hinton's slides put it inside.)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False):
        check_hyper("RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=bool(centered),
                                      weight_decay=weight_decay))

    def step(self):
        for group in self.param_groups:
            lr, alpha, eps, wd, momentum = (group["lr"], group["alpha"], group["eps"], group["weight_decay"],
                                            group["momentum"])
            for p in group["params"]:
                g = grad_array(p)
                if g is None:
                    continue
                if wd:
                    g = g + wd * p.data
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {"step": 0, "square_avg": np.zeros_like(p.data)}
                state["step"] += 1
                v = state["square_avg"]
                v *= alpha
                v += (1 - alpha) * (g * g)
                if group["centered"]:
                    g_avg = state.get("grad_avg")
                    if g_avg is None:
                        g_avg = state["grad_avg"] = np.zeros_like(p.data)
                    g_avg += (1 - alpha) * (g - g_avg)
                    denom = np.subtract(v, g_avg * g_avg, out=np.empty_like(v))
                    np.sqrt(denom, out=denom)
                else:
                    denom = np.sqrt(v, out=np.empty_like(v))  # an array even for a 0-d parameter
                denom += eps
                if momentum > 0:
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = np.zeros_like(p.data)
                    buf *= momentum
                    buf += g / denom
                    p.data -= lr * buf
                else:
                    np.divide(g, denom, out=denom)
                    denom *= lr
                    p.data -= denom
        self._mark_stepped()
