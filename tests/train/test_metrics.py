import numpy as np
import pytest
from sklearn import metrics as skm

from nndl.train import metrics


@pytest.fixture
def classification():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 200)
    scores = rng.standard_normal((200, 4)) + 1.5 * np.eye(4)[y]
    return y, scores


def test_accuracy_and_confusion_matrix_equal_sklearn(classification):
    y, scores = classification
    pred = scores.argmax(1)
    assert metrics.accuracy(y, scores) == pytest.approx(skm.accuracy_score(y, pred), abs=1e-15)
    np.testing.assert_array_equal(metrics.confusion_matrix(y, scores), skm.confusion_matrix(y, pred))


@pytest.mark.parametrize("name, sk", [("precision", skm.precision_score), ("recall", skm.recall_score),
                                      ("f1", skm.f1_score)])
def test_macro_scores_equal_sklearn(classification, name, sk):
    y, scores = classification
    expected = sk(y, scores.argmax(1), average="macro", zero_division=0)
    assert metrics.METRICS[name](y, scores) == pytest.approx(expected, abs=1e-12)


def test_macro_scores_with_a_never_predicted_class_equal_sklearn():
    y = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 0, 1, 0, 1, 1])  # class 2 is never predicted: its precision is 0/0 -> 0
    for name, sk in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)):
        assert metrics.METRICS[name](y, pred) == pytest.approx(sk(y, pred, average="macro", zero_division=0))


def test_top_k_accuracy_equals_sklearn(classification):
    y, scores = classification
    for k in (1, 2, 3):
        assert metrics.top_k_accuracy(y, scores, k) == pytest.approx(
            skm.top_k_accuracy_score(y, scores, k=k, labels=range(4)))


def test_regression_metrics_equal_sklearn():
    rng = np.random.default_rng(0)
    y = rng.standard_normal((50, 2))
    pred = y + 0.3 * rng.standard_normal((50, 2))
    assert metrics.mean_squared_error(y, pred) == pytest.approx(skm.mean_squared_error(y, pred), rel=1e-12)
    assert metrics.r2_score(y, pred) == pytest.approx(skm.r2_score(y, pred), rel=1e-12)
    assert metrics.r2_score(y[:, 0], pred[:, 0]) == pytest.approx(skm.r2_score(y[:, 0], pred[:, 0]), rel=1e-12)


def test_binary_single_column_thresholds():
    y = np.array([0, 1, 1, 0])
    assert metrics.accuracy(y, np.array([[0.2], [0.7], [0.4], [0.9]])) == 0.5
    assert metrics.accuracy(y, np.array([[-1.0], [2.0], [0.5], [-0.1]]), threshold=0.0) == 1.0


def test_unknown_metric_lists_valid_names():
    with pytest.raises(ValueError, match="unknown metric 'acc'.*accuracy.*f1"):
        metrics.resolve_metric("acc")
