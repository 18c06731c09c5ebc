"""class_weight in the classical classifiers: each sample's loss times its class's weight, as scikit-learn."""

import numpy as np
import pytest
import sklearn.linear_model

from nndl.check import numerical_gradient, rel_error
from nndl.classic import LinearSVM, LogisticRegression, SoftmaxRegression
from nndl.classic.logistic import binary_cross_entropy_loss
from nndl.classic.softmax_regression import softmax_cross_entropy_loss
from nndl.classic.svm import svm_loss
from nndl.data import compute_class_weight

pytestmark = pytest.mark.filterwarnings("ignore::nndl.classic.base.ConvergenceWarning")


def imbalanced(cancer_split, keep_positive=40):
    """The cancer training set with only ``keep_positive`` samples of class 1 (benign)."""
    X_train, X_test, y_train, y_test = cancer_split
    rows = np.concatenate([np.flatnonzero(y_train == 0), np.flatnonzero(y_train == 1)[:keep_positive]])
    return X_train[rows], X_test, y_train[rows], y_test


@pytest.mark.parametrize("class_weight", ["balanced", {0: 1.0, 1: 3.0}])
def test_newton_logistic_equals_sklearn_with_class_weight(cancer_split, class_weight):
    X, X_test, y, _ = imbalanced(cancer_split)
    C = 0.5
    ours = LogisticRegression(solver="newton", l2=1 / (C * len(y)), tol=1e-15, max_epochs=50,
                              class_weight=class_weight).fit(X, y)
    theirs = sklearn.linear_model.LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12,
                                                     class_weight=class_weight).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-6)
    plain = LogisticRegression(solver="newton", l2=1 / (C * len(y)), tol=1e-15, max_epochs=50).fit(X, y)
    assert not np.allclose(plain.coef_, ours.coef_, rtol=1e-3)  # the weights changed the fit


@pytest.mark.parametrize("loss, targets", [
    (lambda W, b, X, Y, s: binary_cross_entropy_loss(W, b, X, Y, 0.1, s), "binary"),
    (lambda W, b, X, y, s: softmax_cross_entropy_loss(W, b, X, y, 0.1, s), "labels"),
    (lambda W, b, X, y, s: svm_loss(W, b, X, y, 0.1, 1.0, s), "labels"),
])
def test_weighted_losses_are_the_weighted_mean_and_their_gradients_check(loss, targets):
    rng = np.random.default_rng(0)
    X, W, b = rng.standard_normal((7, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    Y = (rng.random((7, 3)) < 0.5).astype(float) if targets == "binary" else rng.integers(0, 3, 7)
    s = rng.uniform(0.2, 3.0, 7)
    weighted, dW, db = loss(W, b, X, Y, s)
    per_sample = [loss(W, b, X[i:i + 1], Y[i:i + 1], None)[0] - 0.05 * np.sum(W * W) for i in range(7)]
    assert weighted == pytest.approx(np.dot(s, per_sample) / 7 + 0.05 * np.sum(W * W), rel=1e-12)
    assert rel_error(dW, numerical_gradient(lambda: loss(W, b, X, Y, s)[0], W)) < 1e-6
    assert rel_error(db, numerical_gradient(lambda: loss(W, b, X, Y, s)[0], b)) < 1e-6
    unweighted = loss(W, b, X, Y, None)
    np.testing.assert_array_equal(loss(W, b, X, Y, np.ones(7))[1], unweighted[1])  # ones change no bit


@pytest.mark.parametrize("make", [
    lambda cw: SoftmaxRegression(lr=0.5, max_epochs=300, class_weight=cw),
    lambda cw: LogisticRegression(lr=0.5, max_epochs=300, class_weight=cw),
    lambda cw: LinearSVM(lr=0.1, max_epochs=300, solver="sgd", rng=0, class_weight=cw),
])
def test_balanced_weights_raise_recall_of_the_rare_class(cancer_split, make):
    X, X_test, y, y_test = imbalanced(cancer_split, keep_positive=15)
    plain, balanced = make(None).fit(X, y), make("balanced").fit(X, y)
    rare = y_test == 1
    recall_plain = np.mean(plain.predict(X_test[rare]) == 1)
    recall_balanced = np.mean(balanced.predict(X_test[rare]) == 1)
    assert recall_balanced > recall_plain
    assert balanced.get_params()["class_weight"] == "balanced"


def test_balanced_equals_a_dict_of_compute_class_weight(cancer_split):
    X, _, y, _ = imbalanced(cancer_split)
    weights = dict(zip([0, 1], compute_class_weight(y)))
    a = SoftmaxRegression(max_epochs=50, class_weight="balanced").fit(X, y)
    b = SoftmaxRegression(max_epochs=50, class_weight=weights).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12)


def test_bad_class_weight(iris):
    X, y = iris
    with pytest.raises(ValueError, match="not in y"):
        SoftmaxRegression(max_epochs=2, class_weight={7: 2.0}).fit(X, y)
    with pytest.raises(ValueError, match="'balanced' or a dict"):
        SoftmaxRegression(max_epochs=2, class_weight="auto").fit(X, y)
