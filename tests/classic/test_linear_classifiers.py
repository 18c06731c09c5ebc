"""Logistic regression, softmax regression and the linear SVM."""

import numpy as np
import pytest
import sklearn.linear_model
import sklearn.svm
import torch

from nndl.check.gradcheck import numerical_gradient, rel_error
from nndl.classic import LinearSVM, LogisticRegression, SoftmaxRegression, multiclass_hinge_loss
from nndl.classic.logistic import binary_cross_entropy_loss, sigmoid
from nndl.classic.softmax_regression import softmax_cross_entropy_loss
from nndl.classic.svm import svm_loss

pytestmark = [pytest.mark.filterwarnings("ignore::nndl.classic.ConvergenceWarning"),
              pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")]


@pytest.fixture
def problem(rng):
    X = rng.standard_normal((13, 5))
    W, b = rng.standard_normal((5, 4)), rng.standard_normal(4)
    return X, W, b, rng.integers(0, 4, 13), (rng.random((13, 4)) < 0.5).astype(float)


def _loss(name, W, b, X, labels, targets, l2=0.2):
    if name == "binary_cross_entropy":
        return binary_cross_entropy_loss(W, b, X, targets, l2)
    if name == "softmax_cross_entropy":
        return softmax_cross_entropy_loss(W, b, X, labels, l2)
    return svm_loss(W, b, X, labels, l2, 1.0)


@pytest.mark.parametrize("name", ["binary_cross_entropy", "softmax_cross_entropy", "hinge"])
def test_loss_gradients_match_central_differences(name, problem):
    X, W, b, labels, targets = problem
    _, dW, db = _loss(name, W, b, X, labels, targets)
    # Random scores sit away from the hinge's kinks, where its subgradient is the gradient.
    assert rel_error(dW, numerical_gradient(lambda: _loss(name, W, b, X, labels, targets)[0], W)) < 1e-7
    assert rel_error(db, numerical_gradient(lambda: _loss(name, W, b, X, labels, targets)[0], b)) < 1e-7


@pytest.mark.parametrize("name", ["binary_cross_entropy", "softmax_cross_entropy", "hinge"])
def test_loss_values_and_gradients_match_torch(name, problem):
    X, W, b, labels, targets = problem
    l2 = 0.2
    loss, dW, db = _loss(name, W, b, X, labels, targets, l2)
    W_t, b_t = torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)
    scores = torch.tensor(X) @ W_t + b_t
    if name == "binary_cross_entropy":
        data_loss = torch.nn.functional.binary_cross_entropy_with_logits(
            scores, torch.tensor(targets), reduction="sum") / len(X)
    elif name == "softmax_cross_entropy":
        data_loss = torch.nn.functional.cross_entropy(scores, torch.tensor(labels))
    else:  # torch's multi-margin loss also divides by the number of classes
        data_loss = torch.nn.MultiMarginLoss(p=1, margin=1.0)(scores, torch.tensor(labels)) * W.shape[1]
    total = data_loss + 0.5 * l2 * (W_t ** 2).sum()
    total.backward()
    assert loss == pytest.approx(total.item(), rel=1e-12)
    np.testing.assert_allclose(dW, W_t.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(db, b_t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_notes_hinge_loss_table():
    # 002 §2.1: columns are images (cat, rat, flower), rows the class scores.
    scores = np.array([[2.1, 3.5, -2.3], [1.4, 5.0, 2.8], [2.3, 2.0, -5.0]])
    labels = np.array([0, 1, 2])
    per_image = [multiclass_hinge_loss(scores[i:i + 1], labels[i:i + 1])[0] for i in range(3)]
    np.testing.assert_allclose(per_image, [2.4, 0.0, 16.3], rtol=1e-12, atol=1e-12)
    # The printed "final loss 9.35" is a slip: the mean of 2.4, 0 and 16.3 is 6.2333...
    assert multiclass_hinge_loss(scores, labels)[0] == pytest.approx(18.7 / 3, rel=1e-12)


def test_sigmoid_and_softmax_do_not_overflow():
    z = np.array([-1000.0, 0.0, 1000.0])
    np.testing.assert_array_equal(sigmoid(z), [0.0, 0.5, 1.0])
    model = SoftmaxRegression(max_epochs=1).fit(np.array([[0.0], [1.0]]), [0, 1])
    model.coef_[:] = [[-1000.0], [1000.0]]
    np.testing.assert_array_equal(model.predict_proba(np.array([[1.0]])), [[0.0, 1.0]])


def test_newton_logistic_regression_equals_sklearn_coefficients(cancer_split):
    X_train, X_test, y_train, _ = cancer_split
    C = 0.5
    ours = LogisticRegression(solver="newton", l2=1 / (C * len(y_train)), tol=1e-15, max_epochs=50).fit(X_train, y_train)
    theirs = sklearn.linear_model.LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12).fit(X_train, y_train)
    assert ours.converged_
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-6)
    np.testing.assert_allclose(ours.predict_proba(X_test), theirs.predict_proba(X_test), atol=1e-8)


