"""Train/validation/test splits, k-fold cross-validation and bootstrap samples (scikit-learn's conventions).

The notes: hold a test set out and touch it once; choose hyperparameters on
validation data, or, when data is scarce, by k-fold cross-validation (train on
k-1 folds, validate on the remaining one, repeat k times, average the error).
"""

from __future__ import annotations

import math
import warnings
from typing import Iterator

import numpy as np

from nndl.random import as_generator


def _num_samples(x, where: str) -> int:
    if not hasattr(x, "__len__") or np.ndim(x) == 0:
        raise TypeError(f"{where}: expected an array with a sample axis, got {type(x).__name__}")
    return len(x)


def _labels(y, n: int, where: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"{where}: class labels must have shape ({n},), got {y.shape}")
    return y


def _allocate(class_counts: np.ndarray, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """Split ``n_draws`` among classes in proportion to ``class_counts`` (whole numbers).

    Each class gets ``floor(count * n_draws / total)``; the draws left over go
    one each to the classes with the largest fractional parts, ties broken at
    random. This is the allocation scikit-learn's stratified shuffle split
    makes, so per-class counts agree with it.
    """
    exact = class_counts * n_draws / class_counts.sum()
    counts = np.floor(exact)
    missing = int(n_draws - counts.sum())
    fractions = exact - counts
    for value in np.unique(fractions)[::-1]:
        if missing == 0:
            break
        tied = np.flatnonzero(fractions == value)
        chosen = rng.choice(tied, size=min(len(tied), missing), replace=False)
        counts[chosen] += 1
        missing -= len(chosen)
    return counts.astype(np.int64)


def _test_count(test_size, n: int) -> int:
    if isinstance(test_size, bool):
        raise TypeError("train_test_split: test_size must be a float fraction or an int count, got a bool")
    if isinstance(test_size, (int, np.integer)):
        if not 0 < test_size < n:
            raise ValueError(f"train_test_split: test_size={test_size} must be in [1, {n - 1}] for {n} samples")
        return int(test_size)
    if isinstance(test_size, (float, np.floating)):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"train_test_split: a fractional test_size must be in (0, 1), got {test_size}")
        n_test = math.ceil(test_size * n)  # rounded up, as scikit-learn
        if n_test >= n:
            raise ValueError(f"train_test_split: test_size={test_size} leaves no training samples out of {n}")
        return n_test
    raise TypeError(f"train_test_split: test_size must be a float fraction or an int count, got "
                    f"{type(test_size).__name__}")


def train_test_split(x, y, test_size: float | int = 0.25, stratify=None, rng=None):
    """Shuffle and split ``x, y`` into a training and a test part.

    Parameters
    ----------
    x, y : ndarray, shape (N, ...)
        Samples and targets (same length).
    test_size : float or int
        Fraction of the samples (rounded up) or number of samples in the test part.
    stratify : ndarray of shape (N,), optional
        Class labels (usually ``y``); each class then keeps its proportion in
        both parts (per-class counts as scikit-learn's ``train_test_split``).
    rng : Generator, int or None
        Source of the shuffle.

    Returns
    -------
    x_train, x_test, y_train, y_test : ndarray
        Rows of the inputs, in shuffled order.
    """
    n = _num_samples(x, "train_test_split")
    if _num_samples(y, "train_test_split") != n:
        raise ValueError(f"train_test_split: x has {n} samples but y has {len(y)}")
    n_test = _test_count(test_size, n)
    rng = as_generator(rng)
    if stratify is None:
        order = rng.permutation(n)
        test_idx, train_idx = order[:n_test], order[n_test:]
    else:
        train_idx, test_idx = _stratified_indices(_labels(stratify, n, "train_test_split"), n - n_test, rng)
    return x[train_idx], x[test_idx], y[train_idx], y[test_idx]


def train_val_test_split(x, y, val_size: float | int = 0.15, test_size: float | int = 0.15, stratify=None,
                         rng=None):
    """Shuffle and split ``x, y`` into training, validation and test parts.

    The notes' protocol: fit on the training part, choose hyperparameters on
    the validation part, and touch the test part once, at the end.

    Parameters
    ----------
    x, y : ndarray, shape (N, ...)
    val_size, test_size : float or int
        Fractions of *all* N samples (each rounded up) or sample counts.
    stratify : ndarray of shape (N,), optional
        Class labels; each class keeps its proportion in all three parts.
    rng : Generator, int or None

    Returns
    -------
    x_train, x_val, x_test, y_train, y_val, y_test : ndarray
    """
    n = _num_samples(x, "train_val_test_split")
    n_test, n_val = _test_count(test_size, n), _test_count(val_size, n)
    if n_test + n_val >= n:
        raise ValueError(f"train_val_test_split: {n_val} validation and {n_test} test samples leave no training "
                         f"samples out of {n}")
    if _num_samples(y, "train_val_test_split") != n:
        raise ValueError(f"train_val_test_split: x has {n} samples but y has {len(y)}")
    labels = None if stratify is None else _labels(stratify, n, "train_val_test_split")
    rng = as_generator(rng)
    index = np.arange(n)
    rest, test, _, _ = train_test_split(index, index, n_test, stratify=labels, rng=rng)
    train, val, _, _ = train_test_split(rest, rest, n_val, stratify=None if labels is None else labels[rest], rng=rng)
    return x[train], x[val], x[test], y[train], y[val], y[test]


