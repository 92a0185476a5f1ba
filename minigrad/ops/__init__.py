"""The primitive ops, one class each: forward on numpy arrays, backward to each input."""
from minigrad.ops.arithmetic import Add, Sub, Mul, Hadamard, Div, Neg, Pow, PowScalar
from minigrad.ops.elementwise import Exp, Log, Tanh, Sigmoid, ReLU, Abs
from minigrad.ops.reductions import Sum, Mean, Max
from minigrad.ops.linalg import MatMul, OneHotMatMul, matmul
from minigrad.ops.shape import Reshape, Transpose, GetItem, Cat, Stack, Cast
from minigrad.ops.softmax import Softmax, LogSoftmax, CrossEntropy

__all__ = ["Add", "Sub", "Mul", "Hadamard", "Div", "Neg", "Pow", "PowScalar",
           "Exp", "Log", "Tanh", "Sigmoid", "ReLU", "Abs", "Sum", "Mean", "Max", "MatMul", "OneHotMatMul",
           "Reshape", "Transpose", "GetItem", "Cat", "Stack", "Cast",
           "Softmax", "LogSoftmax", "CrossEntropy"]
