"""Linear (and ridge) regression: the normal equation, least squares, GD and SGD.

The notes' model ``y = θᵀx`` with an intercept kept apart, ``ŷ = Xw + b``,
fitted by minimizing the mean squared error with an optional L2 penalty on
``w`` (never on ``b``):

.. math::
    J(w, b) = \\frac{1}{2N} ‖y − Xw − b‖^2 + \\frac{λ}{2} ‖w‖^2

Setting ``∇J = 0`` gives the normal equation. With the intercept, centring
removes ``b``: for ``X_c = X − x̄``, ``y_c = y − ȳ``,

.. math::
    (X_cᵀ X_c + N λ I)\\, w = X_cᵀ y_c, \\qquad b = ȳ − x̄ᵀ w

Regularization convention: ``l2 = λ`` multiplies the *mean* loss, as in the
notes' ``J̃ = J + (α/2) WᵀW``. scikit-learn's ``Ridge(alpha)`` minimizes the
*summed* ``‖y − Xw − b‖² + α‖w‖²``, so ``Ridge(alpha=a)`` is
``LinearRegression(l2=a / N)`` for ``N`` training samples.
"""

from __future__ import annotations

import numpy as np

from nndl.classic.base import (
    Estimator,
    RegressorMixin,
    check_array,
    check_choice,
    check_positive,
    check_query,
    check_regression_targets,
)
from nndl.classic.solvers import check_gd_params, gradient_descent

SOLVERS = ("normal", "lstsq", "gd", "sgd")


def squared_error_loss(weight: np.ndarray, bias: np.ndarray, X: np.ndarray, Y: np.ndarray, l2: float):
    """Mean squared error with L2 penalty, and its gradient.

    .. math::
        J = \\frac{1}{2n} ‖X W + b − Y‖_F^2 + \\frac{λ}{2} ‖W‖_F^2, \\quad
        ∇_W J = \\frac{1}{n} Xᵀ (XW + b − Y) + λ W, \\quad
        ∇_b J = \\frac{1}{n} Σ_i (x_iᵀ W + b − y_i)

    Parameters
    ----------
    weight : ndarray, shape (D, K)
    bias : ndarray, shape (K,)
    X : ndarray, shape (n, D)
    Y : ndarray, shape (n, K)
    l2 : float
        ``λ``.

    Returns
    -------
    loss : float
    dweight : ndarray, shape (D, K)
    dbias : ndarray, shape (K,)
    """
    n = X.shape[0]
    residual = X @ weight + bias - Y
    loss = 0.5 * float(np.sum(residual * residual)) / n + 0.5 * l2 * float(np.sum(weight * weight))
    dweight = X.T @ residual / n + l2 * weight
    dbias = residual.mean(axis=0)
    return loss, dweight, dbias


