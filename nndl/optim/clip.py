"""Gradient clipping against exploding gradients: by global norm and by value."""

from __future__ import annotations

import math

import numpy as np

from nndl.optim.optimizer import check_range, params_with_grad

# PyTorch adds this to the norm before dividing, so a norm of 0 is harmless
# and the clipped norm ends just below max_norm.
CLIP_NORM_EPS = 1e-6


def grad_norm(params, norm_type: float = 2.0) -> float:
    """The p-norm of all gradients of ``params`` taken together as one vector.

    Parameters
    ----------
    params : Parameter or iterable of Parameter
        Parameters without a gradient are ignored.
    norm_type : float
        p > 0, or ``inf`` for the largest absolute value.

    Returns
    -------
    float
        ``(Σ_i ‖g_i‖_p^p)^{1/p}``, computed as the p-norm of the per-parameter
        norms (as PyTorch does); 0.0 when no parameter has a gradient.
    """
    return _total_norm(params_with_grad(params), _as_norm_type(norm_type, "grad_norm"))


def clip_grad_norm(params, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False) -> float:
    """Rescale all gradients together so that their global norm is at most ``max_norm``.

    With ``n = ‖g‖_p`` the norm of all gradients concatenated:

    .. math::
        g ← g · \\min\\left(1, \\frac{\\text{max\\_norm}}{n + 10^{-6}}\\right)

    so the direction of the whole step is kept and only its length is
    limited. Gradients whose norm is below the threshold are left unchanged
    (the notes' "g = g/‖g‖₁ · ε" in 001 is this rule with the 2-norm, applied
    only when ‖g‖₂ exceeds the threshold ε).

    Parameters
    ----------
    params : Parameter or iterable of Parameter
        Their ``.grad`` arrays are scaled in place; parameters without a
        gradient are ignored.
    max_norm : float
        The threshold, >= 0.
    norm_type : float
        p > 0, or ``inf``.
    error_if_nonfinite : bool
        Raise instead of scaling when the norm is NaN or infinite (the
        default, as PyTorch, lets NaN/inf propagate into the gradients).

    Returns
    -------
    float
        The global norm *before* clipping (useful to monitor training).
    """
    check_range("clip_grad_norm", "max_norm", max_norm, low=0.0)
    params = params_with_grad(params)
    total = _total_norm(params, _as_norm_type(norm_type, "clip_grad_norm"))
    if not math.isfinite(total) and error_if_nonfinite:
        raise RuntimeError(f"clip_grad_norm: the total gradient {norm_type}-norm is {total}; "
                           "set error_if_nonfinite=False to scale the gradients anyway")
    coefficient = max_norm / (total + CLIP_NORM_EPS)
    if coefficient < 1.0 or math.isnan(coefficient):
        with np.errstate(invalid="ignore"):  # inf · 0 = NaN is the documented outcome here
            for param in params:
                param.grad *= coefficient
    return total


def clip_grad_value(params, clip_value: float) -> None:
    """Clip every gradient entry to ``[-clip_value, clip_value]``, in place.

    Unlike :func:`clip_grad_norm` this changes the gradient's direction.
    """
    check_range("clip_grad_value", "clip_value", clip_value, low=0.0)
    for param in params_with_grad(params):
        np.clip(param.grad, -clip_value, clip_value, out=param.grad)


def _as_norm_type(norm_type, owner: str) -> float:
    try:
        value = float(norm_type)
    except (TypeError, ValueError):
        value = float("nan")
    if not value > 0:
        raise ValueError(f"{owner}: norm_type must be a positive number or inf, got {norm_type!r}")
    return value


def _total_norm(params, norm_type: float) -> float:
    norms = [_array_norm(param.grad, norm_type) for param in params]
    if not norms:
        return 0.0
    return _array_norm(np.array(norms), norm_type)


def _array_norm(values: np.ndarray, norm_type: float) -> float:
    flat = values.reshape(-1)
    if flat.size == 0:
        return 0.0
    if norm_type == math.inf:
        return float(max(flat.max(), -flat.min()))
    if norm_type == 2.0:
        return math.sqrt(float(np.dot(flat, flat)))
    if norm_type == 1.0:
        return float(np.abs(flat).sum())
    return float(np.sum(np.abs(flat) ** norm_type) ** (1.0 / norm_type))
