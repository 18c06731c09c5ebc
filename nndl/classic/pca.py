"""Principal component analysis by the SVD of the centred data.

For centred data ``X_c = X − x̄ = U Σ Vᵀ`` (the notes' SVD), the rows of
``Vᵀ`` are the principal directions, ordered by singular value, and the
variance of the data along direction ``k`` is ``σ_k² / (n − 1)``. PCA keeps
the first ``K`` directions: ``z = V_Kᵀ (x − x̄)``. Because the directions are
orthonormal, ``inverse_transform`` is ``x̂ = V_K z + x̄``, the orthogonal
projection of ``x`` onto the subspace (the best rank-K reconstruction in
squared error, which a linear autoencoder can only match).

Whitening divides each coordinate by its standard deviation
``√(σ_k²/(n−1))``: the transformed features are de-correlated *and* have
unit variance, ``cov(z) = I``.

Speed: for a tall ``X_c`` (many more samples than features) only ``Σ`` and
``Vᵀ`` are needed, so the SVD is taken of the small triangular factor
``R`` of ``X_c = Q R`` (``X_c`` and ``R`` have the same singular values and
right singular vectors); ``Q`` and ``U`` are never formed. Householder QR
is backward stable, so this is as accurate as the SVD of ``X_c`` itself.

Sign convention: an SVD fixes each direction only up to sign. Each
component is flipped so that its entry of largest absolute value is
positive (ties: the first such entry), which makes the result
deterministic and equal to scikit-learn's current convention.
"""

from __future__ import annotations

import numbers

import numpy as np

from nndl.classic.base import Estimator, TransformerMixin, check_array, check_query

# QR first when the data have at least this many times more rows than columns.
_TALL_RATIO = 1.2


def principal_directions(X_centred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Singular values and right singular vectors of centred data, signs fixed.

    Parameters
    ----------
    X_centred : ndarray, shape (n, D)

    Returns
    -------
    singular_values : ndarray, shape (min(n, D),)
        Descending.
    components : ndarray, shape (min(n, D), D)
        Orthonormal rows ``Vᵀ``; each row's largest-magnitude entry is positive.
    """
    n, d = X_centred.shape
    if n >= _TALL_RATIO * d:
        triangular = np.linalg.qr(X_centred, mode="r")
        _, singular_values, components = np.linalg.svd(triangular, full_matrices=False)
    else:
        _, singular_values, components = np.linalg.svd(X_centred, full_matrices=False)
    largest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(len(components)), largest])
    signs[signs == 0] = 1
    components *= signs[:, None]
    return singular_values, components


class PCA(TransformerMixin, Estimator):
    """Principal component analysis (via SVD), optionally whitening.

    Parameters
    ----------
    n_components : int, float in (0, 1), or None
        Number of directions kept; a float keeps the fewest directions whose
        explained variance ratios sum to at least that fraction; ``None``
        keeps ``min(n_samples, n_features)``.
    whiten : bool
        Scale the projections to unit variance (de-correlated, cov = I).

    Attributes
    ----------
    components_ : ndarray, shape (K, D)
        Principal directions (rows), unit length, sign-fixed.
    explained_variance_ : ndarray, shape (K,)
        ``σ_k² / (n − 1)``: sample variance along each direction.
    explained_variance_ratio_ : ndarray, shape (K,)
        Share of the total variance, ``σ_k² / Σ_j σ_j²`` over all directions.
    singular_values_ : ndarray, shape (K,)
    mean_ : ndarray, shape (D,)
    n_components_ : int
    noise_variance_ : float
        Mean variance of the discarded directions (0 when none are discarded).
    """

    def __init__(self, *, n_components=None, whiten: bool = False):
        self.n_components = n_components
        self.whiten = whiten

    def fit(self, X, y=None):
        owner = type(self).__name__
        X = check_array(owner, X)
        n_samples, n_features = X.shape
        if n_samples < 2:
            raise ValueError(f"{owner}: needs at least 2 samples to estimate variances, got n_samples={n_samples}")
        max_components = min(n_samples, n_features)
        self.mean_ = X.mean(axis=0)
        singular_values, components = principal_directions(X - self.mean_)
        variance = singular_values ** 2 / (n_samples - 1)
        total_variance = variance.sum()
        ratio = variance / total_variance if total_variance > 0 else np.zeros_like(variance)
        n_keep = self._n_kept(owner, max_components, ratio)
        self.n_components_ = n_keep
        self.components_ = components[:n_keep]
        self.singular_values_ = singular_values[:n_keep]
        self.explained_variance_ = variance[:n_keep]
        self.explained_variance_ratio_ = ratio[:n_keep]
        discarded = variance[n_keep:]
        # Directions beyond min(n, D) have zero variance too: average over all D - K.
        self.noise_variance_ = float(discarded.sum() / (n_features - n_keep)) if n_keep < n_features else 0.0
        self.n_features_in_ = n_features
        self.dtype_ = X.dtype
        return self

    def _n_kept(self, owner: str, max_components: int, ratio: np.ndarray) -> int:
        value = self.n_components
        if value is None:
            return max_components
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            if not 1 <= value <= max_components:
                raise ValueError(
                    f"{owner}: n_components={value} must be between 1 and min(n_samples, n_features)"
                    f" = {max_components}"
                )
            return int(value)
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 < value < 1:
            # Fewest directions whose cumulated ratio reaches the fraction (rounding-tolerant).
            cumulated = np.cumsum(ratio)
            return int(min(np.searchsorted(cumulated, value - 1e-12) + 1, max_components))
        raise ValueError(
            f"{owner}: n_components must be None, an int in [1, {max_components}] or a fraction in "
            f"(0, 1), got {value!r}"
        )

    def transform(self, X) -> np.ndarray:
        """``z = (x − x̄) V_K`` (divided by ``√explained_variance_`` when whitening), shape (M, K)."""
        X = check_query(self, X)
        projected = (X - self.mean_) @ self.components_.T
        if self.whiten:
            projected /= np.sqrt(self.explained_variance_)
        return projected

    def inverse_transform(self, Z) -> np.ndarray:
        """``x̂ = z V_Kᵀ + x̄`` (undoing the whitening scale first), shape (M, D)."""
        self._check_fitted()
        Z = check_array(type(self).__name__, Z, name="Z")
        if Z.shape[1] != self.n_components_:
            raise ValueError(
                f"{type(self).__name__}: Z has {Z.shape[1]} columns, expected n_components_ = "
                f"{self.n_components_}"
            )
        if self.whiten:
            Z = Z * np.sqrt(self.explained_variance_)
        return Z @ self.components_ + self.mean_
