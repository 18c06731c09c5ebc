"""The estimator contract shared by every classical model (input validation: ``nndl.classic.validation``).

The contract is scikit-learn's, reimplemented so that nndl needs no
scikit-learn at import time and the estimators still drop into its tools
(``clone``, ``Pipeline``, ``GridSearchCV``, ``cross_val_score``):

- ``__init__`` takes keyword-only hyperparameters and stores each one
  untouched under its own name; it validates nothing and sets nothing else.
  Validation happens in ``fit``. This is what lets ``clone`` rebuild an
  estimator from ``get_params()`` and ``GridSearchCV`` change one with
  ``set_params``.
- ``fit`` returns ``self``; everything learned from data ends in ``_``.
- ``predict`` (and the like) before ``fit`` raises :class:`NotFittedError`.
- ``score`` is accuracy for classifiers and R² for regressors.
"""

from __future__ import annotations

import copy
import inspect

import numpy as np

from nndl.classic.exceptions import ConvergenceWarning, DataConversionWarning, NotFittedError, not_fitted_error
from nndl.classic.validation import (check_array, check_choice, check_classification_targets, check_lengths,
                                     check_n_features, check_positive, check_query, check_regression_targets,
                                     one_vs_rest_targets)
from nndl.random import as_generator

__all__ = [
    "ClassifierMixin", "ConvergenceWarning", "DataConversionWarning", "Estimator", "NotFittedError",
    "RegressorMixin", "TransformerMixin", "check_array", "check_choice", "check_classification_targets",
    "check_lengths", "check_n_features", "check_positive", "check_query", "check_regression_targets", "clone",
    "one_vs_rest_targets",
]


def clone(estimator):
    """A new, unfitted estimator with the same hyperparameters.

    Parameters that are themselves estimators (they have ``get_params``) are
    cloned recursively; lists/tuples of them (``VotingClassifier``'s
    ``estimators``) element by element; every other value is deep-copied, so
    a ``Generator`` passed as ``rng`` is copied in its current state.
    """
    if isinstance(estimator, (list, tuple)):
        return type(estimator)(clone(item) for item in estimator)
    if not hasattr(estimator, "get_params") or isinstance(estimator, type):
        return copy.deepcopy(estimator)
    params = {name: clone(value) for name, value in estimator.get_params(deep=False).items()}
    return type(estimator)(**params)


class Estimator:
    """Base class: ``get_params``/``set_params`` read the ``__init__`` signature.

    Subclasses declare their hyperparameters as keyword-only ``__init__``
    arguments and assign each to ``self.<name>`` unchanged.
    """

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        names = []
        for name, parameter in signature.parameters.items():
            if name == "self":
                continue
            if parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
                raise TypeError(
                    f"{cls.__name__}.__init__ must take only keyword-only hyperparameters; "
                    f"'{name}' is {parameter.kind.description}"
                )
            names.append(name)
        return sorted(names)

    def get_params(self, deep: bool = True) -> dict:
        """Hyperparameters by name; with ``deep``, also ``<param>__<sub>`` of nested estimators."""
        params = {}
        for name in self._param_names():
            value = getattr(self, name)
            params[name] = value
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                for sub_name, sub_value in value.get_params(deep=True).items():
                    params[f"{name}__{sub_name}"] = sub_value
        return params

    def set_params(self, **params):
        """Set hyperparameters (``name=value`` or nested ``estimator__name=value``); returns self."""
        valid = self.get_params(deep=True)
        nested: dict[str, dict] = {}
        for key, value in params.items():
            name, _, sub_name = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"{type(self).__name__} has no parameter '{name}'; valid parameters are "
                    f"{self._param_names()}"
                )
            if sub_name:
                nested.setdefault(name, {})[sub_name] = value
            else:
                setattr(self, name, value)
                valid[name] = value
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        signature = inspect.signature(type(self).__init__)
        shown = []
        for name in self._param_names():
            value = getattr(self, name, None)
            default = signature.parameters[name].default
            if not _same_value(value, default):
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    # -- fitted state -------------------------------------------------------
    def __sklearn_is_fitted__(self) -> bool:
        return any(name.endswith("_") and not name.startswith("__") for name in vars(self))

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise not_fitted_error()(
                f"This {type(self).__name__} is not fitted yet; call fit(X, y) before using it"
            )

    def _make_rng(self) -> np.random.Generator:
        """The Generator for one ``fit``: an int seed gives the same stream on every refit."""
        return as_generator(self.rng)

    # -- scikit-learn interoperability ----------------------------------------
    _estimator_kind: str | None = None
    _multi_output: bool = False  # accepts a 2-D y of several targets (every regressor here does)

    def __sklearn_tags__(self):
        # Imported here: scikit-learn only calls this when it is installed.
        from sklearn.utils import ClassifierTags, RegressorTags, Tags, TargetTags, TransformerTags

        kind = self._estimator_kind
        return Tags(
            estimator_type=kind if kind in ("classifier", "regressor") else None,
            target_tags=TargetTags(required=kind in ("classifier", "regressor"), multi_output=self._multi_output),
            transformer_tags=TransformerTags() if kind == "transformer" else None,
            classifier_tags=ClassifierTags() if kind == "classifier" else None,
            regressor_tags=RegressorTags() if kind == "regressor" else None,
        )


def _same_value(a, b) -> bool:
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return False
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # values without a usable == (e.g. estimators) count as different
        return False


class ClassifierMixin:
    """``score`` is the accuracy of ``predict``."""

    _estimator_kind = "classifier"

    def score(self, X, y) -> float:
        """Fraction of samples whose predicted label equals ``y``."""
        y = np.asarray(y)
        prediction = self.predict(X)
        check_lengths(type(self).__name__, prediction, y)
        return float(np.mean(prediction == y))


class RegressorMixin:
    """``score`` is the coefficient of determination R² of ``predict``."""

    _estimator_kind = "regressor"
    _multi_output = True

    def score(self, X, y) -> float:
        """:math:`R^2 = 1 - Σ (y - ŷ)^2 / Σ (y - ȳ)^2` (averaged over outputs for 2-D y)."""
        y = np.asarray(y, dtype=np.float64)
        prediction = np.asarray(self.predict(X), dtype=np.float64)
        check_lengths(type(self).__name__, prediction, y)
        residual = ((y - prediction) ** 2).sum(axis=0)
        total = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(total > 0, 1.0 - residual / np.where(total > 0, total, 1.0),
                          np.where(residual == 0, 1.0, 0.0))
        return float(np.mean(r2))


class TransformerMixin:
    """``fit_transform`` = ``fit`` then ``transform``."""

    _estimator_kind = "transformer"

    def fit_transform(self, X, y=None):
        return self.fit(X, y).transform(X)
