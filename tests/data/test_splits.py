import numpy as np
import pytest
from sklearn import model_selection as sk

from nndl.data import KFold, StratifiedKFold, bootstrap_sample, train_test_split, train_val_test_split


def labels_with(counts, rng):
    return rng.permutation(np.repeat(np.arange(len(counts)), counts))


@pytest.mark.parametrize("n, test_size, n_test", [(20, 0.25, 5), (21, 0.25, 6), (10, 3, 3), (7, 0.5, 4)])
def test_train_test_split_sizes_disjoint_and_covering(n, test_size, n_test):
    x = np.arange(n)[:, None] * np.ones((1, 2))
    y = np.arange(n) + 100
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, rng=0)
    assert len(x_test) == len(y_test) == n_test and len(x_train) == len(y_train) == n - n_test
    # sklearn agrees on the sizes
    assert [len(part) for part in sk.train_test_split(x, y, test_size=test_size, random_state=0)[:2]] == \
        [n - n_test, n_test]
    ids = np.concatenate([x_train[:, 0], x_test[:, 0]]).astype(int)
    np.testing.assert_array_equal(np.sort(ids), np.arange(n))
    np.testing.assert_array_equal(y_train, x_train[:, 0] + 100)
    np.testing.assert_array_equal(y_test, x_test[:, 0] + 100)


def test_train_test_split_same_seed_same_split():
    x, y = np.arange(30), np.arange(30)
    a, b = train_test_split(x, y, rng=5), train_test_split(x, y, rng=5)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[1], train_test_split(x, y, rng=6)[1])


@pytest.mark.parametrize("counts, test_size", [((50, 30, 20), 0.25), ((13, 7, 29, 5), 0.3), ((10, 10), 7),
                                               ((3, 9, 4), 0.5)])
@pytest.mark.parametrize("seed", [0, 1])
def test_stratified_train_test_split_class_counts_equal_sklearn(counts, test_size, seed):
    y = labels_with(counts, np.random.default_rng(seed))
    x = np.arange(len(y))
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, stratify=y, rng=seed)
    _, sk_test_x, sk_train_y, sk_test_y = sk.train_test_split(x, y, test_size=test_size, stratify=y,
                                                              random_state=seed)
    np.testing.assert_array_equal(np.bincount(y_test, minlength=len(counts)),
                                  np.bincount(sk_test_y, minlength=len(counts)))
    np.testing.assert_array_equal(np.bincount(y_train, minlength=len(counts)),
                                  np.bincount(sk_train_y, minlength=len(counts)))
    np.testing.assert_array_equal(y[x_test], y_test)
    assert len(np.intersect1d(x_train, x_test)) == 0 and len(x_train) + len(x_test) == len(y)


def test_stratified_split_needs_two_per_class():
    y = np.array([0, 0, 0, 1])
    with pytest.raises(ValueError, match=r"at least 2 samples per class; classes \[1\] have 1"):
        train_test_split(np.arange(4), y, test_size=2, stratify=y)


@pytest.mark.parametrize("test_size, message", [(0, r"test_size=0 must be in \[1, 9\]"), (1.0, r"in \(0, 1\)"),
                                                (10, "must be in"), ("a", "float fraction or an int count")])
def test_bad_test_size(test_size, message):
    with pytest.raises((ValueError, TypeError), match=message):
        train_test_split(np.arange(10), np.arange(10), test_size=test_size)


@pytest.mark.parametrize("n, k", [(10, 5), (11, 3), (7, 7), (23, 4)])
def test_kfold_equals_sklearn_exactly(n, k):
    ours = list(KFold(k).split(np.zeros((n, 2))))
    theirs = list(sk.KFold(k).split(np.zeros((n, 2))))
    assert len(ours) == k
    for (train, test), (sk_train, sk_test) in zip(ours, theirs):
        np.testing.assert_array_equal(train, sk_train)
        np.testing.assert_array_equal(test, sk_test)


@pytest.mark.parametrize("splitter", [KFold(4, shuffle=True, rng=0), StratifiedKFold(4, shuffle=True, rng=0),
                                      KFold(4), StratifiedKFold(4)])
def test_folds_partition_the_samples(splitter):
    y = labels_with((9, 14, 6), np.random.default_rng(2))
    tests = []
    for train, test in splitter.split(np.zeros(len(y)), y):
        assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == len(y)
        tests.append(test)
    np.testing.assert_array_equal(np.sort(np.concatenate(tests)), np.arange(len(y)))
    assert sorted(map(len, tests)) == [7, 7, 7, 8]


def test_kfold_shuffle_reproducible_and_different_from_unshuffled():
    a = [t for _, t in KFold(3, shuffle=True, rng=1).split(np.zeros(12))]
    b = [t for _, t in KFold(3, shuffle=True, rng=1).split(np.zeros(12))]
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(np.concatenate(a), np.arange(12))


