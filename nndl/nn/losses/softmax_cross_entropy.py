"""Softmax cross-entropy on logits, and the negative log-likelihood on log-probabilities."""

from __future__ import annotations

import numpy as np

from nndl.nn.losses.loss import Loss, as_class_weights
from nndl.nn.activations.softmax import log_softmax


def _scores_2d(loss: Loss, scores) -> np.ndarray:
    """Class scores as rows: (N, C) as is, (N, C, d1, ...) -> (N·d1·..., C) with the class axis last."""
    scores = loss._check_scores(scores, min_ndim=2)
    if scores.ndim == 2:
        return scores
    num_classes = scores.shape[1]
    return np.moveaxis(scores, 1, -1).reshape(-1, num_classes)


def _restore_layout(grad_2d: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`_scores_2d` for a gradient."""
    if len(shape) == 2:
        return grad_2d
    return np.moveaxis(grad_2d.reshape((shape[0],) + shape[2:] + (shape[1],)), -1, 1)


def _labels_1d(loss: Loss, labels: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Integer labels of shape (N,) or (N, d1, ...) matching the scores, flattened to (M,)."""
    expected = (shape[0],) + shape[2:]
    if labels.shape != expected:
        raise ValueError(f"{loss.describe()}: expected labels of shape {expected} for scores of shape {shape}, "
                         f"got {labels.shape}")
    return loss._check_labels(labels.reshape(-1), int(np.prod(expected)), shape[1], loss.ignore_index)


def _ignoring(labels: np.ndarray, ignore_index: int, class_weight, dtype):
    """``(labels to index with, per-label weights or None, kept mask or None)``.

    Ignored labels are replaced by class 0 for indexing and weighted 0, so
    they add nothing to the loss, to the gradient or to the weighted mean's
    denominator (PyTorch's ``ignore_index``).
    """
    kept = labels != ignore_index
    if kept.all():
        return labels, None if class_weight is None else class_weight[labels], None
    safe = np.where(kept, labels, 0)
    weight = kept.astype(dtype) if class_weight is None else class_weight[safe] * kept
    return safe, weight, kept


def _as_ignore_index(value, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{owner}: ignore_index must be an int, got {value!r}")
    return int(value)


def _weighted_denominator(loss: Loss, label_weights: np.ndarray) -> float:
    total = float(np.sum(label_weights, dtype=np.float64))
    if total == 0:
        raise ValueError(
            f"{loss.describe()}: the weights of the target classes sum to 0 (or every label is ignore_index); "
            f"the mean is undefined")
    return total


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
    Integer labels are never expanded to a one-hot matrix: the label entries
    are reached by ``[arange(N), y]`` indexing.

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
        scores_2d = _scores_2d(self, scores)
        num_classes = scores_2d.shape[1]
        if self.weight is not None and self.weight.shape[0] != num_classes:
            raise ValueError(f"{self.describe()}: weight has {self.weight.shape[0]} entries for "
                             f"{num_classes} classes (scores of shape {scores.shape})")
        class_weight = None if self.weight is None else self.weight.astype(scores.dtype, copy=False)
        log_probs = log_softmax(scores_2d, axis=1)
        if not isinstance(target, np.ndarray):
            raise TypeError(f"{self.describe()}: target must be a numpy array, got {type(target).__name__}")
        if np.issubdtype(target.dtype, np.integer):
            value, cache = self._forward_labels(log_probs, _labels_1d(self, target, scores.shape), class_weight)
        elif np.issubdtype(target.dtype, np.floating) and target.shape == scores.shape:
            value, cache = self._forward_probabilities(scores, log_probs, target, class_weight)
        else:
            raise TypeError(
                f"{self.describe()}: target must be integer labels of shape {(scores.shape[0],) + scores.shape[2:]} "
                f"or float probabilities of shape {scores.shape}; got dtype {target.dtype} and shape {target.shape}")
        self._cache = (scores.shape,) + cache
        return value.reshape(self._unreduced_shape(scores.shape)) if self.reduction == "none" else value

    def _forward_labels(self, log_probs, labels, class_weight):
        rows = np.arange(labels.shape[0])
        eps = self.label_smoothing
        num_classes = log_probs.shape[1]
        labels, label_weight, kept = _ignoring(labels, self.ignore_index, class_weight, log_probs.dtype)
        nll = -log_probs[rows, labels]
        if label_weight is not None:
            nll = nll * label_weight
        losses = (1.0 - eps) * nll if eps else nll
        if eps:
            # The uniform part: (ε/C) Σ_c w_c (−ln p_c) for every sample.
            uniform = -(log_probs @ class_weight) if class_weight is not None else -log_probs.sum(axis=1)
            if kept is not None:
                uniform = uniform * kept
            losses = losses + (eps / num_classes) * uniform
        weighted_mean = label_weight is not None and self.reduction == "mean"
        count = _weighted_denominator(self, label_weight) if weighted_mean else labels.shape[0]
        return self._reduce(losses, count), ("labels", log_probs, labels, label_weight, class_weight, count, kept)

    def _forward_probabilities(self, scores, log_probs, target, class_weight):
        target = self._check_same_shape(scores, target)
        num_classes = log_probs.shape[1]
        target_2d = target if target.ndim == 2 else np.moveaxis(target, 1, -1).reshape(-1, num_classes)
        tolerance = float(np.sqrt(np.finfo(target.dtype).eps))
        if np.any(target_2d < 0):
            raise ValueError(f"{self.describe()}: probability targets must be non-negative, "
                             f"got a minimum of {target_2d.min()}")
        row_sums = target_2d.sum(axis=1)
        worst = int(np.argmax(np.abs(row_sums - 1)))
        if abs(row_sums[worst] - 1) > tolerance:
            raise ValueError(f"{self.describe()}: probability targets must sum to 1 over the class axis "
                             f"(tolerance {tolerance:.1e}); row {worst} sums to {row_sums[worst]:.6g}")
        coefficients = target_2d
        if self.label_smoothing:
            coefficients = (1.0 - self.label_smoothing) * coefficients + self.label_smoothing / num_classes
        if class_weight is not None:
            coefficients = coefficients * class_weight
        losses = -np.einsum("nc,nc->n", coefficients, log_probs)
        count = log_probs.shape[0]
        return self._reduce(losses, count), ("probabilities", log_probs, coefficients, count)

    def _backward(self, cache) -> np.ndarray:
        shape, kind, log_probs = cache[:3]
        probs = np.exp(log_probs)  # softmax(s), fresh array: updated in place below
        if kind == "labels":
            labels, label_weight, class_weight, count, kept = cache[3:]
            rows = np.arange(labels.shape[0])
            eps = self.label_smoothing
            num_classes = probs.shape[1]
            # p·Σ_c a_c − a, with a = (1 − ε) w_y [c = y] + (ε/C) w_c.
            label_coef = (1.0 - eps) if label_weight is None else (1.0 - eps) * label_weight
            if class_weight is None:
                total_coef = 1.0
            else:
                total_coef = label_weight if not eps else (
                    (1.0 - eps) * label_weight + (eps / num_classes) * class_weight.sum())
                probs *= total_coef[:, None]
            if eps:
                probs -= (eps / num_classes) if class_weight is None else (eps / num_classes) * class_weight
            probs[rows, labels] -= label_coef
            if kept is not None:
                probs[~kept] = 0  # ignored labels: no gradient at all (the smoothing term included)
        else:
            coefficients, count = cache[3:]
            probs *= coefficients.sum(axis=1, keepdims=True)
            probs -= coefficients
        probs *= self._scale(count)
        return _restore_layout(probs, shape)

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
        log_probs = _scores_2d(self, scores)
        num_classes = log_probs.shape[1]
        if self.weight is not None and self.weight.shape[0] != num_classes:
            raise ValueError(f"{self.describe()}: weight has {self.weight.shape[0]} entries for "
                             f"{num_classes} classes (scores of shape {scores.shape})")
        if not isinstance(target, np.ndarray):
            raise TypeError(f"{self.describe()}: labels must be a numpy array, got {type(target).__name__}")
        class_weight = None if self.weight is None else self.weight.astype(scores.dtype, copy=False)
        labels, label_weight, _ = _ignoring(_labels_1d(self, target, scores.shape), self.ignore_index, class_weight,
                                            scores.dtype)
        picked = -log_probs[np.arange(labels.shape[0]), labels]
        if label_weight is None:
            count = labels.shape[0]
        else:
            picked = picked * label_weight
            count = _weighted_denominator(self, label_weight) if self.reduction == "mean" else labels.shape[0]
        self._cache = (scores.shape, scores.dtype, labels, label_weight, count)
        value = self._reduce(picked, count)
        return value.reshape(self._unreduced_shape(scores.shape)) if self.reduction == "none" else value

    def _backward(self, cache) -> np.ndarray:
        shape, dtype, labels, label_weight, count = cache
        grad = np.zeros((labels.shape[0], shape[1]), dtype=dtype)
        scale = self._scale(count)
        grad[np.arange(labels.shape[0]), labels] = -scale if label_weight is None else -scale * label_weight
        return _restore_layout(grad, shape)

    def extra_repr(self) -> str:
        extra = f"reduction='{self.reduction}'"
        if self.ignore_index != -100:
            extra = f"ignore_index={self.ignore_index}, " + extra
        if self.weight is not None:
            extra = f"weight={np.array2string(self.weight, precision=4, separator=', ')}, " + extra
        return extra
