"""record and watch: keep the gradient of every intermediate tensor, for colouring the pictures.

Backward normally keeps `.grad` only on leaves (parameters, inputs). viz needs it on every
tensor to colour each value and edge by its gradient norm. Two ways, neither touching the
model's code:

    with viz.record():                  # backward inside keeps every gradient
        output, _ = model(x)
        loss = output[-1].sum()
        loss.backward()

    loss = model(x)[0][-1].sum()        # or: mark the graph after the forward pass,
    viz.watch(loss)                     # then call backward as usual
    loss.backward()

    viz.draw_unrolled(loss, params=model, level="cell")
"""
import minigrad as mg
from minigrad.viz.trace import tensors_in_order


def record():
    """Context manager (and decorator): backward run inside keeps `.grad` on every tensor.

    It is `mg.retain_grads()` under a name that says what it is for: what matters is that
    `backward()` runs inside it (the forward pass may run outside).
    """
    return mg.retain_grads()


def watch(root):
    """Make every tensor `root` depends on keep its gradient at the next backward
    (`retain_grad()` on each); returns `root`."""
    for tensor in tensors_in_order(root):
        tensor.retain_grad()
    return root
