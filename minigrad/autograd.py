"""Reverse-mode autodiff: walk the graph from the output back to the leaves.

    1. Seed the output's gradient.
    2. Visit the tensors that have a pending gradient, the most recently created first. Every
       op's output is created after its inputs, so when a tensor is visited all the tensors
       made from it have been visited already, and its gradient is complete. Its op's
       backward turns that gradient into its inputs' gradients, which are summed into them
       (a tensor used twice gets both); an input that gets its first gradient joins the queue.
    3. Leaves add their gradient to `.grad` at the end; the ops free what they saved as they go.

This is how PyTorch's engine orders the graph too (each node has a sequence number), and it
needs no separate pass to sort the graph first. Inside `mg.record_visits()` the walk reports the
tensors in the order it visits them (the root, step 2's order, then the leaves).
"""
from heapq import heappop, heappush

import numpy as np

from minigrad import function, grad_mode, versions
from minigrad.function import check_finite
from minigrad.lazy_grad import LazyGrad
from minigrad.tensor import Tensor


def topological_order(root, include_constants=False):
    """Tensors that `root` depends on, each after all its inputs: those that require grad, or
    every tensor with include_constants=True (what a graph picture shows). Inputs are visited
    in their order, so the result is the same every run."""
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


def run_backward(root, grad, retain_graph=False):
    """Compute d root / d leaf for every leaf, accumulating into `.grad`. See module docstring."""
    if not root.requires_grad:
        raise RuntimeError("backward: this tensor does not require grad and has no grad_fn; "
                           "create a leaf with requires_grad=True (and compute outside mg.no_grad())")
    if function.tracer is not None:  # mg.compile refuses hooks, retain_grads, detect_anomaly
        function.tracer.check_backward(root)
    root._g = _seed(root, grad)
    root._g_owned = False
    epoch_now = versions.epoch
    keep_all = grad_mode.keep_grads
    anomaly = grad_mode.anomaly
    visits = grad_mode.visit_log  # None, or a list to report the visit order in (mg.record_visits)
    queue = []  # (-seq, tensor): a heap that pops the most recently created node first
    leaves = []
    if root.grad_fn is None:
        leaves.append(root)
    else:
        queue.append((-root.grad_fn.seq, root))
    try:
        while queue:
            tensor = heappop(queue)[1]
            if visits is not None:
                visits.append(tensor)
            fn = tensor.grad_fn
            if tensor._hooks is None and not (keep_all or tensor._retain) and (
                    fn.accepts_lazy or isinstance(tensor._g, np.ndarray)):
                grad = tensor._g  # the common case: nothing to materialize, call or keep
                tensor._g = None
            else:
                if function.tracer is not None:
                    function.tracer.refuse_hooks(tensor)
                keep = keep_all or tensor._retain
                grad, owned = _take_grad(tensor, fn.accepts_lazy and not keep)
                if keep:
                    _store_grad(tensor, grad, owned)
            if fn.epoch != epoch_now:
                _check_unmodified(fn)
            if fn.released:
                raise RuntimeError(
                    f"backward: trying to go through the graph a second time ({fn.name} node): "
                    f"its saved values were freed by the first backward; pass retain_graph=True "
                    f"to the first backward() if you need to call it twice")
            input_grads = fn.backward(grad)
            if not retain_graph:
                fn.saved = None  # free what forward kept, as the walk goes (no retain_graph)
                fn.released = True
            for parent, pgrad in zip(fn.inputs, input_grads):
                if pgrad is None or not parent.requires_grad:
                    continue
                data = parent.data
                if pgrad.shape != data.shape:
                    raise RuntimeError(f"internal error: {fn.name}.backward gave a gradient of shape "
                                       f"{pgrad.shape} for an input of shape {data.shape}")
                lazy = isinstance(pgrad, LazyGrad)
                if not lazy:
                    if not isinstance(pgrad, np.ndarray):  # numpy gives 0-d results as scalars
                        pgrad = np.asarray(pgrad)
                    if pgrad.dtype is not data.dtype and pgrad.dtype != data.dtype:
                        pgrad = pgrad.astype(data.dtype)
                if anomaly:
                    check_finite(pgrad.check_values() if lazy else pgrad, fn, fn.inputs, "backward",
                                 tensor.scope, grad, parent)
                if parent._g is None:  # its first gradient: keep it as it is, and schedule it
                    parent._g = pgrad
                    parent._g_owned = False
                    if parent.grad_fn is None:
                        leaves.append(parent)
                    else:
                        heappush(queue, (-parent.grad_fn.seq, parent))
                else:
                    _accumulate(parent, pgrad, lazy)
        if visits is not None:
            visits.extend(leaves)
        for leaf in leaves:  # all their uses are done: their gradients are complete
            grad, owned = _take_grad(leaf, False)
            _store_grad(leaf, grad, owned)
    finally:  # after an error, leave no half-summed gradient behind
        for _, tensor in queue:
            tensor._g = None
        for tensor in leaves:
            tensor._g = None


