"""Optimizer: the base class; holds parameter groups and per-parameter state."""
import copy
import numbers

import numpy as np

from minigrad.tensor import Tensor
from minigrad.versions import mark_modified


def grad_array(p):
    """p.grad as a numpy array (the Tensor's own, not a copy), or None. Optimizers read
    gradients only through this."""
    g = p.grad
    return None if g is None else g.data


def check_hyper(owner, **values):
    """Raise a clear error for the first hyper-parameter that is not a number >= 0."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
        if not value >= 0:  # (also refuses NaN)
            raise ValueError(f"{owner}: {name} must be >= 0, got {value}")


class Optimizer:
    """Subclasses implement `step()` using `self.param_groups` and `self.state[param]`.

    param_groups: list of dicts {"params": [...], hyper-parameters...}, as in PyTorch, so a
    learning rate can be changed with `for g in opt.param_groups: g["lr"] = 1e-4`.
    """

    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of tensors "
                            f"(e.g. model.parameters()), not a single tensor")
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.defaults = defaults
        self.param_groups = []
        self.state = {}
        for group in groups:
            group = {**defaults, **group, "params": list(group["params"])}
            for p in group["params"]:
                if not isinstance(p, Tensor) or not p.requires_grad:
                    raise TypeError(f"{type(self).__name__}: every parameter must be a tensor with "
                                    f"requires_grad=True")
            self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Clear gradients (to None by default, as PyTorch 2)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.data[...] = 0

    def step(self):
        raise NotImplementedError

    def _mark_stepped(self):
        """Stamp the parameters a step just changed in place (see minigrad/versions.py)."""
        mark_modified([p for p in self._params() if grad_array(p) is not None])

    def _params(self):
        return [p for g in self.param_groups for p in g["params"]]

    def state_dict(self):
        """{"state": {index: {name: array or number}}, "param_groups": [...]}, PyTorch's layout:
        parameters are referred to by their position, so the dict can be saved with mg.save."""
        index = {id(p): i for i, p in enumerate(self._params())}
        state = {str(index[id(p)]): {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
                 for p, s in ((p, self.state[p]) for p in self._params() if p in self.state)}
        groups = []
        for g in self.param_groups:
            groups.append({**{k: v for k, v in g.items() if k != "params"},
                           "params": [index[id(p)] for p in g["params"]]})
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore what `state_dict()` gave, so training resumes exactly."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(g["params"]) != len(own["params"]) for g, own in zip(groups, self.param_groups)):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the saved state has "
                             f"{[len(g['params']) for g in groups]} parameters per group, this optimizer "
                             f"{[len(g['params']) for g in self.param_groups]}")
        params = self._params()
        new_state = {}  # built in full before anything changes: a bad state leaves self as it was
        for key, s in state_dict["state"].items():
            p = params[int(key)]
            restored = {}
            for k, v in s.items():
                if isinstance(v, np.ndarray):
                    if v.ndim == 0 and (p.ndim > 0 or v.dtype.kind != "f"):
                        v = v.item()  # a number such as the step count
                    elif v.shape != p.shape:
                        raise ValueError(f"{type(self).__name__}.load_state_dict: state {k!r} of parameter "
                                         f"{key} has shape {v.shape}, the parameter {p.shape}")
                    else:  # (the buffers of a 0-d parameter are 0-d arrays, not numbers)
                        v = v.astype(p.dtype, copy=True)
                restored[k] = v
            new_state[p] = restored
        for g, own in zip(groups, self.param_groups, strict=True):
            own.update({k: copy.deepcopy(v) for k, v in g.items() if k != "params"})
        self.state = new_state
