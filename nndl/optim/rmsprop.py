"""RMSprop: Adagrad with a moving average of squared gradients, optionally with momentum."""

from __future__ import annotations

import numpy as np

from nndl.optim.optimizer import Optimizer, check_range, regularized_gradient


def rmsprop_update(param: np.ndarray, grad: np.ndarray, square_avg: np.ndarray, *, lr: float,
                   alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                   momentum_buffer: np.ndarray | None = None, grad_avg: np.ndarray | None = None,
                   maximize: bool = False, work: np.ndarray | None = None) -> None:
    """One RMSprop step on ``param``, in place.

    Pseudocode, with γ = ``lr``, β = ``alpha``, ν = ``eps``, μ = ``momentum``,
    λ = ``weight_decay``::

        g ← −g                        if maximize
        g ← g + λθ                    if λ ≠ 0
        a ← βa + (1 − β) g ⊙ g
        if centered:
            m ← βm + (1 − β) g        (m = grad_avg)
            s = √(a − m ⊙ m) + ν
        else:
            s = √a + ν
        if μ > 0:
            b ← μb + g / s
            θ ← θ − γb
        else:
            θ ← θ − γ g / s

    Parameters
    ----------
    param : ndarray
        θ, updated in place.
    grad : ndarray
        g; not modified.
    square_avg : ndarray
        ``a``, updated in place.
    momentum_buffer : ndarray, optional
        ``b`` (zeros before the first step), updated in place; needed when μ > 0.
    grad_avg : ndarray, optional
        ``m`` (zeros before the first step), updated in place; given for the
        centered variant, which divides by an estimate of the gradient's
        standard deviation instead of its root mean square.
    work : ndarray, optional
        Scratch space shaped like ``param``, overwritten (else allocated).

    Notes
    -----
    The notes' RMSProp is ``a ← βa + (1 − β)g⊙g; θ ← θ − ε/(√a + ν) ⊙ g``
    (003 §2.2.2 multiplies by ``v_t``: it is the gradient g_t). The notes'
    "RMSProp + momentum", ``V ← αV − ε/(√a + ν) ⊙ g; θ ← θ + V``, is the μ > 0
    branch with V = −γb, the same relation as for SGD momentum.
    """
    direction, sign = regularized_gradient(param, grad, weight_decay, maximize)

    work = np.empty_like(param) if work is None else work
    np.multiply(direction, direction, out=work)
    work *= 1.0 - alpha
    square_avg *= alpha
    square_avg += work
    if grad_avg is not None:
        # m + (1 − β)(g − m), the interpolation PyTorch uses; for g = −d it is m − (1 − β)(d + m).
        if sign < 0:
            np.add(direction, grad_avg, out=work)
            work *= 1.0 - alpha
            grad_avg -= work
        else:
            np.subtract(direction, grad_avg, out=work)
            work *= 1.0 - alpha
            grad_avg += work
        np.multiply(grad_avg, grad_avg, out=work)
        np.subtract(square_avg, work, out=work)
        np.sqrt(work, out=work)
    else:
        np.sqrt(square_avg, out=work)
    work += eps
    np.divide(direction, work, out=work)  # g / s
    if momentum > 0:
        momentum_buffer *= momentum
        if sign < 0:
            momentum_buffer -= work
        else:
            momentum_buffer += work
        np.multiply(momentum_buffer, lr, out=work)
    else:
        work *= lr * sign
    param -= work


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), optionally centered and with momentum.

    Parameters
    ----------
    params : iterable of Parameter or of param-group dicts
    lr : float
        γ, the notes' ε.
    alpha : float
        β, the decay of the moving average of g ⊙ g (the notes use 0.97 or α).
    eps : float
        ν, added to the root mean square.
    weight_decay : float
        λ: adds λθ to the gradient.
    momentum : float
        μ; with μ > 0 this is the notes' "RMSProp + momentum".
    centered : bool
        Divide by √(E[g²] − E[g]²) (the gradient's standard deviation).
    maximize : bool
        Ascend the objective instead of descending it.

    Notes
    -----
    The update is :func:`rmsprop_update`. State per parameter (PyTorch's
    names): ``step`` (int), ``square_avg``, ``momentum_buffer`` (μ > 0) and
    ``grad_avg`` (centered).
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, maximize: bool = False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=bool(centered), maximize=bool(maximize)))

    def _check_hyperparameters(self, group):
        super()._check_hyperparameters(group)
        check_range(self.name, "alpha", group["alpha"], low=0.0, high=1.0)
        check_range(self.name, "eps", group["eps"], low=0.0)
        check_range(self.name, "weight_decay", group["weight_decay"], low=0.0)
        check_range(self.name, "momentum", group["momentum"], low=0.0)

    state_names = ("step", "square_avg", "momentum_buffer", "grad_avg")

    def _state_keys(self, group):
        keys = {"step", "square_avg"}
        if group["momentum"] > 0:
            keys.add("momentum_buffer")
        if group["centered"]:
            keys.add("grad_avg")
        return keys

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param.data)
        # Buffers appear when the option is on, also if it was switched on after earlier steps.
        if group["momentum"] > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = np.zeros_like(param.data)
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = np.zeros_like(param.data)
        state["step"] += 1
        rmsprop_update(param.data, grad, state["square_avg"], lr=float(group["lr"]), alpha=group["alpha"],
                       eps=group["eps"], weight_decay=group["weight_decay"], momentum=group["momentum"],
                       momentum_buffer=state.get("momentum_buffer"),
                       grad_avg=state.get("grad_avg") if group["centered"] else None,
                       maximize=group["maximize"], work=self._work_array(param.data))
