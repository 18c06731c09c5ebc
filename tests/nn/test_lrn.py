import numpy as np
import pytest
import torch

from nndl import nn
from tests.layer_checks import check_layer


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("shape", [(2, 7, 3, 2), (1, 5, 4), (2, 3, 2, 2, 2)])
def test_gradients_and_torch_parity(size, shape):
    # alpha large enough that the normalization term shapes the gradient.
    kwargs = dict(alpha=0.6, beta=0.75, k=1.5)
    errors = check_layer(nn.LocalResponseNorm(size, **kwargs), shape, torch.nn.LocalResponseNorm(size, **kwargs))
    assert set(errors) == {"input"}


@pytest.mark.parametrize("kwargs", [dict(), dict(alpha=5e-4, beta=0.75, k=2.0), dict(alpha=2.0, beta=0.5, k=1.0)])
def test_defaults_and_alexnet_settings_match_torch(kwargs):
    x = np.random.default_rng(0).standard_normal((2, 8, 3, 3)) * 4
    check_layer(nn.LocalResponseNorm(5, **kwargs), x.shape, torch.nn.LocalResponseNorm(5, **kwargs), inputs=x)


def test_formula_on_a_small_example():
    # Channels 1, 2, 3, 4 at one pixel, size 3: windows {0,1}, {0,1,2}, {1,2,3}, {2,3}.
    a = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1, 1)
    out = nn.LocalResponseNorm(3, alpha=0.3, beta=0.5, k=1.0)(a).ravel()
    sums = np.array([1 + 4, 1 + 4 + 9, 4 + 9 + 16, 9 + 16])
    np.testing.assert_allclose(out, a.ravel() / np.sqrt(1.0 + 0.1 * sums))


def test_even_size_window_reaches_back_further():
    # size 2: channel c sees {c − 1, c} (torch pads size//2 = 1 before, 0 after).
    a = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)
    out = nn.LocalResponseNorm(2, alpha=1.0, beta=1.0, k=1.0)(a).ravel()
    np.testing.assert_allclose(out, [1 / (1 + 0.5 * 1), 2 / (1 + 0.5 * 5), 3 / (1 + 0.5 * 13)])


def test_keeps_float32_and_rejects_two_axes():
    layer = nn.LocalResponseNorm(3)
    assert layer(np.ones((1, 4, 2), dtype=np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match=r"LocalResponseNorm\(3, .*at least 3 axes, got \(2, 4\)"):
        layer(np.ones((2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="size"):
        nn.LocalResponseNorm(0)
    assert repr(layer) == "LocalResponseNorm(3, alpha=0.0001, beta=0.75, k=1.0)"


def test_backward_refuses_a_gradient_of_another_shape():
    layer = nn.LocalResponseNorm(3)
    layer(np.ones((2, 4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"gradient shape \(1, 4, 3\) differs from the output shape \(2, 4, 3\)"):
        layer.backward(np.ones((1, 4, 3), dtype=np.float32))
