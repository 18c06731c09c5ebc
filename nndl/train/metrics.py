"""Evaluation metrics: accuracy, top-k accuracy, confusion matrix, precision/recall/F1, MSE, MAE, R².

Classification metrics take ``(y_true, scores)``: integer labels ``(N,)`` and
either class scores ``(N, C)`` (the prediction is the arg-max; logits,
probabilities and log-probabilities all work) or predicted labels ``(N,)``.
For a single output column ``(N, 1)`` the prediction is ``score > threshold``.

Multi-label classification (several labels may be on for one sample: sigmoid
outputs trained with ``BCEWithLogitsLoss``) has multi-hot targets ``(N, L)``
and scores ``(N, L)``; label ``l`` is predicted on where ``score > threshold``
(0 for logits, 0.5 for probabilities). :func:`hamming_loss`,
:func:`subset_accuracy` and :func:`per_label_f1` score it as scikit-learn
does; :func:`accuracy` on multi-hot targets is the subset accuracy (never an
arg-max), and the single-label metrics refuse them.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def predicted_labels(scores: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Class predictions from scores: arg-max over classes, or a threshold on one column."""
    scores = np.asarray(scores)
    if scores.ndim == 2 and scores.shape[1] > 1:
        return np.argmax(scores, axis=1)
    if scores.ndim == 2 and scores.shape[1] == 1:
        return (scores[:, 0] > threshold).astype(np.int64)
    if scores.ndim == 1:
        if np.issubdtype(scores.dtype, np.integer):
            return scores
        return (scores > threshold).astype(np.int64)
    raise ValueError(f"metrics: expected scores of shape (N, C) or labels (N,), got {scores.shape}")


def is_multi_hot(y_true, scores) -> bool:
    """True for multi-label targets: ``(N, L)`` zeros and ones, shaped as the scores, some row not one-hot.

    One-hot rows (exactly one 1) and probability rows are single-label
    targets; their class is the arg-max.
    """
    y_true, scores = np.asarray(y_true), np.asarray(scores)
    if y_true.ndim != 2 or y_true.shape[1] < 2 or y_true.shape != scores.shape:
        return False
    binary = np.all((y_true == 0) | (y_true == 1))
    return bool(binary and np.any(np.sum(y_true, axis=1) != 1))


def _labels(y_true, scores, threshold=0.5):
    y_true = np.asarray(y_true)
    if is_multi_hot(y_true, scores):
        raise ValueError("metrics: multi-hot targets (several labels per sample) have no single class; use "
                         "accuracy (subset accuracy), subset_accuracy, hamming_loss or per_label_f1")
    if y_true.ndim == 2 and y_true.shape[1] > 1:  # one-hot or probability targets
        y_true = np.argmax(y_true, axis=1)
    y_true = y_true.reshape(-1)
    y_pred = predicted_labels(scores, threshold)
    if y_pred.shape != y_true.shape:
        raise ValueError(f"metrics: {y_true.shape[0]} labels but {y_pred.shape[0]} predictions")
    return y_true.astype(np.int64), y_pred.astype(np.int64)


def accuracy(y_true, scores, threshold: float = 0.5) -> float:
    """Fraction of samples whose predicted class equals the label.

    On multi-hot targets (:func:`is_multi_hot`) the fraction of samples whose
    whole label set is predicted exactly (:func:`subset_accuracy`, which is
    scikit-learn's ``accuracy_score`` on multi-label data).
    """
    if is_multi_hot(y_true, scores):
        return subset_accuracy(y_true, scores, threshold)
    y_true, y_pred = _labels(y_true, scores, threshold)
    return float(np.mean(y_true == y_pred)) if y_true.size else 0.0


def top_k_accuracy(y_true, scores, k: int = 5) -> float:
    """Fraction of samples whose label is among the ``k`` highest scores.

    Ties at the k-th score count in the sample's favour only as far as
    ``np.argpartition`` places them (as scikit-learn, ties are rare with
    real-valued scores).
    """
    scores = np.asarray(scores)
    y_true = np.asarray(y_true).reshape(-1)
    if scores.ndim != 2:
        raise ValueError(f"top_k_accuracy: expected scores of shape (N, C), got {scores.shape}")
    if k >= scores.shape[1]:
        return 1.0
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return float(np.mean(np.any(top == y_true[:, None], axis=1)))


