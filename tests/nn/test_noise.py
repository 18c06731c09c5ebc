"""nn.GaussianNoise: noise injected into hidden units in training, the identity in evaluation."""

import numpy as np
import pytest

from nndl import nn


def test_training_adds_noise_of_the_given_std_with_mean_zero():
    layer = nn.GaussianNoise(0.5, rng=0, dtype=np.float64)
    x = np.full((400, 500), 2.0)
    noise = layer(x) - x
    assert abs(noise.mean()) < 4 * 0.5 / np.sqrt(noise.size)  # 4 standard errors of the mean
    assert noise.std() == pytest.approx(0.5, rel=0.01)
    expected = np.random.default_rng(0).standard_normal(x.shape)
    np.testing.assert_allclose(noise, 0.5 * expected, atol=1e-12)  # the module's own generator, drawn once


def test_backward_is_the_identity_and_eval_adds_nothing():
    layer = nn.GaussianNoise(1.0, rng=1, dtype=np.float64)
    x = np.random.default_rng(2).standard_normal((3, 4))
    layer(x)
    dout = np.random.default_rng(3).standard_normal((3, 4))
    np.testing.assert_array_equal(nn.backward(layer, dout), dout)
    layer.eval()
    np.testing.assert_array_equal(layer(x), x)


def test_float32_draws_and_bad_std():
    out = nn.GaussianNoise(0.1, rng=0)(np.zeros((2, 3), dtype=np.float32))
    assert out.dtype == np.float32 and np.any(out != 0)
    with pytest.raises(ValueError, match="GaussianNoise: std"):
        nn.GaussianNoise(-0.1)
