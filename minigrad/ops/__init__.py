"""The primitive ops, one Function class each (forward on numpy arrays, backward to each input),
and OPS: the one list that makes them public. How to add an op: see `Function`'s docstring.

Each line of OPS is one op class and how users reach it:
    name      mg.<name> and, if `method`, Tensor.<name> (None: reached through an operator
              or another function only, e.g. Add is `a + b`)
    function  what mg.<name> calls (default: the class's `apply`); a function of its own where
              the op takes arguments that are not tensors or needs checks (`where`)
    method    True: Tensor.<name>(self, ...) is mg.<name>(self, ...); a function: that function
              is the method (Tensor.where's arguments come in another order than mg.where's);
              False: no method made here (tensor.py writes out the methods with torch's
              dim/keepdim/axis arguments, and the operators, and mg.<name> calls that method)
From OPS: `__all__` (every op class, which the gradcheck catalogue must cover), mg.<name>
(minigrad/functional_ops.py) and the Tensor methods (minigrad/tensor.py, at its end).
"""
from typing import Callable, NamedTuple

from minigrad.function import Function
from minigrad.ops.arithmetic import (Add, Sub, Mul, Hadamard, Div, Neg, Pow, PowScalar, Maximum, Minimum,
                                     hadamard, maximum, minimum)
from minigrad.ops.elementwise import Exp, Log, Tanh, Sigmoid, ReLU, Abs, Clamp
from minigrad.ops.reductions import (Sum, Mean, Max, Min, MaxDim, MinDim, Prod, Var, Std, Norm,
                                     LogSumExp)
from minigrad.ops.linalg import MatMul, Einsum, einsum
from minigrad.ops.shape import (Reshape, Transpose, GetItem, Split, Unbind, Cat, Stack, Expand, Repeat,
                                Clone, Cast, cat, stack, split, chunk, unbind)
from minigrad.ops.indexing import Where, Gather, where, where_method, gather
from minigrad.ops.softmax import Softmax, LogSoftmax, CrossEntropy
from minigrad.tensor import Tensor


class Op(NamedTuple):
    cls: type
    name: str = None
    function: Callable = None
    method: object = False


OPS = [
    # arithmetic: the operators + - * / ** and unary -, in tensor.py
    Op(Add), Op(Sub), Op(Mul), Op(Div), Op(Neg), Op(Pow), Op(PowScalar),
    Op(Hadamard, "hadamard", hadamard),
    Op(Maximum, "maximum", maximum),
    Op(Minimum, "minimum", minimum),
    # elementwise
    Op(Exp, "exp", method=True),
    Op(Log, "log", method=True),
    Op(Tanh, "tanh", method=True),
    Op(Sigmoid, "sigmoid", method=True),
    Op(ReLU, "relu", method=True),
    Op(Abs, "abs", method=True),
    Op(Clamp, "clamp", Tensor.clamp),
    Op(PowScalar, "sqrt", Tensor.sqrt),
    # reductions
    Op(Sum, "sum", Tensor.sum),
    Op(Mean, "mean", Tensor.mean),
    Op(Max, "max", Tensor.max), Op(Min, "min", Tensor.min),  # the whole tensor's; along a dim:
    Op(MaxDim), Op(MinDim),                                   # x.max(dim) (values, indices)
    Op(Max, "amax", Tensor.amax), Op(Min, "amin", Tensor.amin),
    Op(Prod, "prod", Tensor.prod), Op(Var, "var", Tensor.var), Op(Std, "std", Tensor.std),
    Op(Norm, "norm", Tensor.norm),
    Op(LogSumExp, "logsumexp", Tensor.logsumexp),
    # matrix products
    Op(MatMul, "matmul", Tensor.matmul),
    Op(MatMul, "mm", Tensor.mm), Op(MatMul, "bmm", Tensor.bmm),
    Op(Einsum, "einsum", einsum),
    # moving values: shapes, pieces, indexing
    Op(Reshape, "reshape", Tensor.reshape),
    Op(Transpose, "transpose", Tensor.transpose),
    Op(GetItem),  # x[index]
    Op(Split, "split", split, method=True),
    Op(Split, "chunk", chunk, method=True),
    Op(Unbind, "unbind", unbind, method=True),
    Op(Cat, "cat", cat),
    Op(Stack, "stack", stack),
    Op(Expand), Op(Repeat), Op(Clone), Op(Cast),  # x.expand, x.repeat, x.clone, x.to
    Op(Where, "where", where, where_method),
    Op(Gather, "gather", gather, method=True),
    # softmax and the loss it feeds
    Op(Softmax, "softmax", Tensor.softmax),
    Op(LogSoftmax, "log_softmax", Tensor.log_softmax),
    Op(CrossEntropy),  # nn.functional.cross_entropy
]

__all__ = list(dict.fromkeys(op.cls.__name__ for op in OPS))  # every op class, once