def confusion_matrix(y_true, scores, num_classes: int | None = None) -> np.ndarray:
    """``C[i, j]`` = number of samples of true class ``i`` predicted as ``j`` (scikit-learn's layout)."""
    y_true, y_pred = _labels(y_true, scores)
    if num_classes is None:
        num_classes = int(max(y_true.max(initial=-1), y_pred.max(initial=-1))) + 1
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def _per_class(y_true, scores):
    matrix = confusion_matrix(y_true, scores)
    true_positive = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0)
    actual = matrix.sum(axis=1)
    present = (predicted + actual) > 0  # classes in neither labels nor predictions do not count
    return true_positive, predicted, actual, present


def _safe_divide(num, den):
    # 0/0 counts as 0, scikit-learn's zero_division=0 default.
    return np.divide(num, den, out=np.zeros_like(num, dtype=np.float64), where=den > 0)


def per_class_report(y_true, scores, num_classes: int | None = None) -> dict[str, np.ndarray]:
    """Per-class ``precision``, ``recall``, ``f1`` (float64) and ``support`` (int64), each of shape ``(C,)``.

    precision_c = TP_c / (TP_c + FP_c), recall_c = TP_c / (TP_c + FN_c),
    F1_c = 2 TP_c / (2 TP_c + FP_c + FN_c) (0 where the denominator is 0, as
    scikit-learn's ``zero_division=0``); support_c = samples of true class c.
    """
    matrix = confusion_matrix(y_true, scores, num_classes)
    tp = np.diag(matrix).astype(np.float64)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    return {"precision": _safe_divide(tp, predicted), "recall": _safe_divide(tp, actual),
            "f1": _safe_divide(2 * tp, predicted + actual), "support": actual}


def precision(y_true, scores) -> float:
    """Macro precision: mean over classes of TP / (TP + FP)."""
    tp, predicted, _, present = _per_class(y_true, scores)
    return float(np.mean(_safe_divide(tp, predicted)[present]))


def recall(y_true, scores) -> float:
    """Macro recall: mean over classes of TP / (TP + FN)."""
    tp, _, actual, present = _per_class(y_true, scores)
    return float(np.mean(_safe_divide(tp, actual)[present]))


def f1_score(y_true, scores) -> float:
    """Macro F1: mean over classes of 2 P R / (P + R) = 2 TP / (2 TP + FP + FN)."""
    tp, predicted, actual, present = _per_class(y_true, scores)
    return float(np.mean(_safe_divide(2 * tp, predicted + actual)[present]))


# ---------------------------------------------------------------------- multi-label
def _multi_label(y_true, scores, threshold, where: str):
    """Targets and predictions as (N, L) booleans; float scores are thresholded, 0/1 or bool scores taken as given."""
    y_true, scores = np.asarray(y_true), np.asarray(scores)
    if y_true.ndim != 2 or y_true.shape != scores.shape:
        raise ValueError(f"{where}: expected multi-hot targets and scores of the same shape (N, L), got "
                         f"{y_true.shape} and {scores.shape}")
    if not np.all((y_true == 0) | (y_true == 1)):
        raise ValueError(f"{where}: multi-hot targets must be 0 or 1")
    predicted = scores > threshold if scores.dtype.kind == "f" else scores.astype(bool)
    return y_true.astype(bool), predicted


def hamming_loss(y_true, scores, threshold: float = 0.5) -> float:
    """Fraction of the ``N · L`` label decisions that are wrong: ``mean(ŷ_nl ≠ y_nl)``."""
    y_true, y_pred = _multi_label(y_true, scores, threshold, "hamming_loss")
    return float(np.mean(y_true != y_pred)) if y_true.size else 0.0


def subset_accuracy(y_true, scores, threshold: float = 0.5) -> float:
    """Fraction of samples whose predicted label set equals the true one exactly (the strictest score)."""
    y_true, y_pred = _multi_label(y_true, scores, threshold, "subset_accuracy")
    return float(np.mean(np.all(y_true == y_pred, axis=1))) if len(y_true) else 0.0


def per_label_f1(y_true, scores, threshold: float = 0.5) -> np.ndarray:
    """F1 of each label as its own binary problem, shape ``(L,)``: ``2 TP_l / (2 TP_l + FP_l + FN_l)``.

    0 where a label is neither present nor predicted (scikit-learn's
    ``f1_score(average=None, zero_division=0)``).
    """
    y_true, y_pred = _multi_label(y_true, scores, threshold, "per_label_f1")
    tp = np.sum(y_true & y_pred, axis=0).astype(np.float64)
    return _safe_divide(2 * tp, (np.sum(y_true, axis=0) + np.sum(y_pred, axis=0)).astype(np.float64))


