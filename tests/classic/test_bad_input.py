"""Bad input gets a clear error naming the estimator, from every estimator."""

import numpy as np
import pytest
import scipy.sparse

from nndl import classic

pytestmark = pytest.mark.filterwarnings("ignore::nndl.classic.ConvergenceWarning")

CLASSIFIERS = [
    classic.KNeighborsClassifier(n_neighbors=1),
    classic.Perceptron(max_epochs=2),
    classic.Adaline(max_epochs=2),
    classic.LogisticRegression(max_epochs=2),
    classic.LogisticRegression(solver="newton", max_epochs=2),
    classic.SoftmaxRegression(max_epochs=2),
    classic.LinearSVM(max_epochs=2),
    classic.BaggingClassifier(estimator=classic.KNeighborsClassifier(n_neighbors=1), n_estimators=2),
    classic.VotingClassifier(estimators=[("knn", classic.KNeighborsClassifier(n_neighbors=1))]),
]
REGRESSORS = [classic.KNeighborsRegressor(n_neighbors=1), classic.LinearRegression(),
              classic.LinearRegression(solver="sgd", max_epochs=2)]
ALL = CLASSIFIERS + REGRESSORS
X_GOOD = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
Y_GOOD = np.array([0, 1, 0, 1])


def name(estimator):
    return type(estimator).__name__


@pytest.mark.parametrize("estimator", ALL, ids=repr)
def test_mismatched_lengths(estimator):
    with pytest.raises(ValueError, match=rf"{name(estimator)}: X and y have different numbers of samples \(4 vs 3\)"):
        estimator.fit(X_GOOD, Y_GOOD[:3])


@pytest.mark.parametrize("estimator", ALL + [classic.PCA()], ids=repr)
@pytest.mark.parametrize("bad_value", [np.nan, np.inf])
def test_nan_or_infinite_features(estimator, bad_value):
    X = X_GOOD.copy()
    X[1, 1] = bad_value
    with pytest.raises(ValueError, match=rf"{name(estimator)}: X contains 1 NaN or infinite value"):
        estimator.fit(X, Y_GOOD)


@pytest.mark.parametrize("estimator", CLASSIFIERS, ids=repr)
def test_single_class(estimator):
    with pytest.raises(ValueError, match=rf"{name(estimator)}: y has only 1 class \(\[1\]\); a classifier needs at least 2"):
        estimator.fit(X_GOOD, np.ones(4, dtype=int))


@pytest.mark.parametrize("estimator", CLASSIFIERS, ids=repr)
def test_continuous_labels_for_a_classifier(estimator):
    with pytest.raises(ValueError, match="continuous values; a classifier needs class labels"):
        estimator.fit(X_GOOD, np.array([0.5, 1.2, 0.1, 3.3]))


@pytest.mark.parametrize("estimator", ALL + [classic.PCA()], ids=repr)
def test_wrong_shapes_and_types_of_x(estimator):
    with pytest.raises(ValueError, match=r"X must have shape \(n_samples, n_features\), got shape \(4,\)\. "
                                         r"Reshape your data: X.reshape\(-1, 1\) for a single feature"):
        estimator.fit(X_GOOD[:, 0], Y_GOOD)
    with pytest.raises(TypeError, match="X must be an array of real numbers"):
        estimator.fit(np.array([["a", "b"]] * 4), Y_GOOD)
    with pytest.raises(TypeError, match=r"sparse input is not supported; pass a dense array \(X.toarray\(\)\)"):
        estimator.fit(scipy.sparse.csr_matrix(X_GOOD), Y_GOOD)
    with pytest.raises(ValueError, match=r"X has 0 feature\(s\) \(shape=\(4, 0\)\) while a minimum of 1 is required"):
        estimator.fit(np.zeros((4, 0)), Y_GOOD)


@pytest.mark.parametrize("estimator", ALL, ids=repr)
def test_missing_y(estimator):
    with pytest.raises(ValueError, match=rf"{name(estimator)} requires y to be passed, but the target y is None"):
        estimator.fit(X_GOOD, None)


@pytest.mark.parametrize("estimator", [e for e in ALL if not isinstance(e, (classic.BaggingClassifier,
                                                                           classic.VotingClassifier))] +
                         [classic.PCA()], ids=repr)
def test_predicting_with_another_number_of_features(estimator):
    estimator.fit(X_GOOD, Y_GOOD)
    method = estimator.transform if isinstance(estimator, classic.PCA) else estimator.predict
    with pytest.raises(ValueError, match=rf"{name(estimator)}: X has 3 features, but {name(estimator)} is expecting 2 features"):
        method(np.zeros((1, 3)))


def test_integer_features_are_promoted_to_float64_not_rejected():
    model = classic.LinearRegression().fit(X_GOOD.astype(int), [1.0, 2.0, 3.0, 4.0])
    assert model.coef_.dtype == np.float64


@pytest.mark.parametrize("estimator, message", [
    (classic.LinearRegression(solver="qr"), r"solver='qr' is not one of \['gd', 'lstsq', 'normal', 'sgd'\]"),
    (classic.LinearRegression(l2=-1.0), "l2 must be >= 0, got -1.0"),
    (classic.LogisticRegression(lr=0), "lr must be > 0"),
    (classic.SoftmaxRegression(solver="newton"), r"solver='newton' is not one of \['gd', 'sgd'\]"),
    (classic.LinearSVM(margin=0.0), "margin must be > 0"),
    (classic.Perceptron(max_epochs=2.5), "max_epochs must be an int"),
    (classic.BaggingClassifier(estimator=classic.Perceptron(), max_samples=1.5), "max_samples must be a fraction"),
])
def test_bad_hyperparameters_are_reported_at_fit(estimator, message):
    with pytest.raises((ValueError, TypeError), match=message):
        estimator.fit(X_GOOD, Y_GOOD)


def test_bad_rng():
    with pytest.raises(TypeError, match="rng must be a numpy Generator, an int seed or None, got str"):
        classic.Perceptron(rng="seed").fit(X_GOOD, Y_GOOD)
