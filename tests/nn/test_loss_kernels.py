"""Loss kernels (nndl.nn.functional), called directly: gradients against central differences in float64 for every
reduction and option, the reductions against each other, and dtypes kept.

Every loss has no speed machinery: the fast set uses these same pairs (checked below).
"""

from __future__ import annotations

import numpy as np
import pytest

from nndl.check import numerical_gradient, rel_error
from nndl.nn import _fast as fast
from nndl.nn import functional as F

GRAD_TOL = 1e-7
REDUCTIONS = ["mean", "sum", "none"]
LOSSES = ["mse_loss", "l1_loss", "bce_loss", "bce_with_logits_loss", "multiclass_hinge_loss", "softmax_cross_entropy",
          "nll_loss"]


def case(name, rng, dtype=np.float64):
    """``(scores, target, options)`` for one loss: valid inputs away from kinks and clamps."""
    if name in ("mse_loss", "l1_loss"):
        scores = rng.standard_normal((4, 3))
        return scores, scores + np.where(rng.random((4, 3)) < 0.5, -1, 1) * rng.uniform(0.1, 1, (4, 3)), {}
    if name == "bce_loss":
        return rng.uniform(0.05, 0.95, (5, 2)), rng.random((5, 2)), {}
    if name == "bce_with_logits_loss":
        return rng.standard_normal((5, 3)) * 3, rng.random((5, 3)), {"pos_weight": np.array([0.5, 1.0, 3.0])}
    if name == "multiclass_hinge_loss":
        scores = rng.standard_normal((6, 4))
        return scores, rng.integers(0, 4, 6), {"margin": 0.7}
    if name == "softmax_cross_entropy":
        return rng.standard_normal((5, 4)) * 2, rng.integers(0, 4, 5), {}
    if name == "nll_loss":
        scores = rng.standard_normal((5, 4))
        return F.log_softmax(scores, axis=1), rng.integers(0, 4, 5), {"weight": rng.uniform(0.5, 2, 4)}
    raise AssertionError(name)


def loss_gradient_error(name, scores, target, options, reduction, rng):
    """Relative error of ``<loss>_backward(dout, cache)`` against central differences of ``dout · L``.

    ``dout`` is a random number for a reduced loss, a random array of the
    losses' shape for ``'none'`` (the objective is then ``Σ dout ⊙ ℓ``).
    """
    forward, backward = getattr(F, f"{name}_forward"), getattr(F, f"{name}_backward")
    loss, cache = forward(scores, target, **options, reduction=reduction)
    if reduction == "none":
        assert isinstance(loss, np.ndarray)
        dout = rng.standard_normal(loss.shape)
    else:
        assert isinstance(loss, float)
        dout = float(rng.uniform(0.5, 2))
    grad = backward(dout, cache)
    assert grad.shape == scores.shape and grad.dtype == np.float64

    def objective() -> float:
        value = forward(scores, target, **options, reduction=reduction)[0]
        return float(np.sum(value * dout))

    return rel_error(grad, numerical_gradient(objective, scores))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", LOSSES)
def test_loss_kernel_gradients(name, reduction):
    rng = np.random.default_rng(0)
    scores, target, options = case(name, rng)
    assert loss_gradient_error(name, scores, target, options, reduction, rng) < GRAD_TOL


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [
    {}, {"half": True}], ids=["torch", "half"])
def test_mse_kernel_gradients_both_conventions(options, reduction):
    rng = np.random.default_rng(1)
    scores, target = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    assert loss_gradient_error("mse_loss", scores, target, options, reduction, rng) < GRAD_TOL


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_kernel_gradients_without_pos_weight(reduction):
    rng = np.random.default_rng(2)
    scores, target = rng.standard_normal((2, 3, 4)) * 4, rng.random((2, 3, 4))
    assert loss_gradient_error("bce_with_logits_loss", scores, target, {}, reduction, rng) < GRAD_TOL