def _stratified_indices(labels: np.ndarray, n_train: int, rng: np.random.Generator):
    classes, encoded, class_counts = np.unique(labels, return_inverse=True, return_counts=True)
    n_test = len(labels) - n_train
    if class_counts.min() < 2:
        raise ValueError(f"train_test_split: stratified split needs at least 2 samples per class; classes "
                         f"{classes[class_counts < 2].tolist()} have 1")
    if min(n_train, n_test) < len(classes):
        raise ValueError(f"train_test_split: with {len(classes)} classes both parts need at least "
                         f"{len(classes)} samples; got {n_train} train and {n_test} test")
    train_counts = _allocate(class_counts, n_train, rng)
    train, test = [], []
    for k in range(len(classes)):
        members = rng.permutation(np.flatnonzero(encoded == k))
        train.append(members[:train_counts[k]])
        test.append(members[train_counts[k]:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


class KFold:
    """k-fold cross-validation indices (scikit-learn's ``KFold``).

    The samples (shuffled once if ``shuffle``) are cut into ``n_splits``
    consecutive folds; the first ``N % n_splits`` folds hold one sample more.
    Fold i is the test part of split i, the other folds its training part.

    Parameters
    ----------
    n_splits : int
        Number of folds, at least 2.
    shuffle : bool
        Shuffle the samples before cutting them into folds.
    rng : Generator, int or None
        Source of the shuffle; only meaningful with ``shuffle=True``.
    """

    def __init__(self, n_splits: int = 5, shuffle: bool = False, rng=None):
        if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
            raise ValueError(f"{type(self).__name__}: n_splits must be an integer >= 2, got {n_splits!r}")
        if not shuffle and rng is not None:
            raise ValueError(f"{type(self).__name__}: rng has no effect without shuffle=True")
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.rng = rng

    def get_n_splits(self, x=None, y=None) -> int:
        return self.n_splits

    def _test_folds(self, n: int, y) -> Iterator[np.ndarray]:
        order = np.arange(n)
        if self.shuffle:
            as_generator(self.rng).shuffle(order)
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[:n % self.n_splits] += 1
        stops = np.cumsum(sizes)
        for start, stop in zip(stops - sizes, stops):
            yield order[start:stop]

    def split(self, x, y=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_idx, test_idx)`` for each fold; train indices are sorted."""
        n = _num_samples(x, type(self).__name__)
        if self.n_splits > n:
            raise ValueError(f"{type(self).__name__}: n_splits={self.n_splits} exceeds the {n} samples")
        for test_idx in self._test_folds(n, y):
            in_test = np.zeros(n, dtype=bool)
            in_test[test_idx] = True
            yield np.flatnonzero(~in_test), test_idx

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_splits={self.n_splits}, shuffle={self.shuffle}, rng={self.rng!r})"


class StratifiedKFold(KFold):
    """k-fold cross-validation keeping each class's proportion in every fold.

    Classes are numbered in order of first appearance; the labels, sorted by
    that number, are dealt round-robin to the folds (sample j of the sorted
    list to fold ``j % n_splits``), which fixes how many samples of each class
    each fold receives (the same counts as scikit-learn's
    ``StratifiedKFold``). Within a class, samples go to folds in their stored
    order, or in random order with ``shuffle=True``.
    """

    def split(self, x, y=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_idx, test_idx)`` for each fold, both sorted."""
        if y is None:
            raise ValueError("StratifiedKFold: split needs the class labels y")
        yield from super().split(x, y)

    def _test_folds(self, n: int, y) -> Iterator[np.ndarray]:
        labels = _labels(y, n, "StratifiedKFold")
        _, first_index, inverse = np.unique(labels, return_index=True, return_inverse=True)
        appearance_rank = np.argsort(np.argsort(first_index))
        encoded = appearance_rank[inverse]
        counts = np.bincount(encoded)
        if np.all(counts < self.n_splits):
            raise ValueError(f"StratifiedKFold: n_splits={self.n_splits} exceeds the size of every class "
                             f"(largest has {counts.max()})")
        if counts.min() < self.n_splits:
            warnings.warn(f"StratifiedKFold: the smallest class has {counts.min()} members, fewer than "
                          f"n_splits={self.n_splits}; some folds will miss it", UserWarning, stacklevel=3)
        dealt = np.sort(encoded)
        per_fold = np.stack([np.bincount(dealt[i::self.n_splits], minlength=len(counts))
                             for i in range(self.n_splits)])  # (n_splits, n_classes)
        rng = as_generator(self.rng) if self.shuffle else None
        fold_of = np.empty(n, dtype=np.int64)
        for k in range(len(counts)):
            folds = np.repeat(np.arange(self.n_splits), per_fold[:, k])
            if rng is not None:
                rng.shuffle(folds)
            fold_of[encoded == k] = folds
        for i in range(self.n_splits):
            yield np.flatnonzero(fold_of == i)


def bootstrap_sample(n: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` indices from ``range(n)`` with replacement (bagging).

    Returns
    -------
    in_bag : ndarray of int64, shape (n,)
        The draws, with repeats.
    out_of_bag : ndarray of int64
        The sorted indices never drawn (about ``n / e`` of them), for an
        out-of-bag error estimate.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"bootstrap_sample: n must be a positive integer, got {n!r}")
    in_bag = as_generator(rng).integers(0, n, size=n, dtype=np.int64)
    drawn = np.zeros(n, dtype=bool)
    drawn[in_bag] = True
    return in_bag, np.flatnonzero(~drawn).astype(np.int64)