def macro_label_f1(y_true, scores, threshold: float = 0.5) -> float:
    """Mean of :func:`per_label_f1` over the labels (scikit-learn's ``average='macro'``)."""
    return float(np.mean(per_label_f1(y_true, scores, threshold)))


def mean_squared_error(y_true, y_pred) -> float:
    """Mean of (y − ŷ)² over all elements."""
    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if y_true.size != y_pred.size:
        raise ValueError(f"mean_squared_error: {y_true.size} targets but {y_pred.size} predictions")
    return float(np.mean((y_true.reshape(y_pred.shape) - y_pred) ** 2))


def mean_absolute_error(y_true, y_pred) -> float:
    """Mean of |y − ŷ| over all elements."""
    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if y_true.size != y_pred.size:
        raise ValueError(f"mean_absolute_error: {y_true.size} targets but {y_pred.size} predictions")
    return float(np.mean(np.abs(y_true.reshape(y_pred.shape) - y_pred)))


def r2_score(y_true, y_pred) -> float:
    """Coefficient of determination 1 − SS_res / SS_tot, averaged uniformly over output columns."""
    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if y_true.size != y_pred.size:
        raise ValueError(f"r2_score: {y_true.size} targets but {y_pred.size} predictions")
    y_true = y_true.reshape(y_pred.shape)
    if y_true.ndim == 1:
        y_true, y_pred = y_true[:, None], y_pred[:, None]
    ss_res = np.sum((y_true - y_pred) ** 2, axis=0)
    ss_tot = np.sum((y_true - y_true.mean(axis=0)) ** 2, axis=0)
    # A constant target: perfect predictions score 1, anything else 0 (scikit-learn's convention).
    scores = np.where(ss_tot > 0, 1 - _safe_divide(ss_res, ss_tot), np.where(ss_res == 0, 1.0, 0.0))
    return float(np.mean(scores))


METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "accuracy": accuracy,
    "top5_accuracy": lambda y_true, scores: top_k_accuracy(y_true, scores, k=5),
    "precision": precision,
    "recall": recall,
    "f1": f1_score,
    "mse": mean_squared_error,
    "mae": mean_absolute_error,
    "r2": r2_score,
    "hamming_loss": hamming_loss,
    "subset_accuracy": subset_accuracy,
    "label_f1": macro_label_f1,
}
"""Metric names the Trainer accepts; a ``(name, callable(y_true, scores))`` pair adds another."""


def resolve_metric(metric) -> tuple[str, Callable]:
    """``(name, function)`` for a name in :data:`METRICS`, a ``(name, fn)`` pair or a named function."""
    if isinstance(metric, str):
        if metric not in METRICS:
            raise ValueError(f"unknown metric '{metric}'; valid: {', '.join(METRICS)}, or a (name, function) pair")
        return metric, METRICS[metric]
    if isinstance(metric, tuple) and len(metric) == 2 and callable(metric[1]):
        return str(metric[0]), metric[1]
    if callable(metric):
        return metric.__name__, metric
    raise TypeError(f"a metric is a name, a (name, function) pair or a function, got {metric!r}")


def _default_metrics_table() -> dict:
    from nndl import nn

    classification = ("accuracy",)
    regression = ("mse", "mae")
    return {nn.SoftmaxCrossEntropy: classification, nn.NLLLoss: classification, nn.BCELoss: classification,
            nn.BCEWithLogitsLoss: classification, nn.MulticlassHingeLoss: classification,
            nn.MSELoss: regression, nn.L1Loss: regression}


def default_metrics(loss_fn) -> tuple[str, ...]:
    """The metrics ``Trainer(metrics='auto')`` logs for ``loss_fn``.

    Classification losses (softmax cross-entropy, NLL, binary cross-entropy,
    multiclass hinge) give ``('accuracy',)``; regression and reconstruction
    losses (MSE, L1) give ``('mse', 'mae')``, where accuracy means nothing.
    A subclass follows its base class; a loss not listed gives ``()`` (the
    loss alone is logged).
    """
    for cls in type(loss_fn).__mro__:
        found = _default_metrics_table().get(cls)
        if found is not None:
            return found
    return ()
