"""Binary cross-entropy, on probabilities (``BCELoss``) and on logits (``BCEWithLogitsLoss``)."""

from __future__ import annotations

import math

import numpy as np

from nndl.nn.core.kernels import kernels
from nndl.nn.losses.loss import Loss, as_class_weights


def _check_binary_target(loss: Loss, target: np.ndarray) -> None:
    if np.any(target < 0) or np.any(target > 1):
        raise ValueError(
            f"{loss.describe()}: target values must lie in [0, 1], got values from {target.min()} to {target.max()}")


class BCELoss(Loss):
    """Binary cross-entropy between predicted probabilities ``p`` and targets ``y``.

    Parameters
    ----------
    reduction : {'mean', 'sum', 'none'}
        ``'mean'`` divides by the number of elements, as ``torch.nn.BCELoss``.

    Notes
    -----
    Element by element (``K`` = number of elements for ``'mean'``, 1 for ``'sum'``):

    .. math::
        L = −\\frac{1}{K} Σ_i \\left[ y_i \\max(\\ln p_i, −100)
            + (1 − y_i) \\max(\\ln(1 − p_i), −100) \\right]

    The clamp at −100 is PyTorch's: a prediction of exactly 0 or 1 on the
    wrong side costs 100 instead of ∞, so values match ``torch.nn.BCELoss``.
    The gradient is that of the unclamped loss with its denominator bounded
    below, again as PyTorch:

    .. math::
        \\frac{∂L}{∂p_i} = \\frac{1}{K} \\frac{p_i − y_i}{\\max(p_i (1 − p_i), 10^{-12})}

    (the derivative of the clamped term would be 0 exactly where the
    prediction is most wrong, which would stop learning there). For numerical
    stability prefer :class:`BCEWithLogitsLoss` on the logits.

    Shapes
    ------
    scores: probabilities in [0, 1], any shape; target: the same shape and
    dtype, values in [0, 1] (soft labels allowed). Values outside [0, 1] raise.
    """

    def forward(self, scores: np.ndarray, target: np.ndarray) -> float:
        probs = self._check_scores(scores)
        target = self._check_same_shape(probs, target)
        if np.any(probs < 0) or np.any(probs > 1):
            raise ValueError(
                f"{self.describe()}: inputs must be probabilities in [0, 1], got values from "
                f"{probs.min()} to {probs.max()}; use BCEWithLogitsLoss for logits")
        _check_binary_target(self, target)
        k = kernels()
        loss, cache = k.bce_loss_forward(probs, target, reduction=self.reduction)
        self._save(k, cache, probs.shape)
        return loss

    def _backward(self, k, dout, cache) -> np.ndarray:
        return k.bce_loss_backward(dout, cache)

    def expected_initial_loss(self, num_classes: int) -> float | None:
        """``ln 2`` per label: probabilities of ½ (a sigmoid of near-zero scores)."""
        return math.log(2.0)


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy on logits ``x`` (a sigmoid folded into the loss, computed stably).

    Parameters
    ----------
    reduction : {'mean', 'sum', 'none'}
        ``'mean'`` divides by the number of elements, as ``torch.nn.BCEWithLogitsLoss``.
    pos_weight : array-like of shape (C,), optional
        Weight ``w_c`` of the positive term for each class ``c`` (the last axis
        of the scores), as PyTorch's ``pos_weight``: ``w_c > 1`` raises recall,
        e.g. ``w_c = #negatives / #positives`` for an unbalanced class.

    Notes
    -----
    With ``p = σ(x)``, ``−ln σ(x) = softplus(−x)`` and ``−ln(1 − σ(x)) = x + softplus(−x)``:

    .. math::
        ℓ_i = −[w y_i \\ln σ(x_i) + (1 − y_i) \\ln(1 − σ(x_i))]
            = (1 − y_i) x_i + (1 + (w − 1) y_i) \\, \\mathrm{softplus}(−x_i)

    which for ``w = 1`` is ``max(x, 0) − x y + ln(1 + e^{−|x|})``: no
    exponential of a positive number is ever formed, so no overflow, and no
    ``log(0)``. The gradient (``K`` = number of elements or 1):

    .. math::
        \\frac{∂L}{∂x_i} = \\frac{1}{K} \\left[(1 + (w − 1) y_i)\\,σ(x_i) − w y_i\\right]
        \\;\\overset{w=1}{=}\\; \\frac{1}{K} (σ(x_i) − y_i)

    Shapes
    ------
    scores: logits of any shape (..., C); target: the same shape and dtype, in [0, 1].
    """

    def __init__(self, reduction: str = "mean", pos_weight=None, dtype=np.float32):
        super().__init__(reduction, dtype)
        weights = None if pos_weight is None else as_class_weights(pos_weight, "BCEWithLogitsLoss", "pos_weight")
        # A buffer, as in PyTorch: saved in the state dict and converted by ``to()``.
        self.register_buffer("pos_weight", weights)

    def forward(self, scores: np.ndarray, target: np.ndarray) -> float:
        scores = self._check_scores(scores)
        target = self._check_same_shape(scores, target)
        _check_binary_target(self, target)
        if self.pos_weight is not None and self.pos_weight.shape[0] != scores.shape[-1]:
            raise ValueError(
                f"{self.describe()}: pos_weight has {self.pos_weight.shape[0]} entries but the scores' "
                f"last axis has {scores.shape[-1]} (shape {scores.shape})")
        k = kernels()
        loss, cache = k.bce_with_logits_loss_forward(scores, target, pos_weight=self.pos_weight,
                                                      reduction=self.reduction)
        self._save(k, cache, scores.shape)
        return loss

    def _backward(self, k, dout, cache) -> np.ndarray:
        return k.bce_with_logits_loss_backward(dout, cache)

    def expected_initial_loss(self, num_classes: int) -> float | None:
        """``ln 2`` per label: near-zero logits give probability ½."""
        return math.log(2.0)

    def extra_repr(self) -> str:
        extra = f"reduction='{self.reduction}'"
        if self.pos_weight is not None:
            extra += f", pos_weight={np.array2string(self.pos_weight, precision=4, separator=', ')}"
        return extra
