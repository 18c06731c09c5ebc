"""Linear SVM with the notes' multiclass hinge loss, by subgradient descent.

For scores ``s = Wᵀx + b`` and true class ``y``, the notes' hinge loss
charges every wrong class whose score comes within the margin ``Δ`` of the
true one:

.. math::
    L_i = Σ_{j ≠ y_i} \\max(0,\\; s_j − s_{y_i} + Δ), \\qquad
    J = \\frac{1}{n} Σ_i L_i + \\frac{λ}{2} ‖W‖_F^2

(the multiclass SVM of Weston and Watkins). ``L_i`` is not differentiable
where a margin is exactly 0; the subgradient used takes the indicator
``1[s_j − s_{y_i} + Δ > 0]`` there, i.e. 0 at the kink:

.. math::
    ∂L_i/∂s_j = 1[s_j − s_{y_i} + Δ > 0] \\;(j ≠ y_i), \\qquad
    ∂L_i/∂s_{y_i} = −Σ_{j ≠ y_i} 1[s_j − s_{y_i} + Δ > 0]

With two classes this is the binary hinge loss on ``s_1 − s_0``.
``l2 = 1/(C n)`` relates ``λ`` to scikit-learn's ``LinearSVC(C)``, whose
loss is the one-vs-rest (squared) hinge, a different but close objective.
"""

from __future__ import annotations

import numpy as np

from nndl.classic.base import check_positive
from nndl.classic.linear_classifier import LinearClassifier, loss_weights


def multiclass_hinge_loss(scores: np.ndarray, y: np.ndarray, margin: float = 1.0,
                          sample_weight: np.ndarray | None = None):
    """Mean multiclass hinge loss of ``scores`` for labels ``y``, and its subgradient.

    Parameters
    ----------
    scores : ndarray, shape (n, C)
        ``s``.
    y : ndarray of int, shape (n,)
        True class indices.
    margin : float
        ``Δ``.

    Returns
    -------
    loss : float
        ``(1/n) Σ_i L_i``.
    dscores : ndarray, shape (n, C)
        ``∂loss/∂s`` (the subgradient of the module docstring, divided by n).
    """
    n = scores.shape[0]
    rows = np.arange(n)
    margins = scores - scores[rows, y][:, None] + margin
    margins[rows, y] = 0.0
    np.maximum(margins, 0.0, out=margins)
    c = loss_weights(sample_weight, n, scores.dtype)[:, None]  # class weights c_i (ones: the plain loss)
    loss = float((c * margins).sum()) / n
    dscores = (margins > 0).astype(scores.dtype)
    dscores[rows, y] = -dscores.sum(axis=1)
    dscores *= c
    dscores /= n
    return loss, dscores


def svm_loss(weight: np.ndarray, bias: np.ndarray, X: np.ndarray, y: np.ndarray, l2: float, margin: float,
             sample_weight: np.ndarray | None = None):
    """``J`` of the module docstring for the linear scores ``XW + b``, with its subgradient.

    Returns
    -------
    loss : float
    dweight : ndarray, shape (D, C)
        ``Xᵀ ∂J/∂s + λ W``
    dbias : ndarray, shape (C,)
    """
    loss, dscores = multiclass_hinge_loss(X @ weight + bias, y, margin, sample_weight)
    loss += 0.5 * l2 * float(np.sum(weight * weight))
    return loss, X.T @ dscores + l2 * weight, dscores.sum(axis=0)


class LinearSVM(LinearClassifier):
    """Multiclass linear SVM (hinge loss + L2) trained by subgradient descent.

    Parameters
    ----------
    l2 : float
        ``λ``; ``1/(C n)`` for scikit-learn's ``C``. Some regularization is
        needed for a max-margin solution: with ``λ = 0`` any separating ``W``
        scaled up has zero loss.
    margin : float
        ``Δ``. With an L2 penalty only ``Δ/λ`` matters (scaling ``W`` trades one
        for the other), so ``Δ = 1`` is the usual choice.
    lr : float
        Step size of the subgradient steps.
    max_epochs : int
    batch_size : int
        Mini-batch size of ``'sgd'`` (``'gd'`` uses the full batch).
    solver : {'gd', 'sgd'}
    tol : float
        Stop when the objective changes by at most ``tol * max(1, J)`` in an epoch.
    fit_intercept : bool
    shuffle : bool
    rng : Generator, int or None
        Shuffling randomness of ``'sgd'``.
    class_weight : None, 'balanced' or dict
        Weight of each class's samples in the loss (scikit-learn's argument;
        'balanced' gives ``n / (K n_k)``); None weighs every sample 1.

    Attributes
    ----------
    coef_ : ndarray, shape (K, D)
    intercept_ : ndarray, shape (K,)
    classes_ : ndarray
    loss_curve_ : list of float
    converged_ : bool
    n_iter_ : int
    """

    def __init__(self, *, l2: float = 1e-3, margin: float = 1.0, lr: float = 0.1, max_epochs: int = 1000,
                 batch_size: int = 32, solver: str = "gd", tol: float = 1e-6, fit_intercept: bool = True,
                 shuffle: bool = True, rng=None, class_weight=None):
        self.l2 = l2
        self.margin = margin
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.solver = solver
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.shuffle = shuffle
        self.rng = rng
        self.class_weight = class_weight

    def fit(self, X, y):
        check_positive(type(self).__name__, "margin", self.margin)
        return super().fit(X, y)

    def _targets(self, y_index, n_classes, dtype):
        return y_index

    def _loss_and_grad(self, W, b, X, y, sample_weight=None):
        return svm_loss(W, b, X, y, float(self.l2), float(self.margin), sample_weight)