CROSS_ENTROPY_OPTIONS = [
    {}, {"weight": np.array([0.2, 1.0, 3.0, 0.7])}, {"label_smoothing": 0.15},
    {"weight": np.array([0.2, 1.0, 3.0, 0.7]), "label_smoothing": 0.3}, {"ignore_index": 2},
    {"ignore_index": -100, "weight": np.array([1.0, 0.5, 2.0, 1.5]), "label_smoothing": 0.1},
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("spatial", [False, True])
@pytest.mark.parametrize("options", CROSS_ENTROPY_OPTIONS, ids=str)
def test_softmax_cross_entropy_kernel_gradients_with_labels(options, spatial, reduction):
    rng = np.random.default_rng(3)
    shape = (3, 4, 2, 3) if spatial else (7, 4)
    scores = rng.standard_normal(shape) * 2
    labels = rng.integers(0, 4, (shape[0],) + shape[2:])
    labels.reshape(-1)[1] = -100  # one ignored sample with the default ignore_index
    if options.get("ignore_index", -100) != -100:
        labels[labels == -100] = 0
    assert loss_gradient_error("softmax_cross_entropy", scores, labels, options, reduction, rng) < GRAD_TOL


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("spatial", [False, True])
@pytest.mark.parametrize("options", [{}, {"weight": np.array([0.2, 1.0, 3.0])}, {"label_smoothing": 0.2}], ids=str)
def test_softmax_cross_entropy_kernel_gradients_with_probabilities(options, spatial, reduction):
    rng = np.random.default_rng(4)
    shape = (2, 3, 2, 2) if spatial else (5, 3)
    scores = rng.standard_normal(shape)
    target = rng.random(shape)
    target /= target.sum(axis=1, keepdims=True)
    assert loss_gradient_error("softmax_cross_entropy", scores, target, options, reduction, rng) < GRAD_TOL


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("spatial", [False, True])
@pytest.mark.parametrize("options", [{}, {"weight": np.array([0.2, 1.0, 3.0])}, {"ignore_index": 1}], ids=str)
def test_nll_kernel_gradients(options, spatial, reduction):
    rng = np.random.default_rng(5)
    shape = (2, 3, 4) if spatial else (6, 3)
    log_probs = F.log_softmax(rng.standard_normal(shape), axis=1)
    labels = rng.integers(0, 3, (shape[0],) + shape[2:])
    assert loss_gradient_error("nll_loss", log_probs, labels, options, reduction, rng) < GRAD_TOL


def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_n():
    # The notes' (p − y)/N, and the loss is the mean of −log p_y.
    rng = np.random.default_rng(6)
    scores, labels = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    loss, cache = F.softmax_cross_entropy_forward(scores, labels)
    p = F.softmax(scores, axis=1)
    one_hot = np.eye(4)[labels]
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(5), labels])), rel=1e-13)
    np.testing.assert_allclose(F.softmax_cross_entropy_backward(1.0, cache), (p - one_hot) / 5, rtol=1e-12, atol=1e-15)


def test_hinge_margins_and_gradient_of_the_notes_example():
    # One sample, label 0: the margins max(0, s_j − s_0 + 1) are 2.9 for j = 1 and 0 for j = 2 (−3.9 clipped).
    scores = np.array([[3.2, 5.1, -1.7]])
    loss, cache = F.multiclass_hinge_loss_forward(scores, np.array([0]))
    assert loss == pytest.approx(2.9)
    np.testing.assert_allclose(F.multiclass_hinge_loss_backward(1.0, cache), [[-1.0, 1.0, 0.0]])


@pytest.mark.parametrize("name", LOSSES)
def test_reductions_agree(name):
    rng = np.random.default_rng(7)
    scores, target, options = case(name, rng)
    losses, _ = getattr(F, f"{name}_forward")(scores, target, **options, reduction="none")
    total, _ = getattr(F, f"{name}_forward")(scores, target, **options, reduction="sum")
    mean, _ = getattr(F, f"{name}_forward")(scores, target, **options, reduction="mean")
    assert total == pytest.approx(losses.sum(), rel=1e-13)
    if name == "nll_loss":  # the weighted mean divides by Σ_n w_{y_n}
        count = options["weight"][target].sum()
    elif name in ("multiclass_hinge_loss", "softmax_cross_entropy"):
        count = scores.shape[0]
    else:
        count = scores.size
    assert mean == pytest.approx(total / count, rel=1e-13)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", LOSSES)
def test_loss_kernels_keep_float32(name, reduction):
    rng = np.random.default_rng(8)
    scores, target, options = case(name, rng)
    scores = scores.astype(np.float32)
    if target.dtype.kind == "f":
        target = target.astype(np.float32)
    loss, cache = getattr(F, f"{name}_forward")(scores, target, **options, reduction=reduction)
    dout = np.ones(loss.shape, dtype=np.float32) if reduction == "none" else 1.0
    if reduction == "none":
        assert loss.dtype == np.float32
    assert getattr(F, f"{name}_backward")(dout, cache).dtype == np.float32


@pytest.mark.parametrize("name", LOSSES)
def test_fast_set_uses_the_reference_loss_pairs(name):
    assert getattr(fast, f"{name}_forward") is getattr(F, f"{name}_forward")
    assert getattr(fast, f"{name}_backward") is getattr(F, f"{name}_backward")
