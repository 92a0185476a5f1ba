"""Functions of tensors used by layers and losses (as torch.nn.functional)."""
import warnings

import numpy as np

from minigrad.creation import generator
from minigrad.functional_ops import relu, sigmoid, tanh  # noqa: F401  (torch.nn.functional has them too)
from minigrad.ops import CrossEntropy, GetItem
from minigrad.tensor import Tensor


def softmax(input, dim=None):
    """exp(x) / sum exp(x) along `dim`, as torch.nn.functional.softmax (without dim: PyTorch's
    deprecated implicit choice, with its warning; see `implicit_softmax_dim`)."""
    x = _tensor(input, "softmax")
    return x.softmax(dim=implicit_softmax_dim(dim, x.ndim, "softmax"))


def log_softmax(input, dim=None):
    """x - logsumexp(x) along `dim`, as torch.nn.functional.log_softmax (dim as in `softmax`)."""
    x = _tensor(input, "log_softmax")
    return x.log_softmax(dim=implicit_softmax_dim(dim, x.ndim, "log_softmax"))


def implicit_softmax_dim(dim, ndim, name):
    """PyTorch's legacy choice when no dim is given: 0 for 0-, 1- and 3-d inputs, else 1 (warned:
    for a (T, B, V) input that is the time axis, not the last one)."""
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. "
                  f"Change the call to include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def _tensor(x, op):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor(x)
    raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")


def _indices(indices, op):
    """Integer class indices as a numpy array, with a clear error otherwise."""
    idx = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers, got dtype {idx.dtype}")
    return idx


def linear(x, weight, bias=None):
    """y = x W^T + b."""
    y = _tensor(x, "linear") @ weight.T
    return y if bias is None else y + bias


def one_hot(indices, num_classes, dtype=np.int64):
    """(..., ) integer indices -> (..., num_classes) one-hot tensor, a constant.

    PyTorch returns int64; pass dtype=mg.float32 to feed it straight into a matmul.
    """
    idx = _indices(indices, "one_hot")
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        bad = idx.max() if idx.max() >= num_classes else idx.min()
        raise ValueError(f"one_hot: index {bad} is out of range for {num_classes} classes")
    out = np.zeros(idx.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, idx[..., None], 1, axis=-1)
    return Tensor(out)


def embedding(indices, weight):
    """Rows of `weight` picked by integer `indices`: (...,) -> (..., embedding_dim)."""
    idx = _indices(indices, "embedding")
    n = weight.shape[0]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexError(f"embedding: index {bad} is out of range for {n} embeddings")
    return GetItem.apply(weight, index=idx)


# ---------------------------------------------------------------- losses
_REDUCTIONS = ("none", "mean", "sum")


def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's deprecated size_average/reduce flags mapped onto `reduction` (with its warning)."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
                  stacklevel=3)
    return reduction


def _check_reduction(reduction, op):
    """Refuse a reduction other than 'none', 'mean' and 'sum', naming the function."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")


def _float_tensor(x, op, what):
    """`x` as a tensor, refusing integer and bool dtypes (their softmax or mean is not a loss)."""
    x = _tensor(x, op)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected floating point {what}, got {x.dtype}")
    return x


def _class_inputs(scores, targets, ignore_index, reduction, op, what):
    """Check (N, C) scores against (N,) integer targets, or the unbatched (C,) against a 0-d
    target; returns the scores as (N, C), the targets as (N,) and whether it was unbatched.

    Targets equal to `ignore_index` are skipped by the range check, as in PyTorch.
    """
    t = _indices(targets, op)
    unbatched = scores.ndim == 1
    if unbatched:
        if t.ndim != 0:
            raise ValueError(f"{op}: unbatched {what} of shape {scores.shape} need a 0-d target, "
                             f"got shape {t.shape}")
        scores, t = scores.reshape(1, scores.shape[0]), t.reshape(1)
    elif scores.ndim != 2:
        raise ValueError(f"{op}: {what} must have shape (N, C), got {scores.shape} "
                         f"(or (C,) for one unbatched sample)")
    n, c = scores.shape
    if t.shape != (n,):
        raise ValueError(f"{op}: targets must have shape ({n},) to match {what} {scores.shape}, got {t.shape}")
    if n == 0 and reduction == "mean":
        raise ValueError(f"{op}: empty batch (N = 0): the mean of no losses is 0/0")
    ignored = t == ignore_index
    used = t[~ignored] if ignored.any() else t
    if used.size and (used.min() < 0 or used.max() >= c):
        bad = used.max() if used.max() >= c else used.min()
        raise ValueError(f"{op}: target {bad} is out of range for {c} classes")
    return scores, t, unbatched


def _class_weight(weight, c, dtype, op):
    """The per-class rescaling weight as a constant array of the scores' dtype (or None)."""
    if weight is None:
        return None
    w = np.asarray(weight.data if isinstance(weight, Tensor) else weight, dtype=dtype)
    if w.shape != (c,):
        raise ValueError(f"{op}: weight must have shape ({c},), one value per class, got {w.shape}")
    return w


