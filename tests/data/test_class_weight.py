"""compute_class_weight equals scikit-learn's compute_class_weight('balanced')."""

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight as sklearn_weights

from nndl.data import compute_class_weight


@pytest.mark.parametrize("y", [
    np.array([0, 0, 0, 1, 2, 2]),
    np.array(["cat", "dog", "dog", "dog", "bird"]),
    np.random.default_rng(0).choice(5, size=137, p=[0.5, 0.2, 0.15, 0.1, 0.05]),
])
def test_equals_sklearn_balanced(y):
    classes = np.unique(y)
    np.testing.assert_allclose(compute_class_weight(y), sklearn_weights("balanced", classes=classes, y=y),
                               rtol=1e-15)


def test_by_hand_and_given_order():
    # N = 6, C = 3, counts (3, 1, 2): 6/9, 6/3, 6/6
    y = [0, 0, 0, 1, 2, 2]
    np.testing.assert_allclose(compute_class_weight(y), [2 / 3, 2.0, 1.0], rtol=1e-15)
    np.testing.assert_allclose(compute_class_weight(y, classes=[2, 0, 1]), [1.0, 2 / 3, 2.0], rtol=1e-15)


def test_each_class_carries_the_same_total_weight():
    y = np.random.default_rng(1).choice(4, size=90, p=[0.6, 0.2, 0.15, 0.05])
    weights = compute_class_weight(y)
    totals = weights * np.bincount(y)
    np.testing.assert_allclose(totals, np.full(4, 90 / 4), rtol=1e-12)


def test_errors():
    with pytest.raises(ValueError, match="do not occur"):
        compute_class_weight([0, 1], classes=[0, 1, 2])
    with pytest.raises(ValueError, match="not in classes"):
        compute_class_weight([0, 1, 2], classes=[0, 1])
    with pytest.raises(ValueError, match="1-D"):
        compute_class_weight(np.zeros((2, 2)))
