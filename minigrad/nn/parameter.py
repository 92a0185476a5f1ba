"""Parameter: a leaf tensor a Module learns (requires_grad on, found by `parameters()`)."""
import numpy as np

from minigrad.tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a module's weight: assigning one to a Module attribute registers it."""

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        if isinstance(data, Tensor):  # (not getattr(data, "data"): an ndarray's .data is its buffer)
            data = data.data
        data = data if isinstance(data, np.ndarray) else np.asarray(data, dtype=np.float32)
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
