"""Binary logistic regression: sigmoid output, binary cross-entropy.

The notes' model estimates ``P(y = 1 | x) = σ(wᵀx + b)`` with
``σ(z) = 1/(1 + e^{−z})`` and minimizes the binary cross-entropy cost,
here with an L2 penalty on ``w``:

.. math::
    J(w, b) = −\\frac{1}{n} Σ_i \\big[y_i \\log ŷ_i + (1 − y_i) \\log(1 − ŷ_i)\\big]
              + \\frac{λ}{2} ‖w‖^2,
    \\qquad ∇_w J = \\frac{1}{n} Σ_i (ŷ_i − y_i)\\, x_i + λ w,
    \\qquad ∇_b J = \\frac{1}{n} Σ_i (ŷ_i − y_i)

More than two classes: one binary problem per class (one-vs-rest);
``predict_proba`` normalizes the K sigmoids to sum to 1. For the
multinomial model use :class:`~nndl.classic.SoftmaxRegression`.

Regularization convention: scikit-learn's ``LogisticRegression(C)``
minimizes ``½‖w‖² + C Σ_i loss_i``; dividing by ``C n`` shows it is
``l2 = 1/(C n)`` here.
"""

from __future__ import annotations

import warnings

import numpy as np

from nndl.classic.base import ConvergenceWarning, one_vs_rest_targets
from nndl.classic.linear_classifier import LinearClassifier, loss_weights


def sigmoid(z: np.ndarray) -> np.ndarray:
    """``σ(z) = 1/(1 + e^{−z})`` as ``exp(−log(1 + e^{−z}))``: no overflow for any z."""
    return np.exp(-np.logaddexp(0, -z))


def binary_cross_entropy_loss(weight: np.ndarray, bias: np.ndarray, X: np.ndarray, T: np.ndarray,
                              l2: float, sample_weight: np.ndarray | None = None):
    """Binary cross-entropy of ``σ(XW + b)`` against ``T``, summed over the C columns, and its gradient.

    ``−[t log σ(z) + (1 − t) log(1 − σ(z))] = log(1 + e^z) − t z``, computed
    with ``logaddexp`` so large ``|z|`` neither overflows nor loses the loss.

    Parameters
    ----------
    weight : ndarray, shape (D, C)
    bias : ndarray, shape (C,)
    X : ndarray, shape (n, D)
    T : ndarray, shape (n, C)
        Targets in {0, 1}.
    l2 : float
    sample_weight : ndarray, shape (n,), optional
        ``c_i`` multiplying sample i's loss (class weights); 1 by default.

    Returns
    -------
    loss : float
    dweight : ndarray, shape (D, C)
        ``Xᵀ(σ(z) − T)/n + λW`` (rows of ``σ(z) − T`` times ``c_i``)
    dbias : ndarray, shape (C,)
        ``mean_i (σ(z_i) − t_i)``
    """
    n = X.shape[0]
    c = loss_weights(sample_weight, n, X.dtype)[:, None]
    z = X @ weight + bias
    loss = float(np.sum(c * (np.logaddexp(0, z) - T * z))) / n + 0.5 * l2 * float(np.sum(weight * weight))
    error = c * (sigmoid(z) - T)
    return loss, X.T @ error / n + l2 * weight, error.mean(axis=0)


