"""lr_find: the range test's rates, a sensible suggestion, divergence detection and exact restoration."""

import math

import numpy as np
import pytest

from nndl import nn, optim
from nndl.doctor import LRFinderResult, lr_find
from nndl.doctor.lr_finder import steepest_descent

from .nets import he_mlp
from .state import assert_same, capture


def test_range_test_on_digits_suggests_a_rate_that_trains(digits_flat):
    x, y = digits_flat
    model = he_mlp(0)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    before = capture(model, opt)
    result = lr_find(model, nn.SoftmaxCrossEntropy(), opt, x, y, start=1e-5, end=10.0, steps=80, batch_size=32)
    assert isinstance(result, LRFinderResult)
    assert_same(before, capture(model, opt))
    n = len(result.lrs)
    assert 20 < n <= 80 and len(result.losses) == len(result.raw_losses) == n
    expected = 1e-5 * (10.0 / 1e-5) ** (np.arange(80) / 79)
    np.testing.assert_allclose(result.lrs, expected[:n], rtol=1e-12)
    assert result.diverged  # SGD at lr 10 blows up before the end
    assert 1e-3 <= result.suggestion <= 1.0
    # the suggested rate lowers the loss in 30 plain SGD steps more than a rate 100x smaller
    final = {}
    for lr in (result.suggestion, result.suggestion / 100):
        trial = he_mlp(0)
        trial_opt = optim.SGD(trial.parameters(), lr=lr, momentum=0.9)
        loss_fn = nn.SoftmaxCrossEntropy()
        for step in range(30):
            batch = slice(32 * (step % 8), 32 * (step % 8 + 1))
            loss_fn(trial(x[batch]), y[batch])
            trial.zero_grad()
            nn.backward(trial, loss_fn.backward())
            trial_opt.step()
        final[lr] = loss_fn(trial(x), y)
    assert final[result.suggestion] < final[result.suggestion / 100]


def test_adam_state_and_generators_restored(digits_images):
    x, y = digits_images
    model = nn.Sequential(nn.Conv2d(1, 4, 3, rng=0), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                          nn.Dropout(0.5, rng=1), nn.Linear(144, 10, rng=2))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.SoftmaxCrossEntropy()
    loss_fn(model(x[:16]), y[:16])
    nn.backward(model, loss_fn.backward())
    opt.step()
    rng = np.random.default_rng(3)
    before = capture(model, opt, [rng])
    result = lr_find(model, loss_fn, opt, x, y, steps=30, batch_size=16, rng=rng)
    assert_same(before, capture(model, opt, [rng]))
    assert opt.param_groups[0]["lr"] == 1e-3
    assert np.all(np.isfinite(result.losses))


def test_smoothing_is_a_bias_corrected_moving_average(digits_flat):
    x, y = digits_flat
    model = he_mlp(0)
    result = lr_find(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.1), x, y,
                     start=1e-6, end=1e-5, steps=10, smoothing=0.9)
    average, expected = 0.0, []
    for i, loss in enumerate(result.raw_losses):
        average = 0.9 * average + 0.1 * loss
        expected.append(average / (1 - 0.9 ** (i + 1)))
    np.testing.assert_allclose(result.losses, expected, rtol=1e-12)
    assert result.losses[0] == result.raw_losses[0] and not result.diverged


def test_steepest_descent_of_a_known_curve():
    lrs = np.logspace(-6, 0, 61)
    losses = 2.0 - np.tanh(np.log10(lrs) + 3)  # falls fastest at lr = 1e-3, flat after
    assert steepest_descent(lrs, losses) == pytest.approx(1e-3)
    assert math.isnan(steepest_descent(lrs, np.linspace(1, 2, 61)))  # never decreases


def test_bad_arguments():
    model = he_mlp(0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = np.zeros((4, 64), np.float32), np.zeros(4, np.int64)
    with pytest.raises(ValueError, match="0 < start < end"):
        lr_find(model, nn.SoftmaxCrossEntropy(), opt, x, y, start=1.0, end=0.1)
    with pytest.raises(ValueError, match="steps must be >= 2"):
        lr_find(model, nn.SoftmaxCrossEntropy(), opt, x, y, steps=1)
