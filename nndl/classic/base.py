"""The estimator contract shared by every classical model, and input validation.

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

from nndl.random import as_generator


class NotFittedError(ValueError, AttributeError):
    """An estimator was used before ``fit``.

    Subclasses both ValueError and AttributeError, as scikit-learn's error of
    the same name does, so ``hasattr(estimator, "classes_")``-style probes
    keep working.
    """


class ConvergenceWarning(UserWarning):
    """An iterative solver stopped at its epoch limit without converging."""


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
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(X, y) before using it"
            )

    def _make_rng(self) -> np.random.Generator:
        """The Generator for one ``fit``: an int seed gives the same stream on every refit."""
        return as_generator(self.rng)

    # -- scikit-learn interoperability ----------------------------------------
    _estimator_kind: str | None = None

    def __sklearn_tags__(self):
        # Imported here: scikit-learn only calls this when it is installed.
        from sklearn.utils import ClassifierTags, RegressorTags, Tags, TargetTags, TransformerTags

        kind = self._estimator_kind
        return Tags(
            estimator_type=kind if kind in ("classifier", "regressor") else None,
            target_tags=TargetTags(required=kind in ("classifier", "regressor")),
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


# -- input validation ----------------------------------------------------------

def check_array(owner: str, X, *, name: str = "X", ndim: int = 2) -> np.ndarray:
    """``X`` as a finite float array of ``ndim`` dimensions.

    float32 and float64 arrays are kept as they are (no copy, no cast).
    Integer and boolean arrays (and nested lists of numbers) are promoted to
    float64, which represents them exactly; anything else (strings, objects,
    complex) is a TypeError. NaN or infinity is a ValueError.
    """
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(f"{owner}: sparse input is not supported; pass a dense array ({name}.toarray())")
    array = np.asarray(X)
    if array.dtype.kind in "iub":
        array = array.astype(np.float64)
    elif array.dtype not in (np.float32, np.float64):
        raise TypeError(
            f"{owner}: {name} must be an array of real numbers (float32 or float64; ints are "
            f"promoted to float64), got dtype {array.dtype}"
        )
    if array.ndim != ndim:
        expected = "(n_samples, n_features)" if ndim == 2 else "(n_samples,)"
        hint = (". Reshape your data: X.reshape(-1, 1) for a single feature, X.reshape(1, -1) for a "
                "single sample") if ndim == 2 and array.ndim == 1 else ""
        raise ValueError(f"{owner}: {name} must have shape {expected}, got shape {array.shape}{hint}")
    if array.shape[0] == 0:
        raise ValueError(f"{owner}: {name} has 0 sample(s) (shape={array.shape}) while a minimum of 1 is required.")
    if ndim == 2 and array.shape[1] == 0:
        raise ValueError(f"{owner}: {name} has 0 feature(s) (shape={array.shape}) while a minimum of 1 is required.")
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{owner}: {name} contains {bad} NaN or infinite value(s); "
                         "impute or drop them before fitting")
    return array


def check_lengths(owner: str, X, y) -> None:
    if len(X) != len(y):
        raise ValueError(f"{owner}: X and y have different numbers of samples ({len(X)} vs {len(y)})")


def check_n_features(owner: str, X: np.ndarray, n_features: int) -> None:
    if X.shape[1] != n_features:
        raise ValueError(
            f"{owner}: X has {X.shape[1]} features, but {owner} is expecting {n_features} features "
            "as input (the number it was fitted with)"
        )


def check_classification_targets(owner: str, y, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels to ``(classes_, y_index)`` with ``classes_`` sorted and ``y_index`` in ``0..K-1``.

    Labels may be any sortable values (ints, strings). Fewer than two classes
    is a ValueError: a classifier needs something to separate.
    """
    if y is None:
        raise ValueError(f"{owner} requires y to be passed, but the target y is None")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{owner}: y must be a 1-D array of labels, got shape {y.shape}")
    if len(y) != n_samples:
        raise ValueError(f"{owner}: X and y have different numbers of samples ({n_samples} vs {len(y)})")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{owner}: y contains NaN or infinite labels")
        if np.any(y != np.round(y)):
            raise ValueError(f"{owner}: y holds continuous values; a classifier needs class labels")
    classes, y_index = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"{owner}: y has only 1 class ({classes.tolist()}); a classifier needs at least 2"
        )
    return classes, y_index.reshape(-1)


def check_regression_targets(owner: str, y, n_samples: int, dtype) -> np.ndarray:
    """Targets as a finite float array (1-D, or 2-D for several outputs) of the dtype of X."""
    if y is None:
        raise ValueError(f"{owner} requires y to be passed, but the target y is None")
    y = np.asarray(y)
    if y.dtype.kind not in "iubf":
        raise TypeError(f"{owner}: y must hold real numbers, got dtype {y.dtype}")
    if y.ndim not in (1, 2):
        raise ValueError(f"{owner}: y must have shape (n_samples,) or (n_samples, n_outputs), got {y.shape}")
    if len(y) != n_samples:
        raise ValueError(f"{owner}: X and y have different numbers of samples ({n_samples} vs {len(y)})")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{owner}: y contains NaN or infinite values")
    return y.astype(dtype, copy=False)


def check_choice(owner: str, name: str, value, valid) -> None:
    if value not in valid:
        raise ValueError(f"{owner}: {name}={value!r} is not one of {sorted(valid)}")


def check_positive(owner: str, name: str, value, *, integer: bool = False, allow_zero: bool = False) -> None:
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kinds):
        kind = "an int" if integer else "a number"
        raise TypeError(f"{owner}: {name} must be {kind}, got {type(value).__name__}")
    if value < 0 or (value == 0 and not allow_zero) or not np.isfinite(value):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{owner}: {name} must be {bound}, got {value}")


def check_query(estimator, X) -> np.ndarray:
    """Validate ``X`` for predict/transform of a fitted estimator: features and dtype as in fit.

    A float32 model refuses float64 queries (and the reverse) rather than
    casting behind the caller's back.
    """
    estimator._check_fitted()
    owner = type(estimator).__name__
    X = check_array(owner, X)
    check_n_features(owner, X, estimator.n_features_in_)
    if X.dtype != estimator.dtype_:
        raise TypeError(
            f"{owner}: X is {X.dtype} but the estimator was fitted on {estimator.dtype_}; "
            f"convert it with X.astype(np.{estimator.dtype_})"
        )
    return X


def one_vs_rest_targets(y_index: np.ndarray, n_classes: int, dtype, negative: float) -> np.ndarray:
    """Targets ``(N, 1)`` for two classes (``classes_[1]`` is positive) or ``(N, K)`` one-vs-rest.

    The positive target is 1, the negative one ``negative`` (0 for the step
    activation of the perceptron, −1 for ADALINE's bipolar targets).
    """
    if n_classes == 2:
        positive = y_index[:, None] == 1
    else:
        positive = y_index[:, None] == np.arange(n_classes)
    return np.where(positive, 1.0, negative).astype(dtype)
