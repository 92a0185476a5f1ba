"""What every recurrent cell here shares: sizes, PyTorch's initialisation, input and state
checks, the zero initial state, and the split of one step into two halves.

A cell's step is written as two methods so that a sequence layer can batch the first:

    project_input(x)     the part of the gates that depends on x only (W_ih x + b);
                         a layer computes it for every time step of a window in one matmul
    step(x_proj, state)  the rest: the recurrence on the previous state, one time step

so `cell(x, state) == cell.step(cell.project_input(x), state)`, and each cell's equations
live in its own file, once.

As in torch, `forward(input, hx=None)` also takes one unbatched sample: x (input_size,) and
a state of (hidden_size,) parts give a state of (hidden_size,) parts (run as a batch of one).
"""
import math

import numpy as np

from minigrad import nn
from minigrad.creation import check_device
from minigrad.nn import init
from minigrad.tensor import Tensor


def label(**tensors):
    """Name intermediate tensors for the graph renderer: label(i=i, f=f) sets i.name = "i"."""
    for name, tensor in tensors.items():
        tensor.name = name


def shape_str(shape):
    """(2, 3) as "(2, 3)" and (4,) as "(4,)", as Python writes tuples."""
    return str(tuple(int(n) for n in shape))


class RecurrentCell(nn.Module):
    """Base class of the cells. Subclasses create their parameters (then call
    `reset_parameters()`) and define `project_input` and `step`.

    Attributes:
        input_size, hidden_size: D and H.
        state_names: the parts of the state, ("h",) for a plain hidden state (which is then
            passed as a bare tensor) or e.g. ("h", "c") for a tuple (h, c).
    """

    state_names = ("h",)

    def __init__(self, input_size, hidden_size, device=None, dtype=None):
        super().__init__()
        who = type(self).__name__
        for what, n in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(n, (int, np.integer)) or n <= 0:
                raise ValueError(f"{who}: {what} must be a positive int, got {n!r}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        check_device(device, who)
        self._new_dtype = parameter_dtype(dtype, who)

    def new_parameter(self, *shape):
        """An uninitialised Parameter of the constructor's dtype (`reset_parameters` fills it)."""
        return nn.Parameter(np.empty(shape, dtype=self._new_dtype))

    def reset_parameters(self):
        """Every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)), as PyTorch's recurrent cells."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    @property
    def dtype(self):
        return next(self.parameters()).dtype

    # ------------------------------------------------------------------ one time step
    def forward(self, input, hx=None, *, state=None):
        """One time step from the raw input, as torch's cells: forward(input, hx=None).

        Args:
            input: x (batch, input_size), or one unbatched sample (input_size,).
            hx: the previous state, each part (batch, hidden_size), or (hidden_size,) for an
                unbatched x; zeros if None. `state=` is the same argument under its older name.
        Returns:
            the new state (a tensor, or a tuple like `state_names`), batched as x.
        """
        who = type(self).__name__
        hx = pick_state(hx, state, "state", who)
        x = self.check_input(input)
        if x.ndim == 2:
            batch = x.shape[0]
            hx = self.zero_state(batch) if hx is None else self.check_state(hx, batch)
            return self.step(self.project_input(x), hx)
        # unbatched: run as a batch of one, then drop the batch axis again
        H = self.hidden_size
        hx = self.zero_state(1) if hx is None else one_row(self.check_state(hx, None), H)
        new = self.step(self.project_input(x.reshape(1, self.input_size)), hx)
        return drop_row(new, H)

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
        """x as a Tensor of shape (batch, input_size) or (input_size,) and the parameters'
        dtype, or a clear error."""
        who = who or type(self).__name__
        x = as_tensor(x, who, "input")
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{who}: input has shape {shape_str(x.shape)}, expected "
                             f"(batch, input_size) = (batch, {self.input_size}), or unbatched "
                             f"(input_size,) = ({self.input_size},)")
        check_dtype(x, self.dtype, who, "input")
        return x

    def check_state(self, state, batch, who=None):
        """state as a tensor or tuple of tensors, each (batch, hidden_size), or each
        (hidden_size,) for batch None (an unbatched input), or a clear error."""
        who = who or type(self).__name__
        parts = split_state(state, self.state_names, who)
        expected = (self.hidden_size,) if batch is None else (batch, self.hidden_size)
        for name, part in zip(self.state_names, parts, strict=True):
            if part.ndim != len(expected):
                kind = "unbatched 1-D" if batch is None else "batched 2-D"
                raise ValueError(f"{who}: for {kind} input, state {name} should also be {len(expected)}-D "
                                 f"but got a {part.ndim}-D tensor of shape {shape_str(part.shape)}")
            if part.shape != expected:
                layout = "(hidden_size,)" if batch is None else "(batch, hidden_size)"
                raise ValueError(f"{who}: state {name} has shape {shape_str(part.shape)}, expected "
                                 f"{layout} = {shape_str(expected)}")
            check_dtype(part, self.dtype, who, f"state {name}")
        return parts[0] if len(parts) == 1 else parts

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"


def one_row(state, H):
    """An unbatched state (parts of shape (H,)) as a batch of one (parts (1, H))."""
    if isinstance(state, tuple):
        return tuple(part.reshape(1, H) for part in state)
    return state.reshape(1, H)


def drop_row(state, H):
    """A batch-of-one state back to unbatched (H,) parts, keeping the parts' names (h, c)."""
    parts = state if isinstance(state, tuple) else (state,)
    flat = tuple(part.reshape(H) for part in parts)
    for part, row in zip(parts, flat, strict=True):
        row.name = part.name
    return flat if isinstance(state, tuple) else flat[0]


def pick_state(hx, alias, alias_name, who):
    """The state given as hx (torch's name), or under the older keyword `alias_name`."""
    if alias is None:
        return hx
    if hx is not None:
        raise TypeError(f"{who}: the state is given twice, as hx and as {alias_name}=; give one")
    return alias


def parameter_dtype(dtype, who):
    """The parameters' dtype from a constructor's dtype= (None: float32, torch's default)."""
    if dtype is None:
        return np.dtype(np.float32)
    try:
        found = np.dtype(dtype)
    except (TypeError, ValueError):
        found = None
    if found not in (np.float32, np.float64):
        raise TypeError(f"{who}: dtype must be float32 or float64 (mg.float32, mg.float64), got {dtype!r}")
    return found


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
