"""Learning-rate schedules, stepped once per epoch (PyTorch's semantics).

A schedule is built on an optimizer, remembers each group's starting rate as
``group['initial_lr']`` (``base_lrs``) and writes ``group['lr']`` on every
``step()``. Construction counts as epoch 0. Typical use::

    schedule = optim.StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(epochs):
        train_one_epoch(model, opt)
        schedule.step()

Like PyTorch's, the multiplicative schedules compute each rate from the rate
currently in the group (recursively), so their values equal PyTorch's and
they compose with other code that changes ``group['lr']``; each docstring
gives the closed form they follow when nothing else intervenes.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from nndl.optim.optimizer import Optimizer, check_range


class LRScheduler:
    """Base class: holds the optimizer, ``base_lrs`` and ``last_epoch``.

    Parameters
    ----------
    optimizer : Optimizer

    Attributes
    ----------
    base_lrs : list of float
        Each group's learning rate when the first schedule was attached.
    last_epoch : int
        Number of ``step()`` calls since construction (0 right after it).
    """

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an nndl Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self._initial_step()

    def _initial_step(self) -> None:
        """Epoch 0: the rates a schedule starts from (most keep the optimizer's)."""
        self._is_initial = True
        self.step()
        self._is_initial = False

    def restart(self) -> None:
        """Set every group back to its base rate and start the schedule again at epoch 0."""
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = base_lr
        self.last_epoch = -1
        self._initial_step()

    def get_lr(self) -> list[float]:
        """Rates for epoch ``last_epoch`` (already advanced); subclasses implement."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr")

    def step(self) -> None:
        """Advance one epoch and write the new rates into the optimizer's groups."""
        self.last_epoch += 1
        values = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The rates set by the latest ``step()`` (or by construction), one per group."""
        return list(self._last_lr)

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer: numbers, lists and (for wrappers) nested dicts."""
        return {key: _plain(value) for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by :meth:`state_dict` of the same kind of schedule."""
        expected = set(self.state_dict())
        got = set(state_dict)
        if expected != got:
            raise ValueError(f"{type(self).__name__}.load_state_dict: missing keys {sorted(expected - got)}, "
                             f"unexpected keys {sorted(got - expected)}")
        for key, value in state_dict.items():
            setattr(self, key, _plain(value))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.state_dict().items()
                           if not k.startswith("_") and k not in ("base_lrs", "last_epoch"))
        return f"{type(self).__name__}({fields})"


def _plain(value):
    """Copy lists and dicts so a saved state does not alias the live one."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs.

    ``lr_t = lr_0 · γ^⌊t / step_size⌋``.

    Parameters
    ----------
    optimizer : Optimizer
    step_size : int
        Period in epochs, >= 1.
    gamma : float
        Factor γ, 0.1 by default.
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        _check_int(type(self).__name__, "step_size", step_size, low=1)
        check_range(type(self).__name__, "gamma", gamma, low=0.0)
        self.step_size = int(step_size)
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each epoch listed in ``milestones``.

    ``lr_t = lr_0 · γ^(number of milestones <= t)`` (a milestone listed twice counts twice).

    Parameters
    ----------
    optimizer : Optimizer
    milestones : iterable of int
        Epochs at which to decay, >= 1.
    gamma : float
    """

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1):
        milestones = list(milestones)
        for value in milestones:
            _check_int(type(self).__name__, "milestones", value, low=1)
        check_range(type(self).__name__, "gamma", gamma, low=0.0)
        self.milestones = sorted(int(m) for m in milestones)
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self):
        count = Counter(self.milestones)[self.last_epoch]
        if count == 0:
            return self._current_lrs()
        return [lr * self.gamma ** count for lr in self._current_lrs()]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: ``lr_t = lr_0 · γ^t``."""

    def __init__(self, optimizer: Optimizer, gamma: float):
        check_range(type(self).__name__, "gamma", gamma, low=0.0)
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self):
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from the base rate down to ``eta_min`` over ``T_max`` epochs.

    Closed form (Loshchilov & Hutter's SGDR without restarts):

    .. math::
        η_t = η_{min} + \\tfrac12 (η_0 − η_{min}) (1 + \\cos(π t / T_{max}))

    After ``T_max`` the rate rises again along the same cosine (period
    2·T_max), as PyTorch's does. Each rate is computed from the previous one
    with PyTorch's recursion, ``η_t = η_min + (η_{t−1} − η_min)·(1 + cos(πt/T))
    / (1 + cos(π(t−1)/T))``, which equals the closed form when nothing else
    changes the rate.

    Parameters
    ----------
    optimizer : Optimizer
    T_max : int
        Half period in epochs, >= 1.
    eta_min : float
        Lowest rate.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):
        _check_int(type(self).__name__, "T_max", T_max, low=1)
        check_range(type(self).__name__, "eta_min", eta_min, low=0.0)
        self.T_max = int(T_max)
        self.eta_min = eta_min
        super().__init__(optimizer)

    def get_lr(self):
        t, period = self.last_epoch, self.T_max
        if self._is_initial:
            return self._current_lrs()
        if (t - 1 - period) % (2 * period) == 0:
            # Leaving the minimum, where the ratio below would be 0/0.
            return [lr + (base - self.eta_min) * (1 - math.cos(math.pi / period)) / 2
                    for lr, base in zip(self._current_lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
        return [ratio * (lr - self.eta_min) + self.eta_min for lr in self._current_lrs()]


class InverseTimeDecay(LRScheduler):
    """Inverse-time decay: ``lr_t = lr_0 / (1 + k t)``.

    The 1/t decay of stochastic-approximation theory (Robbins–Monro): the
    rates sum to infinity but their squares do not. PyTorch writes it as
    ``LambdaLR(opt, lambda t: 1 / (1 + k * t))``.

    Parameters
    ----------
    optimizer : Optimizer
    decay_rate : float
        k >= 0, per epoch.
    """

    def __init__(self, optimizer: Optimizer, decay_rate: float):
        check_range(type(self).__name__, "decay_rate", decay_rate, low=0.0)
        self.decay_rate = decay_rate
        super().__init__(optimizer)

    def get_lr(self):
        return [base / (1 + self.decay_rate * self.last_epoch) for base in self.base_lrs]


class LinearWarmup(LRScheduler):
    """Raise the rate linearly for ``warmup_epochs`` epochs, then hand over to ``after``.

    For ``t < W`` (W = ``warmup_epochs``, s = ``start_factor``):

    .. math::
        lr_t = lr_0 \\left(s + (1 − s) \\frac{t}{W}\\right)

    and from epoch W on the rate is ``after``'s schedule restarted at its
    epoch 0 (or the base rate when ``after`` is None). Large batches and
    adaptive optimizers are unstable in the first updates, when the weights
    are random; the warmup keeps those steps small. PyTorch's equivalent is
    ``SequentialLR(opt, [LinearLR(opt, s, 1.0, W), after], milestones=[W])``.

    Parameters
    ----------
    optimizer : Optimizer
    warmup_epochs : int
        W >= 1.
    after : LRScheduler, optional
        The schedule to follow the warmup, built on the same optimizer
        (not ReduceLROnPlateau, which needs a metric).
    start_factor : float
        s in (0, 1]: the first epoch's fraction of the base rate; 1/3 by
        default, as PyTorch's ``LinearLR``.
    """

    def __init__(self, optimizer: Optimizer, warmup_epochs: int, after: LRScheduler | None = None,
                 start_factor: float = 1.0 / 3):
        name = type(self).__name__
        _check_int(name, "warmup_epochs", warmup_epochs, low=1)
        check_range(name, "start_factor", start_factor, low=0.0, high=1.0)
        if start_factor == 0:
            raise ValueError(f"{name}: invalid start_factor=0; expected 0 < start_factor <= 1")
        if after is not None:
            if not isinstance(after, LRScheduler):
                raise TypeError(f"{name}: after must be an nndl LRScheduler (stepped without a metric), "
                                f"got {type(after).__name__}")
            if after.optimizer is not optimizer:
                raise ValueError(f"{name}: after={type(after).__name__} is built on a different optimizer")
        self.warmup_epochs = int(warmup_epochs)
        self.start_factor = start_factor
        self.after = after
        super().__init__(optimizer)

    def step(self) -> None:
        if self.after is not None and self.last_epoch + 1 >= self.warmup_epochs:
            self.last_epoch += 1
            if self.last_epoch == self.warmup_epochs:
                self.after.restart()
            else:
                self.after.step()
            self._last_lr = self.after.get_last_lr()
            return
        super().step()

    def get_lr(self):
        t = min(self.last_epoch, self.warmup_epochs)
        factor = self.start_factor + (1.0 - self.start_factor) * t / self.warmup_epochs
        return [base * factor for base in self.base_lrs]

    def state_dict(self) -> dict[str, Any]:
        state = {key: _plain(value) for key, value in self.__dict__.items() if key not in ("optimizer", "after")}
        state["after"] = None if self.after is None else self.after.state_dict()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        after_state = state.pop("after", None)
        if (after_state is None) != (self.after is None):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the saved warmup "
                             f"{'has no' if after_state is None else 'has a'} following schedule, this one "
                             f"{'has' if self.after is not None else 'has none'}")
        expected = set(self.state_dict()) - {"after"}
        if expected != set(state):
            raise ValueError(f"{type(self).__name__}.load_state_dict: missing keys {sorted(expected - set(state))}, "
                             f"unexpected keys {sorted(set(state) - expected)}")
        for key, value in state.items():
            setattr(self, key, _plain(value))
        if self.after is not None:
            self.after.load_state_dict(after_state)


def _check_int(owner: str, name: str, value, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) and not hasattr(value, "__index__"):
        raise ValueError(f"{owner}: {name} must be an integer, got {value!r}")
    if int(value) < low:
        raise ValueError(f"{owner}: invalid {name}={value!r}; expected {name} >= {low}")