def newton_logistic(weight: np.ndarray, bias: np.ndarray, X: np.ndarray, T: np.ndarray, *,
                    l2: float, fit_intercept: bool, max_iter: int, tol: float,
                    sample_weight: np.ndarray | None = None):
    """Newton's method on each column's cross-entropy, in place; returns ``(loss_curve, converged)``.

    With ``θ = [w; b]``, ``x̃ = [x; 1]`` and ``s_i = ŷ_i(1 − ŷ_i)``:

    .. math::
        H = \\frac{1}{n} X̃ᵀ \\mathrm{diag}(c ⊙ s) X̃ + λ \\mathrm{diag}(1, …, 1, 0),
        \\qquad θ ← θ − t\\, H^{−1} ∇J

    ``H⁻¹∇J`` comes from a linear solve; the step ``t`` starts at 1 and is
    halved until ``J`` decreases (damped Newton), which keeps the method
    stable where the pure step overshoots (e.g. nearly separable data).
    """
    n, n_features = X.shape
    c = loss_weights(sample_weight, n, X.dtype)  # class weights c_i (ones: the plain objective)
    X_tilde = np.hstack([X, np.ones((n, 1), dtype=X.dtype)]) if fit_intercept else X
    penalty = np.full(X_tilde.shape[1], l2, dtype=X.dtype)
    if fit_intercept:
        penalty[-1] = 0.0

    def objective(theta, t):
        z = X_tilde @ theta
        penalty_term = 0.5 * l2 * float(theta[:n_features] @ theta[:n_features])
        return float(np.sum(c * (np.logaddexp(0, z) - t * z))) / n + penalty_term

    loss_curve: list[float] = []
    converged = True
    for column in range(T.shape[1]):
        t = T[:, column]
        theta = np.concatenate([weight[:, column], bias[column:column + 1]]) if fit_intercept \
            else weight[:, column].copy()
        loss = objective(theta, t)
        column_converged = False
        for iteration in range(max_iter):
            p = sigmoid(X_tilde @ theta)
            gradient = X_tilde.T @ (c * (p - t)) / n + penalty * theta
            hessian = (X_tilde.T * (c * p * (1 - p) / n)) @ X_tilde
            hessian[np.diag_indices_from(hessian)] += penalty
            try:
                step = np.linalg.solve(hessian, gradient)
            except np.linalg.LinAlgError:
                step = np.linalg.lstsq(hessian, gradient, rcond=None)[0]
            step_size = 1.0
            for _ in range(40):
                candidate = theta - step_size * step
                new_loss = objective(candidate, t)
                if new_loss <= loss:
                    break
                step_size /= 2
            else:
                column_converged = True  # no decrease possible: at the optimum to rounding
                break
            theta, previous, loss = candidate, loss, new_loss
            if column == 0:
                loss_curve.append(loss)
            if previous - loss <= tol * max(1.0, abs(loss)):
                column_converged = True
                break
        converged = converged and column_converged
        weight[:, column] = theta[:n_features]
        if fit_intercept:
            bias[column] = theta[-1]
    if not converged:
        warnings.warn(f"LogisticRegression: Newton's method stopped at max_epochs={max_iter} before "
                      f"the objective settled within tol={tol}", ConvergenceWarning, stacklevel=4)
    return loss_curve, converged


class LogisticRegression(LinearClassifier):
    """Logistic regression by gradient descent, SGD or Newton's method.

    Parameters
    ----------
    lr : float
        Step size of ``'gd'``/``'sgd'``.
    max_epochs : int
        Epochs of ``'gd'``/``'sgd'``; Newton iterations of ``'newton'``.
    batch_size : int
        Mini-batch size of ``'sgd'`` (``'gd'`` and ``'newton'`` use all samples).
    l2 : float
        ``λ`` (``1/(C n)`` in scikit-learn's terms, see the module docstring).
    solver : {'gd', 'sgd', 'newton'}
    tol : float
        Stop when the objective changes by at most ``tol * max(1, J)``.
    fit_intercept : bool
    shuffle : bool
        Reshuffle each epoch (``'sgd'``).
    rng : Generator, int or None
        Shuffling randomness of ``'sgd'``.
    class_weight : None, 'balanced' or dict
        Weight of each class's samples in the loss (scikit-learn's argument;
        'balanced' gives ``n / (K n_k)``); None weighs every sample 1.

    Attributes
    ----------
    coef_ : ndarray, shape (1, D) for two classes, else (K, D)
    intercept_ : ndarray, shape (1,) or (K,)
    classes_ : ndarray
    loss_curve_ : list of float
        Objective per epoch (first column's per Newton iteration).
    converged_ : bool
    n_iter_ : int
    """

    _solvers = ("gd", "sgd", "newton")

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
        return one_vs_rest_targets(y_index, n_classes, dtype, negative=0)

    def _n_outputs(self, n_classes):
        return 1 if n_classes == 2 else n_classes

    def _loss_and_grad(self, W, b, X, Y, sample_weight=None):
        return binary_cross_entropy_loss(W, b, X, Y, float(self.l2), sample_weight)

    def _fit_other_solver(self, weight, bias, X, Y, sample_weight=None):
        return newton_logistic(weight, bias, X, Y, l2=float(self.l2), fit_intercept=self.fit_intercept,
                               max_iter=self.max_epochs, tol=self.tol, sample_weight=sample_weight)

    def predict_proba(self, X) -> np.ndarray:
        """Shape (M, K): ``[1 − ŷ, ŷ]`` for two classes; normalized one-vs-rest sigmoids otherwise."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            positive = sigmoid(scores)
            return np.stack([1 - positive, positive], axis=1)
        probabilities = sigmoid(scores)
        return probabilities / probabilities.sum(axis=1, keepdims=True)
