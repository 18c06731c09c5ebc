"""scikit-learn's own estimator test suite (``check_estimator``), in full, on every classical estimator.

Hyperparameters are ordinary ones, kept small where an estimator iterates
(few epochs) so the suite stays quick; each estimator must still learn the
checks' data sets well enough for their accuracy and R² thresholds.
"""

import warnings

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from nndl import classic, nn


def two_layer_net(input_shape, n_outputs, rng, hidden=16):
    return nn.Sequential(nn.Linear(input_shape[0], hidden, rng=rng), nn.Tanh(), nn.Linear(hidden, n_outputs, rng=rng))


ESTIMATORS = [
    classic.KNeighborsClassifier(),
    classic.KNeighborsRegressor(weights="distance"),
    classic.LinearRegression(),
    classic.LinearRegression(solver="lstsq", l2=1e-3),
    # Gradient descent on a squared error at a fixed step diverges on the checks' un-scaled features
    # (mean 100) and says so (FloatingPointError); its solver is checked on scaled data in test_contract.
    classic.Perceptron(max_epochs=20, rng=0),
    classic.Adaline(normalize=True, max_epochs=50, rng=0),
    classic.LogisticRegression(max_epochs=100, rng=0),
    classic.LogisticRegression(solver="newton", max_epochs=20),
    # check_class_weight_classifiers weighs one class 1000×: the fixed step needs 150 epochs to settle
    classic.SoftmaxRegression(max_epochs=200, rng=0),
    classic.LinearSVM(max_epochs=100, rng=0),
    classic.PCA(n_components=2),
    classic.PCA(n_components=2, whiten=True),
    classic.BaggingClassifier(estimator=classic.Perceptron(max_epochs=10), n_estimators=3, rng=0),
    classic.VotingClassifier(estimators=[("knn", classic.KNeighborsClassifier()),
                                         ("softmax", classic.SoftmaxRegression(max_epochs=100))], voting="soft"),
    classic.NeuralNetClassifier(module_factory=two_layer_net, epochs=20, lr=1e-2, rng=0),
    classic.NeuralNetRegressor(module_factory=two_layer_net, epochs=20, lr=1e-2, rng=0),
]

pytestmark = [pytest.mark.filterwarnings("ignore::nndl.classic.ConvergenceWarning"),
              # The contract is reimplemented (nndl.classic needs no scikit-learn), which sklearn notes.
              pytest.mark.filterwarnings("ignore:Estimator .* does not inherit from `sklearn.base.BaseEstimator`")]


with warnings.catch_warnings():  # at collection: sklearn notes that the contract is reimplemented
    warnings.filterwarnings("ignore", "Estimator .* does not inherit from `sklearn.base.BaseEstimator`")
    checks = parametrize_with_checks(ESTIMATORS)


@checks
def test_sklearn_check_estimator(estimator, check):
    check(estimator)


class OnlyArrayInterface:
    """An array-like with ``__array__`` and nothing else (no ``ndim``, ``shape`` or ``len``)."""

    def __init__(self, array):
        self._array = np.asarray(array)

    def __array__(self, dtype=None, copy=None):
        return self._array if dtype is None else self._array.astype(dtype)


@pytest.mark.parametrize("estimator", [classic.NeuralNetClassifier(module_factory=two_layer_net, epochs=2, rng=0),
                                       classic.LinearRegression()], ids=repr)
def test_array_likes_with_only_array_interface(estimator):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 3)), np.arange(20) % 2
    expected = type(estimator)(**estimator.get_params()).fit(X, y).predict(X)
    fitted = estimator.fit(OnlyArrayInterface(X), OnlyArrayInterface(y))
    np.testing.assert_array_equal(fitted.predict(OnlyArrayInterface(X)), expected)


def test_float32_query_after_float64_fit_is_converted_float64_after_float32_refused():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 3)), rng.standard_normal(30)
    model = classic.LinearRegression().fit(X, y)
    X32 = X.astype(np.float32)
    np.testing.assert_array_equal(model.predict(X32), model.predict(X32.astype(np.float64)))
    model32 = classic.LinearRegression().fit(X32, y)
    with pytest.raises(TypeError, match="X is float64 but the estimator was fitted on float32"):
        model32.predict(X)


def test_column_vector_y_warns_and_is_ravelled():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 3)), np.arange(30) % 3
    expected = classic.SoftmaxRegression(max_epochs=5).fit(X, y).predict(X)
    with pytest.warns(classic.DataConversionWarning, match=r"A column-vector y was passed when a 1d array was "
                                                           r"expected \(SoftmaxRegression\)"):
        model = classic.SoftmaxRegression(max_epochs=5).fit(X, y[:, None])
    np.testing.assert_array_equal(model.predict(X), expected)


def test_raised_and_warned_classes_are_also_scikit_learns():
    from sklearn.exceptions import DataConversionWarning, NotFittedError

    with pytest.raises(NotFittedError) as caught:
        classic.PCA().transform(np.eye(2))
    assert isinstance(caught.value, classic.NotFittedError)
    with pytest.warns(DataConversionWarning) as record:
        classic.KNeighborsClassifier(n_neighbors=1).fit(np.eye(2), np.array([[0], [1]]))
    assert all(isinstance(w.message, classic.DataConversionWarning) for w in record)


def test_object_and_complex_input():
    X = np.array([[1, 2.5], [3, 4], [5, 6.5], [0, 1]], dtype=object)
    y = np.array([0, 1, 1, 0])
    model = classic.KNeighborsClassifier(n_neighbors=1).fit(X, y)
    np.testing.assert_array_equal(model.predict(X.astype(np.float64)), y)
    assert model.dtype_ == np.float64
    with pytest.raises(TypeError, match=r"KNeighborsClassifier: X must hold real numbers; entry \(1, 0\) is the "
                                        r"string '3'"):
        classic.KNeighborsClassifier().fit(np.array([[1, 2], ["3", 4]], dtype=object), [0, 1])
    with pytest.raises(TypeError, match=r"KNeighborsClassifier: X must hold real numbers; converting its object "
                                        r"entries to float64 failed: float\(\) argument must be"):
        classic.KNeighborsClassifier().fit(np.array([[1, 2], [{"a": 1}, 4]], dtype=object), [0, 1])
    with pytest.raises(ValueError, match=r"LinearRegression: Complex data not supported; X has dtype complex128"):
        classic.LinearRegression().fit(np.ones((3, 2)) + 1j, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"LinearRegression: Complex data not supported; y has dtype complex128"):
        classic.LinearRegression().fit(np.eye(3), np.ones(3) + 1j)


def test_fitted_neural_net_pickles_and_predicts_the_same():
    import pickle

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 3)), np.arange(30) % 2
    model = classic.NeuralNetClassifier(module_factory=two_layer_net, epochs=2, rng=0).fit(X, y)
    expected = model.predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict_proba(X), expected)
