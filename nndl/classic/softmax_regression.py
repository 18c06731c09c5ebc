"""Softmax (multinomial logistic) regression: categorical cross-entropy.

Scores ``z = Wᵀx + b`` (one column of ``W`` per class) become class
probabilities through the softmax, ``ŷ_c = e^{z_c} / Σ_k e^{z_k}``,
computed after subtracting ``max_k z_k`` (the notes' stabilization: the
softmax is unchanged by adding a constant). The cost is the mean
categorical cross-entropy with an L2 penalty:

.. math::
    J(W, b) = −\\frac{1}{n} Σ_i Σ_c y_{i,c} \\log ŷ_{i,c} + \\frac{λ}{2} ‖W‖_F^2,
    \\qquad ∇_W J = \\frac{1}{n} Xᵀ (Ŷ − Y) + λ W,
    \\qquad ∇_b J = \\frac{1}{n} Σ_i (ŷ_i − y_i)

with ``Y`` the one-hot labels. (``∂ log ŷ_y / ∂z_c = 1[c = y] − ŷ_c`` from
the notes' softmax derivatives ``∂S_i/∂x_i = S_i(1 − S_i)``,
``∂S_i/∂x_j = −S_i S_j``.)

scikit-learn's ``LogisticRegression(C)`` (multinomial for more than two
classes) is the same model with ``l2 = 1/(C n)``.
"""

from __future__ import annotations

import numpy as np

from nndl.classic.base import check_query
from nndl.classic.linear_classifier import LinearClassifier, loss_weights


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``(N, C)`` scores, shifted by the row maximum against overflow."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def softmax_cross_entropy_loss(weight: np.ndarray, bias: np.ndarray, X: np.ndarray, y: np.ndarray,
                               l2: float, sample_weight: np.ndarray | None = None):
    """Mean categorical cross-entropy of ``softmax(XW + b)`` for labels ``y``, and its gradient.

    Parameters
    ----------
    weight : ndarray, shape (D, C)
    bias : ndarray, shape (C,)
    X : ndarray, shape (n, D)
    y : ndarray of int, shape (n,)
        Class indices in ``0..C-1`` (the one-hot ``Y`` is never built).
    l2 : float

    Returns
    -------
    loss : float
    dweight : ndarray, shape (D, C)
    dbias : ndarray, shape (C,)
    """
    n = X.shape[0]
    scores = X @ weight + bias
    scores -= scores.max(axis=1, keepdims=True)
    log_normalizer = np.log(np.exp(scores).sum(axis=1))
    rows = np.arange(n)
    c = loss_weights(sample_weight, n, X.dtype)  # class weights c_i multiply sample i's loss (ones: plain)
    loss = float(np.sum(c * (log_normalizer - scores[rows, y]))) / n + 0.5 * l2 * float(np.sum(weight * weight))
    dscores = np.exp(scores - log_normalizer[:, None])  # Ŷ
    dscores[rows, y] -= 1                                # Ŷ − Y
    dscores *= c[:, None]
    dscores /= n
    return loss, X.T @ dscores + l2 * weight, dscores.sum(axis=0)


class SoftmaxRegression(LinearClassifier):
    """Multinomial logistic regression by gradient descent or mini-batch SGD.

    Parameters
    ----------
    lr : float
        Step size ``η``.
    max_epochs : int
    batch_size : int
        Mini-batch size of ``'sgd'`` (``'gd'`` uses the full batch).
    l2 : float
        ``λ`` (``1/(C n)`` for scikit-learn's ``C``).
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
    classes_ : ndarray, shape (K,)
    loss_curve_ : list of float
    converged_ : bool
    n_iter_ : int
    """

    def __init__(self, *, lr: float = 0.1, max_epochs: int = 1000, batch_size: int = 32,
                 l2: float = 0.0, solver: str = "gd", tol: float = 1e-6, fit_intercept: bool = True,
                 shuffle: bool = True, rng=None, class_weight=None):
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.l2 = l2
        self.solver = solver
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.shuffle = shuffle
        self.rng = rng
        self.class_weight = class_weight

    def _targets(self, y_index, n_classes, dtype):
        return y_index

    def _loss_and_grad(self, W, b, X, y, sample_weight=None):
        return softmax_cross_entropy_loss(W, b, X, y, float(self.l2), sample_weight)

    def predict_proba(self, X) -> np.ndarray:
        """``softmax(Wᵀx + b)``, shape (M, K), columns in ``classes_`` order."""
        X = check_query(self, X)
        return softmax(X @ self.coef_.T + self.intercept_)
