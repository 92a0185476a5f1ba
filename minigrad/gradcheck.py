"""Gradient checking: backward's gradients against central finite differences in float64."""
import numpy as np

from minigrad.tensor import Tensor


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with its finite-difference estimate."""


def _outputs(result):
    if isinstance(result, Tensor):
        return [result]
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in _outputs(r)]
    raise TypeError(f"gradcheck: fn must return a tensor or a tuple of tensors, got {type(result).__name__}")


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check d fn / d input for every float input against central differences, in float64.

    fn(*inputs) returns a tensor (or a tuple of them); it is reduced to the scalar
    L = sum_k <out_k, R_k> with fixed random R_k, so one backward checks the whole Jacobian
    along R. Each input element x_i is nudged: dL/dx_i ~ (L(x_i + eps) - L(x_i - eps)) / 2 eps.

    Args:
        fn: a function of the inputs, built from minigrad ops.
        inputs: tensors or arrays; float ones are copied to float64 and checked (ints, such
            as class indices, are passed through unchanged).
    Returns:
        True when every element agrees within atol + rtol * |numeric|.
    Raises:
        GradcheckError naming the input, the worst element, and the analytic and numeric values.
    """
    inputs = list(inputs)
    checked = []
    for k, x in enumerate(inputs):
        data = x.data if isinstance(x, Tensor) else np.asarray(x)
        if data.dtype.kind == "f":
            inputs[k] = Tensor(data.astype(np.float64), requires_grad=True)
            checked.append(k)
        elif not isinstance(x, Tensor):
            inputs[k] = Tensor(data)
    if not checked:
        raise ValueError("gradcheck: no floating-point input to check")
    rng = np.random.default_rng(seed)
    projections = [rng.standard_normal(o.shape) for o in _outputs(fn(*inputs))]

    def scalar_loss():
        return sum(float((o.data.astype(np.float64) * r).sum())
                   for o, r in zip(_outputs(fn(*inputs)), projections))

    outs = _outputs(fn(*inputs))
    for o, r in zip(outs, projections):
        if o.requires_grad:
            o.backward(r, retain_graph=True)
    for k in checked:
        x = inputs[k]
        analytic = x.grad.data if x.grad is not None else np.zeros_like(x.data)
        numeric = np.zeros_like(x.data)
        flat = x.data.reshape(-1)  # a view: nudging it nudges the input
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            plus = scalar_loss()
            flat[i] = old - eps
            minus = scalar_loss()
            flat[i] = old
            numeric.reshape(-1)[i] = (plus - minus) / (2 * eps)
        error = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if (error > 0).any():
            worst = np.unravel_index(np.argmax(error), x.shape)
            raise GradcheckError(
                f"gradcheck: input {k} (shape {x.shape}): worst element {tuple(int(i) for i in worst)}: "
                f"analytic {analytic[worst]:.8g}, numeric {numeric[worst]:.8g} "
                f"(atol {atol}, rtol {rtol})")
    return True
