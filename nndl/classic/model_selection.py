"""k-fold cross-validation, and the notes' "use cross validation to choose K".

k-fold cross-validation (notes): split the data into ``k`` folds, train on
``k − 1`` of them and validate on the remaining one, ``k`` times, and average
the validation scores. The test set stays out of all of this.

Folds: for a classifier the folds are *stratified* — each class's samples
(in their order, or shuffled with ``rng``) are cut into ``k`` contiguous,
near-equal parts and fold ``f`` takes part ``f`` of every class — so every
fold sees every class in about the training proportions. For a regressor
the samples (in order, or shuffled) are cut into ``k`` contiguous parts.
Any other splitting can be given as ``cv``: an iterable of
``(train_indices, test_indices)`` pairs or an object with
``split(X, y)`` (scikit-learn's splitters work).
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from nndl.classic.base import check_array, check_lengths, check_positive, clone
from nndl.classic.knn import KNeighborsClassifier
from nndl.random import as_generator


def kfold_indices(n_samples: int, n_splits: int = 5, *, shuffle: bool = False, rng=None):
    """``(train, test)`` index pairs of plain k-fold cross-validation.

    The first ``n_samples % n_splits`` folds get one extra sample.
    """
    _check_n_splits(n_splits, n_samples)
    order = as_generator(rng).permutation(n_samples) if shuffle else np.arange(n_samples)
    folds = np.array_split(order, n_splits)
    return [(np.sort(np.concatenate(folds[:f] + folds[f + 1:])), np.sort(folds[f])) for f in range(n_splits)]


def stratified_kfold_indices(y, n_splits: int = 5, *, shuffle: bool = False, rng=None):
    """``(train, test)`` index pairs with every class spread evenly over the folds.

    Raises
    ------
    ValueError
        If a class has fewer members than ``n_splits`` (some fold would miss it).
    """
    y = np.asarray(y)
    _check_n_splits(n_splits, len(y))
    classes, y_index = np.unique(y, return_inverse=True)
    counts = np.bincount(y_index.reshape(-1))
    if counts.min() < n_splits:
        rare = classes[np.argmin(counts)].item()
        raise ValueError(
            f"stratified folds: class {rare!r} has only {counts.min()} samples, fewer than "
            f"n_splits={n_splits}; use fewer folds"
        )
    generator = as_generator(rng) if shuffle else None
    fold_parts: list[list[np.ndarray]] = [[] for _ in range(n_splits)]
    for c in range(len(classes)):
        members = np.flatnonzero(y_index == c)
        if generator is not None:
            members = generator.permutation(members)
        for f, part in enumerate(np.array_split(members, n_splits)):
            fold_parts[f].append(part)
    tests = [np.sort(np.concatenate(parts)) for parts in fold_parts]
    everything = np.arange(len(y))
    return [(np.setdiff1d(everything, test, assume_unique=True), test) for test in tests]


def _check_n_splits(n_splits, n_samples):
    check_positive("cross-validation", "n_splits", n_splits, integer=True)
    if n_splits < 2 or n_splits > n_samples:
        raise ValueError(f"cross-validation: n_splits={n_splits} must be between 2 and n_samples={n_samples}")


def _is_classifier(estimator) -> bool:
    """nndl's mixins say so; scikit-learn estimators say so in their tags."""
    kind = getattr(estimator, "_estimator_kind", None)
    if kind is not None:
        return kind == "classifier"
    if hasattr(estimator, "__sklearn_tags__"):
        return estimator.__sklearn_tags__().estimator_type == "classifier"
    return hasattr(estimator, "predict_proba")


def _resolve_cv(cv, estimator, X, y, shuffle: bool, rng):
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        if _is_classifier(estimator):
            return stratified_kfold_indices(y, cv, shuffle=shuffle, rng=rng)
        return kfold_indices(len(X), cv, shuffle=shuffle, rng=rng)
    if hasattr(cv, "split"):
        return list(cv.split(X, y))
    return list(cv)


def _fit_and_score(estimator, X, y, train, test, return_train_score: bool):
    start = time.perf_counter()
    estimator.fit(X[train], y[train])
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    test_score = estimator.score(X[test], y[test])
    score_time = time.perf_counter() - start
    train_score = estimator.score(X[train], y[train]) if return_train_score else None
    return estimator, test_score, train_score, fit_time, score_time


