"""What every recurrent cell here shares: sizes, PyTorch's initialisation, input and state
checks, the zero initial state, and the split of one step into two halves.

A cell's step is written as two methods so that a sequence layer can batch the first:

    project_input(x)     the part of the gates that depends on x only (W_ih x + b);
                         a layer computes it for every time step of a window in one matmul
    step(x_proj, state)  the rest: the recurrence on the previous state, one time step

so `cell(x, state) == cell.step(cell.project_input(x), state)`, and each cell's equations
live in its own file, once.
"""
import math

import numpy as np

from minigrad import nn
from minigrad.nn import init
from minigrad.tensor import Tensor


def label(**tensors):
    """Name intermediate tensors for the graph renderer: label(i=i, f=f) sets i.name = "i"."""
    for name, tensor in tensors.items():
        tensor.name = name


def shape_str(shape):
    return "(" + ", ".join(str(n) for n in shape) + ")"


class RecurrentCell(nn.Module):
    """Base class of the cells. Subclasses create their parameters (then call
    `reset_parameters()`) and define `project_input` and `step`.

    Attributes:
        input_size, hidden_size: D and H.
        state_names: the parts of the state, ("h",) for a plain hidden state (which is then
            passed as a bare tensor) or e.g. ("h", "c") for a tuple (h, c).
    """

    state_names = ("h",)

    def __init__(self, input_size, hidden_size):
        super().__init__()
        for what, n in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(n, (int, np.integer)) or n <= 0:
                raise ValueError(f"{type(self).__name__}: {what} must be a positive int, got {n!r}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)

    def new_parameter(self, *shape):
        """An uninitialised float32 Parameter (`reset_parameters` fills it)."""
        return nn.Parameter(np.empty(shape, dtype=np.float32))

    def reset_parameters(self):
        """Every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)), as PyTorch's recurrent cells."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    @property
    def dtype(self):
        return next(self.parameters()).dtype

    # ------------------------------------------------------------------ one time step
    def forward(self, x, state=None):
        """One time step from the raw input.

        Args:
            x: (batch, input_size).
            state: the previous state, of shape (batch, hidden_size) each part; zeros if None.
        Returns:
            the new state (a tensor, or a tuple like `state_names`).
        """
        x = self.check_input(x)
        batch = x.shape[0]
        state = self.zero_state(batch) if state is None else self.check_state(state, batch)
        return self.step(self.project_input(x), state)

    def project_input(self, x):
        """x (N, input_size) -> the input's share of the gates, (N, gates * hidden_size)."""
        raise NotImplementedError(f"{type(self).__name__} must define project_input()")

    def step(self, x_proj, state):
        """(x_proj, state) -> new state: the recurrence of one time step."""
        raise NotImplementedError(f"{type(self).__name__} must define step()")

    # ------------------------------------------------------------------ state and checks
    def zero_state(self, batch):
        """The initial state when none is given: zeros of shape (batch, hidden_size)."""
        parts = tuple(Tensor(np.zeros((batch, self.hidden_size), dtype=self.dtype))
                      for _ in self.state_names)
        return parts[0] if len(parts) == 1 else parts

    def check_input(self, x, who=None):
        """x as a Tensor of shape (batch, input_size) and the parameters' dtype, or a clear error."""
        who = who or type(self).__name__
        x = as_tensor(x, who, "input")
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"{who}: input has shape {shape_str(x.shape)}, expected "
                             f"(batch, input_size) = (batch, {self.input_size})")
        check_dtype(x, self.dtype, who, "input")
        return x

    def check_state(self, state, batch, who=None):
        """state as a tensor or tuple of tensors, each (batch, hidden_size), or a clear error."""
        who = who or type(self).__name__
        parts = split_state(state, self.state_names, who)
        expected = (batch, self.hidden_size)
        for name, part in zip(self.state_names, parts, strict=True):
            if part.shape != expected:
                raise ValueError(f"{who}: state {name} has shape {shape_str(part.shape)}, expected "
                                 f"(batch, hidden_size) = {shape_str(expected)}")
            check_dtype(part, self.dtype, who, f"state {name}")
        return parts[0] if len(parts) == 1 else parts

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"


def as_tensor(x, who, what):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor(x)
    raise TypeError(f"{who}: {what} must be a tensor, got {type(x).__name__}")


def check_dtype(x, dtype, who, what):
    """No silent upcasts: an input must have the parameters' dtype, as in PyTorch."""
    if x.dtype != dtype:
        raise TypeError(f"{who}: {what} has dtype {x.dtype} but the parameters are {dtype}; "
                        f"convert the input (e.g. x.float()) or the model (.double())")


def split_state(state, names, who):
    """The parts of a state as a tuple of tensors, checking there is one part per name."""
    if len(names) == 1:
        if isinstance(state, (tuple, list)):
            raise TypeError(f"{who}: the state is one tensor {names[0]}, got a {type(state).__name__}")
        return (as_tensor(state, who, f"state {names[0]}"),)
    if not isinstance(state, (tuple, list)) or len(state) != len(names):
        raise TypeError(f"{who}: the state is a tuple ({', '.join(names)}), got {describe(state)}")
    return tuple(as_tensor(part, who, f"state {name}") for name, part in zip(names, state, strict=True))


def describe(value):
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"
