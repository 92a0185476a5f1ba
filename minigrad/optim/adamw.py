"""AdamW (Loshchilov and Hutter, 2019): Adam with decoupled weight decay, as PyTorch's."""
from minigrad.optim.adam import Adam


class AdamW(Adam):
    """p = p (1 - lr weight_decay)     (the decay shrinks p directly; it never enters m or v)
    m = b1 m + (1 - b1) grad;   v = b2 v + (1 - b2) grad^2
    v_max = max(v_max, v), and v_max replaces v below   (amsgrad only)
    p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True)
