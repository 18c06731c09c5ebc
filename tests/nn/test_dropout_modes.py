"""Dropout's two forms: inverted (scale in training) and standard (scale by the keep probability at test time)."""

import numpy as np
import pytest

from nndl import nn
from nndl.nn.core.config import from_config, to_config
from tests.layer_checks import check_layer


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("layer", [lambda: nn.Dropout(0.3, rng=1, mode="standard"),
                                   lambda: nn.Dropout2d(0.4, rng=2, mode="standard")])
def test_standard_form_gradients(layer, train):
    check_layer(layer().train(train), (2, 3, 2, 2))


@pytest.mark.parametrize("drop_prob", [0.2, 0.5, 0.8])
def test_both_forms_have_the_same_expected_activation(drop_prob):
    # E_train[y] / y_eval = 1 for either form: measured over 400 000 units of one batch.
    x = np.random.default_rng(0).uniform(0.5, 1.5, (40, 10_000))
    n = x.size
    ratios = {}
    for mode in ("inverted", "standard"):
        layer = nn.Dropout(drop_prob, rng=3, mode=mode, dtype=np.float64)
        train_out = layer.train()(x)
        eval_out = layer.eval()(x)
        ratios[mode] = train_out.mean() / eval_out.mean()
    # Each kept unit contributes x/(1 − p) (inverted) or x (standard, against (1 − p)x at eval):
    # the relative standard deviation of the ratio is sqrt(p / ((1 − p) n)) · rms(x)/mean(x).
    sigma = np.sqrt(drop_prob / ((1 - drop_prob) * n)) * np.sqrt(np.mean(x ** 2)) / x.mean()
    for mode, ratio in ratios.items():
        assert abs(ratio - 1.0) < 5 * sigma, (mode, ratio)
    # The same generator state draws the same mask: the forms differ by exactly the factor 1 − p.
    inverted = nn.Dropout(drop_prob, rng=4, dtype=np.float64)(x)
    standard = nn.Dropout(drop_prob, rng=4, mode="standard", dtype=np.float64)(x)
    np.testing.assert_allclose(standard, (1 - drop_prob) * inverted, rtol=1e-12)


def test_standard_form_values_and_gradients():
    x = np.arange(12, dtype=np.float32).reshape(3, 4) + 1
    layer = nn.Dropout(0.25, rng=0, mode="standard")
    out = layer(x)
    assert set(np.unique(out / x)) <= {0.0, 1.0}       # kept units pass unscaled in training
    dout = np.full_like(x, 2.0)
    np.testing.assert_array_equal(layer.backward(dout), np.where(out != 0, 2.0, 0.0))
    layer.eval()
    np.testing.assert_array_equal(layer(x), x * np.float32(0.75))
    np.testing.assert_array_equal(layer.backward(dout), np.full_like(x, 1.5))
    assert layer(x).dtype == np.float32
    np.testing.assert_array_equal(nn.Dropout(0.0, mode="standard").eval()(x), x)


def test_mode_is_checked_shown_and_kept_in_configs():
    with pytest.raises(ValueError, match="Dropout: mode must be one of inverted, standard, got 'scaled'"):
        nn.Dropout(0.5, mode="scaled")
    layer = nn.Dropout2d(0.3, mode="standard")
    assert repr(layer) == "Dropout2d(drop_prob=0.3, mode='standard')"
    assert repr(nn.Dropout(0.3)) == "Dropout(drop_prob=0.3)"
    rebuilt = from_config(to_config(layer))
    assert rebuilt.mode == "standard" and rebuilt.drop_prob == 0.3
    # A configuration without 'mode' (nndl 0.1.0's) builds the inverted form.
    assert from_config({"class": "nndl.nn.dropout.Dropout", "arguments": {"drop_prob": 0.2}}).mode == "inverted"


def test_kernel_standard_form():
    x = np.ones((2, 3))
    out, cache = nn.functional.dropout_forward(x, 0.5, rng=0, training=False, mode="standard")
    np.testing.assert_array_equal(out, 0.5 * x)
    np.testing.assert_array_equal(nn.functional.dropout_backward(np.ones((2, 3)), cache), 0.5 * x)
    with pytest.raises(ValueError, match="dropout_forward: mode"):
        nn.functional.dropout_forward(x, 0.5, mode="Standard")
