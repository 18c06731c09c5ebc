"""Element-wise regression losses: mean squared error and mean absolute error."""

from __future__ import annotations

import numpy as np

from nndl.nn.core.kernels import kernels
from nndl.nn.losses.loss import Loss


class MSELoss(Loss):
    """Squared error between predictions ``h`` and targets ``y``, element by element.

    Parameters
    ----------
    reduction : {'mean', 'sum', 'none'}
        ``'mean'`` divides by the number of *elements* (as ``torch.nn.MSELoss``),
        ``'sum'`` adds them.
    half : bool
        ``False`` (PyTorch's convention): each element costs ``(h − y)²``.
        ``True`` (the notes' convention): ``½ (h − y)²``, whose gradient is
        exactly the residual ``h − y``.

    Notes
    -----
    With ``c = ½`` if ``half`` else ``1`` and ``K`` = number of elements
    (``'mean'``) or 1 (``'sum'``):

    .. math::
        L = \\frac{c}{K} Σ_i (h_i − y_i)^2, \\qquad
        \\frac{∂L}{∂h_i} = \\frac{2c}{K} (h_i − y_i)

    Shapes
    ------
    scores (any shape), target (the same shape and dtype; no broadcasting).
    """

    def __init__(self, reduction: str = "mean", half: bool = False, dtype=np.float32):
        super().__init__(reduction, dtype)
        self.half = bool(half)

    def forward(self, scores: np.ndarray, target: np.ndarray) -> float:
        scores = self._check_scores(scores)
        target = self._check_same_shape(scores, target)
        k = kernels()
        loss, cache = k.mse_loss_forward(scores, target, reduction=self.reduction, half=self.half)
        self._save(k, cache, scores.shape)
        return loss

    def _backward(self, k, dout, cache) -> np.ndarray:
        return k.mse_loss_backward(dout, cache)

    def extra_repr(self) -> str:
        return f"reduction='{self.reduction}'" + (", half=True" if self.half else "")


class L1Loss(Loss):
    """Absolute error ``|h − y|``, element by element (mean absolute error).

    Parameters
    ----------
    reduction : {'mean', 'sum', 'none'}
        ``'mean'`` divides by the number of elements, as ``torch.nn.L1Loss``.

    Notes
    -----
    .. math::
        L = \\frac{1}{K} Σ_i |h_i − y_i|, \\qquad
        \\frac{∂L}{∂h_i} = \\frac{1}{K} \\operatorname{sign}(h_i − y_i)

    ``|·|`` has no derivative at 0; the subgradient used there is
    ``sign(0) = 0``, as PyTorch does.

    Shapes
    ------
    scores (any shape), target (the same shape and dtype; no broadcasting).
    """

    def forward(self, scores: np.ndarray, target: np.ndarray) -> float:
        scores = self._check_scores(scores)
        target = self._check_same_shape(scores, target)
        k = kernels()
        loss, cache = k.l1_loss_forward(scores, target, reduction=self.reduction)
        self._save(k, cache, scores.shape)
        return loss

    def _backward(self, k, dout, cache) -> np.ndarray:
        return k.l1_loss_backward(dout, cache)
