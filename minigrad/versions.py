"""In-place changes to leaf tensors, so that backward refuses a graph that saw the old values.

An optimizer step, `load_state_dict` or an `nn.init` function changes parameters in place.
A graph built before that change saved the old values (a matmul keeps its weight), so a
backward through it afterwards would silently mix old and new weights: the classic case is a
hidden state carried into the next window without `detach()`. As in PyTorch, that is an
error. Each such change bumps a global `epoch` and stamps the changed tensors with it; each
op node remembers the epoch it was built in; backward raises when a node reads a leaf stamped
later. (Writing to `tensor.data` yourself bypasses this, as `.data` does in PyTorch.)
"""
epoch = 0


def mark_modified(tensors):
    """Record that `tensors` (leaves) were just changed in place."""
    global epoch
    epoch += 1
    for t in tensors:
        t._modified_at = epoch
