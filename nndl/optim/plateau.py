"""ReduceLROnPlateau: lower the learning rate when a validation metric stops improving."""

from __future__ import annotations

import math
from typing import Any

from nndl.optim.optimizer import Optimizer, check_range

MODES = ("min", "max")
THRESHOLD_MODES = ("rel", "abs")


class ReduceLROnPlateau:
    """Multiply every group's rate by ``factor`` after ``patience`` epochs without improvement.

    Call ``step(metric)`` once per epoch with the monitored value (e.g. the
    validation loss). A value counts as an improvement on the best so far,
    ``best``, when (mode 'min') ``metric < best·(1 − threshold)`` ('rel') or
    ``metric < best − threshold`` ('abs'); mode 'max' mirrors these. After
    more than ``patience`` epochs in a row without improvement the rates are
    multiplied by ``factor`` (never below ``min_lr``; changes smaller than
    ``eps`` are ignored), then ``cooldown`` epochs pass before bad epochs
    count again. A NaN metric is never an improvement, as in PyTorch.

    Parameters
    ----------
    optimizer : Optimizer
    mode : {'min', 'max'}
        Whether the metric should go down (a loss) or up (an accuracy).
    factor : float
        In (0, 1).
    patience : int
        Number of bad epochs tolerated before reducing.
    threshold : float
        Least change that counts as an improvement.
    threshold_mode : {'rel', 'abs'}
    cooldown : int
        Epochs to wait after a reduction before counting bad epochs.
    min_lr : float or list of float
        Lower bound on the rate, for all groups or one per group.
    eps : float
        Smallest change of rate worth applying.
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0, min_lr=0.0,
                 eps: float = 1e-8):
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected an nndl Optimizer, got {type(optimizer).__name__}")
        if mode not in MODES:
            raise ValueError(f"{name}: unknown mode {mode!r}; valid: {', '.join(MODES)}")
        if threshold_mode not in THRESHOLD_MODES:
            raise ValueError(f"{name}: unknown threshold_mode {threshold_mode!r}; valid: {', '.join(THRESHOLD_MODES)}")
        check_range(name, "factor", factor, low=0.0, high=1.0, high_inclusive=False)
        if factor == 0:
            raise ValueError(f"{name}: invalid factor=0; expected 0 < factor < 1")
        for key, value in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}: {key} must be an integer >= 0, got {value!r}")
        check_range(name, "threshold", threshold, low=0.0)
        check_range(name, "eps", eps, low=0.0)
        groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != groups:
                raise ValueError(f"{name}: expected {groups} min_lr values (one per param group), got {len(min_lr)}")
            min_lrs = list(min_lr)
        else:
            min_lrs = [min_lr] * groups
        for value in min_lrs:
            check_range(name, "min_lr", value, low=0.0)

        self.optimizer = optimizer
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.cooldown = cooldown
        self.min_lrs = min_lrs
        self.eps = eps
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def is_better(self, metric: float, best: float) -> bool:
        """Whether ``metric`` improves on ``best`` by more than the threshold."""
        if self.mode == "min":
            return metric < (best * (1.0 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold)
        return metric > (best * (1.0 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold)

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def step(self, metric: float) -> None:
        """Record this epoch's ``metric`` and reduce the rates if it has plateaued."""
        current = float(metric)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during the cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                old_lr = float(group["lr"])
                new_lr = max(old_lr * self.factor, min_lr)
                if old_lr - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Counters, best value and settings (numbers, strings and lists; ``best`` may be ±inf)."""
        return {key: list(value) if isinstance(value, list) else value
                for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        expected, got = set(self.state_dict()), set(state_dict)
        if expected != got:
            raise ValueError(f"{type(self).__name__}.load_state_dict: missing keys {sorted(expected - got)}, "
                             f"unexpected keys {sorted(got - expected)}")
        if state_dict["mode"] not in MODES or state_dict["threshold_mode"] not in THRESHOLD_MODES:
            raise ValueError(f"{type(self).__name__}.load_state_dict: invalid mode {state_dict['mode']!r} "
                             f"or threshold_mode {state_dict['threshold_mode']!r}")
        for key, value in state_dict.items():
            setattr(self, key, list(value) if isinstance(value, (list, tuple)) else value)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(mode={self.mode!r}, factor={self.factor}, patience={self.patience}, "
                f"threshold={self.threshold}, threshold_mode={self.threshold_mode!r}, cooldown={self.cooldown})")
