"""The primitive ops, one class each: forward on numpy arrays, backward to each input."""
from minigrad.ops.arithmetic import Add, Sub, Mul, Hadamard, Div, Neg, Pow, PowScalar, Maximum, Minimum
from minigrad.ops.elementwise import Exp, Log, Tanh, Sigmoid, ReLU, Abs, Clamp
from minigrad.ops.reductions import (Sum, Mean, Max, Min, MaxDim, MinDim, Prod, Var, Std, Norm,
                                     LogSumExp)
from minigrad.ops.linalg import MatMul, Einsum
from minigrad.ops.shape import (Reshape, Transpose, GetItem, Split, Unbind, Cat, Stack, Expand, Repeat,
                                Clone, Cast)
from minigrad.ops.indexing import Where, Gather
from minigrad.ops.softmax import Softmax, LogSoftmax, CrossEntropy

__all__ = ["Add", "Sub", "Mul", "Hadamard", "Div", "Neg", "Pow", "PowScalar", "Maximum", "Minimum",
           "Exp", "Log", "Tanh", "Sigmoid", "ReLU", "Abs", "Clamp",
           "Sum", "Mean", "Max", "Min", "MaxDim", "MinDim", "Prod", "Var", "Std", "Norm", "LogSumExp",
           "MatMul", "Einsum",
           "Reshape", "Transpose", "GetItem", "Split", "Unbind", "Cat", "Stack", "Expand", "Repeat", "Clone", "Cast",
           "Where", "Gather",
           "Softmax", "LogSoftmax", "CrossEntropy"]
