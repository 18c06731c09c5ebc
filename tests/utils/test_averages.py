"""nndl.utils.ema / sma: the notes' conventions, hand-computed values, and the optimizers' own moments."""

import numpy as np
import pytest

from nndl.optim.adam import adam_update
from nndl.optim.sgd import sgd_update
from nndl.utils import ema, sma


def test_ema_notes_convention_by_hand():
    # V1 = Y1 = 4; V2 = 0.5·4 + 0.5·2 = 3; V3 = 0.5·3 + 0.5·7 = 5
    np.testing.assert_allclose(ema([4.0, 2.0, 7.0], 0.5), [4.0, 3.0, 5.0], rtol=0, atol=1e-15)


def test_ema_bias_correction_by_hand():
    # V1 = 0.1·10 = 1, V̂1 = 1/0.1 = 10; V2 = 0.9 + 0.1·20 = 2.9, V̂2 = 2.9/0.19
    np.testing.assert_allclose(ema([10.0, 20.0], 0.9, bias_correction=True), [10.0, 2.9 / 0.19], rtol=1e-14)


def test_ema_of_a_constant_is_the_constant_in_both_conventions():
    values = np.full(50, 3.25)
    np.testing.assert_allclose(ema(values, 0.9), values, rtol=1e-14)
    np.testing.assert_allclose(ema(values, 0.9, bias_correction=True), values, rtol=1e-14)


def test_ema_equals_adams_bias_corrected_moments():
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((12, 3, 4))
    param = rng.standard_normal((3, 4))
    m, v = np.zeros_like(param), np.zeros_like(param)
    beta1, beta2 = 0.8, 0.95
    m_hat, v_hat = [], []
    for t, g in enumerate(grads, start=1):
        adam_update(param, g, m, v, t, lr=1e-2, betas=(beta1, beta2))
        m_hat.append(m / (1 - beta1 ** t))
        v_hat.append(v / (1 - beta2 ** t))
    np.testing.assert_allclose(ema(grads, beta1, bias_correction=True), np.array(m_hat), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ema(grads ** 2, beta2, bias_correction=True), np.array(v_hat), rtol=1e-12, atol=1e-15)


def test_ema_without_correction_equals_sgd_momentum_with_dampening():
    # PyTorch's SGD buffer: b1 = g1, then b = μb + (1 − τ)g; with τ = μ it is the notes' EMA (V1 = Y1).
    rng = np.random.default_rng(1)
    grads = rng.standard_normal((10, 5))
    param, buffer, buffers = np.zeros(5), None, []
    for g in grads:
        buffer = sgd_update(param, g, buffer, lr=0.1, momentum=0.7, dampening=0.7)
        buffers.append(buffer.copy())
    np.testing.assert_allclose(ema(grads, 0.7), np.array(buffers), rtol=1e-12, atol=1e-15)


def test_ema_keeps_float32_and_converts_integers():
    assert ema(np.arange(4, dtype=np.float32), 0.5).dtype == np.float32
    assert ema([1, 2, 3], 0.5).dtype == np.float64


def test_sma_by_hand():
    np.testing.assert_allclose(sma([1.0, 2.0, 6.0, 4.0, 8.0], 3), [1.0, 1.5, 3.0, 4.0, 6.0], rtol=1e-15)
    np.testing.assert_allclose(sma([[1.0, 0.0], [3.0, 2.0]], 5), [[1.0, 0.0], [2.0, 1.0]])


def test_sma_window_one_is_the_sequence():
    values = np.random.default_rng(2).standard_normal(7)
    np.testing.assert_allclose(sma(values, 1), values, rtol=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: ema([1.0], 1.0), "beta"), (lambda: ema([], 0.5), "non-empty"),
    (lambda: sma([1.0], 0), "window"), (lambda: sma(["a"], 2), "numbers"),
])
def test_bad_arguments(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
