import numpy as np
import pytest
import torch

from nndl import nn
from nndl.check import gradcheck
from tests.layer_checks import GRAD_TOL, assert_loss_torch_parity

SHAPES = [(1,), (1, 1), (5, 3), (3, 4, 5)]


def predictions_and_targets(shape, rng):
    """Targets kept at least 1e-3 from every prediction: |h − y| has a kink at 0, where a
    central difference of step 1e-6 would straddle it (L1Loss)."""
    scores = rng.standard_normal(shape)
    offset = rng.uniform(1e-2, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return scores, scores + offset


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("loss_cls, torch_cls, half", [
    (nn.MSELoss, torch.nn.MSELoss, False),
    (nn.MSELoss, torch.nn.MSELoss, True),
    (nn.L1Loss, torch.nn.L1Loss, False),
])
def test_regression_gradcheck_and_torch_parity(shape, reduction, loss_cls, torch_cls, half, rng):
    scores, target = predictions_and_targets(shape, rng)
    loss = loss_cls(reduction=reduction, half=True) if half else loss_cls(reduction=reduction)
    assert gradcheck(loss, scores, target)["input"] < GRAD_TOL
    torch_loss = torch_cls(reduction=reduction)
    # The notes' ½(h − y)² is half of torch's (h − y)².
    assert_loss_torch_parity(loss, (lambda s, t: 0.5 * torch_loss(s, t)) if half else torch_loss, scores, target)


def test_mse_half_gradient_is_the_residual():
    scores, target = np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([[0.5, 2.0], [1.0, 1.0]])
    loss = nn.MSELoss(reduction="sum", half=True)
    assert loss(scores, target) == pytest.approx(0.5 * (0.25 + 0 + 4 + 4))
    np.testing.assert_array_equal(loss.backward(), scores - target)
    full = nn.MSELoss()
    assert full(scores, target) == pytest.approx((0.25 + 0 + 4 + 4) / 4)
    np.testing.assert_array_equal(full.backward(), 2 * (scores - target) / 4)


def test_l1_subgradient_at_zero_is_zero_like_torch_sign():
    scores = np.array([1.0, 2.0, 3.0])
    loss = nn.L1Loss(reduction="sum")
    assert loss(scores, np.array([1.0, 1.0, 4.0])) == 2.0
    np.testing.assert_array_equal(loss.backward(), [0.0, 1.0, -1.0])
    assert_loss_torch_parity(nn.L1Loss(), torch.nn.L1Loss(), scores, np.array([1.0, 1.0, 4.0]))


@pytest.mark.parametrize("loss", [nn.MSELoss(), nn.MSELoss(half=True), nn.L1Loss()])
def test_regression_losses_keep_float32_and_scale_by_dout(loss, rng):
    scores, target = (a.astype(np.float32) for a in predictions_and_targets((4, 3), rng))
    value = loss(scores, target)
    assert isinstance(value, float)
    grad = loss.backward()
    assert grad.dtype == np.float32
    np.testing.assert_allclose(loss.backward(3.0), 3 * grad, rtol=1e-6)


@pytest.mark.parametrize("loss_cls", [nn.MSELoss, nn.L1Loss])
def test_regression_errors(loss_cls):
    loss = loss_cls()
    message = rf"{loss_cls.__name__}.*target shape \(3, 1\) differs from input shape \(3,\)"
    with pytest.raises(ValueError, match=message):
        loss(np.zeros(3), np.zeros((3, 1)))
    with pytest.raises(TypeError, match="target dtype float32 differs from input dtype float64"):
        loss(np.zeros(3), np.zeros(3, dtype=np.float32))
    with pytest.raises(FloatingPointError, match="target contains NaN"):
        loss(np.zeros(2), np.array([0.0, np.nan]))
    with pytest.raises(TypeError, match="float32 or float64"):
        loss(np.zeros(3, dtype=np.int64), np.zeros(3))
