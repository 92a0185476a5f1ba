"""Loss modules, as in torch.nn: each keeps its options and calls the function in nn.functional.

    criterion = nn.CrossEntropyLoss(ignore_index=0, label_smoothing=0.1)
    loss = criterion(logits, targets)      # forward(input, target)
"""
from minigrad.nn import functional as F
from minigrad.nn.module import Module


class _Loss(Module):
    """Holds `reduction` ('mean', 'sum' or 'none'); PyTorch's deprecated size_average and
    reduce flags are mapped onto it, with PyTorch's warning."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = F._legacy_reduction(size_average, reduce, reduction)
        F._check_reduction(self.reduction, type(self).__name__)


class CrossEntropyLoss(_Loss):
    """-w_{t_n} log softmax(x_n)[t_n] per sample, reduced; see nn.functional.cross_entropy.

    Args:
        weight: optional (C,) rescaling weight per class.
        ignore_index: a target value that contributes neither loss nor gradient.
        reduction: 'mean' (weighted mean over the kept targets), 'sum' or 'none'.
        label_smoothing: eps in [0, 1], mixing the uniform distribution into the target.
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(size_average, reduce, reduction)
        self.weight, self.ignore_index, self.label_smoothing = weight, ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_Loss):
    """-w_{t_n} input[n, t_n] per sample for log-probabilities, reduced; see nn.functional.nll_loss.

    Args:
        weight: optional (C,) rescaling weight per class.
        ignore_index: a target value that contributes neither loss nor gradient.
        reduction: 'mean' (weighted mean over the kept targets), 'sum' or 'none'.
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class MSELoss(_Loss):
    """(x_i - y_i)^2 elementwise, reduced ('mean', 'sum' or 'none'); see nn.functional.mse_loss."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)
