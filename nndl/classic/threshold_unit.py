"""What the perceptron and ADALINE share: a linear unit ``z = wᵀx + b`` read through a step."""

from __future__ import annotations

import numpy as np

from nndl.classic.base import check_query


class ThresholdUnitMixin:
    """Prediction of a fitted threshold unit (one column of weights for two classes, one per class above).

    Both models decide by the step of their linear output, ``z ≥ 0`` meaning
    ``classes_[1]`` (so ``z = 0`` gives ``classes_[1]``); with more classes,
    one-vs-rest, the class with the largest ``z``.
    """

    def _store_weights(self, weight: np.ndarray, bias: np.ndarray, X: np.ndarray) -> None:
        self.coef_, self.intercept_ = weight.T.copy(), bias
        self.n_features_in_ = X.shape[1]
        self.dtype_ = X.dtype

    def decision_function(self, X) -> np.ndarray:
        """The linear output ``z = wᵀx + b``: shape (M,) for two classes (positive means ``classes_[1]``), else (M, K)."""
        X = check_query(self, X)
        scores = X @ self.coef_.T + self.intercept_
        return scores[:, 0] if len(self.classes_) == 2 else scores

    def predict(self, X) -> np.ndarray:
        """Step of the output (two classes; ``z = 0`` gives ``classes_[1]``) or the class of the largest ``z``."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores >= 0).astype(np.intp)]
        return self.classes_[np.argmax(scores, axis=1)]
