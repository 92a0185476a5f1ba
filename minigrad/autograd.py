"""Reverse-mode autodiff: walk the graph from the output back to the leaves.

    1. Seed the output's gradient (1 for a one-element loss).
    2. Visit the tensors that have a pending gradient, the most recently created first. Every
       op's output is created after its inputs, so when a tensor is visited all the tensors
       made from it have been visited already, and its gradient is complete. Its op's
       backward turns that gradient into one gradient per input; each is summed over the axes
       broadcasting stretched (`unbroadcast`) and added to the input's pending gradient (a
       tensor used twice gets both); an input that gets its first gradient joins the queue.
    3. Leaves add their gradient to `.grad` at the end; the ops free what they saved as they go.

This is how PyTorch's engine orders the graph too (each node has a sequence number), and it
needs no separate pass to sort the graph first. Inside `mg.record_visits()` the walk reports the
tensors in the order it visits them (the root, step 2's order, then the leaves).
"""
from heapq import heappop, heappush

import numpy as np

from minigrad import function, grad_mode, versions
from minigrad.function import check_finite
from minigrad.tensor import Tensor


def run_backward(root, grad=None, retain_graph=False):
    """Compute d root / d leaf for every leaf, adding it to `.grad`. See the module docstring."""
    if not root.requires_grad:
        raise RuntimeError("backward: this tensor does not require grad and has no grad_fn; "
                           "create a leaf with requires_grad=True (and compute outside mg.no_grad())")
    if function.tracer is not None:  # mg.compile refuses hooks, retain_grads, detect_anomaly
        function.tracer.check_backward(root)
    root._g = _seed(root, grad)
    # queue: a heap of (-seq, output_nr, tensor), the newest node first; leaves: in order met
    queue, leaves = ([], [root]) if root.grad_fn is None else ([(-root.grad_fn.seq, root.output_nr, root)], [])
    try:
        while queue:
            tensor = heappop(queue)[2]
            fn = tensor.grad_fn
            grad = _finished_grad(tensor) if fn.n_outputs is None else _outputs_grads(tensor, queue)
            if fn.released:
                raise _freed(fn)
            if fn.epoch != versions.epoch:
                _check_unmodified(fn)
            input_grads = fn.backward(grad)
            if not retain_graph:
                fn.saved, fn.released = None, True  # free what forward kept, as the walk goes
            for parent, g in zip(fn.inputs, input_grads):
                if g is None or not parent.requires_grad:
                    continue
                if not (isinstance(g, np.ndarray) and g.dtype == parent.data.dtype):  # a numpy scalar,
                    g = np.asarray(g, dtype=parent.data.dtype)                      # another dtype
                g = unbroadcast(g, parent.data.shape, fn)
                if grad_mode.anomaly:
                    check_finite(g, fn, fn.inputs, "backward", tensor.scope, grad, parent)
                if parent._g is None:  # its first gradient: schedule the tensor
                    parent._g = g
                    if parent.grad_fn is None:
                        leaves.append(parent)
                    else:
                        heappush(queue, (-parent.grad_fn.seq, parent.output_nr, parent))
                else:
                    parent._g = parent._g + g
        for leaf in leaves:  # all their uses are done: their gradients are complete
            g = _finished_grad(leaf)
            if leaf._grad is None:
                leaf._grad = Tensor(g.copy())  # (a copy: the array may be another tensor's too)
            else:
                leaf._grad.data += g  # accumulate in place, as torch
    finally:  # after an error, leave no half-summed gradient behind
        for tensor in [entry[2] for entry in queue] + leaves:
            tensor._g = None


