"""Adam and AdamW: momentum plus RMSprop scaling, with bias correction."""

from __future__ import annotations

import numpy as np

from nndl.optim.optimizer import Optimizer, check_range, regularized_gradient


def adam_update(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray, exp_avg_sq: np.ndarray, step: int, *,
                lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                weight_decay: float = 0.0, decoupled_weight_decay: bool = False,
                max_exp_avg_sq: np.ndarray | None = None, maximize: bool = False,
                work: np.ndarray | None = None) -> None:
    """One Adam (or AdamW) step on ``param``, in place.

    Pseudocode, with γ = ``lr``, (β₁, β₂) = ``betas``, δ = ``eps``,
    λ = ``weight_decay`` and ``t`` the 1-based step number::

        g ← −g                         if maximize
        θ ← θ(1 − γλ)                  if decoupled (AdamW)
        g ← g + λθ                     otherwise, if λ ≠ 0 (L2 penalty)
        m ← β₁m + (1 − β₁)g            first moment  (the notes' v)
        v ← β₂v + (1 − β₂)g ⊙ g        second moment (the notes' a)
        v_max ← max(v_max, v)          if amsgrad; then v_max replaces v below
        m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
        θ ← θ − γ m̂ / (√v̂ + δ)

    Parameters
    ----------
    param : ndarray
        θ, updated in place.
    grad : ndarray
        g; not modified.
    exp_avg, exp_avg_sq : ndarray
        ``m`` and ``v`` (zeros before the first step), updated in place.
    step : int
        ``t``, counting this step (1 on the first call).
    max_exp_avg_sq : ndarray, optional
        ``v_max`` for AMSGrad (zeros before the first step), updated in place.
    work : ndarray, optional
        Scratch space shaped like ``param``, overwritten (else allocated).

    Notes
    -----
    The notes' Adam ("momentum + RMSProp", 000 §8.7.4 and 003 §2.2.3) with
    PyTorch's placement of δ: the step is
    ``(γ/c₁) · m / (√v/c₂ + δ)`` with c₁ = 1 − β₁ᵗ and c₂ = √(1 − β₂ᵗ),
    computed as ``(γc₂/c₁) · m / (√v + δc₂)``. Bias correction matters
    early: m and v start at 0, so without it the first steps would be too
    small by the factors 1 − β₁ᵗ and (1 − β₂ᵗ)^½.
    """
    beta1, beta2 = betas
    if weight_decay != 0 and decoupled_weight_decay:
        param *= 1.0 - lr * weight_decay
    direction, sign = regularized_gradient(param, grad, 0.0 if decoupled_weight_decay else weight_decay, maximize)

    # m + (1 − β₁)(g − m), the interpolation PyTorch uses; for g = −d it is m − (1 − β₁)(d + m).
    work = np.empty_like(param) if work is None else work
    if sign < 0:
        np.add(direction, exp_avg, out=work)
        work *= 1.0 - beta1
        exp_avg -= work
    else:
        np.subtract(direction, exp_avg, out=work)
        work *= 1.0 - beta1
        exp_avg += work
    np.multiply(direction, direction, out=work)
    work *= 1.0 - beta2
    exp_avg_sq *= beta2
    exp_avg_sq += work

    bias_correction1 = 1 - beta1 ** step
    bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
    if max_exp_avg_sq is not None:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        np.sqrt(max_exp_avg_sq, out=work)
    else:
        np.sqrt(exp_avg_sq, out=work)
    # γ/c₁ · m / (√v/c₂ + δ) = (γc₂/c₁) · m / (√v + δc₂): one pass over the array fewer.
    work += eps * bias_correction2_sqrt
    np.divide(exp_avg, work, out=work)
    work *= lr * bias_correction2_sqrt / bias_correction1
    param -= work


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), with optional L2 weight decay and AMSGrad.

    Parameters
    ----------
    params : iterable of Parameter or of param-group dicts
    lr : float
        γ, the notes' ε.
    betas : (float, float)
        (β₁, β₂), decays of the first and second moment averages, in [0, 1).
    eps : float
        δ, added to √v̂.
    weight_decay : float
        λ: adds λθ to the gradient (L2 penalty; see :class:`AdamW` for the
        decoupled form).
    amsgrad : bool
        Divide by the running maximum of v (Reddi et al., 2018).
    maximize : bool
        Ascend the objective instead of descending it.
    decoupled_weight_decay : bool
        Shrink θ by (1 − γλ) directly instead of through the gradient (AdamW).

    Notes
    -----
    The update is :func:`adam_update`. State per parameter (PyTorch's names):
    ``step`` (int), ``exp_avg`` (m), ``exp_avg_sq`` (v), ``max_exp_avg_sq`` (AMSGrad).
    """

    state_names = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False,
                 decoupled_weight_decay: bool = False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=bool(amsgrad), maximize=bool(maximize),
                                      decoupled_weight_decay=bool(decoupled_weight_decay)))

    def _check_hyperparameters(self, group):
        super()._check_hyperparameters(group)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{self.name}: betas must be a pair (beta1, beta2), got {betas!r}")
        group["betas"] = tuple(betas)
        check_range(self.name, "betas[0]", betas[0], low=0.0, high=1.0, high_inclusive=False)
        check_range(self.name, "betas[1]", betas[1], low=0.0, high=1.0, high_inclusive=False)
        check_range(self.name, "eps", group["eps"], low=0.0)
        check_range(self.name, "weight_decay", group["weight_decay"], low=0.0)

    def _state_keys(self, group):
        keys = {"step", "exp_avg", "exp_avg_sq"}
        if group["amsgrad"]:
            keys.add("max_exp_avg_sq")
        return keys

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param.data)
            state["exp_avg_sq"] = np.zeros_like(param.data)
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = np.zeros_like(param.data)
        state["step"] += 1
        adam_update(param.data, grad, state["exp_avg"], state["exp_avg_sq"], state["step"], lr=float(group["lr"]),
                    betas=group["betas"], eps=group["eps"], weight_decay=group["weight_decay"],
                    decoupled_weight_decay=group["decoupled_weight_decay"],
                    max_exp_avg_sq=state["max_exp_avg_sq"] if group["amsgrad"] else None,
                    maximize=group["maximize"], work=self._work_array(param.data))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    Same as :class:`Adam` except that λ shrinks the parameters directly,
    ``θ ← θ(1 − γλ)``, before the Adam step, instead of entering the gradient
    and being rescaled by 1/(√v̂ + δ) like it; the default λ is 1e-2, as in
    PyTorch.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, maximize: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=True)
