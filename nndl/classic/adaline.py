"""ADALINE, trained by the Widrow-Hoff delta rule on the linear output.

Where the perceptron learns from its thresholded output ``ŷ = g(z)``,
ADALINE learns from the linear output ``z = wᵀx + b`` itself, minimizing
the squared error before the threshold. For one sample the delta rule is

.. math::
    w ← w + η (y − z)\\, x, \\qquad b ← b + η (y − z)

which is exactly a gradient step on ``½ (y − z)²`` (gradient
``−(y − z) x``); on the notes' ``(y − z)²`` it is the step with ``η/2``.
The unit-norm variant divides the input by its length,

.. math::
    w ← w + η (y − z) \\frac{x}{‖x‖}

with ``‖x‖`` the norm of the full input seen by the weights, including the
constant 1 that multiplies ``b`` (so it is never 0 with an intercept).
This makes the step independent of the scale of ``x``.

Targets are bipolar, ``y ∈ {−1, +1}`` (Widrow and Hoff's convention), and
the threshold is ``z ≥ 0``. More than two classes: one ADALINE per class
(one-vs-rest), prediction by the largest ``z``.
"""

from __future__ import annotations

import warnings

import numpy as np

from nndl.classic.base import (
    ClassifierMixin,
    ConvergenceWarning,
    Estimator,
    check_array,
    check_classification_targets,
    check_positive,
    one_vs_rest_targets,
)
from nndl.classic.threshold_unit import ThresholdUnitMixin


def delta_rule_update(weight: np.ndarray, bias: np.ndarray, x: np.ndarray, target: np.ndarray,
                      lr: float, normalize: bool = False, fit_intercept: bool = True):
    """The Widrow-Hoff increments ``(Δw, Δb)`` for one sample (not applied).

    Parameters
    ----------
    weight : ndarray, shape (D, C)
    bias : ndarray, shape (C,)
    x : ndarray, shape (D,)
    target : ndarray, shape (C,)
    lr : float
        ``η``.
    normalize : bool
        Use ``x/‖x‖`` (unit-norm variant).
    fit_intercept : bool
        Whether ``b`` is learned (and its input 1 counts in ``‖x‖``).

    Returns
    -------
    dweight : ndarray, shape (D, C)
        ``η (y − z) x`` (outer product over the C units).
    dbias : ndarray, shape (C,)
        ``η (y − z)`` (times ``1/‖x‖`` when normalizing); 0 without intercept.
    """
    error = target - (x @ weight + bias)
    scale = lr
    if normalize:
        norm = np.sqrt(x @ x + (1.0 if fit_intercept else 0.0))
        scale = lr / norm if norm > 0 else 0.0
    dweight = scale * np.outer(x, error)
    dbias = scale * error if fit_intercept else np.zeros_like(bias)
    return dweight, dbias


class Adaline(ThresholdUnitMixin, ClassifierMixin, Estimator):
    """ADAptive LInear NEuron with the Widrow-Hoff delta rule.

    Parameters
    ----------
    lr : float
        ``η``. Without ``normalize`` the sample-by-sample rule diverges when
        ``η ‖x‖²`` is too large: standardize the features or normalize.
    max_epochs : int
        Passes over the training set.
    normalize : bool
        The unit-norm delta rule ``x/‖x‖``.
    shuffle : bool
        New random sample order each epoch.
    fit_intercept : bool
        Learn ``b``.
    tol : float
        Stop when the epoch's mean squared error changes by at most
        ``tol * max(1, J)``.
    rng : Generator, int or None
        Shuffling randomness.

    Attributes
    ----------
    coef_ : ndarray, shape (1, D) or (K, D)
    intercept_ : ndarray, shape (1,) or (K,)
    classes_ : ndarray, shape (K,)
    loss_curve_ : list of float
        ``J = (1/2N) Σ_i ‖y_i − z_i‖²`` on the training set after each epoch.
    n_iter_ : int
    """

    def __init__(self, *, lr: float = 0.01, max_epochs: int = 50, normalize: bool = False,
                 shuffle: bool = True, fit_intercept: bool = True, tol: float = 1e-4, rng=None):
        self.lr = lr
        self.max_epochs = max_epochs
        self.normalize = normalize
        self.shuffle = shuffle
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.rng = rng

    def fit(self, X, y):
        owner = type(self).__name__
        check_positive(owner, "lr", self.lr)
        check_positive(owner, "max_epochs", self.max_epochs, integer=True)
        check_positive(owner, "tol", self.tol, allow_zero=True)
        X = check_array(owner, X)
        self.classes_, y_index = check_classification_targets(owner, y, X.shape[0])
        T = one_vs_rest_targets(y_index, len(self.classes_), X.dtype, negative=-1)
        weight = np.zeros((X.shape[1], T.shape[1]), dtype=X.dtype)
        bias = np.zeros(T.shape[1], dtype=X.dtype)
        rng = self._make_rng()
        self.loss_curve_ = []
        converged = False
        for epoch in range(self.max_epochs):
            order = rng.permutation(X.shape[0]) if self.shuffle else np.arange(X.shape[0])
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
                for i in order:
                    dweight, dbias = delta_rule_update(weight, bias, X[i], T[i], self.lr,
                                                       self.normalize, self.fit_intercept)
                    weight += dweight
                    bias += dbias
                residual = T - (X @ weight + bias)
                loss = 0.5 * float(np.sum(residual * residual)) / X.shape[0]
            if not np.isfinite(loss):
                raise FloatingPointError(
                    f"{owner}: the delta rule diverged at epoch {epoch + 1}; lower lr (currently "
                    f"{self.lr}), standardize the features or use normalize=True"
                )
            self.loss_curve_.append(loss)
            if len(self.loss_curve_) > 1 and \
                    abs(self.loss_curve_[-2] - loss) <= self.tol * max(1.0, loss):
                converged = True
                break
        if not converged:
            warnings.warn(
                f"{owner}: stopped at max_epochs={self.max_epochs} before the squared error settled "
                f"within tol={self.tol}", ConvergenceWarning, stacklevel=2)
        self.n_iter_ = len(self.loss_curve_)
        self._store_weights(weight, bias, X)
        return self