class LinearRegression(RegressorMixin, Estimator):
    """Least-squares linear regression; ridge regression when ``l2 > 0``.

    Parameters
    ----------
    solver : {'normal', 'lstsq', 'gd', 'sgd'}
        ``'normal'`` solves the normal equation above by an LU solve of
        ``X_cᵀX_c + NλI`` (never forming an inverse); it needs that matrix
        non-singular. ``'lstsq'`` solves the least-squares problem itself by
        SVD (the penalty enters as ``√(Nλ) I`` rows appended to ``X_c``),
        which also handles collinear features (minimum-norm solution).
        ``'gd'`` runs full-batch gradient descent on ``J``; ``'sgd'``
        mini-batch SGD with ``batch_size``. Both start from 0.
    l2 : float
        ``λ`` above (see the module docstring for scikit-learn's ``alpha``).
    fit_intercept : bool
        Learn ``b``; without it ``b = 0`` and no centring is done.
    lr, max_epochs, tol : float, int, float
        Step size, epoch limit and stopping tolerance of ``'gd'``/``'sgd'``
        (see :func:`nndl.classic.solvers.gradient_descent`).
    batch_size : int
        Mini-batch size of ``'sgd'`` (``'gd'`` always uses the full batch).
    shuffle : bool
        Reshuffle the samples every epoch (``'sgd'``).
    rng : Generator, int or None
        Shuffling randomness of ``'sgd'``.

    Attributes
    ----------
    coef_ : ndarray, shape (D,) or (n_outputs, D)
    intercept_ : float or ndarray of shape (n_outputs,)
    loss_curve_ : list of float
        ``J`` per epoch (``'gd'``/``'sgd'`` only; empty for the direct solvers).
    n_iter_ : int
        Epochs run (0 for the direct solvers).

    Notes
    -----
    ``y`` is converted to the dtype of ``X``; computations keep that dtype.
    """

    def __init__(self, *, solver: str = "normal", l2: float = 0.0, fit_intercept: bool = True,
                 lr: float = 0.01, max_epochs: int = 1000, batch_size: int = 32, tol: float = 1e-10,
                 shuffle: bool = True, rng=None):
        self.solver = solver
        self.l2 = l2
        self.fit_intercept = fit_intercept
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.tol = tol
        self.shuffle = shuffle
        self.rng = rng

    def fit(self, X, y):
        owner = type(self).__name__
        check_choice(owner, "solver", self.solver, SOLVERS)
        check_positive(owner, "l2", self.l2, allow_zero=True)
        X = check_array(owner, X)
        y = check_regression_targets(owner, y, X.shape[0], X.dtype)
        Y = y.reshape(len(y), -1)
        n_samples, n_features = X.shape
        if self.fit_intercept:
            x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
            Xc, Yc = X - x_mean, Y - y_mean
        else:
            Xc, Yc = X, Y
        self.loss_curve_, self.n_iter_ = [], 0
        if self.solver == "normal":
            gram = Xc.T @ Xc
            gram[np.diag_indices(n_features)] += n_samples * self.l2
            try:
                weight = np.linalg.solve(gram, Xc.T @ Yc)
            except np.linalg.LinAlgError as error:
                why = ("with n_samples=1 the centred X is zero" if n_samples == 1 and self.fit_intercept
                       else "collinear or constant features")
                raise ValueError(
                    f"{owner}: XᵀX is singular ({why}); use solver='lstsq' or l2 > 0"
                ) from error
            bias = y_mean - x_mean @ weight if self.fit_intercept else np.zeros(Y.shape[1], X.dtype)
        elif self.solver == "lstsq":
            if self.l2 > 0:
                ridge_rows = np.sqrt(n_samples * self.l2) * np.eye(n_features, dtype=X.dtype)
                Xc = np.vstack([Xc, ridge_rows])
                Yc = np.vstack([Yc, np.zeros((n_features, Y.shape[1]), dtype=X.dtype)])
            weight = np.linalg.lstsq(Xc, Yc, rcond=None)[0]
            bias = y_mean - x_mean @ weight if self.fit_intercept else np.zeros(Y.shape[1], X.dtype)
        else:
            check_gd_params(owner, lr=self.lr, max_epochs=self.max_epochs,
                            batch_size=self.batch_size, tol=self.tol)
            weight = np.zeros((n_features, Y.shape[1]), dtype=X.dtype)
            bias = np.zeros(Y.shape[1], dtype=X.dtype)
            l2 = float(self.l2)
            if self.fit_intercept:
                loss_and_grad = lambda W, b, Xb, Yb: squared_error_loss(W, b, Xb, Yb, l2)  # noqa: E731
            else:
                def loss_and_grad(W, b, Xb, Yb):
                    loss, dW, _ = squared_error_loss(W, b, Xb, Yb, l2)
                    return loss, dW, np.zeros_like(b)
            self.loss_curve_, _ = gradient_descent(
                loss_and_grad, weight, bias, X, Y, lr=self.lr, max_epochs=self.max_epochs,
                batch_size=None if self.solver == "gd" else self.batch_size, tol=self.tol,
                rng=self._make_rng(), shuffle=self.shuffle, owner=owner)
            self.n_iter_ = len(self.loss_curve_)
        if y.ndim == 1:
            self.coef_, self.intercept_ = weight[:, 0], bias[0]
        else:
            self.coef_, self.intercept_ = weight.T.copy(), bias
        self.n_features_in_ = n_features
        self.dtype_ = X.dtype
        return self

    def predict(self, X) -> np.ndarray:
        """``ŷ = X wᵀ + b``, shape (M,) or (M, n_outputs)."""
        X = check_query(self, X)
        return X @ self.coef_.T + self.intercept_
