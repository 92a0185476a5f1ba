"""minigrad: a small PyTorch-like tensor library with reverse-mode autodiff, for teaching.

    import minigrad as mg
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    x.grad            # tensor([2., 4.]): a Tensor, as in PyTorch (x.grad.data is the array)
"""
from minigrad.tensor import Tensor
from minigrad.grad_mode import (no_grad, enable_grad, inference_mode, is_grad_enabled, set_grad_enabled, scope,
                                current_scope, retain_grads, detect_anomaly, record_visits)
from minigrad.creation import (tensor, zeros, ones, full, zeros_like, ones_like, randn, rand, randint,
                               arange, linspace, eye, from_numpy, manual_seed, generator,
                               float16, float32, float64, int32, int64, bool_)
from minigrad.functional_ops import *  # noqa: F403  (mg.tanh, mg.cat, ...: one per named line of ops.OPS)
from minigrad.function import Function, AnomalyError
from minigrad.gradcheck import gradcheck, GradcheckError
from minigrad.serialization import save, load, CheckpointError
from minigrad import nn, optim  # noqa: E402
from minigrad.compile import compile, CompileError  # noqa: E402,A004  (mg.compile, as torch.compile)

__version__ = "0.1.0"
