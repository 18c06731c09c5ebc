import numpy as np
import pytest
import torch

from nndl import nn
from nndl.check import gradcheck
from tests.layer_checks import GRAD_TOL, assert_loss_torch_parity

SHAPES = [(1,), (1, 1), (5, 3), (4, 3, 2)]


def binary_targets(shape, soft, rng):
    return rng.uniform(0, 1, size=shape) if soft else rng.integers(0, 2, size=shape).astype(np.float64)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_bce_gradcheck_and_torch_parity(shape, soft, reduction, rng):
    # Probabilities kept inside (0.05, 0.95): away from the clamp, where the loss is smooth.
    probs = rng.uniform(0.05, 0.95, size=shape)
    target = binary_targets(shape, soft, rng)
    loss = nn.BCELoss(reduction=reduction)
    assert gradcheck(loss, probs, target)["input"] < GRAD_TOL
    assert_loss_torch_parity(loss, torch.nn.BCELoss(reduction=reduction), probs, target)


def test_bce_clamps_each_log_at_minus_100_like_torch():
    probs = np.array([0.0, 1.0, 0.0, 1.0, 0.3])
    target = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    loss = nn.BCELoss(reduction="sum")
    # Two saturated wrong predictions cost 100 each; the right ones cost 0.
    assert loss(probs, target) == pytest.approx(200 - np.log(0.3), rel=1e-12)
    assert np.all(np.isfinite(loss.backward()))
    assert_loss_torch_parity(nn.BCELoss(), torch.nn.BCELoss(), probs, target)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("with_pos_weight", [False, True])
def test_bce_with_logits_gradcheck_and_torch_parity(shape, soft, reduction, with_pos_weight, rng):
    logits = rng.standard_normal(shape) * 3
    target = binary_targets(shape, soft, rng)
    pos_weight = rng.uniform(0.2, 4.0, size=shape[-1]) if with_pos_weight else None
    loss = nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=pos_weight)
    assert gradcheck(loss, logits, target)["input"] < GRAD_TOL
    torch_loss = torch.nn.BCEWithLogitsLoss(
        reduction=reduction, pos_weight=None if pos_weight is None else torch.from_numpy(pos_weight))
    assert_loss_torch_parity(loss, torch_loss, logits, target)


def test_bce_with_logits_equals_bce_of_sigmoid(rng):
    logits = rng.standard_normal((6, 2))
    target = binary_targets((6, 2), True, rng)
    probs = 1 / (1 + np.exp(-logits))
    with_logits, on_probs = nn.BCEWithLogitsLoss(), nn.BCELoss()
    assert with_logits(logits, target) == pytest.approx(on_probs(probs, target), rel=1e-12)
    # Chain rule through σ: ∂L/∂x = ∂L/∂p · p(1 − p).
    np.testing.assert_allclose(with_logits.backward(), on_probs.backward() * probs * (1 - probs), rtol=1e-10)


def test_bce_with_logits_is_stable_for_huge_logits():
    logits = np.array([1000.0, -1000.0, 1000.0, -1000.0], dtype=np.float32)
    target = np.array([1.0, 0.0, 0.0, 1.0], dtype=np.float32)
    loss = nn.BCEWithLogitsLoss(reduction="sum")
    assert loss(logits, target) == pytest.approx(2000.0)
    np.testing.assert_array_equal(loss.backward(), [0.0, 0.0, 1.0, -1.0])


@pytest.mark.parametrize("loss_cls", [nn.BCELoss, nn.BCEWithLogitsLoss])
def test_binary_losses_keep_float32(loss_cls, rng):
    loss = loss_cls()
    probs = rng.uniform(0.1, 0.9, size=(3, 2)).astype(np.float32)
    loss(probs, binary_targets((3, 2), True, rng).astype(np.float32))
    assert loss.backward().dtype == np.float32


def test_binary_loss_errors():
    probs = np.full((2, 2), 0.5)
    with pytest.raises(ValueError, match=r"BCELoss.*probabilities in \[0, 1\].*BCEWithLogitsLoss"):
        nn.BCELoss()(np.array([[0.5, 1.5]]), np.array([[0.0, 1.0]]))
    for loss in (nn.BCELoss(), nn.BCEWithLogitsLoss()):
        with pytest.raises(ValueError, match=r"target values must lie in \[0, 1\]"):
            loss(probs, np.array([[0.0, 2.0], [1.0, 0.0]]))
        with pytest.raises(ValueError, match=r"target shape \(2,\) differs from input shape \(2, 2\)"):
            loss(probs, np.array([0.0, 1.0]))
        with pytest.raises(TypeError, match="target must be a float array, got dtype int64"):
            loss(probs, np.array([[0, 1], [1, 0]]))
    with pytest.raises(ValueError, match="pos_weight has 3 entries but the scores' last axis has 2"):
        nn.BCEWithLogitsLoss(pos_weight=[1.0, 2.0, 3.0])(probs, probs)
    with pytest.raises(ValueError, match="pos_weight must be finite and non-negative"):
        nn.BCEWithLogitsLoss(pos_weight=[-1.0])


def test_pos_weight_is_a_state_dict_buffer_like_torch():
    loss = nn.BCEWithLogitsLoss(pos_weight=[2.0, 3.0])
    torch_loss = torch.nn.BCEWithLogitsLoss(pos_weight=torch.ones(2))
    assert list(loss.state_dict()) == list(torch_loss.state_dict()) == ["pos_weight"]
