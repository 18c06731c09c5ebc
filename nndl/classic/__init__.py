"""Classical machine learning from the notes, as scikit-learn-compatible estimators.

Every estimator follows scikit-learn's contract (keyword-only hyperparameters
stored untouched, ``fit`` returns self, learned attributes end in ``_``,
``get_params``/``set_params``, ``score``) without depending on scikit-learn,
so it works in ``clone``, ``Pipeline``, ``GridSearchCV`` and
``cross_val_score``.
"""

from nndl.classic.adaline import Adaline
from nndl.classic.base import ConvergenceWarning, DataConversionWarning, Estimator, NotFittedError, clone
from nndl.classic.ensemble import BaggingClassifier, VotingClassifier
from nndl.classic.knn import KNeighborsClassifier, KNeighborsRegressor, pairwise_distances
from nndl.classic.linear_regression import LinearRegression
from nndl.classic.logistic import LogisticRegression
from nndl.classic.model_selection import (
    KSelection,
    cross_validate,
    kfold_indices,
    select_k_by_cv,
    stratified_kfold_indices,
)
from nndl.classic.neural_net import NeuralNetClassifier, NeuralNetRegressor
from nndl.classic.pca import PCA
from nndl.classic.perceptron import Perceptron
from nndl.classic.softmax_regression import SoftmaxRegression
from nndl.classic.svm import LinearSVM, multiclass_hinge_loss

__all__ = [
    "PCA",
    "Adaline",
    "BaggingClassifier",
    "ConvergenceWarning",
    "DataConversionWarning",
    "Estimator",
    "KNeighborsClassifier",
    "KNeighborsRegressor",
    "KSelection",
    "LinearRegression",
    "LinearSVM",
    "LogisticRegression",
    "NeuralNetClassifier",
    "NeuralNetRegressor",
    "NotFittedError",
    "Perceptron",
    "SoftmaxRegression",
    "VotingClassifier",
    "clone",
    "cross_validate",
    "kfold_indices",
    "multiclass_hinge_loss",
    "pairwise_distances",
    "select_k_by_cv",
    "stratified_kfold_indices",
]
