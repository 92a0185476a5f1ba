"""Making tensors: from data, filled, random; and the global random seed."""
import numpy as np

from minigrad.tensor import Tensor

float32, float64, float16 = np.float32, np.float64, np.float16
int32, int64, bool_ = np.int32, np.int64, np.bool_

_rng = np.random.default_rng()


def manual_seed(seed):
    """Seed the generator behind randn, rand, parameter initialisation and dropout."""
    global _rng
    _rng = np.random.default_rng(seed)
    return _rng


def generator():
    """The numpy Generator minigrad draws its random numbers from."""
    return _rng


def _dtype(dtype, op):
    if dtype is None:
        return None
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: {dtype!r} is not a dtype; use e.g. mg.float32, mg.float64, "
                        f"'float64' or mg.int64") from None


def check_device(device, who):
    """minigrad computes with numpy on the CPU: `device=` may be None or "cpu" only (no CUDA,
    no MPS; the argument exists so that code written for PyTorch runs or fails clearly)."""
    if device is not None and str(device) != "cpu":
        raise ValueError(f"{who}: minigrad runs on the CPU only (numpy arrays): device must be None "
                         f"or 'cpu', got {device!r}")


def device_and_dtype(args, dtype, device, who):
    """torch's `.to(dtype)`, `.to(device)`, `.to(device, dtype)` arguments as (dtype or None),
    with the device checked (only "cpu")."""
    for arg in args:
        if isinstance(arg, str) and arg.split(":")[0] in ("cpu", "cuda", "mps", "meta", "xpu"):
            device = arg
        else:
            dtype = arg
    check_device(device, who)
    return dtype


def tensor(data, requires_grad=False, dtype=None, device=None):
    """A new leaf tensor holding a copy of `data` (like torch.tensor).

    Python floats become float32 (PyTorch's default), Python ints int64; numpy arrays keep
    their dtype unless `dtype` is given.
    """
    check_device(device, "tensor")
    dtype = _dtype(dtype, "tensor")
    if isinstance(data, Tensor):
        data = data.data
    if dtype is None and not isinstance(data, np.ndarray):
        array = np.array(data)
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        elif array.dtype.kind in "OUS":
            raise TypeError(f"tensor: cannot make a numeric tensor from {type(data).__name__} data")
    else:
        array = np.array(data, dtype=dtype)
    return Tensor(array, requires_grad=requires_grad)


def _shape(shape, size=None, op=None):
    """A shape given as f(2, 3), f((2, 3)) or, as torch also takes it, f(size=(2, 3))."""
    if size is not None:
        if shape:
            raise TypeError(f"{op}: give the shape as positional sizes or as size=, not both")
        shape = (size,)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def zeros(*shape, size=None, dtype=np.float32, requires_grad=False, device=None):
    check_device(device, "zeros")
    return Tensor(np.zeros(_shape(shape, size, "zeros"), dtype=_dtype(dtype, "zeros")), requires_grad)


def ones(*shape, size=None, dtype=np.float32, requires_grad=False, device=None):
    check_device(device, "ones")
    return Tensor(np.ones(_shape(shape, size, "ones"), dtype=_dtype(dtype, "ones")), requires_grad)


def full(shape, value, dtype=np.float32, requires_grad=False, device=None):
    check_device(device, "full")
    return Tensor(np.full(_shape((shape,)), value, dtype=_dtype(dtype, "full")), requires_grad)


def zeros_like(t, dtype=None, requires_grad=False, device=None):
    check_device(device, "zeros_like")
    return Tensor(np.zeros_like(np.asarray(getattr(t, "data", t)), dtype=_dtype(dtype, "zeros_like")),
                  requires_grad)


def ones_like(t, dtype=None, requires_grad=False, device=None):
    check_device(device, "ones_like")
    return Tensor(np.ones_like(np.asarray(getattr(t, "data", t)), dtype=_dtype(dtype, "ones_like")),
                  requires_grad)


def randn(*shape, size=None, dtype=np.float32, requires_grad=False, device=None):
    """Standard normal samples."""
    check_device(device, "randn")
    shape = _shape(shape, size, "randn")
    return Tensor(_rng.standard_normal(shape).astype(_dtype(dtype, "randn")), requires_grad)


def rand(*shape, size=None, dtype=np.float32, requires_grad=False, device=None):
    """Uniform samples in [0, 1)."""
    check_device(device, "rand")
    return Tensor(_rng.random(_shape(shape, size, "rand")).astype(_dtype(dtype, "rand")), requires_grad)


def randint(low, high=None, size=None, dtype=np.int64, device=None):
    """Random integers in [low, high) of shape `size` (int64): randint(high, size) or
    randint(low, high, size), as torch."""
    check_device(device, "randint")
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint: missing the size, e.g. mg.randint(0, 10, (3,))")
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    shape = _shape((size,))
    return Tensor(_rng.integers(low, high, shape).astype(_dtype(dtype, "randint")))


def linspace(start, end, steps, dtype=np.float32, requires_grad=False, device=None):
    """`steps` evenly spaced values from start to end, both included."""
    check_device(device, "linspace")
    return Tensor(np.linspace(start, end, steps, dtype=_dtype(dtype, "linspace")), requires_grad)


def eye(n, m=None, dtype=np.float32, requires_grad=False, device=None):
    """The n x m (n x n) matrix with ones on the diagonal."""
    check_device(device, "eye")
    return Tensor(np.eye(n, m, dtype=_dtype(dtype, "eye")), requires_grad)


def from_numpy(array):
    """A tensor sharing the memory of the numpy array (and its dtype), as torch.from_numpy:
    changing one changes the other."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy array, got {type(array).__name__}")
    return Tensor(array)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """Evenly spaced values in [start, end) (int64 for int arguments, else float32)."""
    check_device(device, "arange")
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else np.float32
    return Tensor(np.arange(start, end, step, dtype=_dtype(dtype, "arange")), requires_grad)