ACCURACY_CASES = [
    ("logistic gd", lambda n: LogisticRegression(l2=1 / n, lr=1.0, max_epochs=500), "cancer",
     lambda: sklearn.linear_model.LogisticRegression(C=1.0)),
    ("logistic sgd", lambda n: LogisticRegression(l2=1 / n, solver="sgd", lr=0.05, max_epochs=30, rng=0), "cancer",
     lambda: sklearn.linear_model.LogisticRegression(C=1.0)),
    ("softmax gd", lambda n: SoftmaxRegression(l2=1 / n, lr=1.0, max_epochs=500), "digits",
     lambda: sklearn.linear_model.LogisticRegression(C=1.0, max_iter=2000)),
    ("softmax sgd", lambda n: SoftmaxRegression(l2=1 / n, solver="sgd", lr=0.05, max_epochs=40, rng=0), "digits",
     lambda: sklearn.linear_model.LogisticRegression(C=1.0, max_iter=2000)),
    ("svm gd", lambda n: LinearSVM(l2=1 / n, lr=0.3, max_epochs=2000), "digits",
     lambda: sklearn.svm.LinearSVC(C=1.0, loss="hinge", max_iter=20000)),
    ("svm gd binary", lambda n: LinearSVM(l2=1 / (0.1 * n), lr=0.3, max_epochs=2000), "cancer",
     lambda: sklearn.svm.LinearSVC(C=0.1)),
]


@pytest.mark.parametrize("case, ours, data, theirs", ACCURACY_CASES, ids=[c[0] for c in ACCURACY_CASES])
def test_test_accuracy_within_one_point_of_sklearn(case, ours, data, theirs, cancer_split, digits_split):
    X_train, X_test, y_train, y_test = cancer_split if data == "cancer" else digits_split
    our_accuracy = ours(len(y_train)).fit(X_train, y_train).score(X_test, y_test)
    their_accuracy = theirs().fit(X_train, y_train).score(X_test, y_test)
    assert their_accuracy > 0.94
    assert abs(our_accuracy - their_accuracy) <= 0.01


def test_logistic_probabilities(cancer_split, iris):
    X_train, X_test, y_train, _ = cancer_split
    model = LogisticRegression(lr=1.0, max_epochs=200).fit(X_train, y_train)
    probabilities = model.predict_proba(X_test)
    np.testing.assert_allclose(probabilities[:, 1], sigmoid(model.decision_function(X_test)), rtol=1e-15)
    np.testing.assert_array_equal(model.predict(X_test), model.classes_[(probabilities[:, 1] > 0.5).astype(int)])
    X, y = iris
    one_vs_rest = LogisticRegression(solver="newton", max_epochs=20).fit(X, y)
    assert one_vs_rest.coef_.shape == (3, 4)
    np.testing.assert_allclose(one_vs_rest.predict_proba(X).sum(axis=1), 1.0, rtol=1e-12)


def test_softmax_first_gradient_step_matches_hand_computation():
    # One GD step from W = 0: all probabilities 1/K, so ∇_W J = Xᵀ(1/K − Y)/n.
    X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, -3.0]])
    y = np.array([0, 1, 2])
    model = SoftmaxRegression(lr=0.5, max_epochs=1, tol=0.0, fit_intercept=False).fit(X, y)
    expected = -0.5 * X.T @ (np.full((3, 3), 1 / 3) - np.eye(3)) / 3
    np.testing.assert_allclose(model.coef_, expected.T, rtol=1e-14)
    assert model.loss_curve_ == [pytest.approx(np.log(3), rel=1e-14)]  # the notes: L = ln(K) at the start


@pytest.mark.parametrize("estimator", [LogisticRegression(max_epochs=20), SoftmaxRegression(max_epochs=20),
                                       LinearSVM(max_epochs=20)], ids=lambda e: type(e).__name__)
def test_float32_is_kept(estimator, iris):
    X, y = iris
    model = estimator.fit(X.astype(np.float32), y)
    assert model.coef_.dtype == np.float32
    assert model.decision_function(X.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("estimator", [SoftmaxRegression(max_epochs=50), LinearSVM(max_epochs=50)],
                         ids=lambda e: type(e).__name__)
def test_two_class_decision_function_is_positive_for_the_second_class(estimator, cancer_split):
    X_train, X_test, y_train, _ = cancer_split
    model = estimator.fit(X_train, y_train)
    scores = X_test @ model.coef_.T + model.intercept_
    decision = model.decision_function(X_test)
    np.testing.assert_allclose(decision, scores[:, 1] - scores[:, 0], rtol=1e-14)
    np.testing.assert_array_equal(model.predict(X_test), model.classes_[(decision > 0).astype(int)])
    if hasattr(model, "predict_proba"):  # softmax over two scores = sigmoid of their difference
        np.testing.assert_allclose(model.predict_proba(X_test)[:, 1], sigmoid(decision), rtol=1e-12)