def _weighted_nll(log_probs, t, weight, ignore_index, reduction, label_smoothing=0.0):
    """The shared body of nll_loss and cross_entropy, for (N, C) log-probabilities.

    Per sample, with m_n = [t_n != ignore_index], w_c the class weights (1 without `weight`)
    and eps = label_smoothing:

        l_n = m_n * ( (1 - eps) * w_{t_n} (-log p_{n,t_n}) + (eps / C) * sum_c w_c (-log p_{n,c}) )

    'none' returns l (ignored samples 0), 'sum' returns sum_n l_n and 'mean' returns
    sum_n l_n / sum_n m_n w_{t_n}: the weighted mean, nan when every target is ignored.
    For 'sum' and 'mean' only the kept rows are indexed, so ignored rows get a zero gradient
    even when the mean is nan (as in PyTorch).
    """
    dtype, c = log_probs.dtype, log_probs.shape[1]
    keep = t != ignore_index
    if reduction != "none" and not keep.all():      # drop the ignored rows before reducing
        log_probs, t = log_probs[np.flatnonzero(keep)], t[keep]
        keep = np.ones(len(t), dtype=bool)
    safe = np.where(keep, t, 0)                      # an ignored target may be out of range
    w_t = (np.ones(len(t), dtype) if weight is None else weight[safe]) * keep
    losses = -log_probs[np.arange(len(t)), safe]
    if weight is not None or not keep.all():
        losses = losses * Tensor(w_t)
    if label_smoothing > 0:
        smooth = -(log_probs if weight is None else log_probs * Tensor(weight)).sum(axis=1)
        if not keep.all():
            smooth = smooth * Tensor(keep.astype(dtype))
        losses = (1.0 - label_smoothing) * losses + (label_smoothing / c) * smooth
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    weight_sum = w_t.sum()
    return total * Tensor(np.asarray(1.0 / weight_sum if weight_sum != 0 else np.nan, dtype=dtype))


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy of class-index targets under softmax(input), as torch.nn.functional.cross_entropy.

    With p_n = softmax(x_n), per sample l_n = -w_{t_n} log p_{n,t_n} (w = weight, 1 by default);
    targets equal to ignore_index count 0. label_smoothing eps mixes in the uniform target:
    l_n = (1 - eps) l_n + (eps / C) sum_c w_c (-log p_{n,c}). 'mean' divides the sum by the
    sum of w_{t_n} over the kept targets (so with no weight and nothing ignored it is the plain
    mean over N); 'sum' adds; 'none' returns the (N,) losses.

    The plain case (mean, no weight, nothing ignored, no smoothing) is one fused op whose
    gradient is (softmax - onehot) / N; the others compose log_softmax, indexing and sums.

    Args:
        input: logits (N, C), or (C,) for one unbatched sample; floating point.
        target: class indices (N,) (or 0-d), integers in [0, C) or ignore_index.
        weight: optional (C,) rescaling weight per class (a constant).
        size_average, reduce: PyTorch's deprecated flags; use `reduction`.
        ignore_index: a target value that contributes neither loss nor gradient.
        reduction: 'mean', 'sum' or 'none'.
        label_smoothing: eps in [0, 1].
    Returns:
        A scalar tensor, or the per-sample losses for reduction='none'.
    """
    op = "cross_entropy"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    logits = _float_tensor(input, op, "logits")
    logits2d, t, unbatched = _class_inputs(logits, target, ignore_index, reduction, op, "logits")
    weight = _class_weight(weight, logits2d.shape[1], logits.dtype, op)
    if (reduction == "mean" and weight is None and label_smoothing == 0
            and not (t == ignore_index).any()):
        return CrossEntropy.apply(logits2d, targets=t)
    loss = _weighted_nll(logits2d.log_softmax(axis=1), t, weight, ignore_index, reduction, label_smoothing)
    return loss.reshape(()) if unbatched and reduction == "none" else loss


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of class-index targets given log-probabilities, as
    torch.nn.functional.nll_loss: l_n = -w_{t_n} input[n, t_n], 0 for ignored targets.

    nll_loss(log_softmax(x, 1), t) equals cross_entropy(x, t) for every weight, ignore_index
    and reduction ('mean' divides by the sum of w_{t_n} over the kept targets).

    Args:
        input: log-probabilities (N, C), or (C,) unbatched; floating point.
        target: class indices (N,) (or 0-d), integers in [0, C) or ignore_index.
        weight: optional (C,) rescaling weight per class (a constant).
        size_average, reduce: PyTorch's deprecated flags; use `reduction`.
        ignore_index: a target value that contributes neither loss nor gradient.
        reduction: 'mean', 'sum' or 'none'.
    Returns:
        A scalar tensor, or the per-sample losses for reduction='none'.
    """
    op = "nll_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    log_probs = _float_tensor(input, op, "input")
    log_probs2d, t, unbatched = _class_inputs(log_probs, target, ignore_index, reduction, op, "input")
    weight = _class_weight(weight, log_probs2d.shape[1], log_probs.dtype, op)
    loss = _weighted_nll(log_probs2d, t, weight, ignore_index, reduction)
    return loss.reshape(()) if unbatched and reduction == "none" else loss


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Squared error l_i = w_i (x_i - y_i)^2, as torch.nn.functional.mse_loss.

    'mean' is sum_i l_i / n (sum_i l_i / sum_i w_i with a weight), 'sum' adds, 'none' returns l.

    Args:
        input: floating-point tensor.
        target: tensor or array of the same shape (may require grad).
        size_average, reduce: PyTorch's deprecated flags; use `reduction`.
        reduction: 'mean', 'sum' or 'none'.
        weight: optional weights of the input's shape.
    Returns:
        A scalar tensor, or the elementwise losses for reduction='none'.
    """
    op = "mse_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    input = _float_tensor(input, op, "input")
    target = target if isinstance(target, Tensor) else Tensor(np.asarray(target, dtype=input.dtype))
    if input.shape != target.shape:
        raise ValueError(f"mse_loss: input {input.shape} and target {target.shape} differ in shape")
    diff = input - target
    losses = diff * diff
    if weight is not None:
        weight = weight if isinstance(weight, Tensor) else Tensor(np.asarray(weight, dtype=input.dtype))
        if weight.shape != input.shape:
            raise ValueError(f"mse_loss: weight {weight.shape} and input {input.shape} differ in shape")
        losses = losses * weight
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.mean() if weight is None else losses.sum() / weight.sum()


def dropout(x, p=0.5, training=True):
    """Zero each element with probability p and scale the rest by 1/(1-p) (identity when not training)."""
    if not training or p == 0.0:
        return x
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout: p must be in [0, 1), got {p}")
    keep = generator().random(x.shape) >= p
    return x * Tensor((keep / (1.0 - p)).astype(x.dtype))
