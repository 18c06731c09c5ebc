"""k-nearest neighbours: vectorized L1/L2 distances and the vote.

Training memorizes the data; prediction finds the ``k`` training samples
closest to each query and lets them vote (classification) or averages their
targets (regression). Distances follow the notes:

.. math::
    d_1(I_1, I_2) = Σ_p |I_1^p − I_2^p|, \\qquad
    d_2(I_1, I_2) = \\sqrt{Σ_p (I_1^p − I_2^p)^2}

L2 uses the "no-loop" expansion ``‖a − b‖² = ‖a‖² + ‖b‖² − 2 a·b``, so all
the distances from a block of queries to the training set come from one
matrix product, without a Python loop over test points. Queries are
processed in blocks sized to keep the ``(block, n_train)`` distance matrix
under :data:`WORKING_MEMORY_BYTES`.

Tie-breaking (deterministic, documented)
----------------------------------------
- Neighbours at equal distance are ordered by training index: the earlier
  training sample comes first, so it is the one kept at the k-th place.
- A tied vote goes to the class that comes first in ``classes_`` (the
  smallest label), as ``argmax`` returns the first maximum.
scikit-learn's brute-force search breaks distance ties arbitrarily (by
``argpartition``), so its predictions can differ from ours only on queries
with a distance tie at the k-th neighbour.
"""

from __future__ import annotations

import numpy as np

from nndl.classic.base import (
    ClassifierMixin,
    Estimator,
    RegressorMixin,
    check_array,
    check_choice,
    check_classification_targets,
    check_positive,
    check_query,
    check_regression_targets,
)

#: Upper bound on the size of one block of the query-by-train distance matrix.
WORKING_MEMORY_BYTES = 64 * 2**20

METRICS = ("l1", "l2")
WEIGHTS = ("uniform", "distance")


def squared_l2_distances(A: np.ndarray, B: np.ndarray, B_sq_norms: np.ndarray | None = None) -> np.ndarray:
    """All squared Euclidean distances, by the no-loop trick.

    .. math::
        D_{ij} = ‖a_i‖^2 + ‖b_j‖^2 − 2 a_i · b_j

    Parameters
    ----------
    A : ndarray, shape (M, D)
    B : ndarray, shape (N, D)
    B_sq_norms : ndarray, shape (N,), optional
        Precomputed ``‖b_j‖²``.

    Returns
    -------
    ndarray, shape (M, N)
        Clipped at 0: the expansion can round a true 0 to a tiny negative.
    """
    if B_sq_norms is None:
        B_sq_norms = np.einsum("ij,ij->i", B, B)
    dist = A @ B.T
    dist *= -2
    dist += B_sq_norms
    dist += np.einsum("ij,ij->i", A, A)[:, None]
    return np.maximum(dist, 0, out=dist)


