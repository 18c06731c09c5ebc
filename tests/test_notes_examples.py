"""The worked examples of the course notes, recomputed with nndl (and the notes' slips corrected).

Source: "The Deep Learning Guide" (seeds/002), §2.1 (hinge-loss table), §2.3
(softmax-loss table) and §3.5 (backpropagation with the Jacobian).
"""

import math

import numpy as np
import pytest

from nndl import nn
from nndl.nn.functional.softmax_kernels import softmax

# §2.1 / §2.3: the table's columns are images (cat, rat, flower), its rows the
# class scores (Catness, Ratness, Flowness), the bold entry the true class.
# nndl takes one image per row, so this is the table transposed.
TABLE_SCORES = np.array([
    [2.1, 3.5, -2.3],   # the cat image
    [1.4, 5.0, 2.8],    # the rat image
    [2.3, 2.0, -5.0],   # the flower image
])
TABLE_LABELS = np.array([0, 1, 2])


def exact_softmax_losses():
    """−ln P(true class) for each image, with math.exp / math.log only (independent of nndl)."""
    losses = []
    for scores, label in zip(TABLE_SCORES.tolist(), TABLE_LABELS.tolist()):
        total = sum(math.exp(s) for s in scores)
        losses.append(-math.log(math.exp(scores[label]) / total))
    return losses


# ------------------------------------------------------------------ §2.1 hinge loss
def test_hinge_table_per_image_losses():
    # cat: max(0, 3.5−2.1+1) + max(0, −2.3−2.1+1) = 2.4 + 0
    # rat: max(0, 1.4−5+1) + max(0, 2.8−5+1) = 0
    # flower: max(0, 2.3+5+1) + max(0, 2+5+1) = 8.3 + 8 = 16.3
    loss = nn.MulticlassHingeLoss()
    for row, printed in zip(range(3), [2.4, 0.0, 16.3]):
        assert loss(TABLE_SCORES[row:row + 1], TABLE_LABELS[row:row + 1]) == pytest.approx(printed, abs=1e-12)


def test_hinge_table_final_loss_is_the_mean_6_233_not_the_printed_9_35():
    loss = nn.MulticlassHingeLoss()
    value = loss(TABLE_SCORES, TABLE_LABELS)
    assert value == pytest.approx((2.4 + 0 + 16.3) / 3, rel=1e-12)
    assert value == pytest.approx(6.2333, abs=1e-4)
    assert abs(value - 9.35) > 3  # the notes' printed figure is a slip
    # Subgradient: each violated margin pushes its class up (+1) and the true class down (−1), over N = 3.
    np.testing.assert_allclose(loss.backward(), np.array([[-1, 1, 0], [0, 0, 0], [1, 1, -2]]) / 3, atol=1e-15)


# ------------------------------------------------------------------ §2.3 softmax loss
def test_softmax_table_per_image_losses():
    exact = exact_softmax_losses()
    loss = nn.SoftmaxCrossEntropy()
    ours = [loss(TABLE_SCORES[row:row + 1], TABLE_LABELS[row:row + 1]) for row in range(3)]
    # float64 log-sum-exp of three O(1) scores against the same sum done with math: agreement to rounding.
    np.testing.assert_allclose(ours, exact, rtol=1e-13)
    # The notes' figures where they are right, at their printed precision: 0.129 and 7.85.
    assert round(exact[1], 3) == 0.129
    assert round(exact[2], 2) == 7.85
    # The cat's is printed 1.61; it is 1.6228..., i.e. 1.62 (a slip).
    assert round(exact[0], 2) == 1.62


def test_softmax_table_probabilities_at_printed_precision():
    probs = softmax(TABLE_SCORES)
    # Printed (true-class column) 0.2, 0.88, 0.000388; also Ratness of the flower 0.43.
    assert round(probs[0, 0], 1) == 0.2
    assert round(probs[1, 1], 2) == 0.88
    assert round(probs[2, 2], 6) == 0.000388
    assert round(probs[2, 1], 2) == 0.43
    # The flower's Catness is printed 0.569612; it is 0.5742 (the column must sum to 1 with 0.4254 and 0.0004).
    assert round(probs[2, 0], 4) == 0.5742


