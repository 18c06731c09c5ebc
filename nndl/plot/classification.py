"""What a classifier does: its confusion matrix, its decision regions on 2-D data, k-NN's validation curve."""

from __future__ import annotations

import numpy as np

from nndl.plot._figure import one_panel


def confusion_matrix(y_true, y_pred, labels=None, normalize: bool = False, ax=None):
    """The confusion matrix ``M[i, j]`` = number of samples of class ``i`` predicted as ``j``.

    Parameters
    ----------
    y_true, y_pred : array of int, shape (N,)
    labels : sequence of str, optional
        Names of the classes 0..C−1.
    normalize : bool
        Divide each row by its total (the per-class recall on the diagonal).
    ax : Axes, optional

    Returns
    -------
    Figure
    """
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"confusion_matrix: y_true has {y_true.size} labels but y_pred has {y_pred.size}")
    if y_true.dtype.kind not in "iu" or y_pred.dtype.kind not in "iu" or y_true.size == 0:
        raise ValueError("confusion_matrix: expected non-empty arrays of integer class labels")
    if min(y_true.min(), y_pred.min()) < 0:
        raise ValueError("confusion_matrix: class labels must be >= 0")
    classes = int(max(y_true.max(), y_pred.max())) + 1
    if labels is not None:
        if len(labels) < classes:
            raise ValueError(f"confusion_matrix: {len(labels)} labels for {classes} classes")
        classes = len(labels)
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    shown = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1) if normalize else matrix
    figure, ax = one_panel(ax, figsize=(1.6 + 0.45 * classes, 1.2 + 0.45 * classes))
    image = ax.imshow(shown, cmap="Blues", vmin=0)
    figure.colorbar(image, ax=ax, shrink=0.8)
    names = [str(c) for c in (labels if labels is not None else range(classes))]
    ax.set_xticks(range(classes), names, rotation=45 if max(map(len, names)) > 2 else 0)
    ax.set_yticks(range(classes), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"confusion matrix (accuracy {np.trace(matrix) / matrix.sum():.3f})")
    if classes <= 20:
        top = shown.max() if shown.size else 0
        for i in range(classes):
            for j in range(classes):
                text = f"{shown[i, j]:.2f}" if normalize else str(matrix[i, j])
                ax.text(j, i, text, ha="center", va="center", fontsize=7,
                        color="white" if shown[i, j] > top / 2 else "black")
    return figure


def _predict_classes(model, points: np.ndarray) -> np.ndarray:
    """Class labels from an nndl network (argmax of its scores, eval mode) or any ``predict`` estimator."""
    from nndl.nn.core.module import Module

    if isinstance(model, Module):
        was_training = [(m, m.training) for m in model.modules()]
        model.eval()
        try:
            scores = np.concatenate([model(points[i:i + 4096].astype(model.dtype))
                                     for i in range(0, len(points), 4096)])
        finally:
            for module, mode in was_training:
                module.training = mode
        if scores.ndim == 1 or scores.shape[1] == 1:
            threshold = 0.0 if scores.min() < 0 or scores.max() > 1 else 0.5
            return (scores.reshape(-1) > threshold).astype(np.int64)
        return np.argmax(scores, axis=1)
    if not hasattr(model, "predict"):
        raise TypeError(f"decision_boundary: {type(model).__name__} is neither an nndl Module nor has predict()")
    return np.asarray(model.predict(points)).reshape(-1)


def decision_boundary(model, x, y, resolution: int = 200, margin: float = 0.5, ax=None):
    """The regions where a classifier predicts each class, over 2-D data, with the samples on top.

    Parameters
    ----------
    model : nndl Module or estimator with ``predict``
        A network (its scores' argmax, in evaluation mode) or any classical
        model (``nndl.classic``, scikit-learn).
    x : ndarray, shape (N, 2)
    y : array of int, shape (N,)
    resolution : int
        Grid points along each axis.
    margin : float
        Space around the data, in the data's units.
    ax : Axes, optional

    Returns
    -------
    Figure
    """
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"decision_boundary: x must have shape (N, 2), got {x.shape}")
    y = np.asarray(y).reshape(-1)
    if len(y) != len(x):
        raise ValueError(f"decision_boundary: x has {len(x)} samples but y has {len(y)}")
    low, high = x.min(axis=0) - margin, x.max(axis=0) + margin
    u, v = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    points = np.column_stack([u.ravel(), v.ravel()]).astype(x.dtype if x.dtype.kind == "f" else np.float64)
    regions = _predict_classes(model, points).reshape(u.shape)
    classes = int(max(regions.max(), y.max())) + 1
    figure, ax = one_panel(ax)
    cmap = "tab10" if classes <= 10 else "tab20"
    ax.contourf(u, v, regions, levels=np.arange(classes + 1) - 0.5, cmap=cmap, alpha=0.35, vmin=-0.5,
                vmax=(10 if classes <= 10 else 20) - 0.5)
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=(10 if classes <= 10 else 20) - 0.5, s=12,
               edgecolors="k", linewidths=0.3)
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_title(f"decision regions of {type(model).__name__}")
    return figure


def knn_cv_curve(x, y, k_values, cv: int = 5, metric: str = "l2", rng=None, ax=None):
    """Cross-validated accuracy of k-NN against k (the notes' figure for choosing k), ±1 std over folds.

    Parameters
    ----------
    x, y : training data
    k_values : sequence of int
    cv : int
        Number of folds.
    metric : {'l2', 'l1'}
    rng : Generator, int or None
        Shuffles the folds when given.
    ax : Axes, optional

    Returns
    -------
    Figure
    """
    from nndl.classic.model_selection import select_k_by_cv

    selection = select_k_by_cv(x, y, k_values, cv=cv, metric=metric, shuffle=rng is not None, rng=rng)
    figure, ax = one_panel(ax)
    for k, scores in zip(selection.k_values, selection.fold_scores):
        ax.scatter(np.full(len(scores), k), scores, s=8, color="0.6")
    std = selection.fold_scores.std(axis=1)
    ax.errorbar(selection.k_values, selection.mean_scores, yerr=std, color="C0", marker="o", capsize=3,
                label="mean ± std over folds")
    ax.axvline(selection.best_k, color="C3", linestyle="--", label=f"best k = {selection.best_k}")
    ax.set_xlabel("k (neighbours)")
    ax.set_ylabel(f"{cv}-fold accuracy")
    ax.set_title("k-NN: cross-validation")
    ax.legend()
    ax.grid(alpha=0.3)
    return figure
