"""Adagrad: per-coordinate learning rates from the running sum of squared gradients."""

from __future__ import annotations

import numpy as np

from nndl.optim.optimizer import Optimizer, check_range, regularized_gradient


def adagrad_update(param: np.ndarray, grad: np.ndarray, sum_sq: np.ndarray, step: int, *, lr: float,
                   lr_decay: float = 0.0, weight_decay: float = 0.0, eps: float = 1e-10,
                   maximize: bool = False, work: np.ndarray | None = None) -> None:
    """One Adagrad step on ``param``, in place.

    Pseudocode, with γ = ``lr``, η = ``lr_decay``, λ = ``weight_decay``,
    ν = ``eps`` and ``t`` the 1-based step number::

        g ← −g                       if maximize
        g ← g + λθ                   if λ ≠ 0
        γ_t = γ / (1 + (t − 1)η)
        a ← a + g ⊙ g
        θ ← θ − γ_t g / (√a + ν)

    Parameters
    ----------
    param : ndarray
        θ, updated in place.
    grad : ndarray
        g; not modified.
    sum_sq : ndarray
        ``a``, the running sum of squared gradients, updated in place.
    step : int
        ``t``, counting this step (1 on the first call).
    work : ndarray, optional
        Scratch space shaped like ``param``, overwritten (else allocated).

    Notes
    -----
    This is the notes' ``a ← a + g⊙g; θ ← θ − ε/(√a + ν) ⊙ g`` (ε = γ) with
    PyTorch's optional decay of the learning rate. Coordinates that have
    moved a lot get small steps; since ``a`` only grows, every step shrinks
    over time, which RMSprop fixes with a moving average.
    """
    direction, sign = regularized_gradient(param, grad, weight_decay, maximize)
    step_lr = lr / (1 + (step - 1) * lr_decay)
    work = np.empty_like(param) if work is None else work
    np.multiply(direction, direction, out=work)  # g ⊙ g is the same for −g: the sign enters at the end
    sum_sq += work
    np.sqrt(sum_sq, out=work)
    work += eps
    np.divide(direction, work, out=work)
    work *= step_lr * sign
    param -= work


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011).

    Parameters
    ----------
    params : iterable of Parameter or of param-group dicts
    lr : float
        γ, the notes' ε.
    lr_decay : float
        η: step ``t`` uses γ / (1 + (t − 1)η).
    weight_decay : float
        λ: adds λθ to the gradient (L2 regularization).
    initial_accumulator_value : float
        Starting value of the sum of squares ``a``.
    eps : float
        ν, added to √a to avoid division by zero.
    maximize : bool
        Ascend the objective instead of descending it.

    Notes
    -----
    The update is :func:`adagrad_update`. State per parameter: ``step``
    (int) and ``sum`` (the accumulator ``a``), PyTorch's names.
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, maximize: bool = False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=bool(maximize)))

    def _check_hyperparameters(self, group):
        super()._check_hyperparameters(group)
        check_range(self.name, "lr_decay", group["lr_decay"], low=0.0)
        check_range(self.name, "weight_decay", group["weight_decay"], low=0.0)
        check_range(self.name, "initial_accumulator_value", group["initial_accumulator_value"], low=0.0)
        check_range(self.name, "eps", group["eps"], low=0.0)

    state_names = ("step", "sum")

    def _state_keys(self, group):
        return {"step", "sum"}

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(param.data, group["initial_accumulator_value"])
        state["step"] += 1
        adagrad_update(param.data, grad, state["sum"], state["step"], lr=float(group["lr"]),
                       lr_decay=group["lr_decay"], weight_decay=group["weight_decay"], eps=group["eps"],
                       maximize=group["maximize"], work=self._work_array(param.data))
