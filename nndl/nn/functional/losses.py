"""Reference kernels: element-wise losses (MSE, L1, binary cross-entropy) and the multiclass hinge.

Every loss pair follows one pattern. ``<loss>_forward(scores, target,
options..., reduction)`` computes one loss ``ℓ_i`` per element (per sample for
the hinge) and combines them:

- ``'mean'``: ``L = Σ_i ℓ_i / K`` (``K`` = number of elements, or of samples),
- ``'sum'``: ``L = Σ_i ℓ_i``,

both returned as a Python float (summed in float64), or ``'none'``: the
array of ``ℓ_i`` itself. ``<loss>_backward(dout, cache)`` returns
``∂/∂scores`` of ``dout · L`` (``dout`` a number) or of ``Σ_i dout_i ℓ_i``
(``'none'``: ``dout`` shaped like the losses), i.e. ``∂ℓ_i/∂s_i`` times
the upstream factor ``∂L/∂ℓ_i`` = ``dout/K``, ``dout`` or ``dout_i``.

The kernels assume valid arguments (shapes, dtypes, value ranges): the loss
modules check those and name themselves in the error.
Softmax cross-entropy and the negative log-likelihood are in
:mod:`nndl.nn.functional.cross_entropy`.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "bce_loss_backward", "bce_loss_forward", "bce_with_logits_loss_backward", "bce_with_logits_loss_forward",
    "l1_loss_backward", "l1_loss_forward", "mse_loss_backward", "mse_loss_forward", "multiclass_hinge_loss_backward",
    "multiclass_hinge_loss_forward",
]

REDUCTIONS = ("mean", "sum", "none")

# Each log term of the BCE on probabilities is clamped from below at this value, as PyTorch does:
# log(0) = −∞ would make a single saturated prediction turn the loss to inf.
LOG_CLAMP = -100.0
# Lower bound of p(1 − p) in that loss's gradient, as PyTorch: finite at p ∈ {0, 1}.
GRAD_DENOMINATOR_FLOOR = 1e-12


def reduce_losses(losses: np.ndarray, reduction: str, count: float | None = None):
    """``L`` from the losses ``ℓ_i``: ``Σ ℓ_i / count`` (default: their number), ``Σ ℓ_i``, or the array itself."""
    if reduction == "none":
        return losses
    total = float(np.sum(losses, dtype=np.float64))
    if reduction == "sum":
        return total
    return total / (losses.size if count is None else count)


def upstream(dout, reduction: str, count: float):
    """``∂L/∂ℓ_i`` times ``dout``: ``dout / count`` for 'mean', ``dout`` for 'sum' and 'none'."""
    return dout / count if reduction == "mean" else dout


# ---------------------------------------------------------------------- regression


def mse_loss_forward(scores: np.ndarray, target: np.ndarray, reduction: str = "mean", half: bool = False):
    """Squared error ``ℓ_i = c (h_i − y_i)²``, with ``c = ½`` if ``half`` (the notes) else 1 (PyTorch).

    Parameters
    ----------
    scores, target : ndarray, the same shape and dtype
    reduction : {'mean', 'sum', 'none'}
        'mean' divides by the number of elements.
    half : bool

    Returns
    -------
    loss : float, or ndarray of the scores' shape for 'none'
    cache : tuple ``(h − y, c, reduction)``
    """
    residual = scores - target
    factor = 0.5 if half else 1.0
    return reduce_losses(factor * np.square(residual), reduction), (residual, factor, reduction)


def mse_loss_backward(dout, cache):
    """``∂ℓ_i/∂h_i = 2c (h_i − y_i)`` (the residual itself when ``c = ½``), times the upstream factor."""
    residual, factor, reduction = cache
    return (2.0 * factor) * residual * upstream(dout, reduction, residual.size)


def l1_loss_forward(scores: np.ndarray, target: np.ndarray, reduction: str = "mean"):
    """Absolute error ``ℓ_i = |h_i − y_i|`` (mean absolute error for 'mean', over the elements).

    Returns
    -------
    loss : float, or ndarray of the scores' shape for 'none'
    cache : tuple ``(h − y, reduction)``
    """
    residual = scores - target
    return reduce_losses(np.abs(residual), reduction), (residual, reduction)


def l1_loss_backward(dout, cache):
    """``∂ℓ_i/∂h_i = sign(h_i − y_i)``, with the subgradient ``sign(0) = 0`` at the kink (as PyTorch)."""
    residual, reduction = cache
    return np.sign(residual) * upstream(dout, reduction, residual.size)


# ---------------------------------------------------------------------- binary cross-entropy


def bce_loss_forward(probs: np.ndarray, target: np.ndarray, reduction: str = "mean"):
    """Binary cross-entropy on probabilities ``p`` against targets ``y``.

    .. math::
        ℓ_i = −[y_i \\max(\\ln p_i, −100) + (1 − y_i) \\max(\\ln(1 − p_i), −100)]

    The clamp at −100 is PyTorch's: a prediction of exactly 0 or 1 on the
    wrong side costs 100 instead of ∞.

    Parameters
    ----------
    probs : ndarray, values in [0, 1]
    target : ndarray, the same shape and dtype, values in [0, 1]
    reduction : {'mean', 'sum', 'none'}
        'mean' divides by the number of elements.

    Returns
    -------
    loss : float, or ndarray of the input's shape for 'none'
    cache : tuple ``(probs, target, reduction)``
    """
    with np.errstate(divide="ignore"):  # ln 0 = −∞, clamped on the next lines
        log_p = np.maximum(np.log(probs), LOG_CLAMP)
        log_1mp = np.maximum(np.log1p(-probs), LOG_CLAMP)
    losses = -(target * log_p + (1 - target) * log_1mp)
    return reduce_losses(losses, reduction), (probs, target, reduction)


def bce_loss_backward(dout, cache):
    """``∂ℓ_i/∂p_i = (p_i − y_i) / \\max(p_i (1 − p_i), 10^{-12})``, times the upstream factor.

    This is the derivative of the unclamped loss with its denominator bounded
    below, as PyTorch: the clamped term's derivative would be 0 exactly where
    the prediction is most wrong, which would stop learning there.
    """
    probs, target, reduction = cache
    gradient = (probs - target) / np.maximum(probs * (1 - probs), GRAD_DENOMINATOR_FLOOR)
    return gradient * upstream(dout, reduction, probs.size)


def _softplus(x: np.ndarray) -> np.ndarray:
    """``ln(1 + e^{x}) = max(x, 0) + ln(1 + e^{−|x|})``: only ``e^{−|x|} ≤ 1`` is formed, so no overflow."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """``σ(x) = 1/(1 + e^{−x})``, written as ``e^{x}/(1 + e^{x})`` for ``x < 0``: only ``e^{−|x|} ≤ 1`` is formed."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def bce_with_logits_loss_forward(logits: np.ndarray, target: np.ndarray, pos_weight: np.ndarray | None = None,
                                 reduction: str = "mean"):
    """Binary cross-entropy of ``σ(x)``, computed from the logits ``x`` without forming ``σ``.

    With ``−ln σ(x) = softplus(−x)`` and ``−ln(1 − σ(x)) = x + softplus(−x)``:

    .. math::
        ℓ_i = −[w y_i \\ln σ(x_i) + (1 − y_i) \\ln(1 − σ(x_i))]
            = (1 − y_i) x_i + (1 + (w − 1) y_i) \\, \\mathrm{softplus}(−x_i)

    (``w = 1`` without ``pos_weight``): no exponential of a positive number,
    no ``ln 0``.

    Parameters
    ----------
    logits : ndarray, shape (..., C)
    target : ndarray, the same shape and dtype, values in [0, 1]
    pos_weight : ndarray, shape (C,), or None
        Weight ``w_c`` of the positive term of class ``c`` (the last axis).
    reduction : {'mean', 'sum', 'none'}
        'mean' divides by the number of elements.

    Returns
    -------
    loss : float, or ndarray of the logits' shape for 'none'
    cache : tuple ``(logits, target, w or None, reduction)``
    """
    softplus_neg = _softplus(-logits)
    if pos_weight is None:
        losses = (1 - target) * logits + softplus_neg
    else:
        pos_weight = pos_weight.astype(logits.dtype, copy=False)  # broadcast along the last (class) axis
        losses = (1 - target) * logits + (1 + (pos_weight - 1) * target) * softplus_neg
    return reduce_losses(losses, reduction), (logits, target, pos_weight, reduction)