@pytest.mark.parametrize("counts, k", [((9, 14, 6), 3), ((5, 5, 5, 2), 5), ((20, 3), 3), ((1, 40, 17), 4)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_stratified_kfold_per_class_counts_equal_sklearn(counts, k, shuffle):
    y = labels_with(counts, np.random.default_rng(0)) * 3 + 1  # labels need not be 0..K-1
    x = np.zeros((len(y), 1))
    with pytest.warns(UserWarning, match="smallest class") if min(counts) < k else _no_warning():
        ours = list(StratifiedKFold(k, shuffle=shuffle, rng=0 if shuffle else None).split(x, y))
    with pytest.warns(UserWarning) if min(counts) < k else _no_warning():
        theirs = list(sk.StratifiedKFold(k, shuffle=shuffle, random_state=0 if shuffle else None).split(x, y))
    for (train, test), (sk_train, sk_test) in zip(ours, theirs):
        np.testing.assert_array_equal([np.sum(y[test] == c) for c in np.unique(y)],
                                      [np.sum(y[sk_test] == c) for c in np.unique(y)])
        if not shuffle:
            np.testing.assert_array_equal(test, sk_test)
            np.testing.assert_array_equal(train, sk_train)


class _no_warning:
    """Context manager asserting that no warning is raised."""

    def __enter__(self):
        import warnings
        self._catcher = warnings.catch_warnings()
        self._catcher.__enter__()
        warnings.simplefilter("error")
        return self

    def __exit__(self, *exc):
        return self._catcher.__exit__(*exc)


def test_splitter_errors():
    with pytest.raises(ValueError, match="n_splits must be an integer >= 2"):
        KFold(1)
    with pytest.raises(ValueError, match="rng has no effect without shuffle=True"):
        KFold(3, rng=0)
    with pytest.raises(ValueError, match="n_splits=5 exceeds the 4 samples"):
        list(KFold(5).split(np.zeros(4)))
    with pytest.raises(ValueError, match="needs the class labels y"):
        list(StratifiedKFold(2).split(np.zeros(4)))
    with pytest.raises(ValueError, match="exceeds the size of every class"):
        list(StratifiedKFold(3).split(np.zeros(4), np.array([0, 0, 1, 1])))


def test_bootstrap_sample():
    n = 2000
    in_bag, out_of_bag = bootstrap_sample(n, rng=0)
    assert in_bag.shape == (n,) and in_bag.min() >= 0 and in_bag.max() < n
    assert len(np.unique(in_bag)) < n  # drawn with replacement
    np.testing.assert_array_equal(np.union1d(in_bag, out_of_bag), np.arange(n))
    assert len(np.intersect1d(in_bag, out_of_bag)) == 0
    # P(never drawn) = (1 - 1/n)^n ≈ 1/e; 4 standard deviations of a binomial count
    assert abs(len(out_of_bag) - n / np.e) < 4 * np.sqrt(n * (1 / np.e) * (1 - 1 / np.e))
    np.testing.assert_array_equal(bootstrap_sample(n, rng=0)[0], in_bag)
    with pytest.raises(ValueError, match="positive integer"):
        bootstrap_sample(0)


# ---------------------------------------------------------------------- train / validation / test
def test_train_val_test_split_sizes_and_disjoint_cover():
    x = np.arange(100)
    y = x * 10
    x_tr, x_va, x_te, y_tr, y_va, y_te = train_val_test_split(x, y, val_size=0.2, test_size=0.1, rng=0)
    assert (len(x_tr), len(x_va), len(x_te)) == (70, 20, 10)
    np.testing.assert_array_equal(np.sort(np.concatenate([x_tr, x_va, x_te])), x)
    for xs, ys in ((x_tr, y_tr), (x_va, y_va), (x_te, y_te)):
        np.testing.assert_array_equal(ys, xs * 10)
    again = train_val_test_split(x, y, val_size=0.2, test_size=0.1, rng=0)
    np.testing.assert_array_equal(again[1], x_va)


def test_train_val_test_split_stratified_keeps_proportions():
    y = np.repeat([0, 1, 2], [60, 30, 10])
    x = np.arange(100)
    x_tr, x_va, x_te, y_tr, y_va, y_te = train_val_test_split(x, y, val_size=20, test_size=20, stratify=y, rng=1)
    np.testing.assert_array_equal(np.bincount(y_te), [12, 6, 2])
    np.testing.assert_array_equal(np.bincount(y_va), [12, 6, 2])
    np.testing.assert_array_equal(np.bincount(y_tr), [36, 18, 6])
    np.testing.assert_array_equal(y[x_va], y_va)


def test_train_val_test_split_leaves_training_samples():
    with pytest.raises(ValueError, match="no training"):
        train_val_test_split(np.arange(10), np.arange(10), val_size=0.5, test_size=0.5)
