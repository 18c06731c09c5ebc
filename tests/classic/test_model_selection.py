import numpy as np
import pytest
import sklearn.model_selection
import sklearn.neighbors

from nndl import classic


@pytest.mark.parametrize("n_samples, n_splits", [(10, 5), (11, 3), (7, 7)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_kfold_tests_partition_the_samples(n_samples, n_splits, shuffle):
    splits = classic.kfold_indices(n_samples, n_splits, shuffle=shuffle, rng=0)
    tests = np.concatenate([test for _, test in splits])
    np.testing.assert_array_equal(np.sort(tests), np.arange(n_samples))
    for train, test in splits:
        np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(n_samples))
    sizes = sorted(len(test) for _, test in splits)
    assert sizes[-1] - sizes[0] <= 1
    if not shuffle:  # same contiguous folds as scikit-learn's KFold
        for (_, ours), (_, theirs) in zip(splits, sklearn.model_selection.KFold(n_splits).split(np.zeros(n_samples))):
            np.testing.assert_array_equal(ours, theirs)


def test_stratified_folds_keep_class_proportions():
    y = np.array([0] * 30 + [1] * 15 + [2] * 5)
    for _, test in classic.stratified_kfold_indices(y, 5, shuffle=True, rng=0):
        np.testing.assert_array_equal(np.bincount(y[test]), [6, 3, 1])
    with pytest.raises(ValueError, match="class 2 has only 5 samples, fewer than n_splits=6"):
        classic.stratified_kfold_indices(y, 6)


def test_cross_validate_equals_sklearn_with_the_same_splits(iris):
    X, y = iris
    splitter = sklearn.model_selection.StratifiedKFold(5, shuffle=True, random_state=0)
    ours = classic.cross_validate(classic.KNeighborsClassifier(n_neighbors=7), X, y, cv=splitter,
                                  return_train_score=True)
    theirs = sklearn.model_selection.cross_validate(
        sklearn.neighbors.KNeighborsClassifier(n_neighbors=7, algorithm="brute"), X, y, cv=splitter,
        return_train_score=True)
    np.testing.assert_allclose(ours["test_score"], theirs["test_score"], rtol=1e-15)
    np.testing.assert_allclose(ours["train_score"], theirs["train_score"], rtol=1e-15)


def test_cross_validate_uses_stratified_folds_for_classifiers_and_leaves_the_estimator_unfitted(iris):
    X, y = iris  # sorted by class: plain contiguous folds would hold out whole classes
    estimator = classic.KNeighborsClassifier()
    result = classic.cross_validate(estimator, X, y, cv=5, return_estimator=True)
    assert result["test_score"].min() > 0.85
    assert not estimator.__sklearn_is_fitted__()
    assert all(member is not estimator and member.__sklearn_is_fitted__() for member in result["estimator"])


def test_parallel_folds_equal_the_serial_run(diabetes):
    X, y = diabetes
    serial = classic.cross_validate(classic.LinearRegression(l2=0.01), X, y, cv=4)
    parallel = classic.cross_validate(classic.LinearRegression(l2=0.01), X, y, cv=4, n_jobs=2)
    np.testing.assert_array_equal(parallel["test_score"], serial["test_score"])


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_select_k_by_cv_equals_cross_validating_each_k(weights, digits_split):
    X, _, y, _ = digits_split
    X, y = X[:400], y[:400]
    k_values = [1, 2, 3, 5, 8, 13]
    selection = classic.select_k_by_cv(X, y, k_values, cv=4, weights=weights)
    for k, mean_score, fold_scores in zip(k_values, selection.mean_scores, selection.fold_scores):
        direct = classic.cross_validate(classic.KNeighborsClassifier(n_neighbors=k, weights=weights), X, y, cv=4)
        np.testing.assert_array_equal(fold_scores, direct["test_score"])
        assert mean_score == pytest.approx(direct["test_score"].mean(), rel=1e-15)
    best = selection.mean_scores.max()
    assert selection.best_k == min(k for k, s in zip(k_values, selection.mean_scores) if s == best)


def test_select_k_prefers_a_larger_k_on_noisy_labels():
    # 25% label noise around two well-separated clusters: k = 1 copies the noise, a larger k votes it down.
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-2, 1, (150, 2)), rng.normal(2, 1, (150, 2))])
    y = np.repeat([0, 1], 150)
    flip = rng.random(300) < 0.25
    y[flip] = 1 - y[flip]
    selection = classic.select_k_by_cv(X, y, [1, 3, 9, 27], cv=5, shuffle=True, rng=0)
    assert selection.best_k > 1 and selection.mean_scores[0] < selection.mean_scores.max() - 0.05


@pytest.mark.parametrize("kwargs, error, message", [
    ({"cv": 1}, ValueError, "n_splits=1 must be between 2"),
    ({"n_jobs": 0}, ValueError, "n_jobs must be a positive int or -1"),
])
def test_cross_validate_bad_arguments(kwargs, error, message, iris):
    with pytest.raises(error, match=message):
        classic.cross_validate(classic.KNeighborsClassifier(), *iris, **kwargs)


def test_select_k_rejects_bad_k_values(iris):
    with pytest.raises(ValueError, match="k_values must be a non-empty list of positive ints"):
        classic.select_k_by_cv(*iris, [0, 3])


def test_integer_cv_stratifies_for_sklearn_classifiers_too(iris):
    import sklearn.svm

    X, y = iris  # sorted by class: unstratified contiguous folds would each miss a class in training
    scores = classic.cross_validate(sklearn.svm.LinearSVC(), X, y, cv=3)["test_score"]
    assert scores.min() > 0.8
