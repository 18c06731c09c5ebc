"""The contract every loss shares: reductions, NaN/inf, backward before forward, empty batches."""

import re

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
    message = rf"{loss_cls.__name__}: unknown reduction 'batchmean'; valid: mean, sum, none"
    with pytest.raises(ValueError, match=message):
        loss_cls(reduction="batchmean")


@pytest.mark.parametrize("loss_cls, scores, target", CASES, ids=IDS)
def test_reduction_none_returns_per_sample_losses_and_takes_their_gradient(loss_cls, scores, target):
    rng = np.random.default_rng(0)
    scores = scores + 0.1 * rng.random(scores.shape)  # off the kinks; BCE probabilities stay in (0, 1)
    per_sample = loss_cls(reduction="none")
    losses = per_sample(scores, target)
    expected_shape = scores.shape if target.dtype.kind == "f" else (scores.shape[0],)
    assert isinstance(losses, np.ndarray) and losses.shape == expected_shape
    total = loss_cls(reduction="sum")
    assert float(losses.sum()) == pytest.approx(total(scores, target), rel=1e-12)
    # dout = 1 everywhere is the sum's gradient; any dout weights each sample's gradient.
    np.testing.assert_allclose(per_sample.backward(np.ones(expected_shape)), total.backward(), rtol=1e-12)
    dout = rng.standard_normal(expected_shape)
    weighted = per_sample.backward(dout)
    for i in range(scores.shape[0]):
        single = loss_cls(reduction="sum")
        single(scores[i:i + 1], target[i:i + 1])
        sample_dout = dout[i] if dout.ndim == 1 else dout[i:i + 1]
        np.testing.assert_allclose(weighted[i:i + 1], single.backward() * sample_dout, rtol=1e-12)
    message = rf"{loss_cls.__name__}.*reduction='none'.*dout of shape {re.escape(str(expected_shape))}"
    with pytest.raises(ValueError, match=message):
        per_sample.backward()


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


TORCH_NONE_CASES = [
    ("MSELoss", lambda: nn.MSELoss(reduction="none"), "MSELoss", {}, "f"),
    ("L1Loss", lambda: nn.L1Loss(reduction="none"), "L1Loss", {}, "f"),
    ("BCEWithLogitsLoss", lambda: nn.BCEWithLogitsLoss(reduction="none"), "BCEWithLogitsLoss", {}, "p"),
    ("CrossEntropy weighted, spatial", lambda: nn.SoftmaxCrossEntropy(weight=[1.0, 0.0, 2.0], reduction="none"),
     "CrossEntropyLoss", {"weight": [1.0, 0.0, 2.0]}, "labels"),
    ("CrossEntropy smoothed", lambda: nn.SoftmaxCrossEntropy(label_smoothing=0.1, reduction="none"),
     "CrossEntropyLoss", {"label_smoothing": 0.1}, "labels"),
]


@pytest.mark.parametrize("name, make, torch_name, torch_kwargs, kind", TORCH_NONE_CASES,
                         ids=[case[0] for case in TORCH_NONE_CASES])
def test_reduction_none_matches_torch(name, make, torch_name, torch_kwargs, kind):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    scores = rng.standard_normal((4, 3, 5))
    if kind == "labels":
        target = rng.integers(0, 3, (4, 5))
        torch_target = torch.from_numpy(target)
        torch_kwargs = {key: torch.tensor(value, dtype=torch.float64) if key == "weight" else value
                        for key, value in torch_kwargs.items()}
    else:
        target = rng.random(scores.shape) if kind == "p" else rng.standard_normal(scores.shape)
        torch_target = torch.from_numpy(target)
    loss = make()
    losses = loss(scores, target)
    ts = torch.tensor(scores, requires_grad=True)
    tlosses = getattr(torch.nn, torch_name)(reduction="none", **torch_kwargs)(ts, torch_target)
    np.testing.assert_allclose(losses, tlosses.detach().numpy(), rtol=1e-12, atol=1e-14)
    dout = rng.standard_normal(losses.shape)
    tlosses.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(loss.backward(dout), ts.grad.numpy(), rtol=1e-12, atol=1e-14)
