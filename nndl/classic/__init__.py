"""Classical machine learning from the notes, as scikit-learn-compatible estimators.

Every estimator follows scikit-learn's contract (keyword-only hyperparameters
stored untouched, ``fit`` returns self, learned attributes end in ``_``,
``get_params``/``set_params``, ``score``) without depending on scikit-learn,
so it works in ``clone``, ``Pipeline``, ``GridSearchCV`` and
``cross_val_score``.
"""

from nndl.classic.base import ConvergenceWarning, Estimator, NotFittedError, clone
from nndl.classic.knn import KNeighborsClassifier, KNeighborsRegressor, pairwise_distances

__all__ = [
    "ConvergenceWarning",
    "Estimator",
    "KNeighborsClassifier",
    "KNeighborsRegressor",
    "NotFittedError",
    "clone",
    "pairwise_distances",
]
