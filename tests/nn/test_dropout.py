import numpy as np
import pytest
import torch

from nndl import nn
from tests.layer_checks import check_layer


@pytest.mark.parametrize("shape", [(2, 5), (3, 4, 7), (1, 9)])
@pytest.mark.parametrize("drop_prob", [0.2, 0.5])
@pytest.mark.parametrize("train", [True, False])
def test_dropout_gradients(shape, drop_prob, train):
    # In training the mask is random; gradcheck restores the layer's Generator before every forward pass.
    check_layer(nn.Dropout(drop_prob, rng=1).train(train), shape)


@pytest.mark.parametrize("shape", [(2, 3, 2, 2), (3, 5, 1, 3)])
@pytest.mark.parametrize("train", [True, False])
def test_dropout2d_gradients(shape, train):
    check_layer(nn.Dropout2d(0.4, rng=2).train(train), shape)


@pytest.mark.parametrize("drop_prob", [0.1, 0.5, 0.8])
def test_fraction_dropped_and_scaling_of_kept_units(drop_prob):
    n = 200_000
    x = np.random.default_rng(0).uniform(0.5, 1.5, (50, n // 50)).astype(np.float32)
    layer = nn.Dropout(drop_prob, rng=3)
    out = layer(x)
    dropped = out == 0
    # The count of dropped units is Binomial(n, drop_prob): allow 5 standard deviations.
    assert abs(dropped.mean() - drop_prob) < 5 * np.sqrt(drop_prob * (1 - drop_prob) / n)
    np.testing.assert_array_equal(out[~dropped], x[~dropped] * np.float32(1.0 / (1.0 - drop_prob)))
    assert out.dtype == np.float32
    # The expectation is preserved (inverted dropout): E[out_i] = x_i, and Var(out_i) = x_i² p/(1 − p).
    rms = np.sqrt(np.mean(x.astype(np.float64) ** 2))
    tolerance = 5 * np.sqrt(drop_prob / ((1 - drop_prob) * n)) * rms / x.mean()
    assert abs(out.mean(dtype=np.float64) / x.mean() - 1.0) < tolerance
    dout = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    dx = layer.backward(dout)
    np.testing.assert_array_equal(dx[dropped], 0.0)
    np.testing.assert_array_equal(dx[~dropped], dout[~dropped] * np.float32(1.0 / (1.0 - drop_prob)))


def test_same_seed_same_mask_and_fresh_masks_each_call():
    x = np.ones((8, 100), dtype=np.float32)
    a, b = nn.Dropout(0.5, rng=7), nn.Dropout(0.5, rng=7)
    first = a(x)
    np.testing.assert_array_equal(first, b(x))
    assert not np.array_equal(first, a(x))  # the Generator advances
    assert not np.array_equal(first, nn.Dropout(0.5, rng=8)(x))
    generator = np.random.default_rng(11)
    shared = nn.Dropout(0.5, rng=generator)
    assert shared.rng is generator


def test_identity_at_eval_and_with_zero_drop_prob():
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    layer = nn.Dropout(0.5, rng=0).eval()
    np.testing.assert_array_equal(layer(x), x)
    dout = np.arange(24, dtype=np.float32).reshape(4, 6)
    np.testing.assert_array_equal(layer.backward(dout), dout)
    np.testing.assert_array_equal(nn.Dropout(0.0)(x), x)
    torch_layer = torch.nn.Dropout(0.5).eval()
    np.testing.assert_array_equal(layer(x), torch_layer(torch.from_numpy(x)).numpy())


def test_drop_prob_one_gives_zeros_like_torch():
    x = np.ones((3, 4), dtype=np.float32)
    layer = nn.Dropout(1.0)
    out = layer(x)
    np.testing.assert_array_equal(out, torch.nn.Dropout(1.0)(torch.from_numpy(x)).numpy())
    np.testing.assert_array_equal(out, 0.0)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), 0.0)


@pytest.mark.parametrize("bad", [-0.1, 1.5, True, "0.5"])
def test_invalid_drop_prob(bad):
    with pytest.raises(ValueError, match=r"drop_prob \(the probability of dropping a unit\) must be in \[0, 1\]"):
        nn.Dropout(bad)


def test_dropout2d_zeroes_whole_channels():
    x = np.random.default_rng(0).uniform(1.0, 2.0, (40, 50, 3, 4)).astype(np.float32)
    layer = nn.Dropout2d(0.3, rng=5)
    out = layer(x)
    zero_per_channel = (out == 0).reshape(40, 50, -1)
    all_zero = zero_per_channel.all(axis=2)
    # Every channel is dropped entirely or kept entirely.
    assert np.array_equal(zero_per_channel.any(axis=2), all_zero)
    n = all_zero.size
    assert abs(all_zero.mean() - 0.3) < 5 * np.sqrt(0.3 * 0.7 / n)
    kept = ~all_zero
    np.testing.assert_array_equal(out[kept], x[kept] * np.float32(1.0 / 0.7))
    dx = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(dx[all_zero], 0.0)
    np.testing.assert_array_equal(dx[kept], np.float32(1.0 / 0.7))


def test_dropout2d_expects_images():
    expected = r"Dropout2d\(drop_prob=0.5\): expected input of shape \(N, C, H, W\), got \(2, 3, 4\)"
    with pytest.raises(ValueError, match=expected):
        nn.Dropout2d()(np.zeros((2, 3, 4), dtype=np.float32))


def test_float64_masks_and_repr():
    layer = nn.Dropout(0.25, rng=0)
    out = layer(np.ones((2, 3)))
    assert out.dtype == np.float64
    assert set(np.unique(out)) <= {0.0, 1.0 / 0.75}
    assert repr(layer) == "Dropout(drop_prob=0.25)"
    assert layer.output_shape((2, 3)) == (2, 3)
    assert list(layer.state_dict()) == []


@pytest.mark.parametrize("train", [True, False])
def test_backward_refuses_a_gradient_of_another_shape(train):
    layer = nn.Dropout(0.5, rng=0).train(train)
    layer(np.ones((4, 5), dtype=np.float32))
    expected = r"Dropout\(drop_prob=0.5\): gradient shape \(1, 5\) differs from the output shape \(4, 5\)"
    with pytest.raises(ValueError, match=expected):
        layer.backward(np.ones((1, 5), dtype=np.float32))