def cross_validate(estimator, X, y, *, cv=5, n_jobs: int = 1, shuffle: bool = False, rng=None,
                   return_train_score: bool = False, return_estimator: bool = False) -> dict:
    """Fit a fresh clone of ``estimator`` on each training split and score it on the held-out fold.

    Parameters
    ----------
    estimator : estimator
        Unfitted; never modified (each fold fits a clone). Scored by its own
        ``score`` (accuracy or R²).
    X : array-like, shape (N, D)
    y : array-like, shape (N,)
    cv : int, iterable of (train, test), or splitter with ``split(X, y)``
        Number of folds (stratified for classifiers, see the module
        docstring) or explicit splits.
    n_jobs : int
        ``> 1`` runs the folds in that many worker processes (joblib, loky
        backend); ``-1`` uses all cores. Results equal the serial run.
    shuffle : bool
        Shuffle the samples before cutting integer ``cv`` into folds.
    rng : Generator, int or None
        The shuffling randomness.
    return_train_score, return_estimator : bool

    Returns
    -------
    dict
        ``test_score``, ``fit_time``, ``score_time`` (arrays of one entry per
        fold), plus ``train_score`` and ``estimator`` when asked for.
    """
    X = check_array("cross_validate", X)
    y = np.asarray(y)
    check_lengths("cross_validate", X, y)
    splits = _resolve_cv(cv, estimator, X, y, shuffle, rng)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"cross_validate: n_jobs must be a positive int or -1, got {n_jobs!r}")
    tasks = [(clone(estimator), X, y, train, test, return_train_score) for train, test in splits]
    if n_jobs == 1:
        results = [_fit_and_score(*task) for task in tasks]
    else:
        try:
            from joblib import Parallel, delayed
        except ImportError as error:  # pragma: no cover - joblib ships with scikit-learn
            raise ImportError(
                "cross_validate(n_jobs > 1) runs folds in parallel with joblib, which is not installed; "
                "install it (pip install joblib) or use n_jobs=1"
            ) from error
        results = Parallel(n_jobs=n_jobs)(delayed(_fit_and_score)(*task) for task in tasks)
    output = {
        "test_score": np.array([r[1] for r in results]),
        "fit_time": np.array([r[3] for r in results]),
        "score_time": np.array([r[4] for r in results]),
    }
    if return_train_score:
        output["train_score"] = np.array([r[2] for r in results])
    if return_estimator:
        output["estimator"] = [r[0] for r in results]
    return output


class KSelection(NamedTuple):
    """Result of :func:`select_k_by_cv`."""

    best_k: int
    k_values: np.ndarray
    mean_scores: np.ndarray
    fold_scores: np.ndarray  # shape (len(k_values), n_folds)


def select_k_by_cv(X, y, k_values, *, cv=5, metric: str = "l2", weights: str = "uniform",
                   shuffle: bool = False, rng=None) -> KSelection:
    """Choose the number of neighbours of k-NN by cross-validated accuracy.

    For every fold, the neighbours of the held-out samples are searched once
    for the largest ``k``; the vote for each smaller ``k`` reads a prefix of
    the same ordered neighbour list. This gives exactly the accuracies of
    fitting ``KNeighborsClassifier(n_neighbors=k)`` for each ``k`` (the
    neighbour order is deterministic), at the cost of one search.

    Parameters
    ----------
    X, y : training data (the test set stays out)
    k_values : sequence of int
    cv, shuffle, rng : as in :func:`cross_validate`
    metric, weights : as in :class:`~nndl.classic.KNeighborsClassifier`

    Returns
    -------
    KSelection
        ``best_k`` has the highest mean accuracy; an exact tie goes to the
        smallest such ``k``.
    """
    X = check_array("select_k_by_cv", X)
    y = np.asarray(y)
    check_lengths("select_k_by_cv", X, y)
    k_values = np.asarray(k_values)
    if k_values.ndim != 1 or len(k_values) == 0 or k_values.dtype.kind not in "iu" or k_values.min() < 1:
        raise ValueError(f"select_k_by_cv: k_values must be a non-empty list of positive ints, got {k_values!r}")
    template = KNeighborsClassifier(n_neighbors=int(k_values.max()), metric=metric, weights=weights)
    splits = _resolve_cv(cv, template, X, y, shuffle, rng)
    fold_scores = np.empty((len(k_values), len(splits)))
    for f, (train, test) in enumerate(splits):
        model = clone(template).fit(X[train], y[train])
        distances, indices = model.kneighbors(X[test])
        for i, k in enumerate(k_values):
            probabilities = model._vote(indices[:, :k], distances[:, :k])
            prediction = model.classes_[np.argmax(probabilities, axis=1)]
            fold_scores[i, f] = np.mean(prediction == y[test])
    mean_scores = fold_scores.mean(axis=1)
    best_k = int(k_values[mean_scores == mean_scores.max()].min())
    return KSelection(best_k, k_values, mean_scores, fold_scores)
