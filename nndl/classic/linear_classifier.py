"""What logistic regression, softmax regression and the linear SVM share.

Each is a linear score ``z = Wᵀx + b`` (one column of ``W`` per output)
fitted by (mini-batch) gradient descent on its own objective; they differ
only in the targets they train against and in ``loss_and_grad``.

``class_weight`` ('balanced' or ``{class: weight}``, scikit-learn's
argument) multiplies each sample's loss by its class's weight ``c_{y_i}``:
the objective becomes ``(1/n) Σ_i c_{y_i} ℓ_i + penalty``, so a rare class
counts as much as a frequent one ('balanced': ``c_k = n / (K n_k)``, see
:func:`nndl.data.compute_class_weight`).
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
from nndl.data.class_weight import compute_class_weight


def loss_weights(sample_weight, n: int, dtype) -> np.ndarray:
    """Per-sample loss weights ``c``, shape (n,): ones when none are given (multiplying by 1 changes no bit)."""
    return np.ones(n, dtype=dtype) if sample_weight is None else np.asarray(sample_weight, dtype=dtype)


def class_sample_weights(owner: str, class_weight, classes: np.ndarray, y_index: np.ndarray, dtype):
    """``c_{y_i}`` for each sample from ``class_weight`` (None, 'balanced' or a dict), or None when unweighted."""
    if class_weight is None:
        return None
    if isinstance(class_weight, str) and class_weight == "balanced":
        per_class = compute_class_weight(y_index, classes=np.arange(len(classes)))
    elif isinstance(class_weight, dict):
        unknown = [key for key in class_weight if key not in set(classes.tolist())]
        if unknown:
            raise ValueError(f"{owner}: class_weight names classes {unknown} that are not in y "
                             f"(classes: {classes.tolist()})")
        per_class = np.array([float(class_weight.get(c, 1.0)) for c in classes.tolist()])
        if not np.all(np.isfinite(per_class)) or np.any(per_class < 0):
            raise ValueError(f"{owner}: class weights must be finite and >= 0, got {class_weight!r}")
    else:
        raise ValueError(f"{owner}: class_weight must be None, 'balanced' or a dict {{class: weight}}, "
                         f"got {class_weight!r}")
    return per_class.astype(dtype)[y_index]


class LinearClassifier(ClassifierMixin, Estimator):
    """Base class; subclasses define ``_solvers``, ``_targets`` and ``_loss_and_grad``."""

    _solvers: tuple[str, ...] = ("gd", "sgd")

    def _targets(self, y_index: np.ndarray, n_classes: int, dtype) -> np.ndarray:
        """Training targets ``Y`` (indexed by sample) for ``loss_and_grad``."""
        raise NotImplementedError

    def _n_outputs(self, n_classes: int) -> int:
        return n_classes

    def _loss_and_grad(self, W, b, X, Y, sample_weight=None):
        raise NotImplementedError

    def _fit_other_solver(self, weight, bias, X, Y, sample_weight=None):
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
        sample_weight = class_sample_weights(owner, getattr(self, "class_weight", None), self.classes_, y_index,
                                             X.dtype)
        n_outputs = self._n_outputs(len(self.classes_))
        # The notes start from W = 0; every objective here is convex, so the
        # start only affects the path, not the optimum.
        weight = np.zeros((X.shape[1], n_outputs), dtype=X.dtype)
        bias = np.zeros(n_outputs, dtype=X.dtype)
        if self.solver in ("gd", "sgd"):
            if sample_weight is not None:
                # Targets and weights in one record per sample, so mini-batches slice them together.
                packed = np.empty(len(Y), dtype=[("target", Y.dtype, Y.shape[1:]), ("weight", X.dtype)])
                packed["target"], packed["weight"] = Y, sample_weight
                Y = packed

            def loss_and_grad(W, b, Xb, Yb):
                if sample_weight is None:
                    loss, dW, db = self._loss_and_grad(W, b, Xb, Yb)
                else:
                    loss, dW, db = self._loss_and_grad(W, b, Xb, Yb["target"], Yb["weight"])
                return loss, dW, (db if self.fit_intercept else np.zeros_like(b))
            self.loss_curve_, self.converged_ = gradient_descent(
                loss_and_grad, weight, bias, X, Y, lr=self.lr, max_epochs=self.max_epochs,
                batch_size=None if self.solver == "gd" else self.batch_size, tol=self.tol,
                rng=self._make_rng(), shuffle=self.shuffle, owner=owner)
        else:
            self.loss_curve_, self.converged_ = self._fit_other_solver(weight, bias, X, Y, sample_weight)
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
