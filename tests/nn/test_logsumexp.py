"""nn.logsumexp: the notes' bounds max ≤ LSE ≤ max + T ln n, the temperature limit, scipy's values, the gradient."""

import numpy as np
import pytest
from scipy.special import logsumexp as scipy_logsumexp
from scipy.special import softmax as scipy_softmax

from nndl import nn
from nndl.check import numerical_jacobian, rel_error

pytestmark = pytest.mark.chooses_kernel_sets  # a plain function: no kernel set involved


def test_equals_scipy_on_every_axis():
    x = np.random.default_rng(0).standard_normal((3, 4, 5)) * 10
    for axis in (0, 1, -1, None):
        np.testing.assert_allclose(nn.logsumexp(x, axis=axis), scipy_logsumexp(x, axis=axis), rtol=1e-14)
    np.testing.assert_allclose(nn.logsumexp(x, axis=1, keepdims=True),
                               scipy_logsumexp(x, axis=1, keepdims=True), rtol=1e-14)


def test_by_hand():
    # log(e^0 + e^0) = ln 2; log(e^1 + e^2 + e^3) = 3 + log(e^-2 + e^-1 + 1)
    assert nn.logsumexp([0.0, 0.0]) == pytest.approx(np.log(2), rel=1e-15)
    assert nn.logsumexp([1, 2, 3]) == pytest.approx(3 + np.log(np.exp(-2) + np.exp(-1) + 1), rel=1e-15)


@pytest.mark.parametrize("temperature", [0.05, 1.0, 7.0])
def test_bounds_max_and_max_plus_t_ln_n(temperature):
    x = np.random.default_rng(1).standard_normal((200, 6)) * 5
    lse = nn.logsumexp(x, axis=1, temperature=temperature)
    m = x.max(axis=1)
    assert np.all(m <= lse)
    assert np.all(lse <= m + temperature * np.log(6) + 1e-12)
    # equal terms reach the upper bound exactly
    assert nn.logsumexp(np.full(6, 2.0), temperature=temperature) == pytest.approx(2 + temperature * np.log(6))


def test_temperature_to_zero_gives_the_max():
    x = np.array([0.3, 1.7, 1.2, -4.0])
    temperatures = (1.0, 0.3, 0.1, 0.001)
    gaps = np.array([nn.logsumexp(x, temperature=t) - 1.7 for t in temperatures])
    # the gap is T log(1 + Σ_{j ≠ max} e^{(x_j − max)/T}), which shrinks to 0 with T
    others = np.array([0.3, 1.2, -4.0]) - 1.7
    expected = [t * np.log1p(np.sum(np.exp(others / t))) for t in temperatures]
    np.testing.assert_allclose(gaps, expected, rtol=1e-9, atol=1e-15)
    assert np.all(np.diff(gaps[:3]) < 0)
    assert gaps[-1] < 1e-15  # e^{-0.5/0.001}: below double precision


def test_no_overflow_and_minus_infinity():
    assert nn.logsumexp([1000.0, 1000.0]) == pytest.approx(1000 + np.log(2))
    assert nn.logsumexp([-1000.0, -1000.0]) == pytest.approx(-1000 + np.log(2))
    assert nn.logsumexp([-np.inf, -np.inf]) == -np.inf
    assert nn.logsumexp([-np.inf, 0.0]) == 0.0


def test_gradient_is_softmax_of_x_over_t():
    x = np.random.default_rng(2).standard_normal(5)
    for t in (0.5, 2.0):
        grad = numerical_jacobian(lambda v: nn.logsumexp(v, temperature=t), x)[0]
        assert rel_error(grad, scipy_softmax(x / t)) < 1e-8


def test_dtype_and_errors():
    assert nn.logsumexp(np.ones((2, 3), np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="temperature"):
        nn.logsumexp([1.0], temperature=0)
    with pytest.raises(ValueError, match="empty"):
        nn.logsumexp(np.zeros(0))