def test_softmax_table_final_loss_is_3_20_not_the_printed_3_198():
    loss = nn.SoftmaxCrossEntropy()
    value = loss(TABLE_SCORES, TABLE_LABELS)
    assert value == pytest.approx(sum(exact_softmax_losses()) / 3, rel=1e-13)
    assert round(value, 2) == 3.20
    assert round(value, 3) == 3.202  # the printed 3.198 came from rounded table entries


# ------------------------------------------------------------------ §2.1 / §2.3 "at initialization"
@pytest.mark.parametrize("num_classes", [3, 10])
def test_small_weights_give_ln_c_softmax_loss_and_c_minus_1_hinge_loss(num_classes, rng):
    """With W ≈ 0 every score s ≈ 0: softmax loss ≈ ln C, hinge loss ≈ (C − 1)·Δ.

    Exact bounds: with Δ_max = max |s_j − s_y|, −ln p_y = ln Σ_j e^{s_j − s_y} lies in
    ln C ± Δ_max, and when Δ_max < 1 every hinge term s_j − s_y + 1 is active, so the
    hinge loss lies in (C − 1)(1 ± Δ_max).
    """
    num_features, num_samples = 20, 64
    layer = nn.Linear(num_features, num_classes, dtype=np.float64)
    layer.load_state_dict({"weight": 1e-4 * rng.standard_normal((num_classes, num_features)),
                           "bias": np.zeros(num_classes)})
    x = rng.standard_normal((num_samples, num_features))
    labels = rng.integers(0, num_classes, size=num_samples)
    scores = layer(x)
    spread = float(np.max(np.abs(scores - scores[np.arange(num_samples), labels][:, None])))
    assert 0 < spread < 1e-2
    softmax_loss = nn.SoftmaxCrossEntropy()(scores, labels)
    hinge_loss = nn.MulticlassHingeLoss()(scores, labels)
    assert abs(softmax_loss - math.log(num_classes)) <= spread
    assert abs(hinge_loss - (num_classes - 1)) <= (num_classes - 1) * spread


# ------------------------------------------------------------------ §3.5 Jacobian example
def test_jacobian_example_f_equals_squared_norm_of_wx():
    """f = ||Wx||² built from nndl modules: a bias-free Linear, then a sum of squares.

    By hand: r = Wx = [0.337, −1.873], f = r·r = 3.621698, ∇_r f = 2r = [0.674, −3.746],
    ∇_W f = 2r xᵀ, ∇_x f = Wᵀ 2r = [−5.0124, 9.8744].
    """
    weight = np.array([[0.9, 0.2], [1.5, -2.6]])
    x = np.array([[0.19, 0.83]])  # one sample, as a row
    layer = nn.Linear(2, 2, bias=False, dtype=np.float64)
    layer.load_state_dict({"weight": weight})
    sum_of_squares = nn.MSELoss(reduction="sum")  # Σ (r − 0)² = ||r||²

    r = layer(x)
    f = sum_of_squares(r, np.zeros_like(r))
    grad_r = sum_of_squares.backward()
    grad_x = layer.backward(grad_r)

    np.testing.assert_allclose(r, [[0.337, -1.873]], rtol=1e-14)
    assert f == pytest.approx(0.337**2 + 1.873**2, rel=1e-14)
    assert round(f, 2) == 3.62
    np.testing.assert_allclose(grad_r, [[0.674, -3.746]], rtol=1e-14)
    exact_grad_w = np.array([[0.674 * 0.19, 0.674 * 0.83], [-3.746 * 0.19, -3.746 * 0.83]])
    np.testing.assert_allclose(layer.weight.grad, exact_grad_w, rtol=1e-14)
    np.testing.assert_allclose(grad_x, [[-5.0124, 9.8744]], rtol=1e-13)
    # At the notes' printed precision: [[0.128, 0.559], [−0.712, −3.109]]. The notes print −0.711;
    # −3.746 · 0.19 = −0.71174 rounds to −0.712.
    np.testing.assert_array_equal(np.round(layer.weight.grad, 3), [[0.128, 0.559], [-0.712, -3.109]])
