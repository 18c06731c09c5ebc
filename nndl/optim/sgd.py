"""Stochastic gradient descent, with momentum and Nesterov momentum."""

from __future__ import annotations

import numpy as np

from nndl.optim.optimizer import Optimizer, check_range, regularized_gradient


def sgd_update(param: np.ndarray, grad: np.ndarray, momentum_buffer: np.ndarray | None, *, lr: float,
               momentum: float = 0.0, dampening: float = 0.0, nesterov: bool = False,
               weight_decay: float = 0.0, maximize: bool = False,
               work: np.ndarray | None = None) -> np.ndarray | None:
    """One SGD step on ``param``, in place (PyTorch's convention).

    Pseudocode, with γ = ``lr``, μ = ``momentum``, τ = ``dampening``,
    λ = ``weight_decay``::

        g ← −g                      if maximize
        g ← g + λθ                  if λ ≠ 0
        if μ ≠ 0:
            b ← g                   on the first step
            b ← μb + (1 − τ)g       afterwards
            g ← g + μb              if nesterov
            g ← b                   otherwise
        θ ← θ − γg

    Parameters
    ----------
    param : ndarray
        θ, updated in place.
    grad : ndarray, same shape and dtype
        g = ∂L/∂θ; not modified.
    momentum_buffer : ndarray or None
        b, updated in place; ``None`` before the first step.
    work : ndarray, optional
        Scratch space shaped like ``param``, overwritten; given, the step
        allocates nothing (besides g + λθ when λ ≠ 0).

    Returns
    -------
    ndarray or None
        The momentum buffer (new on the first step), or None when μ = 0.

    Notes
    -----
    The notes write momentum with a velocity that already holds the
    learning rate, ``v ← αv − εg; θ ← θ + v``. With ``v = −γb`` that is this
    rule (α = μ, ε = γ, τ = 0), so both give the same trajectory while the
    learning rate is constant; here the buffer ``b`` does not depend on γ, so
    a schedule that changes γ rescales the whole step at once. Nesterov's
    look-ahead form ``v ← αv − εg(θ + αv); θ ← θ + v``, rewritten for the
    look-ahead point θ̃ = θ + αv, is ``v_new = αv − εg(θ̃); θ̃ ← θ̃ + v_new +
    α(v_new − v)`` = θ̃ − εg + αv_new, which is ``θ ← θ − γ(g + μb)`` above.
    """
    # Only b and θ are written in place; γ·step is formed in ``work``.
    work = np.empty_like(param) if work is None else work
    direction, sign = regularized_gradient(param, grad, weight_decay, maximize)

    if momentum != 0:
        if momentum_buffer is None:
            momentum_buffer = np.multiply(direction, sign) if sign < 0 else direction.copy()
        else:
            momentum_buffer *= momentum
            if dampening == 0:
                if sign < 0:
                    momentum_buffer -= direction
                else:
                    momentum_buffer += direction
            else:
                momentum_buffer += np.multiply(direction, (1.0 - dampening) * sign, out=work)
        if nesterov:
            step = np.multiply(momentum_buffer, momentum, out=work)
            if sign < 0:
                step -= direction
            else:
                step += direction
            step *= lr
        else:
            step = np.multiply(momentum_buffer, lr, out=work)
        param -= step
        return momentum_buffer

    param -= np.multiply(direction, lr * sign, out=work)
    return None


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    Parameters
    ----------
    params : iterable of Parameter or of param-group dicts
    lr : float
        Learning rate γ (the notes' ε); 1e-3 by default, as ``torch.optim.SGD``.
    momentum : float
        μ (the notes' α), usually 0.9; 0 is plain SGD.
    dampening : float
        τ: the new gradient enters the buffer with weight (1 − τ).
    nesterov : bool
        Nesterov momentum (needs μ > 0 and τ = 0).
    weight_decay : float
        λ: adds λθ to the gradient (L2 regularization with penalty λ/2‖θ‖²).
    maximize : bool
        Ascend the objective instead of descending it.

    Notes
    -----
    The update is :func:`sgd_update`: ``b ← μb + (1 − τ)g; θ ← θ − γb``
    (PyTorch's form). The notes' ``v ← αv − εg; θ ← θ + v`` is the same
    trajectory with ``v = −γb`` for a constant learning rate; see
    :func:`sgd_update` for the Nesterov forms.

    State per parameter: ``momentum_buffer`` (when μ ≠ 0).
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0, maximize: bool = False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=bool(nesterov),
                                      weight_decay=weight_decay, maximize=bool(maximize)))

    def _check_hyperparameters(self, group):
        super()._check_hyperparameters(group)
        check_range(self.name, "momentum", group["momentum"], low=0.0)
        check_range(self.name, "dampening", group["dampening"])
        check_range(self.name, "weight_decay", group["weight_decay"], low=0.0)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"{self.name}: nesterov=True needs momentum > 0 and dampening = 0, "
                             f"got momentum={group['momentum']!r}, dampening={group['dampening']!r}")

    state_names = ("momentum_buffer",)

    def _state_keys(self, group):
        return {"momentum_buffer"} if group["momentum"] != 0 else set()

    def _update(self, param, grad, state, group):
        buffer = sgd_update(param.data, grad, state.get("momentum_buffer"), lr=float(group["lr"]),
                            momentum=group["momentum"], dampening=group["dampening"],
                            nesterov=group["nesterov"], weight_decay=group["weight_decay"],
                            maximize=group["maximize"], work=self._work_array(param.data))
        if buffer is not None:
            state["momentum_buffer"] = buffer