def l1_distances(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """All Manhattan distances ``D_ij = Σ_p |a_ip − b_jp|``, shape (M, N).

    Broadcasting builds ``|a_i − b_j|`` for a block of training rows at a
    time, sized so the ``(M, block, D)`` temporary stays under
    :data:`WORKING_MEMORY_BYTES`.
    """
    out = np.empty((A.shape[0], B.shape[0]), dtype=np.result_type(A, B))
    block = max(1, WORKING_MEMORY_BYTES // max(1, A.shape[0] * A.shape[1] * out.itemsize))
    for start in range(0, B.shape[0], block):
        diff = A[:, None, :] - B[None, start:start + block, :]
        np.abs(diff, out=diff)
        out[:, start:start + block] = diff.sum(axis=2)
    return out


def pairwise_distances(A, B, metric: str = "l2") -> np.ndarray:
    """Distance matrix ``(M, N)`` between the rows of ``A`` and of ``B`` (``'l1'`` or ``'l2'``)."""
    check_choice("pairwise_distances", "metric", metric, METRICS)
    A = check_array("pairwise_distances", A, name="A")
    B = check_array("pairwise_distances", B, name="B")
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"pairwise_distances: A has {A.shape[1]} features and B has {B.shape[1]}")
    if metric == "l1":
        return l1_distances(A, B)
    return np.sqrt(squared_l2_distances(A, B))


def _select_k_smallest(key: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` smallest entries of each row, ordered by (value, index).

    A cheap bound first: cut each row into ``B ≥ k`` blocks; the k-th
    smallest of the B block minima, ``t``, is ≥ the row's k-th smallest value
    (those k minima are k distinct entries), so every entry that can be among
    the k nearest, ties included, is ``<= t`` — and lies in a block whose
    minimum is ``<= t`` (or in the few columns after the last whole block).
    Only those blocks are searched, and the handful of entries ``<= t`` in
    them are sorted exactly by (value, index). This reads the row once (the
    block minima) where a selection over it (``argpartition``) costs ~10x more.
    """
    n_rows, n_cols = key.shape
    n_blocks = max(64, 2 * k)
    if n_cols < 4 * n_blocks or not key.flags.c_contiguous:
        return _select_k_smallest_by_partition(key, k)
    block = n_cols // n_blocks
    block_minima = key[:, :block * n_blocks].reshape(n_rows, n_blocks, block).min(axis=2)
    threshold = np.partition(block_minima, k - 1, axis=1)[:, k - 1:k]
    # The blocks that can hold a neighbour, first in each row (stable: in block order).
    hit = block_minima <= threshold
    n_hit = int(hit.sum(axis=1).max())
    hit_blocks = np.argsort(~hit, axis=1, kind="stable")[:, :n_hit]
    # Copy the hit blocks out whole (contiguous runs), rows padded with non-hits set to +inf.
    values = key[:, :block * n_blocks].reshape(n_rows, n_blocks, block)[np.arange(n_rows)[:, None], hit_blocks]
    values[~np.take_along_axis(hit, hit_blocks, axis=1)] = np.inf
    values = np.concatenate([values.reshape(n_rows, -1), key[:, block * n_blocks:]], axis=1)
    rows, slots = np.nonzero(values <= threshold)
    in_block = slots < n_hit * block
    columns = np.where(in_block, hit_blocks[rows, np.minimum(slots // block, n_hit - 1)] * block + slots % block,
                       slots - n_hit * block + block * n_blocks)
    counts = np.bincount(rows, minlength=n_rows)
    position = np.arange(len(rows)) - (np.cumsum(counts) - counts)[rows]
    # Pad to a rectangle with +inf keys (sorted last) and an index past every real one.
    candidate_index = np.full((n_rows, counts.max()), n_cols, dtype=np.intp)
    candidate_key = np.full((n_rows, counts.max()), np.inf, dtype=key.dtype)
    candidate_index[rows, position] = columns
    candidate_key[rows, position] = values[rows, slots]
    order = np.lexsort((candidate_index, candidate_key), axis=-1)[:, :k]
    return np.take_along_axis(candidate_index, order, axis=1)


def _select_k_smallest_by_partition(key: np.ndarray, k: int) -> np.ndarray:
    """:func:`_select_k_smallest` for short rows, by ``argpartition``.

    ``argpartition`` splits ties at the k-th value arbitrarily; rows where
    more than ``k`` entries are ``<=`` the k-th value are redone exactly so
    the earliest indices win.
    """
    n_rows, n_cols = key.shape
    if k < n_cols:
        part = np.argpartition(key, k - 1, axis=1)[:, :k]
        part_keys = np.take_along_axis(key, part, axis=1)
        kth = part_keys.max(axis=1)
        tied_rows = np.flatnonzero(np.count_nonzero(key <= kth[:, None], axis=1) > k)
    else:
        part = np.broadcast_to(np.arange(n_cols), (n_rows, n_cols)).copy()
        part_keys = key
        tied_rows = np.empty(0, dtype=np.intp)
    order = np.lexsort((part, part_keys), axis=-1)
    neighbours = np.take_along_axis(part, order, axis=1)
    for row in tied_rows:
        candidates = np.flatnonzero(key[row] <= kth[row])
        # Candidates come out of flatnonzero in index order, and lexsort is stable.
        neighbours[row] = candidates[np.lexsort((candidates, key[row, candidates]))[:k]]
    return neighbours


def _exact_distances(query: np.ndarray, train: np.ndarray, neighbours: np.ndarray, metric: str) -> np.ndarray:
    """Distances to the chosen neighbours from the differences themselves (no cancellation).

    Rows are taken a few at a time so the ``(rows, k, D)`` differences stay
    under :data:`WORKING_MEMORY_BYTES`.
    """
    out = np.empty(neighbours.shape, dtype=query.dtype)
    k, n_features = neighbours.shape[1], query.shape[1]
    rows = max(1, WORKING_MEMORY_BYTES // (k * n_features * query.itemsize))
    for start in range(0, len(query), rows):
        diff = train[neighbours[start:start + rows]] - query[start:start + rows, None, :]
        if metric == "l1":
            out[start:start + rows] = np.abs(diff).sum(axis=2)
        else:
            out[start:start + rows] = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    return out


class _KNeighborsBase(Estimator):
    """Shared fit / kneighbors of the classifier and the regressor."""

    def _fit_neighbours(self, X):
        owner = type(self).__name__
        check_positive(owner, "n_neighbors", self.n_neighbors, integer=True)
        check_choice(owner, "metric", self.metric, METRICS)
        check_choice(owner, "weights", self.weights, WEIGHTS)
        X = check_array(owner, X)
        if self.n_neighbors > X.shape[0]:
            raise ValueError(
                f"{owner}: n_neighbors={self.n_neighbors} is larger than the training set "
                f"({X.shape[0]} samples)"
            )
        return X

    def _store(self, X):
        if self.metric == "l2":
            # [x, ‖x‖²] rows: with queries [−2a, 1], one matrix product gives ‖b‖² − 2a·b,
            # with no further pass over the (queries × train) block.
            self.train_augmented_ = np.empty((X.shape[0], X.shape[1] + 1), dtype=X.dtype)
            self.train_augmented_[:, :-1] = X
            self.train_augmented_[:, -1] = np.einsum("ij,ij->i", X, X)
            self.X_fit_ = self.train_augmented_[:, :-1]
        else:
            self.train_augmented_ = None
            self.X_fit_ = X.copy()
        self.n_samples_fit_ = X.shape[0]
        self.n_features_in_ = X.shape[1]
        self.dtype_ = X.dtype

    def kneighbors(self, X, n_neighbors: int | None = None, return_distance: bool = True):
        """The nearest training samples of each query.

        Parameters
        ----------
        X : array-like, shape (M, D)
        n_neighbors : int, optional
            Defaults to the estimator's ``n_neighbors``.
        return_distance : bool

        Returns
        -------
        distances : ndarray, shape (M, k)
            Only if ``return_distance``. Recomputed from the differences of
            the chosen pairs, so a duplicate of a training sample is at
            distance exactly 0.
        indices : ndarray of int, shape (M, k)
            Training indices, nearest first; ties in order of index.
        """
        X = check_query(self, X)
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        check_positive(type(self).__name__, "n_neighbors", k, integer=True)
        if k > self.n_samples_fit_:
            raise ValueError(
                f"{type(self).__name__}: n_neighbors={k} is larger than the training set "
                f"({self.n_samples_fit_} samples)"
            )
        indices = np.empty((X.shape[0], k), dtype=np.intp)
        distances = np.empty((X.shape[0], k), dtype=X.dtype) if return_distance else None
        n_train, n_features = self.X_fit_.shape
        # Query blocks keep the (block, n_train) key under the budget; l1_distances
        # bounds its own (block, train block, D) temporary the same way.
        rows = int(max(1, min(WORKING_MEMORY_BYTES // (n_train * X.itemsize), X.shape[0])))
        for start in range(0, X.shape[0], rows):
            query = X[start:start + rows]
            if self.metric == "l2":
                # Rank by ‖b‖² − 2a·b: ‖a‖² is the same for the whole row, so
                # leaving it out changes no order and saves a pass.
                query_augmented = np.empty((len(query), n_features + 1), dtype=X.dtype)
                np.multiply(query, -2, out=query_augmented[:, :-1])
                query_augmented[:, -1] = 1
                key = query_augmented @ self.train_augmented_.T
            else:
                key = l1_distances(query, self.X_fit_)
            neighbours = _select_k_smallest(key, k)
            indices[start:start + rows] = neighbours
            if return_distance:
                distances[start:start + rows] = _exact_distances(query, self.X_fit_, neighbours, self.metric)
        return (distances, indices) if return_distance else indices

    def _neighbour_weights(self, distances: np.ndarray | None) -> np.ndarray | None:
        """``None`` for a uniform vote; else ``1/d``, with exact matches taking all the weight."""
        if self.weights == "uniform":
            return None
        with np.errstate(divide="ignore"):
            weights = 1.0 / distances
        exact = distances == 0
        has_exact = exact.any(axis=1)
        weights[has_exact] = exact[has_exact]
        return weights


class KNeighborsClassifier(ClassifierMixin, _KNeighborsBase):
    """k-nearest-neighbour vote.

    Parameters
    ----------
    n_neighbors : int
        ``k``. Small k overfits, large k underfits; choose it by cross
        validation (:func:`nndl.classic.select_k_by_cv`).
    metric : {'l2', 'l1'}
        Euclidean or Manhattan distance.
    weights : {'uniform', 'distance'}
        Each neighbour's vote counts 1, or ``1/d`` (a query that coincides
        with training samples takes their labels only).

    Attributes
    ----------
    classes_ : ndarray, shape (K,)
        Sorted class labels.
    X_fit_ : ndarray, shape (N, D)
        The memorized training data (a copy).
    y_fit_ : ndarray of int, shape (N,)
        Training labels as indices into ``classes_``.

    Notes
    -----
    See the module docstring for the deterministic tie-breaking.
    """

    def __init__(self, *, n_neighbors: int = 5, metric: str = "l2", weights: str = "uniform"):
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.weights = weights

    def fit(self, X, y):
        X = self._fit_neighbours(X)
        self.classes_, self.y_fit_ = check_classification_targets(type(self).__name__, y, X.shape[0])
        self._store(X)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Share of the (weighted) vote per class, shape (M, K), columns in ``classes_`` order."""
        if self.weights == "uniform":
            indices = self.kneighbors(X, return_distance=False)
            distances = None
        else:
            distances, indices = self.kneighbors(X)
        return self._vote(indices, distances)

    def _vote(self, indices: np.ndarray, distances: np.ndarray | None) -> np.ndarray:
        labels = self.y_fit_[indices]
        one_hot = labels[:, :, None] == np.arange(len(self.classes_))
        weights = self._neighbour_weights(distances)
        if weights is None:
            votes = one_hot.sum(axis=1, dtype=np.float64)
        else:
            votes = np.einsum("mk,mkc->mc", weights.astype(np.float64), one_hot)
        return votes / votes.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """Label with the largest vote; ties go to the first class in ``classes_``."""
        probabilities = self.predict_proba(X)  # checks fitted before classes_ is read
        return self.classes_[np.argmax(probabilities, axis=1)]


class KNeighborsRegressor(RegressorMixin, _KNeighborsBase):
    """Mean target of the ``k`` nearest training samples (``1/d``-weighted with ``weights='distance'``).

    Parameters are those of :class:`KNeighborsClassifier`.
    """

    def __init__(self, *, n_neighbors: int = 5, metric: str = "l2", weights: str = "uniform"):
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.weights = weights

    def fit(self, X, y):
        X = self._fit_neighbours(X)
        self.y_fit_ = check_regression_targets(type(self).__name__, y, X.shape[0], X.dtype)
        self._store(X)
        return self

    def predict(self, X) -> np.ndarray:
        """Shape (M,) or (M, n_outputs) as ``y`` was."""
        if self.weights == "uniform":
            indices = self.kneighbors(X, return_distance=False)
            return self.y_fit_[indices].mean(axis=1)
        distances, indices = self.kneighbors(X)
        weights = self._neighbour_weights(distances)
        weights = weights / weights.sum(axis=1, keepdims=True)
        neighbour_targets = self.y_fit_[indices]
        if neighbour_targets.ndim == 3:
            return np.einsum("mk,mko->mo", weights, neighbour_targets)
        return np.einsum("mk,mk->m", weights, neighbour_targets)
