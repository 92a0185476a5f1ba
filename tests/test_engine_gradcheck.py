"""mg.gradcheck itself: it passes right gradients and catches wrong ones, naming input and element."""
import re

import numpy as np
import pytest

import minigrad as mg


class Square(mg.Function):
    """y = x^2 with a correct backward."""

    def forward(self, x):
        self.saved = x
        return x * x

    def backward(self, grad):
        return (2 * grad * self.saved,)


class SquareForgetsTheTwo(Square):
    def backward(self, grad):
        return (grad * self.saved,)


class SquareWrongAtOneElement(Square):
    """Right everywhere except element (1, 2)."""

    def backward(self, grad):
        g = 2 * grad * self.saved
        g[1, 2] += 0.5
        return (g,)


class MulWrongSecondInput(mg.Function):
    """y = a * b, with dL/db off by a sign."""

    def forward(self, a, b):
        self.saved = (a, b)
        return a * b

    def backward(self, grad):
        a, b = self.saved
        return grad * b, -grad * a


def _x(shape=(2, 3), seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def test_correct_backward_passes():
    assert mg.gradcheck(lambda x: Square.apply(x), [_x()]) is True
    assert mg.gradcheck(lambda a, b: a * b, [_x(), _x(seed=1)]) is True


def test_wrong_backward_raises_naming_the_input():
    with pytest.raises(mg.GradcheckError, match=r"input 0 \(shape \(2, 3\)\)"):
        mg.gradcheck(lambda x: SquareForgetsTheTwo.apply(x), [_x()])


def test_wrong_element_is_named_with_analytic_and_numeric_values():
    x = _x()
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda t: SquareWrongAtOneElement.apply(t), [x])
    message = str(info.value)
    assert "input 0" in message and "worst element (1, 2)" in message
    analytic, numeric = (float(v) for v in re.search(r"analytic (\S+), numeric (\S+) ", message).groups())
    assert analytic - numeric != pytest.approx(0.0, abs=1e-3)


def test_wrong_gradient_of_second_input_is_attributed_to_it():
    with pytest.raises(mg.GradcheckError, match="input 1"):
        mg.gradcheck(lambda a, b: MulWrongSecondInput.apply(a, b), [_x(), _x(seed=1)])


def test_error_in_one_output_of_several_is_caught():
    def fn(x):
        return x * 2.0, SquareForgetsTheTwo.apply(x)

    with pytest.raises(mg.GradcheckError):
        mg.gradcheck(fn, [_x((4,))])


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(mg.GradcheckError, AssertionError)


def test_inputs_of_the_caller_are_left_alone():
    t = mg.tensor(np.array([0.5, -1.0]))
    a = np.array([1.0, 2.0])
    mg.gradcheck(lambda x, y: (x * y).tanh(), [t, a])
    assert not t.requires_grad and t.grad is None
    np.testing.assert_array_equal(t.data, [0.5, -1.0])
    np.testing.assert_array_equal(a, [1.0, 2.0])


def test_float32_inputs_are_checked_in_float64():
    seen = []

    def fn(x):
        seen.append(x.dtype)
        return x.tanh()

    assert mg.gradcheck(fn, [mg.tensor([0.1, 0.2, 0.3])])
    assert set(seen) == {np.dtype(np.float64)}


def test_integer_inputs_pass_through_unchecked():
    targets = np.array([1, 0])
    assert mg.gradcheck(lambda x, t: mg.nn.functional.cross_entropy(x, t), [_x((2, 3)), targets])


def test_needs_a_float_input_and_tensor_outputs():
    with pytest.raises(ValueError, match="no floating-point input"):
        mg.gradcheck(lambda i: i * 2, [np.array([1, 2])])
    with pytest.raises(TypeError, match="must return a tensor"):
        mg.gradcheck(lambda x: 3.0, [_x()])


def test_tolerances_are_used():
    # a backward off by 0.1% everywhere: caught with tight tolerances, accepted with loose ones
    class Slightly(Square):
        def backward(self, grad):
            return (2.002 * grad * self.saved,)

    x = _x() + 3.0
    with pytest.raises(mg.GradcheckError):
        mg.gradcheck(lambda t: Slightly.apply(t), [x], rtol=1e-4)
    assert mg.gradcheck(lambda t: Slightly.apply(t), [x], rtol=1e-2)
