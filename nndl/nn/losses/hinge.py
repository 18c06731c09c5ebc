"""The multiclass hinge (SVM) loss of Weston and Watkins, as in the notes."""

from __future__ import annotations

import numpy as np

from nndl.nn.core.kernels import kernels
from nndl.nn.losses.loss import Loss


class MulticlassHingeLoss(Loss):
    """Multiclass SVM loss: every wrong class should score at least ``margin`` below the right one.

    Parameters
    ----------
    margin : float
        ``Δ`` (1 in the notes); must be positive.
    reduction : {'mean', 'sum', 'none'}
        ``'mean'`` divides by the number of samples N.

    Notes
    -----
    For sample ``n`` with scores ``s`` and label ``y`` (the notes' ``L_i``):

    .. math::
        ℓ_n = Σ_{j ≠ y} \\max(0, s_j − s_y + Δ)

    and ``L = Σ_n ℓ_n / N``. A subgradient, with the indicator
    ``m_j = [s_j − s_y + Δ > 0]`` of the violated margins:

    .. math::
        \\frac{∂ℓ_n}{∂s_j} = m_j \\;(j ≠ y), \\qquad
        \\frac{∂ℓ_n}{∂s_y} = −Σ_{j ≠ y} m_j

    At the kink ``s_j − s_y + Δ = 0`` the hinge has no derivative; the
    subgradient chosen there is 0 (the margin counts as satisfied), as
    PyTorch does.

    ``torch.nn.MultiMarginLoss`` (with ``p=1``) computes the same sum divided
    by the number of classes C; this loss keeps the notes' form, so it is C
    times PyTorch's, and a linear classifier with tiny weights starts at
    ``ℓ ≈ (C − 1)Δ``.

    Shapes
    ------
    scores (N, C); labels (N,), integers in [0, C).
    """

    class_axis = 1  # one loss per sample (and position): reduction='none' drops the class axis

    def __init__(self, margin: float = 1.0, reduction: str = "mean", dtype=np.float32):
        super().__init__(reduction, dtype)
        margin = float(margin)
        if not margin > 0:
            raise ValueError(f"MulticlassHingeLoss: margin must be positive, got {margin}")
        self.margin = margin

    def forward(self, scores: np.ndarray, target: np.ndarray) -> float:
        scores = self._check_scores(scores, min_ndim=2)
        if scores.ndim != 2:
            raise ValueError(f"{self.describe()}: expected scores of shape (N, C), got {scores.shape}")
        labels = self._check_labels(target, scores.shape[0], scores.shape[1])
        k = kernels()
        loss, cache = k.multiclass_hinge_loss_forward(scores, labels, margin=self.margin, reduction=self.reduction)
        self._save(k, cache, scores.shape)
        return loss

    def _backward(self, k, dout, cache) -> np.ndarray:
        return k.multiclass_hinge_loss_backward(dout, cache)

    def expected_initial_loss(self, num_classes: int) -> float | None:
        """``(C − 1)Δ``: with near-zero scores every wrong class violates the margin Δ by Δ."""
        return (num_classes - 1) * self.margin if num_classes >= 2 else None

    def extra_repr(self) -> str:
        return f"margin={self.margin}, reduction='{self.reduction}'"
