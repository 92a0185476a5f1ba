"""Learning-rate schedules, as in `torch.optim.lr_scheduler`: StepLR, ExponentialLR,
CosineAnnealingLR and ReduceLROnPlateau.

A scheduler sets `group["lr"]` in its optimizer's parameter groups. Call `scheduler.step()`
once per epoch, after that epoch's `optimizer.step()` calls (`scheduler.step(val_loss)` for
ReduceLROnPlateau). As in PyTorch, building a scheduler records each group's starting lr as
`group["initial_lr"]` (the schedule's `base_lrs`) and takes the first step, to epoch 0; the
epoch-based schedules then compute each lr from the previous one (PyTorch's recursive form,
so the numbers agree with PyTorch's to the last bit).

To resume a run, save `optimizer.state_dict()` and `scheduler.state_dict()` (plain numbers,
lists and strings, so `mg.save` writes them); then build the optimizer and the scheduler
afresh and load both states.
"""
import copy
import math
import numbers
import warnings

from minigrad.optim.optimizer import Optimizer

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "ReduceLROnPlateau"]


def _is_int(x):
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _is_number(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


def _check_optimizer(owner, optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{owner}: optimizer must be a minigrad.optim.Optimizer, got {type(optimizer).__name__}")


class LRScheduler:
    """The base of the epoch-based schedules. Subclasses implement `get_lr()`: the lr of each
    group for epoch `last_epoch`, called by `step()` after it advances `last_epoch`.

    Attributes:
        last_epoch: the epoch whose lr is set now (0 right after construction).
        base_lrs: each group's `initial_lr`.
    """

    _TRANSIENT = ("optimizer", "_is_initial", "_in_step")  # left out of state_dict()

    def __init__(self, optimizer, last_epoch=-1):
        name = type(self).__name__
        _check_optimizer(name, optimizer)
        if not _is_int(last_epoch) or last_epoch < -1:
            raise ValueError(f"{name}: last_epoch must be an integer >= -1, got {last_epoch!r}")
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            missing = [i for i, group in enumerate(optimizer.param_groups) if "initial_lr" not in group]
            if missing:
                raise KeyError(f"{name}: param_groups{missing} have no 'initial_lr'; last_epoch={last_epoch} "
                               f"resumes a schedule, so load the optimizer's saved state first (or leave "
                               f"last_epoch at -1 to start one)")
        self.optimizer = optimizer
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._in_step = False
        self._is_initial = True  # the first step, to epoch last_epoch + 1
        self.step()
        self._is_initial = False

    def get_lr(self):
        raise NotImplementedError

    def get_last_lr(self):
        """The lr of each parameter group, as the last `step()` set it."""
        return list(self._last_lr)

    def step(self):
        """Advance one epoch and set each group's lr for it."""
        self.last_epoch += 1
        self._in_step = True
        try:
            lrs = self.get_lr()
        finally:
            self._in_step = False
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _warn_outside_step(self):
        if not self._in_step:
            warnings.warn(f"{type(self).__name__}.get_lr() computes the next lr inside step(); to read the "
                          f"current lr use get_last_lr()", UserWarning, stacklevel=3)

    def _current_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        """Every attribute but the optimizer (PyTorch's rule): numbers, strings, None and lists."""
        return {k: copy.deepcopy(v) for k, v in vars(self).items() if k not in self._TRANSIENT}

    def load_state_dict(self, state_dict):
        """Restore what `state_dict()` gave, so the schedule continues exactly."""
        name = type(self).__name__
        own = self.state_dict()
        missing, unexpected = sorted(set(own) - set(state_dict)), sorted(set(state_dict) - set(own))
        if missing or unexpected:
            raise ValueError(f"{name}.load_state_dict: missing keys {missing}, unexpected keys {unexpected}; "
                             f"was the state saved from a different scheduler?")
        groups = len(self.optimizer.param_groups)
        for key, value in state_dict.items():
            if isinstance(own[key], list) and (not isinstance(value, (list, tuple)) or len(value) != groups):
                raise ValueError(f"{name}.load_state_dict: {key!r} must have one entry per parameter group "
                                 f"({groups}), got {value!r}")
        self.__dict__.update({k: list(v) if isinstance(v, tuple) else copy.deepcopy(v)
                              for k, v in state_dict.items()})


class StepLR(LRScheduler):
    """lr = initial_lr * gamma^(epoch // step_size): multiply by gamma every step_size epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if not _is_int(step_size) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer (epochs), got {step_size!r}")
        if not _is_number(gamma) or gamma <= 0:
            raise ValueError(f"StepLR: gamma must be a number > 0, got {gamma!r}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """lr * gamma at every multiple of step_size, otherwise lr unchanged."""
        self._warn_outside_step()
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class ExponentialLR(LRScheduler):
    """lr = initial_lr * gamma^epoch: multiply by gamma every epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        if not _is_number(gamma) or gamma <= 0:
            raise ValueError(f"ExponentialLR: gamma must be a number > 0, got {gamma!r}")
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """lr * gamma (lr unchanged at the step taken on construction)."""
        self._warn_outside_step()
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (initial_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2

    (SGDR without restarts, Loshchilov and Hutter, 2017): half a cosine from initial_lr down to
    eta_min over T_max epochs; past T_max it keeps following the cosine, back up over the next
    T_max epochs, and so on. Computed recursively as PyTorch does:
        lr_e = eta_min + (lr_{e-1} - eta_min) (1 + cos(pi e / T_max)) / (1 + cos(pi (e - 1) / T_max))
    except just after each minimum, where that ratio is 0/0 and the step is additive:
        lr_e = lr_{e-1} + (initial_lr - eta_min) (1 - cos(pi / T_max)) / 2
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if not _is_int(T_max) or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive integer (epochs), got {T_max!r}")
        if not _is_number(eta_min) or eta_min < 0:
            raise ValueError(f"CosineAnnealingLR: eta_min must be a number >= 0, got {eta_min!r}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The recursive step above (lr unchanged at the step taken on construction)."""
        self._warn_outside_step()
        e, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if (e - 1 - T) % (2 * T) == 0:  # the previous epoch was a minimum
            return [lr + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for base, lr in zip(self.base_lrs, self._current_lrs(), strict=True)]
        return [(1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T)) * (lr - eta_min) + eta_min
                for lr in self._current_lrs()]


class ReduceLROnPlateau(LRScheduler):
    """Multiply lr by `factor` when the metric has not improved for more than `patience` epochs.

    improved:  metric < best (1 - threshold)   (mode 'min', threshold_mode 'rel')
               metric < best - threshold       (mode 'min', 'abs'; 'max' mirrors both)
    After `patience` + 1 epochs without improvement, lr = max(lr * factor, min_lr) (skipped if
    that changes lr by eps or less), and the next `cooldown` epochs count no bad epochs.
    Unlike the other schedules it takes the metric, `step(val_loss)`, and does not touch the
    learning rates on construction (nor set `initial_lr`), as in PyTorch.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8):
        name = "ReduceLROnPlateau"
        _check_optimizer(name, optimizer)
        if not _is_number(factor) or not 0 <= factor < 1:
            raise ValueError(f"{name}: factor must be a number in [0, 1), got {factor!r}")
        for arg, value in (("patience", patience), ("cooldown", cooldown)):
            if not _is_int(value) or value < 0:
                raise ValueError(f"{name}: {arg} must be an integer >= 0 (epochs), got {value!r}")
        for arg, value in (("threshold", threshold), ("eps", eps)):
            if not _is_number(value) or value < 0:
                raise ValueError(f"{name}: {arg} must be a number >= 0, got {value!r}")
        groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != groups:
                raise ValueError(f"{name}: min_lr has {len(min_lr)} entries, the optimizer {groups} parameter groups")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * groups
        if not all(_is_number(m) and m >= 0 for m in self.min_lrs):
            raise ValueError(f"{name}: min_lr must be a number >= 0 or a list of them, got {min_lr!r}")
        self.optimizer = optimizer
        self.factor = factor
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = self._current_lrs()
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _init_is_better(self, mode, threshold, threshold_mode):
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics):
        """Record this epoch's metric (e.g. the validation loss) and lower lr on a plateau."""
        try:
            current = float(metrics)  # a number, or a one-element tensor or array
        except TypeError:
            raise TypeError(f"ReduceLROnPlateau.step: metrics must be a number such as the validation "
                            f"loss, got {type(metrics).__name__}") from None
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()

    def _reduce_lr(self):
        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def get_lr(self):
        raise NotImplementedError("ReduceLROnPlateau sets lr in step(metrics); read it with get_last_lr()")

    def load_state_dict(self, state_dict):
        if state_dict.get("mode") not in ("min", "max") or state_dict.get("threshold_mode") not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau.load_state_dict: mode {state_dict.get('mode')!r} or threshold_mode "
                             f"{state_dict.get('threshold_mode')!r} is not valid; is this a ReduceLROnPlateau state?")
        super().load_state_dict(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)