def unbroadcast(grad, shape, fn=None):
    """Sum `grad` over the axes numpy broadcasting added or stretched, so it has `shape`.

    The one place where broadcasting is undone: an op's backward may return the gradient in
    the broadcast shape of its output, and the engine reduces it to each input's shape here.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0 or any(n != 1 and n != m for n, m in zip(shape, grad.shape[extra:])):
        name = fn.name if fn is not None else "an op"
        raise RuntimeError(f"internal error: {name}.backward gave a gradient of shape {grad.shape} "
                           f"for an input of shape {shape}")
    axes = tuple(range(extra)) + tuple(i + extra for i, n in enumerate(shape) if n == 1 != grad.shape[i + extra])
    return grad.sum(axis=axes).reshape(shape)


def _finished_grad(tensor):
    """Take the complete gradient off `tensor`, after its hooks; keep it as `.grad` if asked
    (retain_grad, mg.retain_grads) and report the visit (mg.record_visits)."""
    grad, tensor._g = tensor._g, None
    if grad_mode.visit_log is not None:
        grad_mode.visit_log.append(tensor)
    if tensor._hooks:
        grad = _run_hooks(tensor, grad)
    if tensor.grad_fn is not None and (tensor._retain or grad_mode.keep_grads):
        tensor._grad = Tensor(grad.copy()) if tensor._grad is None else Tensor(tensor._grad.data + grad)
    return grad


def _outputs_grads(tensor, queue):
    """The gradients of all outputs of tensor's op, which has several (Split): they are next
    in the queue, with the same seq. A list by output_nr, None where no gradient came."""
    fn = tensor.grad_fn
    grads = [None] * fn.n_outputs
    grads[tensor.output_nr] = _finished_grad(tensor)
    while queue and queue[0][2].grad_fn is fn:
        other = heappop(queue)[2]
        grads[other.output_nr] = _finished_grad(other)
    return grads


def _run_hooks(tensor, grad):
    if function.tracer is not None:
        function.tracer.refuse_hooks(tensor)
    for hook in list(tensor._hooks):
        replaced = hook(Tensor(grad))
        if replaced is not None:
            grad = _check_hook_grad(replaced, tensor)
    return grad


def _freed(fn):
    return RuntimeError(f"backward: trying to go through the graph a second time ({fn.name} node): "
                        f"its saved values were freed by the first backward; pass retain_graph=True "
                        f"to the first backward() if you need to call it twice")


def _check_unmodified(fn):
    """Raise if a leaf that `fn` read was changed in place after `fn` was built (versions.py):
    its gradient would mix old and new values."""
    for t in fn.inputs:
        if t.grad_fn is None and t._modified_at > fn.epoch:
            raise RuntimeError(
                f"backward: the {fn.name} node reads a tensor of shape {t.shape} that was changed in "
                f"place (by an optimizer step, load_state_dict or nn.init) after the graph was built, "
                f"so its gradient would mix old and new values. Compute the loss again after the step; "
                f"a state carried from window to window needs .detach() (models.detach_state).")


def _seed(root, grad):
    data = root.data
    if grad is None:
        if data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implied only for a one-element output, but this tensor has "
                f"shape {root.shape}; reduce it first (e.g. .sum()) or pass gradient= of that shape")
        return np.ones(data.shape, data.dtype)
    grad = np.asarray(getattr(grad, "data", grad), dtype=data.dtype)
    if grad.shape != data.shape:
        raise ValueError(f"backward: gradient has shape {grad.shape} but the tensor has shape {root.shape}")
    return grad


def _check_hook_grad(grad, tensor):
    if not isinstance(grad, Tensor):
        raise TypeError(f"register_hook: a hook must return a Tensor or None, got {type(grad).__name__}")
    if grad.shape != tensor.data.shape:
        raise ValueError(f"register_hook: the hook returned a gradient of shape {grad.shape} "
                         f"for a tensor of shape {tensor.shape}")
    return grad.data


def topological_order(root, include_constants=False):
    """Tensors that `root` depends on, each after all its inputs: those that require grad, or
    every tensor with include_constants=True (what a graph picture shows). Inputs are visited
    in their order, so the result is the same every run. (Used by the pictures, not by backward.)"""
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)  # all of its inputs are already in `order`
            continue
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        stack.append((tensor, True))
        fn = tensor.grad_fn
        if fn is not None:
            for parent in reversed(fn.inputs):  # reversed: the first input is visited first
                if (include_constants or parent.requires_grad) and id(parent) not in seen:
                    stack.append((parent, False))
    return order
