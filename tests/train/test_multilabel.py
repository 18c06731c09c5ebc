"""Multi-label classification: sigmoid outputs, BCEWithLogitsLoss on multi-hot targets, scikit-learn's metrics."""

import numpy as np
import pytest
from sklearn import metrics as sk

from nndl import nn, optim
from nndl.train import Trainer
from nndl.train import metrics


def multi_label_data(n=60, labels=4, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, labels)) < 0.4).astype(np.float64)
    y[0] = [1, 1, 0, 0][:labels] + [0] * (labels - 4)  # at least one row with two labels
    probabilities = np.clip(0.6 * y + 0.4 * rng.random((n, labels)), 0, 1)
    return y, probabilities


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_equal_sklearn_on_probabilities(seed):
    y, p = multi_label_data(seed=seed)
    predicted = (p > 0.5).astype(int)
    assert metrics.hamming_loss(y, p) == pytest.approx(sk.hamming_loss(y, predicted), abs=1e-15)
    assert metrics.subset_accuracy(y, p) == pytest.approx(sk.accuracy_score(y, predicted), abs=1e-15)
    assert metrics.accuracy(y, p) == pytest.approx(sk.accuracy_score(y, predicted), abs=1e-15)
    np.testing.assert_allclose(metrics.per_label_f1(y, p), sk.f1_score(y, predicted, average=None, zero_division=0),
                               rtol=1e-14)
    assert metrics.macro_label_f1(y, p) == pytest.approx(sk.f1_score(y, predicted, average="macro",
                                                                      zero_division=0), rel=1e-14)


def test_logits_with_threshold_zero_and_given_predictions():
    y, p = multi_label_data(seed=3)
    logits = np.log(p + 1e-9) - np.log1p(-p + 1e-9)
    predicted = (p > 0.5).astype(int)
    assert metrics.hamming_loss(y, logits, threshold=0.0) == pytest.approx(sk.hamming_loss(y, predicted))
    assert metrics.hamming_loss(y, predicted) == pytest.approx(sk.hamming_loss(y, predicted))  # 0/1 as given


def test_by_hand():
    y = np.array([[1, 0, 1], [0, 1, 0]])
    predicted = np.array([[1, 0, 0], [0, 1, 0]])
    assert metrics.hamming_loss(y, predicted) == pytest.approx(1 / 6)
    assert metrics.subset_accuracy(y, predicted) == 0.5
    # label 0: TP 1 -> F1 1; label 1: TP 1 -> 1; label 2: TP 0, FN 1 -> 0
    np.testing.assert_allclose(metrics.per_label_f1(y, predicted), [1.0, 1.0, 0.0])


def test_multi_hot_targets_are_never_argmaxed():
    y = np.array([[1, 1, 0], [0, 1, 1]], dtype=float)
    scores = np.array([[0.9, 0.8, 0.1], [0.1, 0.7, 0.2]])
    # the arg-max would call both rows right (0 ∈ {0, 1}, 1 ∈ {1, 2}); the label sets are right for row 0 only
    assert metrics.accuracy(y, scores) == 0.5
    with pytest.raises(ValueError, match="multi-hot"):
        metrics.f1_score(y, scores)
    # one-hot targets keep the arg-max
    assert metrics.accuracy(np.eye(3)[[0, 2]], np.array([[3.0, 1, 2], [0, 1, 5]])) == 1.0


def test_trainer_default_metric_on_multi_label_logits():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((120, 6))
    y = (x[:, :3] + 0.3 * rng.standard_normal((120, 3)) > 0).astype(np.float64)  # three independent labels
    model = nn.Sequential(nn.Linear(6, 16, rng=0, dtype=np.float64), nn.ReLU(), nn.Linear(16, 3, rng=1,
                                                                                         dtype=np.float64))
    trainer = Trainer(model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=0.02))
    trainer.fit(x, y, epochs=30, batch_size=32, rng=0, verbose=0)
    logits = trainer.predict(x)
    result = trainer.evaluate(x, y)
    assert result["accuracy"] == pytest.approx(sk.accuracy_score(y, (logits > 0).astype(int)), abs=1e-12)
    assert result["accuracy"] > 0.75  # the labels are learnable; an arg-max of multi-hot rows could not say so


def test_bad_inputs():
    with pytest.raises(ValueError, match="same shape"):
        metrics.hamming_loss(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="0 or 1"):
        metrics.subset_accuracy(np.full((2, 2), 0.5), np.zeros((2, 2)))
