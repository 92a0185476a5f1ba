"""Functions of tensors used by layers and losses (as torch.nn.functional)."""
import numpy as np

from minigrad.creation import generator
from minigrad.ops import CrossEntropy, GetItem
from minigrad.tensor import Tensor


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


def tanh(x):
    return x.tanh()


def sigmoid(x):
    return x.sigmoid()


def relu(x):
    return x.relu()


def softmax(x, axis=-1, dim=None):
    return x.softmax(axis, dim=dim)


def log_softmax(x, axis=-1, dim=None):
    return x.log_softmax(axis, dim=dim)


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


def cross_entropy(logits, targets):
    """Mean over N of -log softmax(logits_n)[targets_n]; logits (N, C), targets (N,) ints.

    One fused op: its gradient is (softmax - onehot) / N, exact and stable.
    """
    logits = _tensor(logits, "cross_entropy")
    t = _indices(targets, "cross_entropy")
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, C), got {logits.shape}")
    n, c = logits.shape
    if t.shape != (n,):
        raise ValueError(f"cross_entropy: targets must have shape ({n},) to match logits {logits.shape}, "
                         f"got {t.shape}")
    if n == 0:
        raise ValueError("cross_entropy: empty batch (N = 0)")
    if t.min() < 0 or t.max() >= c:
        bad = t.max() if t.max() >= c else t.min()
        raise ValueError(f"cross_entropy: target {bad} is out of range for {c} classes")
    return CrossEntropy.apply(logits, targets=t)


def nll_loss(log_probs, targets):
    """Mean over N of -log_probs[n, targets_n]."""
    t = _indices(targets, "nll_loss")
    return -(log_probs[np.arange(len(t)), t].mean())


def mse_loss(input, target):
    """Mean of (input - target)^2."""
    target = target if isinstance(target, Tensor) else Tensor(np.asarray(target, dtype=input.dtype))
    if input.shape != target.shape:
        raise ValueError(f"mse_loss: input {input.shape} and target {target.shape} differ in shape")
    diff = input - target
    return (diff * diff).mean()


def dropout(x, p=0.5, training=True):
    """Zero each element with probability p and scale the rest by 1/(1-p) (identity when not training)."""
    if not training or p == 0.0:
        return x
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout: p must be in [0, 1), got {p}")
    keep = generator().random(x.shape) >= p
    return x * Tensor((keep / (1.0 - p)).astype(x.dtype))
