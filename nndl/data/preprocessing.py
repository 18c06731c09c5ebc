"""Feature scaling and one-hot encoding.

Fit a scaler on the training data only, then apply the same ``transform`` to
validation and test data: statistics computed on held-out data would leak it
into training. Scalers follow scikit-learn's estimator contract (``fit``
returns ``self``; learned attributes end in ``_``) and match its
``MinMaxScaler`` and ``StandardScaler``. Statistics are kept in float64;
``transform`` returns the input's dtype.
"""

from __future__ import annotations

import numpy as np


def _check_features(scaler, x, fitted: bool) -> np.ndarray:
    name = type(scaler).__name__
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array, got {type(x).__name__}")
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name}: expected float32 or float64 features, got {x.dtype} (convert with astype)")
    if x.ndim != 2:
        raise ValueError(f"{name}: expected features of shape (N, D), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name}: features contain NaN or infinite values")
    if fitted:
        if not hasattr(scaler, "n_features_in_"):
            raise RuntimeError(f"{name}: call fit on the training data before transform")
        if x.shape[1] != scaler.n_features_in_:
            raise ValueError(f"{name}: fitted on {scaler.n_features_in_} features, got shape {x.shape}")
    elif len(x) == 0:
        raise ValueError(f"{name}: cannot fit on 0 samples")
    return x


def _safe_scale(scale: np.ndarray, constant: np.ndarray) -> np.ndarray:
    # A constant feature has no spread to divide by: scale 1 leaves it
    # unchanged (as scikit-learn) instead of producing inf or NaN.
    scale = scale.copy()
    scale[constant] = 1.0
    return scale


class _Scaler:
    def fit_transform(self, x: np.ndarray) -> np.ndarray:
        return self.fit(x).transform(x)

    def get_params(self, deep: bool = True) -> dict:
        return {name: getattr(self, name) for name in self._param_names}

    def set_params(self, **params):
        for name, value in params.items():
            if name not in self._param_names:
                raise ValueError(f"{type(self).__name__}: unknown parameter '{name}'; valid: "
                                 f"{', '.join(self._param_names)}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


class MinMaxScaler(_Scaler):
    """Rescale each feature linearly so that its training range maps to ``feature_range``.

    .. math:: x' = (x - \\min_j)\\,\\frac{b - a}{\\max_j - \\min_j} + a = x \\cdot s_j + m_j

    with ``(a, b) = feature_range``, ``scale_`` :math:`s_j` and ``min_``
    :math:`m_j = a - \\min_j s_j`. A constant feature gets
    :math:`s_j = (b - a)`, i.e. a range of 1 is assumed.

    Attributes
    ----------
    data_min_, data_max_, data_range_ : ndarray, shape (D,)
    scale_, min_ : ndarray, shape (D,)
    n_features_in_, n_samples_seen_ : int
    """

    _param_names = ("feature_range",)

    def __init__(self, feature_range: tuple[float, float] = (0, 1)):
        self.feature_range = feature_range

    def fit(self, x: np.ndarray) -> "MinMaxScaler":
        low, high = self.feature_range
        if not low < high:
            raise ValueError(f"MinMaxScaler: feature_range must satisfy min < max, got {self.feature_range}")
        x = _check_features(self, x, fitted=False).astype(np.float64, copy=False)
        self.data_min_ = x.min(axis=0)
        self.data_max_ = x.max(axis=0)
        self.data_range_ = self.data_max_ - self.data_min_
        self.scale_ = (high - low) / _safe_scale(self.data_range_, self.data_range_ == 0)
        self.min_ = low - self.data_min_ * self.scale_
        self.n_features_in_, self.n_samples_seen_ = x.shape[1], x.shape[0]
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        x = _check_features(self, x, fitted=True)
        return x * self.scale_.astype(x.dtype) + self.min_.astype(x.dtype)

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        x = _check_features(self, x, fitted=True)
        return (x - self.min_.astype(x.dtype)) / self.scale_.astype(x.dtype)


class StandardScaler(_Scaler):
    """Standardize each feature to zero mean and unit variance on the training data.

    .. math:: x' = \\frac{x - \\mu_j}{\\sigma_j}, \\qquad
              \\sigma_j^2 = \\frac{1}{N}\\sum_i (x_{ij} - \\mu_j)^2

    The population variance (divide by N, as scikit-learn and batch norm). A
    feature whose variance is zero up to rounding error gets
    :math:`\\sigma_j = 1`, so it is only centred.

    Parameters
    ----------
    with_mean, with_std : bool
        Subtract the mean; divide by the standard deviation.

    Attributes
    ----------
    mean_, var_, scale_ : ndarray, shape (D,) (None when disabled)
    n_features_in_, n_samples_seen_ : int
    """

    _param_names = ("with_mean", "with_std")

    def __init__(self, with_mean: bool = True, with_std: bool = True):
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, x: np.ndarray) -> "StandardScaler":
        x = _check_features(self, x, fitted=False).astype(np.float64, copy=False)
        n = x.shape[0]
        mean = x.mean(axis=0)
        var = np.mean((x - mean) ** 2, axis=0)
        self.mean_ = mean if self.with_mean or self.with_std else None
        self.var_ = var if self.with_std else None
        if self.with_std:
            # Rounding leaves a constant column with a variance of order
            # (n * eps * |mean|)^2 rather than exactly 0; treat that as 0.
            eps = np.finfo(np.float64).eps
            constant = var <= n * eps * var + (n * mean * eps) ** 2
            self.scale_ = _safe_scale(np.sqrt(var), constant)
        else:
            self.scale_ = None
        self.n_features_in_, self.n_samples_seen_ = x.shape[1], n
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        x = _check_features(self, x, fitted=True)
        if self.with_mean:
            x = x - self.mean_.astype(x.dtype)
        if self.with_std:
            x = x / self.scale_.astype(x.dtype)
        return x.copy() if not (self.with_mean or self.with_std) else x

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        x = _check_features(self, x, fitted=True)
        if self.with_std:
            x = x * self.scale_.astype(x.dtype)
        if self.with_mean:
            x = x + self.mean_.astype(x.dtype)
        return x.copy() if not (self.with_mean or self.with_std) else x


def one_hot(labels, num_classes: int | None = None, dtype=np.float32) -> np.ndarray:
    """Encode integer class labels as one-hot rows.

    Parameters
    ----------
    labels : ndarray of int, shape (N,)
        Values in ``[0, num_classes)``.
    num_classes : int, optional
        Number of columns; default ``labels.max() + 1``.
    dtype : dtype
        Type of the result.

    Returns
    -------
    ndarray, shape (N, num_classes)
        ``out[i, labels[i]] = 1``, zeros elsewhere.
    """
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"one_hot: labels must be integers, got dtype {labels.dtype}")
    if labels.ndim != 1:
        raise ValueError(f"one_hot: labels must have shape (N,), got {labels.shape}")
    if num_classes is None:
        if labels.size == 0:
            raise ValueError("one_hot: num_classes is required for empty labels")
        num_classes = int(labels.max()) + 1
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: labels must lie in [0, {num_classes}), got values from {labels.min()} to "
                         f"{labels.max()}")
    out = np.zeros((labels.size, num_classes), dtype=dtype)
    out[np.arange(labels.size), labels] = 1
    return out