def bce_with_logits_loss_backward(dout, cache):
    """``∂ℓ_i/∂x_i = (1 + (w − 1) y_i) σ(x_i) − w y_i``, which for ``w = 1`` is ``σ(x_i) − y_i``."""
    logits, target, pos_weight, reduction = cache
    if pos_weight is None:
        gradient = _sigmoid(logits) - target
    else:
        gradient = (1 + (pos_weight - 1) * target) * _sigmoid(logits) - pos_weight * target
    return gradient * upstream(dout, reduction, logits.size)


# ---------------------------------------------------------------------- multiclass hinge


def multiclass_hinge_loss_forward(scores: np.ndarray, labels: np.ndarray, margin: float = 1.0,
                                  reduction: str = "mean"):
    """Multiclass SVM loss (Weston and Watkins): every wrong class should score ``Δ`` below the right one.

    For sample ``n`` with scores ``s`` and label ``y`` (the notes' ``L_i``):

    .. math::
        ℓ_n = Σ_{j ≠ y} \\max(0, s_j − s_y + Δ)

    Parameters
    ----------
    scores : ndarray, shape (N, C)
    labels : ndarray of ints, shape (N,), in [0, C)
    margin : float > 0
        ``Δ``.
    reduction : {'mean', 'sum', 'none'}
        'mean' divides by the number of samples N.

    Returns
    -------
    loss : float, or ndarray of shape (N,) for 'none'
    cache : tuple ``(margins, labels, reduction)``, the (N, C) hinge terms
    """
    rows = np.arange(scores.shape[0])
    margins = np.maximum(scores - scores[rows, labels][:, None] + margin, 0)
    margins[rows, labels] = 0  # j = y is not part of the sum
    return reduce_losses(margins.sum(axis=1), reduction), (margins, labels, reduction)


def multiclass_hinge_loss_backward(dout, cache):
    """A subgradient of the hinge, with ``m_j = 1[s_j − s_y + Δ > 0]`` the violated margins.

    .. math::
        ∂ℓ_n/∂s_j = m_j \\;(j ≠ y), \\qquad ∂ℓ_n/∂s_y = −Σ_{j ≠ y} m_j

    At the kink ``s_j − s_y + Δ = 0`` the subgradient chosen is 0 (the margin
    counts as satisfied), as PyTorch does.

    Returns
    -------
    dscores : ndarray, shape (N, C)
    """
    margins, labels, reduction = cache
    num_samples = labels.shape[0]
    gradient = (margins > 0).astype(margins.dtype)  # m_j; the hinge term of j = y is 0, so m_y = 0
    gradient[np.arange(num_samples), labels] = -gradient.sum(axis=1)
    if reduction == "none":
        return gradient * dout[:, None]  # one upstream gradient per sample, the same for its C scores
    return gradient * upstream(dout, reduction, num_samples)
