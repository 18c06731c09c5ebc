"""What logistic regression, softmax regression and the linear SVM share.

Each is a linear score ``z = Wᵀx + b`` (one column of ``W`` per output)
fitted by (mini-batch) gradient descent on its own objective; they differ
only in the targets they train against and in ``loss_and_grad``.
"""

from __future__ import annotations

import numpy as np

from nndl.classic.base import (
    ClassifierMixin,
    Estimator,
    check_array,
    check_choice,
    check_classification_targets,
    check_positive,
    check_query,
)
from nndl.classic.solvers import check_gd_params, gradient_descent


class LinearClassifier(ClassifierMixin, Estimator):
    """Base class; subclasses define ``_solvers``, ``_targets`` and ``_loss_and_grad``."""

    _solvers: tuple[str, ...] = ("gd", "sgd")

    def _targets(self, y_index: np.ndarray, n_classes: int, dtype) -> np.ndarray:
        """Training targets ``Y`` (indexed by sample) for ``loss_and_grad``."""
        raise NotImplementedError

    def _n_outputs(self, n_classes: int) -> int:
        return n_classes

    def _loss_and_grad(self, W, b, X, Y):
        raise NotImplementedError

    def _fit_other_solver(self, weight, bias, X, Y):
        raise NotImplementedError

    def fit(self, X, y):
        owner = type(self).__name__
        check_choice(owner, "solver", self.solver, self._solvers)
        check_positive(owner, "l2", self.l2, allow_zero=True)
        check_gd_params(owner, lr=self.lr, max_epochs=self.max_epochs,
                        batch_size=self.batch_size, tol=self.tol)
        X = check_array(owner, X)
        self.classes_, y_index = check_classification_targets(owner, y, X.shape[0])
        Y = self._targets(y_index, len(self.classes_), X.dtype)
        n_outputs = self._n_outputs(len(self.classes_))
        # The notes start from W = 0; every objective here is convex, so the
        # start only affects the path, not the optimum.
        weight = np.zeros((X.shape[1], n_outputs), dtype=X.dtype)
        bias = np.zeros(n_outputs, dtype=X.dtype)
        if self.solver in ("gd", "sgd"):
            loss_and_grad = self._loss_and_grad
            if not self.fit_intercept:
                def loss_and_grad(W, b, Xb, Yb):
                    loss, dW, _ = self._loss_and_grad(W, b, Xb, Yb)
                    return loss, dW, np.zeros_like(b)
            self.loss_curve_, self.converged_ = gradient_descent(
                loss_and_grad, weight, bias, X, Y, lr=self.lr, max_epochs=self.max_epochs,
                batch_size=None if self.solver == "gd" else self.batch_size, tol=self.tol,
                rng=self._make_rng(), shuffle=self.shuffle, owner=owner)
        else:
            self.loss_curve_, self.converged_ = self._fit_other_solver(weight, bias, X, Y)
        self.n_iter_ = len(self.loss_curve_)
        self.coef_, self.intercept_ = weight.T.copy(), bias
        self.n_features_in_ = X.shape[1]
        self.dtype_ = X.dtype
        return self

    def decision_function(self, X) -> np.ndarray:
        """Scores ``z = Wᵀx + b``, shape (M, K); for two classes one column, shape (M,).

        With two classes the single score is positive for ``classes_[1]``
        (scikit-learn's convention): the one output's ``z`` where the model
        has one column, else ``z₁ − z₀``.
        """
        X = check_query(self, X)
        scores = X @ self.coef_.T + self.intercept_
        if scores.shape[1] == 1:
            return scores[:, 0]
        if scores.shape[1] == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    def predict(self, X) -> np.ndarray:
        """``classes_[1]`` where the two-class score is > 0 (ties to ``classes_[0]``), else the largest score's class."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(np.intp)]
        return self.classes_[np.argmax(scores, axis=1)]
