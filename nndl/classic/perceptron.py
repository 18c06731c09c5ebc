"""Rosenblatt's perceptron, trained by the notes' perceptron rule.

For one sample ``⟨x, y⟩`` with ``y ∈ {0, 1}``, prediction
``ŷ = g(wᵀx + b)`` with the step ``g(z) = 1 if z ≥ 0 else 0``, error
``e = y − ŷ`` and update

.. math::
    w ← w + η e x, \\qquad b ← b + η e

A correct prediction (``e = 0``) changes nothing; a missed 1 adds the
feature vector, a false 1 subtracts it. Weights start at 0. On linearly
separable data the rule stops making mistakes after finitely many updates
(Novikoff's mistake bound, ``(R/γ)²`` for data radius ``R`` and margin
``γ``); otherwise (XOR) it never settles, which ``fit`` reports with a
:class:`~nndl.classic.ConvergenceWarning` and ``converged_ = False``.

More than two classes: one perceptron per class (one-vs-rest, target 1 for
that class and 0 for the rest), all updated on the same sample order;
``predict`` takes the class with the largest ``wᵀx + b``.
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


def perceptron_epoch(weight: np.ndarray, bias: np.ndarray, X: np.ndarray, T: np.ndarray,
                     order: np.ndarray, lr: float, fit_intercept: bool) -> int:
    """One pass of the perceptron rule over the samples in ``order``; returns the mistakes made.

    Parameters
    ----------
    weight : ndarray, shape (D, C)
        One column per perceptron, updated in place.
    bias : ndarray, shape (C,)
        Updated in place (unchanged when ``fit_intercept`` is False).
    X : ndarray, shape (N, D)
    T : ndarray, shape (N, C)
        Targets in {0, 1}.
    order : ndarray of int
        Sample order of the pass.
    lr : float
        ``η``.

    Returns
    -------
    int
        Number of samples on which at least one perceptron erred.
    """
    mistakes = 0
    for i in order:
        x = X[i]
        prediction = (x @ weight + bias >= 0).astype(weight.dtype)
        error = T[i] - prediction
        if np.any(error):
            mistakes += 1
            weight += lr * np.outer(x, error)
            if fit_intercept:
                bias += lr * error
    return mistakes


class Perceptron(ThresholdUnitMixin, ClassifierMixin, Estimator):
    """The perceptron rule of the notes (binary; one-vs-rest for more classes).

    Parameters
    ----------
    lr : float
        ``η``. With weights starting at 0 the binary perceptron's decisions
        do not depend on ``η`` (it only scales ``w``).
    max_epochs : int
        Passes over the training set; training stops earlier after an epoch
        without a mistake.
    shuffle : bool
        Visit the samples in a new random order each epoch.
    fit_intercept : bool
        Learn the bias ``b`` (the notes' weight ``w₀`` on a constant input 1).
    rng : Generator, int or None
        Shuffling randomness.

    Attributes
    ----------
    coef_ : ndarray, shape (1, D) for two classes, else (K, D)
    intercept_ : ndarray, shape (1,) or (K,)
    classes_ : ndarray, shape (K,)
    converged_ : bool
        Whether an epoch passed without a mistake (the data were separated).
    n_iter_ : int
        Epochs run.
    mistakes_ : list of int
        Mistakes per epoch.
    """

    def __init__(self, *, lr: float = 1.0, max_epochs: int = 100, shuffle: bool = True,
                 fit_intercept: bool = True, rng=None):
        self.lr = lr
        self.max_epochs = max_epochs
        self.shuffle = shuffle
        self.fit_intercept = fit_intercept
        self.rng = rng

    def fit(self, X, y):
        owner = type(self).__name__
        check_positive(owner, "lr", self.lr)
        check_positive(owner, "max_epochs", self.max_epochs, integer=True)
        X = check_array(owner, X)
        self.classes_, y_index = check_classification_targets(owner, y, X.shape[0])
        T = one_vs_rest_targets(y_index, len(self.classes_), X.dtype, negative=0)
        weight = np.zeros((X.shape[1], T.shape[1]), dtype=X.dtype)
        bias = np.zeros(T.shape[1], dtype=X.dtype)
        rng = self._make_rng()
        self.mistakes_ = []
        self.converged_ = False
        for _ in range(self.max_epochs):
            order = rng.permutation(X.shape[0]) if self.shuffle else np.arange(X.shape[0])
            self.mistakes_.append(perceptron_epoch(weight, bias, X, T, order, self.lr, self.fit_intercept))
            if self.mistakes_[-1] == 0:
                self.converged_ = True
                break
        self.n_iter_ = len(self.mistakes_)
        if not self.converged_:
            warnings.warn(
                f"{owner}: still {self.mistakes_[-1]} mistake(s) in epoch {self.max_epochs}; the data "
                "are probably not linearly separable (the perceptron rule cannot converge then)",
                ConvergenceWarning, stacklevel=2,
            )
        self._store_weights(weight, bias, X)
        return self

