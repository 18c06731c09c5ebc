import numpy as np
import pytest
import torch

from nndl import nn
from nndl.check import gradcheck
from tests.layer_checks import GRAD_TOL, assert_loss_torch_parity


def scores_off_the_kinks(shape, margin, rng):
    """Random scores whose margins s_j − s_y + Δ all keep clear of 0.

    The hinge is not differentiable at 0; a central difference straddling it
    would average the two one-sided slopes, so gradcheck needs |margin| ≫ h = 1e-6.
    """
    scores = rng.standard_normal(shape) * 2
    labels = rng.integers(0, shape[1], size=shape[0])
    margins = scores - scores[np.arange(shape[0]), labels][:, None] + margin
    margins[np.arange(shape[0]), labels] = np.inf
    assert np.min(np.abs(margins)) > 1e-3
    return scores, labels


@pytest.mark.parametrize("shape", [(1, 3), (5, 4), (9, 10)])
@pytest.mark.parametrize("margin", [1.0, 0.5])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_hinge_gradcheck_and_torch_parity_times_num_classes(shape, margin, reduction, rng):
    scores, labels = scores_off_the_kinks(shape, margin, rng)
    loss = nn.MulticlassHingeLoss(margin=margin, reduction=reduction)
    assert gradcheck(loss, scores, labels)["input"] < GRAD_TOL
    torch_loss = torch.nn.MultiMarginLoss(margin=margin, reduction=reduction)
    num_classes = shape[1]
    # torch divides each sample's sum by C; the notes' (Weston–Watkins) loss does not.
    assert_loss_torch_parity(loss, lambda s, t: num_classes * torch_loss(s, t), scores, labels)


def test_hinge_by_hand():
    scores = np.array([[3.0, 2.5, 0.0], [1.0, 4.0, 3.5]])
    labels = np.array([0, 2])
    loss = nn.MulticlassHingeLoss()
    # Sample 0: max(0, 2.5−3+1) + max(0, 0−3+1) = 0.5. Sample 1: max(0, 1−3.5+1) + max(0, 4−3.5+1) = 1.5.
    assert loss(scores, labels) == pytest.approx((0.5 + 1.5) / 2)
    np.testing.assert_allclose(loss.backward(), [[-0.5, 0.5, 0.0], [0.0, 0.5, -0.5]])


def test_hinge_subgradient_at_the_kink_is_zero():
    # s_1 − s_0 + 1 = 0 exactly: the margin is just met, contributes neither loss nor gradient.
    loss = nn.MulticlassHingeLoss()
    assert loss(np.array([[2.0, 1.0, -5.0]]), np.array([0])) == 0.0
    np.testing.assert_array_equal(loss.backward(), np.zeros((1, 3)))


def test_hinge_keeps_float32(rng):
    loss = nn.MulticlassHingeLoss()
    loss(rng.standard_normal((4, 3)).astype(np.float32), np.array([0, 1, 2, 0]))
    assert loss.backward().dtype == np.float32


def test_hinge_errors():
    loss = nn.MulticlassHingeLoss()
    with pytest.raises(ValueError, match=r"MulticlassHingeLoss.*expected scores of shape \(N, C\), got \(2, 3, 4\)"):
        loss(np.zeros((2, 3, 4)), np.array([0, 1]))
    with pytest.raises(TypeError, match="labels must be integers, got dtype float64"):
        loss(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        loss(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"expected labels of shape \(2,\), got \(2, 1\)"):
        loss(np.zeros((2, 3)), np.array([[0], [1]]))
    with pytest.raises(ValueError, match="margin must be positive"):
        nn.MulticlassHingeLoss(margin=0.0)
