"""The contract every loss shares: reductions, NaN/inf, backward before forward, empty batches."""

import numpy as np
import pytest

from nndl import nn

# (loss class, valid scores, valid target) for every loss.
CASES = [
    (nn.MSELoss, np.zeros((2, 3)), np.ones((2, 3))),
    (nn.L1Loss, np.zeros((2, 3)), np.ones((2, 3))),
    (nn.BCELoss, np.full((2, 3), 0.5), np.ones((2, 3))),
    (nn.BCEWithLogitsLoss, np.zeros((2, 3)), np.ones((2, 3))),
    (nn.SoftmaxCrossEntropy, np.zeros((2, 3)), np.array([0, 2])),
    (nn.NLLLoss, np.full((2, 3), np.log(1 / 3)), np.array([0, 2])),
    (nn.MulticlassHingeLoss, np.zeros((2, 3)), np.array([0, 2])),
]
IDS = [case[0].__name__ for case in CASES]


@pytest.mark.parametrize("loss_cls, scores, target", CASES, ids=IDS)
def test_unknown_reduction_lists_the_valid_ones(loss_cls, scores, target):
    with pytest.raises(ValueError, match=rf"{loss_cls.__name__}: unknown reduction 'none'; valid: mean, sum"):
        loss_cls(reduction="none")


@pytest.mark.parametrize("loss_cls, scores, target", CASES, ids=IDS)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_scores_raise(loss_cls, scores, target, bad):
    scores = scores.copy()
    scores[0, 1] = bad
    with pytest.raises(FloatingPointError, match=rf"{loss_cls.__name__}.*1 NaN or infinite"):
        loss_cls()(scores, target)


@pytest.mark.parametrize("loss_cls, scores, target", CASES, ids=IDS)
def test_sum_is_mean_times_count_and_value_is_a_float(loss_cls, scores, target):
    mean, total = loss_cls()(scores, target), loss_cls(reduction="sum")(scores, target)
    assert type(mean) is float and type(total) is float
    count = scores.size if target.dtype.kind == "f" else scores.shape[0]
    assert total == pytest.approx(mean * count, rel=1e-12)
    assert mean > 0


@pytest.mark.parametrize("loss_cls, scores, target", CASES, ids=IDS)
def test_backward_before_forward_and_empty_batches_are_errors(loss_cls, scores, target):
    with pytest.raises(RuntimeError, match="backward called before forward"):
        loss_cls().backward()
    with pytest.raises(ValueError, match="empty"):
        loss_cls()(scores[:0], target[:0])
