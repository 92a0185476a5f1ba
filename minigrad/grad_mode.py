"""Global switches of the autodiff engine: grad recording, scopes, kept gradients, anomaly checks,
and a log of the order backward visits the tensors in.

Each switch is a plain module global read once per op, so an unused switch costs one lookup.
The switches are process-wide (like PyTorch's, they are not meant to be flipped from threads).
"""
import contextlib

enabled = True       # record graphs (off inside `no_grad`)
scope_name = None    # current scope string, e.g. "layer0/t3"; tags every node created inside
keep_grads = False   # backward stores .grad on every intermediate tensor too
anomaly = False      # check every forward and backward result for NaN / inf
visit_log = None     # a list: backward appends each tensor it visits (`record_visits`); read once per backward


class _Switch(contextlib.ContextDecorator):
    """A context manager (and decorator) that sets one global and restores it on exit."""

    def __init__(self, attr, value):
        self.attr, self.value = attr, value
        self._saved = []

    def __enter__(self):
        self._saved.append(globals()[self.attr])
        globals()[self.attr] = self.value
        return self

    def __exit__(self, *exc):
        globals()[self.attr] = self._saved.pop()
        return False


def no_grad(func=None):
    """Context manager and decorator: ops inside record no graph (inference, optimizer steps).

    >>> with mg.no_grad():
    ...     y = model(x)        # y.requires_grad is False
    >>> @mg.no_grad             # or @mg.no_grad(), as in PyTorch
    ... def evaluate(model): ...
    """
    switch = _Switch("enabled", False)
    return switch if func is None else switch(func)


def enable_grad(func=None):
    """Context manager and decorator: turn graph recording back on inside `no_grad`."""
    switch = _Switch("enabled", True)
    return switch if func is None else switch(func)


inference_mode = no_grad  # PyTorch's faster no_grad; in minigrad the two are the same


def is_grad_enabled():
    """True when ops record the graph for backward."""
    return enabled


class set_grad_enabled:
    """Recording on or off as `mode` says, as PyTorch's: called as a function it switches at
    once (`mg.set_grad_enabled(False)`); as a context manager it also restores the mode on exit;
    as a decorator it switches only while the function runs."""

    def __init__(self, mode):
        global enabled
        self.previous, self.mode = enabled, bool(mode)
        enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global enabled
        enabled = self.previous
        return False

    def __call__(self, func):
        global enabled
        enabled = self.previous  # decorating changes nothing until the function runs
        return _Switch("enabled", self.mode)(func)


def scope(name):
    """Tag every node created inside with a scope, nested with "/": `with mg.scope("layer0/t3"):`.

    The graph renderer groups nodes by scope (one cluster per time step, say).
    """
    return _Scope(str(name))


class _Scope(_Switch):
    """A scope joins its name to the scope current when it is entered (not when it was made),
    so `@mg.scope("cell")` on a function nests inside whatever scope calls it."""

    def __init__(self, name):
        super().__init__("scope_name", None)
        self.name = name

    def __enter__(self):
        outer = globals()["scope_name"]
        self.value = self.name if outer is None else f"{outer}/{self.name}"
        return super().__enter__()


def current_scope():
    """The scope string new nodes are tagged with, or None."""
    return scope_name


def retain_grads():
    """Context manager: backward run inside stores `.grad` on every intermediate tensor.

    Off by default so training keeps memory low; the graph renderer turns it on to colour
    a graph by gradient magnitude. Model code needs no change:

    >>> with mg.retain_grads():
    ...     loss = model(x).sum(); loss.backward()
    >>> hidden.grad   # an intermediate's gradient, kept
    """
    return _Switch("keep_grads", True)


def detect_anomaly():
    """Context manager: the first op whose forward or backward yields NaN or inf raises
    `FloatingPointError` (an `AnomalyError`, function.py) naming the op, its scope and its
    input shapes, and whether the op "produced" the NaN from finite values or "received" it
    (which input, and whether that is a leaf: a user input, constant or parameter). The
    recurrent layers (models/layers.py) add the time step, or name the initial state."""
    return _Switch("anomaly", True)


def record_visits():
    """Context manager: backward run inside appends every tensor it visits to a list, in the
    engine's own order, and `as` gives that list. The root comes first; each tensor made by an
    op comes when its gradient is complete, just before its op's backward runs (the most
    recently created first, see minigrad/autograd.py); the leaves come last, in the order they
    got their first gradient. `viz.animate_backward` draws the walk in this order.

    >>> with mg.record_visits() as visits:
    ...     loss.backward()
    >>> visits[0] is loss
    True

    The list keeps the tensors (and their graph) alive; several backward calls inside append
    to the same list. A nested `record_visits` takes the visits until it exits.
    """
    return _VisitLog()


class _VisitLog(_Switch):
    def __init__(self):
        super().__init__("visit_log", None)

    def __enter__(self):
        self.value = []
        super().__enter__()
        return self.value
