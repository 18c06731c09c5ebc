"""Input validation of the classical estimators, following scikit-learn's conventions.

``X`` is converted as scikit-learn's ``check_array`` converts it (array-likes,
ints, object arrays of numbers), and refused with a message naming the
estimator where scikit-learn refuses it (complex, strings, NaN, wrong shape).
"""

from __future__ import annotations

import warnings

import numpy as np

from nndl.classic.exceptions import data_conversion_warning

def check_array(owner: str, X, *, name: str = "X", ndim: int = 2, allow_nd: bool = False) -> np.ndarray:
    """``X`` as a finite float array of ``ndim`` dimensions (at least ``ndim`` with ``allow_nd``).

    scikit-learn's conventions, where they apply to real-valued features:

    - float32 and float64 arrays are kept as they are (no copy, no cast);
    - integer and boolean arrays, nested lists of numbers and any object with
      ``__array__`` are converted (to float64, which holds every such value
      exactly); ``np.asarray`` runs first, so only the result's shape is read;
    - object arrays holding numbers are converted to float64 (a pandas frame
      of mixed numeric columns arrives this way); an entry that is not a
      number (a string, a dict) is a TypeError naming it;
    - complex input is a ValueError ("Complex data not supported"): dropping
      the imaginary part would change the data;
    - strings and other types are a TypeError; NaN or infinity a ValueError;
    - sparse matrices are refused with a hint (``.toarray()``).
    """
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(f"{owner}: sparse input is not supported; pass a dense array ({name}.toarray())")
    array = np.asarray(X)
    if array.dtype.kind == "c":
        raise ValueError(f"{owner}: Complex data not supported; {name} has dtype {array.dtype}. Pass the real "
                         f"part ({name}.real) or the magnitude (abs({name})) if that is what you mean")
    if array.dtype.kind == "O":
        array = _object_to_float(owner, array, name)
    elif array.dtype.kind in "iub":
        array = array.astype(np.float64)
    elif array.dtype not in (np.float32, np.float64):
        raise TypeError(
            f"{owner}: {name} must be an array of real numbers (float32 or float64; ints are "
            f"promoted to float64), got dtype {array.dtype}"
        )
    if array.ndim != ndim and not (allow_nd and array.ndim > ndim):
        expected = "(n_samples, n_features)" if ndim == 2 else "(n_samples,)"
        if allow_nd:
            expected = "(n_samples, n_features) or (n_samples, *sample_shape)"
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


def _object_to_float(owner: str, array: np.ndarray, name: str) -> np.ndarray:
    """An object array of numbers as float64; strings (even "1.5") and other objects are refused."""
    for index, value in np.ndenumerate(array):
        if isinstance(value, (str, bytes)):
            raise TypeError(f"{owner}: {name} must hold real numbers; entry {index} is the string {value!r}")
        if isinstance(value, (complex, np.complexfloating)):
            raise ValueError(f"{owner}: Complex data not supported; entry {index} of {name} is {value!r}")
    try:
        return array.astype(np.float64)
    except (TypeError, ValueError) as error:  # float() of a dict, a list...: numpy's message names the type
        raise TypeError(f"{owner}: {name} must hold real numbers; converting its object entries to float64 "
                        f"failed: {error}") from error


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
    y = column_or_1d(owner, y)
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
    if y.dtype.kind == "c":
        raise ValueError(f"{owner}: Complex data not supported; y has dtype {y.dtype}")
    if y.dtype.kind == "O":
        y = _object_to_float(owner, y, "y")
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

    A query whose dtype converts exactly to the fitted one (float32 or ints
    for a float64 model) is converted, as scikit-learn does. A float64 query
    for a float32 model is refused rather than rounded behind the caller's
    back: convert it explicitly.
    """
    estimator._check_fitted()
    owner = type(estimator).__name__
    X = check_array(owner, X)
    check_n_features(owner, X, estimator.n_features_in_)
    if X.dtype != estimator.dtype_:
        if not np.can_cast(X.dtype, estimator.dtype_, casting="safe"):
            raise TypeError(
                f"{owner}: X is {X.dtype} but the estimator was fitted on {estimator.dtype_}; "
                f"convert it with X.astype(np.{estimator.dtype_})"
            )
        X = X.astype(estimator.dtype_)
    return X


def column_or_1d(owner: str, y) -> np.ndarray:
    """``y`` as an array; a column vector ``(n, 1)`` is ravelled to ``(n,)`` with a DataConversionWarning.

    scikit-learn's convention for estimators of one target: ``y = df[["label"]]``
    is a common slip that is safe to correct, so it is corrected and reported.
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(f"A column-vector y was passed when a 1d array was expected ({owner}). Please change "
                      "the shape of y to (n_samples,), for example using ravel().",
                      data_conversion_warning(), stacklevel=4)
        return y.ravel()
    return y


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
