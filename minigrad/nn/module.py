"""Module: the base class of layers and models, as `torch.nn.Module`.

Assigning a Parameter or a Module to an attribute registers it, so `parameters()`,
`state_dict()` and `zero_grad()` find every weight of a model, with dotted names.
"""
from collections import namedtuple

import numpy as np

from minigrad.nn.parameter import Parameter
from minigrad.versions import mark_modified

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Subclass, create parameters and submodules in __init__, compute in forward."""

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning "
                                 f"attributes in __init__")
        params, modules = self.__dict__["_parameters"], self.__dict__["_modules"]
        params.pop(name, None)
        modules.pop(name, None)
        if isinstance(value, Parameter):
            params[name] = value
        elif isinstance(value, Module):
            modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Register `param` (a Parameter or None, for an absent bias) under `name`."""
        if param is None:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def add_module(self, name, module):
        setattr(self, name, module)

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    # ------------------------------------------------------------------ traversal
    def named_parameters(self, prefix=""):
        """(dotted name, parameter) for every parameter of this module and its submodules."""
        seen = set()
        for module_prefix, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{module_prefix}.{name}" if module_prefix else name), p

    def parameters(self):
        for _, p in self.named_parameters():
            yield p

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        yield from self._modules.items()

    def children(self):
        yield from self._modules.values()

    # ------------------------------------------------------------------ training
    def zero_grad(self, set_to_none=True):
        """Clear the gradients of all parameters (to None, as PyTorch does by default)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.data[...] = 0

    def train(self, mode=True):
        """Training mode (dropout active) for this module and all submodules; returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode (dropout off); returns self."""
        return self.train(False)

    def float(self):
        return self._cast(np.float32)

    def double(self):
        return self._cast(np.float64)

    def to(self, *args, dtype=None, device=None):
        """model.to(dtype) / model.to("cpu") / model.to("cpu", dtype), as torch; returns self.
        minigrad runs on the CPU only, so any other device is an error."""
        from minigrad.creation import device_and_dtype
        dtype = device_and_dtype(args, dtype, device, f"{type(self).__name__}.to")
        return self if dtype is None else self._cast(np.dtype(dtype))

    def cpu(self):
        return self

    def cuda(self, *args, **kwargs):
        raise RuntimeError(f"{type(self).__name__}.cuda: minigrad runs on the CPU only (numpy arrays); "
                           f"drop .cuda() / .to('cuda') and the code runs as it is")

    def _cast(self, dtype):
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = None
        return self

    # ------------------------------------------------------------------ state
    def state_dict(self):
        """{dotted name: numpy array copy} of every parameter (copies, so a saved state
        does not change as training goes on)."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into the parameters, in place (an optimizer keeps working).

        Accepts anything `np.asarray` takes as values (arrays, tensors, nested lists).
        With strict=True, missing, unexpected or mis-shaped keys raise one KeyError/ValueError
        listing them all. Returns (missing_keys, unexpected_keys).
        """
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        values, mis_shaped = {}, []
        for name, p in own.items():
            if name in state_dict:
                value = np.asarray(getattr(state_dict[name], "data", state_dict[name]))
                if value.shape != p.shape:
                    mis_shaped.append(f"{name}: expected {p.shape}, got {value.shape}")
                values[name] = value
        if mis_shaped or (strict and (missing or unexpected)):
            lines = [f"load_state_dict: the state does not fit {type(self).__name__}:"]
            if missing:
                lines.append(f"  missing keys: {', '.join(missing)}")
            if unexpected:
                lines.append(f"  unexpected keys: {', '.join(unexpected)}")
            if mis_shaped:
                lines.append("  wrong shapes: " + "; ".join(mis_shaped))
            raise ValueError("\n".join(lines))
        for name, value in values.items():
            own[name].data[...] = value
        mark_modified([own[name] for name in values])
        return IncompatibleKeys(missing, unexpected)

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        if self._modules:
            for name, child in self._modules.items():
                child_repr = repr(child).replace("\n", "\n  ")
                lines.append(f"  ({name}): {child_repr}")
            return lines[0] + "\n" + "\n".join(lines[1:]) + "\n)"
        return lines[0] + ")"

    def extra_repr(self):
        return ""


class ModuleList(Module):
    """A list of modules, each registered (named "0", "1", ...)."""

    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module):
        setattr(self, str(len(self._modules)), module)
        return self

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules.values()))


class Sequential(ModuleList):
    """Modules applied one after another: Sequential(a, b)(x) == b(a(x))."""

    def __init__(self, *modules):
        super().__init__(modules)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x
