"""The SoftmaxCrossEntropy and NLLLoss modules (their kernels: :mod:`nndl.nn.functional.cross_entropy`)."""

from __future__ import annotations

import math

import numpy as np

from nndl.nn.core.kernels import kernels
from nndl.nn.losses.loss import Loss, as_class_weights


def _check_class_scores(loss: Loss, scores) -> np.ndarray:
    """Scores (N, C) or (N, C, d1, ...): finite floats with a class axis 1, matching the loss's class weights."""
    scores = loss._check_scores(scores, min_ndim=2)
    num_classes = scores.shape[1]
    if loss.weight is not None and loss.weight.shape[0] != num_classes:
        raise ValueError(f"{loss.describe()}: weight has {loss.weight.shape[0]} entries for "
                         f"{num_classes} classes (scores of shape {scores.shape})")
    return scores


def _check_class_labels(loss: Loss, labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Integer labels of shape (N,) or (N, d1, ...) matching the scores, in [0, C) or equal to ``ignore_index``.

    With ``reduction='mean'`` the weights of the counted labels must not sum
    to 0: the mean divides by that sum.
    """
    shape = scores.shape
    expected = (shape[0],) + shape[2:]
    if labels.shape != expected:
        raise ValueError(f"{loss.describe()}: expected labels of shape {expected} for scores of shape {shape}, "
                         f"got {labels.shape}")
    flat = loss._check_labels(labels.reshape(-1), int(np.prod(expected)), shape[1], loss.ignore_index)
    if loss.reduction == "mean":
        counted = flat[flat != loss.ignore_index]
        weight = None if loss.weight is None else loss.weight.astype(scores.dtype)  # as the kernel will use it
        total = counted.size if weight is None else float(np.sum(weight[counted], dtype=np.float64))
        if total == 0:
            raise ValueError(
                f"{loss.describe()}: the weights of the target classes sum to 0 (or every label is ignore_index); "
                f"the mean is undefined")
    return labels


def _as_ignore_index(value, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{owner}: ignore_index must be an int, got {value!r}")
    return int(value)


class SoftmaxCrossEntropy(Loss):
    """Cross-entropy of the softmax of the scores (logits) against class labels or distributions.

    The same loss as ``torch.nn.CrossEntropyLoss``, with the same meaning of
    every option; the softmax is folded in, so the model outputs raw scores.

    Parameters
    ----------
    weight : array-like of shape (C,), optional
        Rescaling weight ``w_c`` of each class (unbalanced data sets).
    label_smoothing : float in [0, 1]
        ``ε``: the target becomes ``(1 − ε)·(target) + ε/C`` (uniform mixing).
    reduction : {'mean', 'sum', 'none'}
        With integer labels, ``'mean'`` divides by ``Σ_n w_{y_n}`` (the number
        of samples when there are no weights); with probability targets it
        divides by the number of samples whatever the weights (PyTorch's rule).
    ignore_index : int
        Samples (or pixels) whose label equals it contribute nothing: no loss,
        no gradient, not counted by ``'mean'`` (PyTorch's default, −100).

    Notes
    -----
    With ``log p_n = log_softmax(s_n)`` (computed by log-sum-exp, so no
    overflow) and a per-sample target distribution ``q_n`` — one-hot at
    ``y_n`` for labels, the given row for probability targets, mixed with the
    uniform ``1/C`` when ``ε > 0`` — each sample's loss is

    .. math::
        ℓ_n = −Σ_c a_{nc} \\ln p_{nc}, \\qquad a_{nc} = w_c q_{nc}

    (for labels with smoothing: ``a_{nc} = (1 − ε) w_{y_n} [c = y_n] + (ε/C) w_c``),
    and ``L = Σ_n ℓ_n / D`` with ``D`` as in *reduction*. Since
    ``∂(−\\ln p_c)/∂s_k = p_k − [k = c]``, the gradient is

    .. math::
        \\frac{∂L}{∂s_{nk}} = \\frac{1}{D} \\left(p_{nk} Σ_c a_{nc} − a_{nk}\\right)

    which without weights or smoothing is the notes' ``(softmax(s) − y)/N``.

    Shapes
    ------
    scores (N, C) or (N, C, d1, ...) (e.g. per-pixel classes); target either
    integer labels (N,) / (N, d1, ...) in [0, C), or float probabilities of the
    scores' shape and dtype, non-negative, summing to 1 over the class axis.
    """

    class_axis = 1  # one loss per sample (and position): reduction='none' drops the class axis

    def __init__(self, weight=None, label_smoothing: float = 0.0, reduction: str = "mean", ignore_index: int = -100,
                 dtype=np.float32):
        super().__init__(reduction, dtype)
        self.ignore_index = _as_ignore_index(ignore_index, "SoftmaxCrossEntropy")
        label_smoothing = float(label_smoothing)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"SoftmaxCrossEntropy: label_smoothing must lie in [0, 1], got {label_smoothing}")
        self.label_smoothing = label_smoothing
        # A buffer, as in torch.nn.CrossEntropyLoss: saved in the state dict and converted by ``to()``.
        self.register_buffer("weight", None if weight is None else as_class_weights(weight, "SoftmaxCrossEntropy"))

    def forward(self, scores: np.ndarray, target: np.ndarray) -> float:
        scores = _check_class_scores(self, scores)
        if not isinstance(target, np.ndarray):
            raise TypeError(f"{self.describe()}: target must be a numpy array, got {type(target).__name__}")
        if np.issubdtype(target.dtype, np.integer):
            target = _check_class_labels(self, target, scores)
        elif np.issubdtype(target.dtype, np.floating) and target.shape == scores.shape:
            target = self._check_probabilities(scores, target)
        else:
            raise TypeError(
                f"{self.describe()}: target must be integer labels of shape {(scores.shape[0],) + scores.shape[2:]} "
                f"or float probabilities of shape {scores.shape}; got dtype {target.dtype} and shape {target.shape}")
        k = kernels()
        loss, cache = k.softmax_cross_entropy_forward(scores, target, weight=self.weight,
                                                      label_smoothing=self.label_smoothing, reduction=self.reduction,
                                                      ignore_index=self.ignore_index)
        self._save(k, cache, scores.shape)
        return loss

    def _check_probabilities(self, scores: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Probability targets: the scores' shape and dtype, non-negative, summing to 1 over the class axis."""
        target = self._check_same_shape(scores, target)
        if np.any(target < 0):
            raise ValueError(f"{self.describe()}: probability targets must be non-negative, "
                             f"got a minimum of {target.min()}")
        row_sums = np.moveaxis(target, 1, -1).reshape(-1, target.shape[1]).sum(axis=1)
        tolerance = float(np.sqrt(np.finfo(target.dtype).eps))
        worst = int(np.argmax(np.abs(row_sums - 1)))
        if abs(row_sums[worst] - 1) > tolerance:
            raise ValueError(f"{self.describe()}: probability targets must sum to 1 over the class axis "
                             f"(tolerance {tolerance:.1e}); row {worst} sums to {row_sums[worst]:.6g}")
        return target

    def _backward(self, k, dout, cache) -> np.ndarray:
        return k.softmax_cross_entropy_backward(dout, cache)

    def expected_initial_loss(self, num_classes: int) -> float | None:
        """``ln C``: near-zero scores give a uniform softmax, ``p = 1/C`` for the right class."""
        return math.log(num_classes) if num_classes >= 2 else None

    def extra_repr(self) -> str:
        extra = []
        if self.weight is not None:
            extra.append(f"weight={np.array2string(self.weight, precision=4, separator=', ')}")
        if self.label_smoothing:
            extra.append(f"label_smoothing={self.label_smoothing}")
        if self.ignore_index != -100:
            extra.append(f"ignore_index={self.ignore_index}")
        extra.append(f"reduction='{self.reduction}'")
        return ", ".join(extra)


class NLLLoss(Loss):
    """Negative log-likelihood of the labels under given log-probabilities.

    ``NLLLoss(log_softmax(s), y)`` equals ``SoftmaxCrossEntropy()(s, y)``; use
    it after a model that already ends in a log-softmax, as ``torch.nn.NLLLoss``.

    Parameters
    ----------
    weight : array-like of shape (C,), optional
        Rescaling weight ``w_c`` of each class.
    reduction : {'mean', 'sum', 'none'}
        ``'mean'`` divides by ``Σ_n w_{y_n}`` (by N without weights).
    ignore_index : int
        Labels equal to it contribute nothing (as :class:`SoftmaxCrossEntropy`).

    Notes
    -----
    With log-probabilities ``z_{nc}`` (the input) and ``D`` as in *reduction*:

    .. math::
        L = −\\frac{1}{D} Σ_n w_{y_n} z_{n y_n}, \\qquad
        \\frac{∂L}{∂z_{nk}} = −\\frac{1}{D} w_{y_n} [k = y_n]

    Shapes
    ------
    scores (N, C) or (N, C, d1, ...) log-probabilities; labels (N,) or
    (N, d1, ...), integers in [0, C).
    """

    class_axis = 1  # one loss per sample (and position): reduction='none' drops the class axis

    def __init__(self, weight=None, reduction: str = "mean", ignore_index: int = -100, dtype=np.float32):
        super().__init__(reduction, dtype)
        self.ignore_index = _as_ignore_index(ignore_index, "NLLLoss")
        self.register_buffer("weight", None if weight is None else as_class_weights(weight, "NLLLoss"))

    def forward(self, scores: np.ndarray, target: np.ndarray) -> float:
        log_probs = _check_class_scores(self, scores)
        if not isinstance(target, np.ndarray):
            raise TypeError(f"{self.describe()}: labels must be a numpy array, got {type(target).__name__}")
        labels = _check_class_labels(self, target, log_probs)
        k = kernels()
        loss, cache = k.nll_loss_forward(log_probs, labels, weight=self.weight, reduction=self.reduction,
                                         ignore_index=self.ignore_index)
        self._save(k, cache, log_probs.shape)
        return loss

    def _backward(self, k, dout, cache) -> np.ndarray:
        return k.nll_loss_backward(dout, cache)

    def expected_initial_loss(self, num_classes: int) -> float | None:
        """``ln C``: after LogSoftmax of near-zero scores, as for softmax cross-entropy, ``p = 1/C`` for the right class."""
        return math.log(num_classes) if num_classes >= 2 else None

    def extra_repr(self) -> str:
        extra = f"reduction='{self.reduction}'"
        if self.ignore_index != -100:
            extra = f"ignore_index={self.ignore_index}, " + extra
        if self.weight is not None:
            extra = f"weight={np.array2string(self.weight, precision=4, separator=', ')}, " + extra
        return extra