def _take_grad(tensor, lazy_ok):
    """The complete gradient of `tensor` (taken off it) after its hooks, and whether the
    array is the engine's own. A lazy gradient stays lazy only if `lazy_ok` and no hook
    will see it: users (hooks, `.grad`) always see dense Tensors."""
    grad, owned = tensor._g, tensor._g_owned
    tensor._g = None
    hooks = tensor._hooks
    if (hooks or not lazy_ok) and isinstance(grad, LazyGrad):
        grad, owned = _materialize(grad, tensor), True
    if hooks:
        for hook in list(hooks):
            replaced = hook(Tensor(grad))
            if replaced is not None:
                grad, owned = _check_hook_grad(replaced, tensor), False
    return grad, owned


def _check_unmodified(fn):
    """Raise if a leaf that `fn` read was changed in place after `fn` was built (versions.py)."""
    for t in fn.inputs:
        if t.grad_fn is None and t._modified_at > fn.epoch:
            raise RuntimeError(
                f"backward: the {fn.name} node reads a tensor of shape {t.shape} that was changed in "
                f"place (by an optimizer step, load_state_dict or nn.init) after the graph was built, "
                f"so its gradient would mix old and new values. Compute the loss again after the step; "
                f"a state carried from window to window needs .detach() (models.detach_state).")


def _accumulate(tensor, grad, lazy):
    """Sum `grad` into the pending gradient of `tensor` (the first one is kept as it is):
    add into an array of our own, never in place into an array another node may share."""
    pending = tensor._g
    if isinstance(pending, np.ndarray):  # (isinstance: mg.compile's traced arrays too)
        if tensor._g_owned:
            if lazy:
                grad.add_to(pending)
            else:
                pending += grad
        else:
            total = grad.add_to(pending.copy()) if lazy else pending + grad
            tensor._g = total if isinstance(total, np.ndarray) else np.asarray(total)  # 0-d: a scalar
            tensor._g_owned = True
    elif not (lazy and pending.absorb(grad)):  # two lazy parts that do not combine
        buffer = _materialize(pending, tensor)
        if lazy:
            grad.add_to(buffer)
        else:
            buffer += grad
        tensor._g, tensor._g_owned = buffer, True


def _materialize(grad, tensor):
    """A lazy gradient as a dense array of `tensor`'s dtype (a new array, ours to change)."""
    dense = grad.dense()
    return dense if dense.dtype == tensor.data.dtype else dense.astype(tensor.data.dtype)


def _store_grad(tensor, grad, owned):
    """Add a finished gradient to `tensor.grad`: the first one becomes a Tensor around an array
    that only `.grad` holds; later ones are added into that array in place."""
    if tensor._grad is None:
        tensor._grad = Tensor(grad if owned else grad.copy())
    else:
        tensor._grad.data += grad


def _seed(root, grad):
    data = root.data
    if grad is None:
        if data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implied only for a one-element output, but this tensor has "
                f"shape {root.shape}; reduce it first (e.g. .sum()) or pass gradient= of that shape")
        return np.ones(data.shape, data.dtype)
    if type(grad) is not np.ndarray or grad.dtype != data.dtype:
        grad = np.asarray(getattr(grad, "data", grad), dtype=data.dtype)
    if grad.shape != data.shape:
        raise ValueError(f"backward: gradient has shape {grad.shape} but the tensor has shape {root.shape}")
    return grad


def _check_hook_grad(grad, tensor):
    if not isinstance(grad, Tensor):
        raise TypeError(f"register_hook: a hook must return a Tensor or None, got {type(grad).__name__}")
    grad = grad.data
    if grad.shape != tensor.data.shape:
        raise ValueError(f"register_hook: the hook returned a gradient of shape {grad.shape} "
                         f"for a tensor of shape {tensor.shape}")
    return grad
